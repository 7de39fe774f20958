#!/usr/bin/env python3
"""approve-step --api: the server's certificate: CA, names and addresses, TLS versions."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))

import fakeapi  # noqa: E402
from api_kit import (CM, KEY, NS, USER, APITest, certs,  # noqa: E402
                     server_cert)
from cases import main  # noqa: E402


class Certificates(APITest):
    def refused(self, **kw):
        w = self.launch(dir=False, **kw)
        self.assertExit(w, 2)
        self.assertIn("certificate", w.log())
        # The token went nowhere: no request reached the server.
        self.assertEqual(self.api.requests, [])
        self.assertTrue(self.api.connections)
        self.assertCleanLog(w)

    def accepted(self, **kw):
        w = self.launch(dir=False, **kw)
        self.established(w)
        self.patch({KEY: "approved"})
        self.assertExit(w, 0)


class WrongCA(Certificates):
    ca = "another-ca"

    def test_wrong_ca(self):
        self.refused()


class OtherHost(Certificates):
    sans = ("IP:127.0.0.2", "DNS:other.example", "DNS:kubernetes.default")

    def test_certificate_naming_another_host(self):
        self.refused()

    def test_dns_name_must_match(self):
        self.refused(server=f"https://localhost:{self.api.port}")


class IPSanOnly(Certificates):
    sans = ("IP:127.0.0.1",)

    def test_ip_host_matches_its_ip_san(self):
        self.accepted()


class ServiceNameOnly(Certificates):
    sans = ("DNS:kubernetes.default.svc",)

    def test_ip_host_not_named_by_kubernetes_default_svc(self):
        # The attack: a certificate of the cluster CA for the service name
        # (any API server's, any IP) served from another address. Go names
        # an IP host by its IP SAN only: so does the step.
        self.refused()
        self.assertIn("does not name this host", self.waiters[-1].log())


class ClientCertificate(Certificates):
    """A certificate of the cluster CA for TLS clients only (what the CSR
    API's kube-apiserver-client signer issues), or for code signing: not an
    API server's, whatever names it carries."""

    def serve(self, eku):
        self.api.stop()
        cert = certs().server(sans=self.sans, eku=eku)
        self.api = fakeapi.FakeAPI(certs(), cert=cert,
                                   tokens={self.token: USER}).start()
        self.api.configmap(NS, CM, {KEY: "init"})

    def test_client_auth_only_is_refused(self):
        self.serve("clientAuth")
        self.refused()
        self.assertIn("not for TLS servers", self.waiters[-1].log())

    def test_code_signing_is_refused(self):
        self.serve("codeSigning")
        self.refused()

    def test_no_extended_key_usage_is_accepted(self):
        self.serve(None)
        self.accepted()


class DNSHost(Certificates):
    sans = ("DNS:localhost",)

    def test_dns_host(self):
        self.accepted(server=f"https://localhost:{self.api.port}")
        self.assertIn(self.api.requests[0].headers["host"],
                      (f"localhost:{self.api.port}", "localhost"))

    def test_ip_host_is_not_matched_by_a_dns_name(self):
        self.refused()


class IPv6Host(Certificates):
    sans = ("IP:::1",)
    host = "::1"

    def test_ipv6_host_in_brackets(self):
        self.accepted()

    def test_bare_ipv6_service_variable(self):
        self.assertIn(f"through the API at https://[::1]:{self.api.port}",
                      self.launch_by_service_variables("::1"))


class Bundle(Certificates):
    def test_ca_file_with_several_certificates(self):
        fakeapi.write_credentials(self.creds, self.token,
                                  [certs().ca("another-ca")[0],
                                   certs().ca("fake-cluster-ca")[0]], NS)
        self.accepted()

    def test_tls12_only_server(self):
        self.api.stop()
        self.api = fakeapi.FakeAPI(certs(), cert=server_cert(self.sans),
                                   tokens={self.token: USER},
                                   tls_versions=("1.2", "1.2")).start()
        self.api.configmap(NS, CM, {KEY: "init"})
        self.accepted()


if __name__ == "__main__":
    main()

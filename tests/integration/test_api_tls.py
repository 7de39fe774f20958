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

    def test_ip_host_accepted_through_kubernetes_default_svc(self):
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

#!/usr/bin/env python3
"""The fake API server's own test, with Python's ssl client: that it speaks
the protocol the way the real API server does, and that every failure mode
the API-watch tests rely on really happens. Closes with 'N passed, M failed'.
"""

import os
import random
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import fakeapi  # noqa: E402
from cases import run_unittests  # noqa: E402
from fakeapi import Client, FakeAPI  # noqa: E402

CERTS = None
LIST = ("/api/v1/namespaces/ci/configmaps"
        "?fieldSelector=metadata.name%3Dapprovals")


def watch_path(rv=None, timeout=None, bookmarks=True):
    q = LIST + "&watch=1"
    if rv is not None:
        q += f"&resourceVersion={rv}"
    if bookmarks:
        q += "&allowWatchBookmarks=true"
    if timeout is not None:
        q += f"&timeoutSeconds={timeout}"
    return q


def setUpModule():
    global CERTS
    CERTS = fakeapi.Certs()


def tearDownModule():
    CERTS.cleanup()


class Base(unittest.TestCase):
    sans = ("IP:127.0.0.1", "DNS:kubernetes.default.svc")
    kw = {}

    def setUp(self):
        self.api = FakeAPI(CERTS, sans=self.sans, **self.kw).start()
        self.cm = self.api.configmap("ci", "approvals", {"run-1": "init"})
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        self.api.stop()

    def client(self, **kw):
        c = Client(self.api, **kw)
        self.clients.append(c)
        return c

    def watch(self, **kw):
        c = self.client()
        n = len(self.api.requests_of("watch")) + 1
        code, hdrs = c.send("GET", watch_path(**kw))
        self.assertEqual(code, 200)
        self.assertEqual(hdrs["transfer-encoding"], "chunked")
        self.api.wait_for_watch(n)
        return c


class ListAndGet(Base):
    def test_list_by_field_selector(self):
        self.api.configmap("ci", "other", {"x": "y"})
        code, body = self.client().request("GET", LIST)
        self.assertEqual(code, 200)
        self.assertEqual(body["kind"], "ConfigMapList")
        self.assertEqual([i["metadata"]["name"] for i in body["items"]],
                         ["approvals"])
        # The list's version is the global counter, past this object's.
        self.assertEqual(int(body["metadata"]["resourceVersion"]),
                         self.api.store.rv)
        self.assertLess(int(body["items"][0]["metadata"]["resourceVersion"]),
                        self.api.store.rv)

    def test_get_and_not_found(self):
        c = self.client()
        code, body = c.request("GET", "/api/v1/namespaces/ci/configmaps/"
                                      "approvals")
        self.assertEqual((code, body["data"]), (200, {"run-1": "init"}))
        code, body = c.request("GET", "/api/v1/namespaces/ci/configmaps/nope")
        self.assertEqual((code, body["reason"]), (404, "NotFound"))
        code, body = c.request("GET", LIST.replace("approvals", "nope"))
        self.assertEqual((code, body["items"]), (200, []))

    def test_unknown_field_selector_is_400(self):
        code, body = self.client().request(
            "GET", "/api/v1/namespaces/ci/configmaps?fieldSelector=data.x%3Dy")
        self.assertEqual(code, 400)

    def test_requests_recorded(self):
        self.client().request("GET", LIST)
        r = self.api.requests[-1]
        self.assertEqual((r.method, r.path, r.verb, r.status),
                         ("GET", "/api/v1/namespaces/ci/configmaps", "list",
                          200))
        self.assertEqual(r.query["fieldSelector"], "metadata.name=approvals")
        self.assertEqual(r.headers["authorization"], "Bearer token-1")
        self.assertEqual(r.user, "system:serviceaccount:ci:pipeline")


class Auth(Base):
    def test_wrong_missing_and_rotated_token(self):
        code, body = self.client(token="nope").request("GET", LIST)
        self.assertEqual((code, body["reason"]), (401, "Unauthorized"))
        code, _ = self.client(token=None).request("GET", LIST)
        self.assertEqual(code, 401)
        self.api.rotate_token("token-2")
        self.assertEqual(self.client().request("GET", LIST)[0], 401)
        self.assertEqual(self.client(token="token-2").request("GET", LIST)[0],
                         200)

    def test_resource_names_rule(self):
        user = "system:serviceaccount:ci:pipeline"
        self.api.grant(user, ["get", "list", "watch"], "configmaps",
                       names=["approvals"], namespace="ci")
        c = self.client()
        self.assertEqual(c.request("GET", LIST)[0], 200)
        code, body = c.request("GET", "/api/v1/namespaces/ci/configmaps")
        self.assertEqual(code, 403)
        self.assertIn('cannot list resource "configmaps"', body["message"])
        code, body = c.request("PATCH", "/api/v1/namespaces/ci/configmaps/"
                               "approvals", {"data": {"x": "y"}})
        self.assertEqual(code, 403)
        self.api.deny_all()
        self.assertEqual(c.request("GET", LIST)[0], 403)


class Watching(Base):
    def test_events_after_rv_and_continuity(self):
        rv0 = self.api.store.rv
        c = self.watch(rv=rv0)
        self.api.store.touch_other(5)
        self.api.patch_data("ci", "approvals", {"run-1": "approved"})
        events = c.events()
        _, ev = next(events)
        self.assertEqual(ev["type"], "MODIFIED")
        self.assertEqual(ev["object"]["data"]["run-1"], "approved")
        self.assertEqual(int(ev["object"]["metadata"]["resourceVersion"]),
                         rv0 + 6)
        # A patch that changes nothing writes nothing.
        self.api.patch_data("ci", "approvals", {"run-1": "approved"})
        self.assertEqual(self.api.store.rv, rv0 + 6)
        self.api.store.delete("configmaps", "ci", "approvals")
        self.api.configmap("ci", "approvals", {"run-1": "init"})
        self.assertEqual([next(events)[1]["type"] for _ in range(2)],
                         ["DELETED", "ADDED"])

    def test_replay_from_old_rv_and_initial_added(self):
        rv0 = self.api.store.rv
        self.api.patch_data("ci", "approvals", {"run-1": "a"})
        self.api.patch_data("ci", "approvals", {"run-1": "b"})
        events = self.watch(rv=rv0).events()
        got = [next(events)[1]["object"]["data"]["run-1"] for _ in range(2)]
        self.assertEqual(got, ["a", "b"])
        _, ev = next(self.watch().events())
        self.assertEqual((ev["type"], ev["object"]["data"]["run-1"]),
                         ("ADDED", "b"))

    def test_other_objects_filtered(self):
        c = self.watch(rv=self.api.store.rv)
        self.api.configmap("ci", "other", {"run-1": "approved"})
        self.api.configmap("prod", "approvals", {"run-1": "approved"})
        self.api.patch_data("ci", "approvals", {"run-1": "refused"})
        _, ev = next(c.events())
        self.assertEqual(ev["object"]["metadata"]["namespace"], "ci")
        self.assertEqual(ev["object"]["data"]["run-1"], "refused")

    def test_bytewise_chunks(self):
        self.api.chunking = fakeapi.bytewise
        c = self.watch(rv=self.api.store.rv)
        self.api.patch_data("ci", "approvals", {"run-1": "approved<&>"})
        sizes, ev = next(c.events())
        self.assertEqual(set(sizes), {1})
        self.assertEqual(ev["object"]["data"]["run-1"], "approved<&>")

    def test_go_escaping(self):
        self.assertEqual(fakeapi.go_json({"a": "<&>\u2028é"}),
                         b'{"a":"\\u003c\\u0026\\u003e\\u2028\xc3\xa9"}')

    def test_held_events_share_one_chunk_and_mid_line(self):
        self.api.chunking = fakeapi.one_chunk
        c = self.watch(rv=self.api.store.rv)
        with self.api.hold():
            self.api.patch_data("ci", "approvals", {"run-1": "a"})
            self.api.patch_data("ci", "approvals", {"run-1": "b"})
        data = c.chunk()
        self.assertEqual(data.count(b"\n"), 2)
        self.api.chunking = fakeapi.mid_line
        with self.api.hold():
            self.api.patch_data("ci", "approvals", {"run-1": "c"})
            self.api.patch_data("ci", "approvals", {"run-1": "d"})
        chunks = [c.chunk() for _ in range(3)]
        self.assertNotIn(b"\n", chunks[0])
        self.assertEqual(chunks[1].count(b"\n"), 1)
        self.assertFalse(chunks[1].endswith(b"\n"))
        self.assertTrue(chunks[2].endswith(b"\n"))

    def test_targeted_by_request(self):
        a = self.watch(rv=self.api.store.rv)
        b = self.watch(rv=self.api.store.rv, bookmarks=False)
        self.api.end_watches(where=lambda r: "allowWatchBookmarks" in r.query)
        self.assertEqual(a.chunk(), b"")
        self.api.patch_data("ci", "approvals", {"run-1": "x"})
        self.assertEqual(next(b.events())[1]["type"], "MODIFIED")

    def test_random_split_keeps_every_byte(self):
        split = fakeapi.random_split(random.Random(7))
        for n in (1, 2, 10, 500, 5000):
            data = bytes(random.Random(n).randrange(256) for _ in range(n))
            for _ in range(20):
                chunks = split(data)
                self.assertEqual(b"".join(chunks), data)
                self.assertTrue(all(chunks))

    def test_split_writes(self):
        self.api.writes = fakeapi.bytewise   # framing split too
        c = self.watch(rv=self.api.store.rv)
        self.api.patch_data("ci", "approvals", {"run-1": "approved"})
        _, ev = next(c.events())
        self.assertEqual(ev["object"]["data"]["run-1"], "approved")

    def test_bookmarks_only_when_asked(self):
        c = self.watch(rv=self.api.store.rv)
        nb = self.watch(rv=self.api.store.rv, bookmarks=False)
        rv = self.api.store.touch_other(3)
        self.assertEqual(self.api.bookmark(), rv)
        _, ev = next(c.events())
        self.assertEqual(ev["type"], "BOOKMARK")
        self.assertEqual(ev["object"]["metadata"]["resourceVersion"], str(rv))
        self.api.patch_data("ci", "approvals", {"run-1": "x"})
        self.assertEqual(next(nb.events())[1]["type"], "MODIFIED")

    def test_timeout_seconds_and_forced_timeout(self):
        t0 = time.monotonic()
        c = self.watch(rv=self.api.store.rv, timeout=1)
        self.assertEqual(c.chunk(), b"")
        self.assertAlmostEqual(time.monotonic() - t0, 1.0, delta=0.4)
        self.api.watch_timeout = 0.2
        self.api.bookmark_before_end = True
        t0 = time.monotonic()
        c = self.watch(rv=self.api.store.rv, timeout=300)
        _, ev = next(c.events())
        self.assertEqual(ev["type"], "BOOKMARK")
        self.assertEqual(c.chunk(), b"")
        self.assertLess(time.monotonic() - t0, 1.0)

    def test_raw_lines_and_clean_end(self):
        c = self.watch(rv=self.api.store.rv)
        self.api.inject(b'{"type":"MODIFIED","object":{\n')
        self.assertEqual(c.chunk(), b'{"type":"MODIFIED","object":{\n')
        self.api.end_watches()
        self.assertEqual(c.chunk(), b"")

    def test_break_mid_chunk(self):
        c = self.watch(rv=self.api.store.rv)
        self.api.break_watches(partial=b"40\r\n{\"type\":")
        with self.assertRaises((EOFError, OSError)):
            while True:
                c.chunk()


class Gone(Base):
    kw = {"history_seconds": 0.3}

    def test_old_rv_as_error_event(self):
        rv0 = self.api.store.rv
        self.api.patch_data("ci", "approvals", {"run-1": "a"})
        time.sleep(0.4)
        self.api.patch_data("ci", "approvals", {"run-1": "b"})  # compacts
        c = self.watch(rv=rv0)
        _, ev = next(c.events())
        self.assertEqual(ev["type"], "ERROR")
        self.assertEqual((ev["object"]["kind"], ev["object"]["code"]),
                         ("Status", 410))
        self.assertEqual(c.chunk(), b"")

    def test_old_rv_as_status_and_expire(self):
        self.api.gone_as = "status"
        rv0 = self.api.store.rv
        self.api.store.expire()
        c = self.client()
        code, body = c.request("GET", watch_path(rv=rv0 - 1))
        self.assertEqual((code, body["code"], body["reason"]),
                         (410, 410, "Expired"))
        # From the current version a watch still works.
        code, _ = c.send("GET", watch_path(rv=self.api.store.rv))
        self.assertEqual(code, 200)

    def test_error_event_on_open_watch(self):
        c = self.watch(rv=self.api.store.rv)
        self.api.error_event()
        _, ev = next(c.events())
        self.assertEqual((ev["type"], ev["object"]["code"]), ("ERROR", 410))
        self.assertEqual(c.chunk(), b"")


class Writes(Base):
    def test_merge_patch_create_delete_over_http(self):
        c = self.client()
        path = "/api/v1/namespaces/ci/configmaps/approvals"
        code, body = c.request("PATCH", path, {"data": {"run-1": "approved",
                                                        "x": "1"}})
        self.assertEqual((code, body["data"]),
                         (200, {"run-1": "approved", "x": "1"}))
        code, body = c.request("PATCH", path, {"data": {"x": None}})
        self.assertEqual(body["data"], {"run-1": "approved"})
        code, _ = c.request("PATCH", path, {"data": {}},
                            ctype="application/json-patch+json")
        self.assertEqual(code, 415)
        code, _ = c.request("POST", "/api/v1/namespaces/ci/configmaps",
                            {"metadata": {"name": "approvals"}})
        self.assertEqual(code, 409)
        code, _ = c.request("DELETE", path)
        self.assertEqual(code, 200)
        self.assertIsNone(self.api.store.get("configmaps", "ci", "approvals"))
        code, body = c.request("POST", "/api/v1/namespaces/ci/configmaps",
                               {"metadata": {"name": "approvals"},
                                "data": {"k": "v"}})
        self.assertEqual((code, body["kind"]), (201, "ConfigMap"))

    def test_tekton_paths(self):
        self.api.store.create("pipelineruns", "ci",
                              {"metadata": {"name": "release-1"}})
        code, body = self.client().request(
            "GET", "/apis/tekton.dev/v1/namespaces/ci/pipelineruns")
        self.assertEqual((code, body["kind"]), (200, "PipelineRunList"))
        self.assertEqual(body["items"][0]["apiVersion"], "tekton.dev/v1")

    def test_on_request_hook(self):
        self.api.on_request = lambda req: (
            b"HTTP/1.1 302 Found\r\nLocation: https://elsewhere/\r\n"
            b"Content-Length: 0\r\n\r\n")
        code, hdrs = self.client().send("GET", LIST)
        self.assertEqual((code, hdrs["location"]), (302, "https://elsewhere/"))


class Connections(Base):
    def test_stall_then_serve(self):
        self.api.set_mode("stall")
        s = socket.create_connection(("127.0.0.1", self.api.port), 2)
        ctx = ssl.create_default_context(cafile=self.api.ca_path)
        s.settimeout(0.3)
        with self.assertRaises((socket.timeout, TimeoutError)):
            ctx.wrap_socket(s, server_hostname="127.0.0.1")
        s.close()
        self.api.set_mode("serve")
        self.assertEqual(self.client().request("GET", LIST)[0], 200)

    def test_close_reset_refused(self):
        for mode in ("close", "reset"):
            self.api.set_mode(mode)
            with self.assertRaises((OSError, ssl.SSLError)):
                self.client()
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", fakeapi.refused_port()), 2)
        self.assertEqual(len(self.api.connections), 2)


class Certificates(unittest.TestCase):
    def serve(self, **kw):
        api = FakeAPI(CERTS, **kw).start()
        self.addCleanup(api.stop)
        api.configmap("ci", "approvals")
        return api

    def test_wrong_ca_is_refused_by_the_client(self):
        api = self.serve(ca="other-ca")
        with self.assertRaises(ssl.SSLCertVerificationError):
            Client(api, ca=CERTS.ca("fake-cluster-ca")[0])
        api.wait_for(lambda: api.connections and
                     api.connections[0].handshake, what="handshake")
        self.assertNotEqual(api.connections[0].handshake, "ok")

    def test_names(self):
        api = self.serve(sans=("DNS:kubernetes.default.svc",))
        Client(api, server_hostname="kubernetes.default.svc").close()
        with self.assertRaises(ssl.SSLCertVerificationError):
            Client(api, server_hostname="127.0.0.1")
        api = self.serve(sans=("IP:127.0.0.2", "DNS:other.example"))
        with self.assertRaises(ssl.SSLCertVerificationError):
            Client(api, server_hostname="127.0.0.1")

    def test_tls_versions(self):
        for lo, hi, want in (("1.2", "1.2", "TLSv1.2"),
                             ("1.3", "1.3", "TLSv1.3")):
            api = self.serve(tls_versions=(lo, hi))
            c = Client(api)
            self.assertEqual(c.tls.version(), want)
            c.close()

    def test_credentials_files_with_a_bundle(self):
        d = tempfile.mkdtemp()
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", d]))
        fakeapi.write_credentials(d, "tok", [CERTS.ca("other-ca")[0],
                                             CERTS.ca()[0]], "ci")
        self.assertEqual(open(os.path.join(d, "token")).read(), "tok")
        self.assertEqual(open(os.path.join(d, "namespace")).read(), "ci")
        api = self.serve()
        Client(api, ca=os.path.join(d, "ca.crt")).close()


class CommandLine(unittest.TestCase):
    def test_help_and_serve(self):
        me = os.path.join(HERE, "fakeapi.py")
        out = subprocess.run([sys.executable, me, "--help"],
                             capture_output=True, text=True, check=True)
        self.assertIn("serve", out.stdout)
        d = tempfile.mkdtemp()
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", d]))
        p = subprocess.run(
            [sys.executable, me, "serve", "--creds", d, "--data", "k=v"],
            input="patch k=approved\nrequests\nquit\n", capture_output=True,
            text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"serving https://127\.0\.0\.1:\d+")
        self.assertIn("resourceVersion", p.stdout)
        self.assertTrue(os.path.exists(os.path.join(d, "ca.crt")))


def main():
    names = sys.argv[1:] if __name__ == "__main__" else []
    return run_unittests("fakeapi", sys.modules[__name__], names)

if __name__ == "__main__":
    sys.exit(main())

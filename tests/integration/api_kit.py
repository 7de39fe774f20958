"""What the tests of approve-step --api share (test_api_*.py): the
constants of the run they stage, the fake API server and the pod's
ServiceAccount files per test (APITest), and small helpers."""

import atexit
import json
import os
import secrets
import select
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))

import fakeapi  # noqa: E402
from cases import WaiterTest  # noqa: E402
from proc import SLOW, Waiter  # noqa: E402

NS, CM, KEY = "ci", "approvals", "run-1"
USER = "system:serviceaccount:ci:pipeline"
THROUGH = " (through the API at "
ESTABLISHED = "through the API at"
APPROVERS = "alice@example.com,bob@example.com,carol@example.com"
ALICE, BOB, CAROL = (KEY + ".alice_40example.com", KEY + ".bob_40example.com",
                     KEY + ".carol_40example.com")
MiB = 1024 * 1024
_certs = None
_cert_cache = {}


def certs():
    """The CAs and server certificates of every test of --api, made once a
    run (openssl takes a while) and removed at its exit."""
    global _certs
    if _certs is None:
        _certs = fakeapi.Certs()
        atexit.register(_certs.cleanup)
    return _certs


def server_cert(sans, ca="fake-cluster-ca"):
    key = (tuple(sans), ca)
    if key not in _cert_cache:
        _cert_cache[key] = certs().server(sans=sans, ca=ca)
    return _cert_cache[key]


def vote(decision, comment=None):
    v = {"decision": decision}
    if comment is not None:
        v["comment"] = comment
    return json.dumps(v)


def exit_after_signal(w, sig, timeout=5.0):
    """(exit code, seconds from the signal to the exit), timed with a
    pidfd so that the harness's own polling does not add to it."""
    fd = os.pidfd_open(w.pid)
    try:
        t0 = time.monotonic()
        os.kill(w.pid, sig)
        select.select([fd], [], [], timeout * SLOW)
        took = time.monotonic() - t0
    finally:
        os.close(fd)
    return w.wait(timeout), took


def gaps(times):
    return [b - a for a, b in zip(times, times[1:])]


class APITest(WaiterTest):
    """A fake API server with the ConfigMap, and the pod's ServiceAccount
    files pointing at it, per test."""

    sans = ("IP:127.0.0.1", "DNS:kubernetes.default.svc")
    ca = "fake-cluster-ca"
    host = "127.0.0.1"
    data = {KEY: "init"}
    labels = None  # of the ConfigMap

    def setUp(self):
        super().setUp()
        self.token = "tok-" + secrets.token_hex(20)
        self.tokens = [self.token]
        self.api = fakeapi.FakeAPI(
            certs(), cert=server_cert(self.sans, self.ca), ca=self.ca,
            host=self.host, tokens={self.token: USER})
        self.api.start()
        if self.data is not None:
            self.api.configmap(NS, CM, self.data, labels=self.labels)
        self.creds = os.path.join(self.tmp, "serviceaccount")
        fakeapi.write_credentials(self.creds, self.token,
                                  certs().ca("fake-cluster-ca")[0], NS)

    def tearDown(self):
        try:
            for w in self.waiters:
                w.kill()
                self.assertNoSecret(w)
                self.assertCleanLog(w)   # and no sanitizer report
        finally:
            super().tearDown()
            self.api.stop()

    def assertNoSecret(self, w):
        """No token (any this test used) in the log or any result."""
        texts = [w.log()] + [w.result(n) or "" for n in
                             ("decision", "approver", "comment",
                              "waited-seconds")]
        for tok in self.tokens:
            for text in texts:
                self.assertNotIn(tok, text, "the token leaked")
                self.assertNotIn(tok[4:24], text, "part of the token leaked")

    # -- starting approve-step

    def argv(self, mode="on", server=None, creds=None, key=KEY,
             configmap=CM, timeout="30s"):
        a = ["--api", mode, "--api-server", server or self.api.url,
             "--api-credentials", creds or self.creds, "--key", key,
             "--timeout", timeout]
        if configmap is not None:
            a += ["--configmap", configmap]
        return a

    def launch(self, *extra, dir=True, env=None, **kw):
        """approve-step with --api (on by default); dir=False: API only."""
        args = [*self.argv(**kw), *extra]
        if dir:
            return self.start(*args, env=env)
        w = Waiter(*args, results_dir=self.results, env=env)
        self.waiters.append(w)
        return w

    def launch_by_service_variables(self, host):
        """approve-step without --api-server, the pod's
        KUBERNETES_SERVICE_HOST (host) and _PORT naming the fake; returns
        its "through the API at" line."""
        env = {"KUBERNETES_SERVICE_HOST": host,
               "KUBERNETES_SERVICE_PORT": str(self.api.port)}
        args = [a for a in self.argv() if a not in ("--api-server",
                                                    self.api.url)]
        w = Waiter(*args, results_dir=self.results, env=env)
        self.waiters.append(w)
        return w.wait_for_line(ESTABLISHED)

    def established(self, w, timeout=5.0):
        """The watch is open (log line and the fake agree)."""
        line = w.wait_for_line(ESTABLISHED, timeout)
        self.api.wait_for_watch(1, timeout * SLOW)
        return line

    def assertThroughAPI(self, w, decision_word):
        last = w.lines()[-1]
        # The last line names the server: host:port, as the watch logged it.
        server = self.api.url.split("://", 1)[1]
        self.assertTrue(last.endswith(THROUGH + server + ")"),
                        f"last line: {last!r}")
        self.assertIn(decision_word, last)

    def assertNotThroughAPI(self, w):
        last = w.lines()[-1]
        self.assertNotIn(THROUGH, last, f"last line: {last!r}")

    def patch(self, data):
        return self.api.patch_data(NS, CM, data)

    def watch_reqs(self):
        return [r for r in self.api.requests_of("watch")]

    def new_lines(self, w, before):
        return w.lines()[before:]

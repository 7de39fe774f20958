#!/usr/bin/env python3
"""approve-step --api: the decision read through the Kubernetes API (list,
then a chunked watch over TLS) from the fake API server in tests/lib, as the
contract in the README and docs describe it: what it sends, what it accepts,
how it fails, how it recovers, and that the token never shows."""

import json
import os
import secrets
import select
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))

import fakeapi  # noqa: E402
from cases import WaiterTest, main  # noqa: E402
from proc import SLOW, Waiter, run  # noqa: E402

NS, CM, KEY = "ci", "approvals", "run-1"
USER = "system:serviceaccount:ci:pipeline"
THROUGH = " (through the API)"
ESTABLISHED = "through the API at"
APPROVERS = "alice@example.com,bob@example.com,carol@example.com"
ALICE, BOB, CAROL = (KEY + ".alice_40example.com", KEY + ".bob_40example.com",
                     KEY + ".carol_40example.com")
MiB = 1024 * 1024
CERTS = None
_cert_cache = {}


def setUpModule():
    global CERTS
    CERTS = fakeapi.Certs()


def tearDownModule():
    CERTS.cleanup()


def server_cert(sans, ca="fake-cluster-ca"):
    key = (tuple(sans), ca)
    if key not in _cert_cache:
        _cert_cache[key] = CERTS.server(sans=sans, ca=ca)
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
            CERTS, cert=server_cert(self.sans, self.ca), ca=self.ca,
            host=self.host, tokens={self.token: USER})
        self.api.start()
        if self.data is not None:
            self.api.configmap(NS, CM, self.data, labels=self.labels)
        self.creds = os.path.join(self.tmp, "serviceaccount")
        fakeapi.write_credentials(self.creds, self.token,
                                  CERTS.ca("fake-cluster-ca")[0], NS)

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

    def established(self, w, timeout=5.0):
        """The watch is open (log line and the fake agree)."""
        line = w.wait_for_line(ESTABLISHED, timeout)
        self.api.wait_for_watch(1, timeout * SLOW)
        return line

    def assertThroughAPI(self, w, decision_word):
        last = w.lines()[-1]
        self.assertTrue(last.endswith(THROUGH), f"last line: {last!r}")
        self.assertIn(decision_word, last)

    def assertNotThroughAPI(self, w):
        last = w.lines()[-1]
        self.assertFalse(last.endswith(THROUGH), f"last line: {last!r}")

    def patch(self, data):
        return self.api.patch_data(NS, CM, data)

    def watch_reqs(self):
        return [r for r in self.api.requests_of("watch")]

    def new_lines(self, w, before):
        return w.lines()[before:]


class Decisions(APITest):
    def test_approval_bytewise_across_chunks(self):
        self.api.chunking = fakeapi.bytewise
        w = self.launch(dir=False)
        self.established(w)
        self.patch({KEY: vote("approved") [:-1] + ', "approver": "alice", '
                    '"comment": "LGTM <ok> & done"}'})
        self.assertExit(w, 0)
        self.assertDecision(w, "approved", "alice", "LGTM <ok> & done")
        self.assertThroughAPI(w, 'approved by "alice"')
        self.assertCleanLog(w)

    def test_chunk_framing_split_across_tls_records(self):
        self.api.writes = fakeapi.bytewise    # "1f\r\n" cut as well
        w = self.launch(dir=False)
        self.established(w)
        self.patch({KEY: "approved"})
        self.assertExit(w, 0)
        self.assertDecision(w, "approved")

    def test_many_lines_in_one_chunk_and_lines_cut_mid_chunk(self):
        self.api.chunking = fakeapi.one_chunk
        w = self.launch(dir=False)
        self.established(w)
        with self.api.hold():
            self.patch({KEY: "notified"})
            self.patch({"other": "x" * 300})
        w.wait_for_line('"notified": pending')
        self.api.chunking = fakeapi.mid_line
        with self.api.hold():
            self.patch({"other": "y"})
            self.patch({KEY: "refused"})
            self.patch({"other": "z"})
        self.assertExit(w, 1)
        self.assertDecision(w, "refused")
        self.assertThroughAPI(w, "refused")

    def test_refusal_json(self):
        w = self.launch(dir=False)
        self.established(w)
        self.patch({KEY: json.dumps({"decision": "refused", "approver": "bob",
                                     "comment": "not on a Friday"})})
        self.assertExit(w, 1)
        self.assertDecision(w, "refused", "bob", "not on a Friday")
        self.assertThroughAPI(w, "refused")

    def test_pending_words_and_unknown_values_keep_waiting(self):
        w = self.launch(dir=False)
        self.established(w)
        self.patch({KEY: "notified"})
        w.wait_for_line('"notified": pending')
        self.patch({KEY: "aproved"})
        w.wait_for_line("aproved")
        w.running_after(0.3)
        self.patch({KEY: "approved"})
        self.assertExit(w, 0)

    def test_nul_in_a_value_is_no_decision(self):
        # JSON carries "\u0000"; like a volume file with a NUL byte, the
        # value is no decision (a C string would end at the NUL).
        # Shown as it is, escaped: approved\x00, as the volume shows it.
        self.patch({KEY: "approved\x00"})          # in the list at start
        w = self.launch(dir=False)
        self.established(w)
        self.assertIn('"approved\\x00"', w.wait_for_line("warning"))
        self.patch({KEY: "refused\x00trailing"})   # in a watch event
        w.wait_for_line('"refused\\x00trailing"')
        w.running_after(0.3)
        self.patch({KEY: "approved"})
        self.assertExit(w, 0)

    def test_decision_already_present_at_start(self):
        self.patch({KEY: "approved"})
        w = self.launch(dir=False)
        self.assertExit(w, 0)
        self.assertDecision(w, "approved")
        self.assertThroughAPI(w, "approved")
        self.assertTrue(w.lines()[0].startswith(
            f"approve-step: waiting for a decision in configmap {NS}/{CM} "
            f"key {KEY}"), w.lines()[0])

    def test_deleted_then_added_again(self):
        w = self.launch(dir=False)
        self.established(w)
        self.api.store.delete("configmaps", NS, CM)
        w.wait_for_line("deleted")
        w.running_after(0.3)
        self.api.configmap(NS, CM, {KEY: "approved"})
        self.assertExit(w, 0)
        self.assertThroughAPI(w, "approved")

    def test_other_configmaps_and_keys_do_not_decide(self):
        w = self.launch(dir=False)
        self.established(w)
        self.api.configmap(NS, "other", {KEY: "approved"})
        self.api.configmap("prod", CM, {KEY: "approved"})
        self.patch({"run-2": "approved"})
        # An event for another object in our stream (no fieldSelector
        # honoured, say) is not ours.
        self.api.inject(fakeapi.go_json({"type": "MODIFIED", "object": {
            "kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"name": "other", "namespace": NS,
                         "resourceVersion": str(self.api.store.rv)},
            "data": {KEY: "approved"}}}) + b"\n")
        w.running_after(0.5)
        self.patch({KEY: "approve"})
        self.assertExit(w, 0)

    def test_timeout_and_sigterm_unchanged(self):
        w = self.launch(dir=False, timeout="1s")
        self.established(w)
        self.assertExit(w, 1, timeout=4)
        self.assertDecision(w, "timeout")
        self.assertLess(w.elapsed, 2.5 * SLOW)
        w = self.launch(dir=False)
        w.wait_for_line(ESTABLISHED)
        rc, took = exit_after_signal(w, signal.SIGTERM)
        self.assertEqual(rc, 1)
        self.assertEqual(w.result("decision"), "cancelled")
        self.assertLess(took, 0.1 * SLOW)


class Votes(APITest):
    # Votes count only from the ConfigMap the vote policy guards.
    labels = {"approve-step/gate": "true"}

    def start_two_of_three(self, **kw):
        w = self.launch("--approvals", "2", "--approvers", APPROVERS,
                        "--requester", "carol@example.com", dir=False, **kw)
        self.established(w)
        return w

    def test_two_votes_through_the_api(self):
        w = self.start_two_of_three()
        self.patch({ALICE: vote("approved", "LGTM")})
        w.wait_for_line("1 of 2 approvals so far")
        w.running_after(0.2)
        self.patch({BOB: "approve"})
        self.assertExit(w, 0)
        self.assertDecision(w, "approved",
                            "alice@example.com,bob@example.com",
                            "alice@example.com: LGTM")
        self.assertThroughAPI(w, "approved")

    def test_votes_counted_from_one_object(self):
        w = self.start_two_of_three()
        # One update holds an approval and a refusal: refused, as on the
        # volume, whatever order the keys come in.
        self.patch({ALICE: "approved", BOB: vote("refused", "no")})
        self.assertExit(w, 1)
        self.assertDecision(w, "refused", "bob@example.com",
                            "bob@example.com: no")

    def test_requester_others_and_plain_key_do_not_count(self):
        w = self.start_two_of_three(timeout="3s")
        self.patch({KEY: "approved", CAROL: "approved",
                    KEY + ".mallory": "approved",
                    "run-2.bob_40example.com": "approved",
                    ALICE: "approved"})
        w.wait_for_line("not counted: the requester may not approve")
        self.assertExit(w, 1, timeout=8)
        self.assertDecision(w, "timeout")

    def test_votes_in_an_unlabelled_configmap_do_not_count(self):
        # The vote policy looks only at labelled ConfigMaps: in another,
        # anyone who may patch it writes alice's and bob's votes.
        self.api.store.patch("configmaps", NS, CM,
                             {"metadata": {"labels": {"approve-step/gate": None}}})
        self.patch({ALICE: "approved", BOB: "approved"})
        w = self.start_two_of_three(timeout="3s")
        w.wait_for_line("votes in configmap %s/%s are not counted: it is "
                        "not labelled approve-step/gate=true" % (NS, CM))
        self.assertExit(w, 1, timeout=8)
        self.assertDecision(w, "timeout")
        # Labelled again: the same votes count, at once.
        self.api.store.patch("configmaps", NS, CM,
                             {"metadata": {"labels": {"approve-step/gate": "true"}}})
        w = self.launch("--approvals", "2", "--approvers", APPROVERS,
                        dir=False)
        self.assertExit(w, 0)

    def test_vote_files_on_the_volume_do_not_count(self):
        # The requester's binding could map old votes (or a PVC's files)
        # into the volume: only votes read through the API count, unless
        # the cluster is said to pin bindings (the weaker mode).
        self.volume.update({ALICE: "approved", BOB: "approved"})
        w = self.launch("--approvals", "2", "--approvers", APPROVERS,
                        timeout="3s")
        w.wait_for_line("vote files in %s are not counted" % self.dir)
        self.assertExit(w, 1, timeout=8)
        self.assertDecision(w, "timeout")
        w = self.launch("--approvals", "2", "--approvers", APPROVERS,
                        "--bindings-pinned", "true")
        self.assertExit(w, 0)
        self.assertNotThroughAPI(w)

    def test_a_nearly_full_configmap_is_an_error_someone_reads(self):
        # Final votes accumulate; at 1 MiB the API server refuses new ones.
        # The step says so while there is room, instead of waiting silently.
        self.patch({"archive": "x" * (940 * 1024)})
        w = self.start_two_of_three(timeout="3s")
        line = w.wait_for_line("new votes will soon be refused")
        self.assertIn("configmap %s/%s holds %d of the 1048576 bytes" %
                      (NS, CM, 940 * 1024 + len("archive") + len(KEY) +
                       len("init")), line)
        self.assertIn("docs/approvers.md, Capacity", line)
        self.patch({ALICE: "approved"})
        w.wait_for_line("1 of 2 approvals so far")
        self.assertEqual(sum("soon be refused" in ln for ln in w.lines()), 1)

    def test_votes_present_at_start(self):
        self.patch({ALICE: "approved", BOB: "approved"})
        w = self.launch("--approvals", "2", "--approvers", APPROVERS,
                        dir=False)
        self.assertExit(w, 0)
        self.assertDecision(w, "approved",
                            "alice@example.com,bob@example.com")


class Requests(APITest):
    def test_list_then_watch_as_the_contract_says(self):
        w = self.launch(dir=False)
        self.established(w)
        reqs = list(self.api.requests)
        lst, wat = reqs[0], reqs[-1]
        self.assertEqual([r.verb for r in reqs], ["list", "watch"])
        for r in reqs:
            self.assertEqual(r.method, "GET")
            self.assertEqual(r.path, f"/api/v1/namespaces/{NS}/configmaps")
            self.assertEqual(r.query["fieldSelector"], f"metadata.name={CM}")
            self.assertEqual(r.headers["authorization"],
                             f"Bearer {self.token}")
            self.assertEqual(r.headers["accept"], "application/json")
            self.assertRegex(r.headers["user-agent"], r"^approve-step/\S+")
            self.assertIn(r.headers["host"],
                          (f"127.0.0.1:{self.api.port}", "127.0.0.1"))
        self.assertNotIn("watch", lst.query)
        self.assertIn(wat.query["watch"], ("1", "true"))
        self.assertEqual(wat.query["allowWatchBookmarks"], "true")
        self.assertEqual(wat.query["resourceVersion"],
                         lst.response["metadata"]["resourceVersion"])
        self.assertTrue(300 <= int(wat.query["timeoutSeconds"]) <= 600,
                        wat.query)
        self.assertEqual(w.wait_for_line(ESTABLISHED),
                         f"approve-step: watching configmap {NS}/{CM} "
                         f"through the API at {self.api.url}")

    def test_watch_timeouts_are_randomized(self):
        seen = set()
        for _ in range(4):
            w = self.launch(dir=False)
            self.established(w)
            w.kill()
            seen.add(self.watch_reqs()[-1].query["timeoutSeconds"])
            self.api.requests.clear()
        self.assertGreater(len(seen), 1, seen)

    def test_works_with_resource_names_rbac(self):
        self.api.grant(USER, ["get", "list", "watch"], "configmaps",
                       names=[CM], namespace=NS)
        w = self.launch(dir=False)
        self.established(w)
        self.patch({KEY: "approved"})
        self.assertExit(w, 0)

    def test_namespace_from_credentials_or_option(self):
        self.api.configmap("prod", CM, {KEY: "approved"})
        w = self.launch(dir=False)   # the credentials' namespace: ci
        self.established(w)
        w.kill()
        w = self.launch("--namespace", "prod", dir=False)
        self.assertExit(w, 0)
        self.assertEqual(self.api.requests[-1].path,
                         "/api/v1/namespaces/prod/configmaps")

    def test_server_from_the_service_variables(self):
        env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1",
               "KUBERNETES_SERVICE_PORT": str(self.api.port)}
        args = [a for a in self.argv() if a not in ("--api-server",
                                                    self.api.url)]
        w = Waiter(*args, results_dir=self.results, env=env)
        self.waiters.append(w)
        self.assertIn(f"through the API at {self.api.url}",
                      w.wait_for_line(ESTABLISHED))

    def test_api_off_touches_no_network(self):
        for mode in (["--api", "off"], []):
            self.volume.update({KEY: "init"})
            w = self.start("--api-server", self.api.url, "--api-credentials",
                           self.creds, "--configmap", CM, "--key", KEY,
                           *mode)
            w.watching()
            self.patch({KEY: "approved"})
            w.running_after(0.3)
            self.volume.update({KEY: "approved"})
            self.assertExit(w, 0)
            self.assertNotThroughAPI(w)
        self.assertEqual(self.api.connections, [])


class Usage(APITest):
    def expect_usage(self, *args, message=None):
        rc, _, err = run(*args)
        self.assertEqual(rc, 2, f"{args}: {err}")
        if message:
            self.assertIn(message, err)

    def test_api_needs_a_configmap(self):
        # An empty one with auto falls back: StartFailures.test_empty_configmap
        for mode in ("on", "auto"):
            self.expect_usage("--dir", self.dir,
                              *self.argv(mode, configmap=None),
                              message=f"--api {mode} needs --configmap")
        self.expect_usage("--dir", self.dir, *self.argv("on", configmap=""),
                          message="--api on needs --configmap")
        self.assertEqual(self.api.connections, [])

    def test_bad_values(self):
        for bad in (["--api", "maybe"], ["--api", "ON"],
                    ["--api-server", "http://127.0.0.1:6443"],
                    ["--api-server", "https://127.0.0.1:6443/path"],
                    ["--api-server", "https://user@127.0.0.1:6443"],
                    ["--api-server", "https://127.0.0.1:notaport"],
                    ["--api-server", "https://127.0.0.1:70000"]):
            self.expect_usage("--dir", self.dir, *self.argv(), *bad)

    def test_api_on_without_dir_and_auto_needs_dir(self):
        w = self.launch(dir=False)
        self.established(w)
        self.assertEqual(w.lines()[0][:len("approve-step: waiting for a "
                                           "decision in configmap ci/")],
                         "approve-step: waiting for a decision in configmap "
                         "ci/")
        fds = os.listdir(f"/proc/{w.pid}/fd")
        self.assertFalse(any(os.readlink(f"/proc/{w.pid}/fd/{fd}") ==
                             "anon_inode:inotify" for fd in fds))
        self.expect_usage(*self.argv("auto"))
        self.expect_usage(*self.argv("off"))

    def test_help_documents_the_options(self):
        rc, out, _ = run("--help")
        self.assertEqual(rc, 0)
        for opt in ("--api ", "--api-server", "--api-credentials"):
            self.assertIn(opt, out)


class StartFailures(APITest):
    """What cannot be used at start: auto says why and how to fix it and
    waits on the volume; on exits 2 with the same words."""

    def fallback(self, cause, **kw):
        w = self.launch(mode="auto", **kw)
        line = w.wait_for_line("cannot use the Kubernetes API", 15)
        self.assertRegex(line, r"^approve-step: warning: cannot use the "
                         r"Kubernetes API \(.*\); .*; waiting on the volume "
                         r"only$")
        self.assertIn(cause, line)
        self.volume.update({KEY: "approved"})
        self.assertExit(w, 0)
        self.assertNotThroughAPI(w)
        return line

    def required(self, cause, timeout=5.0, **kw):
        w = self.launch(dir=False, **kw)
        self.assertExit(w, 2, timeout)
        errors = [ln for ln in w.lines()
                  if "error: cannot use the Kubernetes API" in ln]
        self.assertEqual(len(errors), 1, w.log())
        self.assertRegex(errors[0], r"^approve-step: error: cannot use the "
                         r"Kubernetes API \(.*\); .+$")
        self.assertIn(cause, errors[0])
        self.assertCleanLog(w)
        return errors[0]

    def test_empty_configmap(self):
        # The catalog Task passes api: auto and its configmap param, empty
        # unless set: it must go on working on the volume, untouched.
        line = self.fallback("no --configmap", configmap="")
        self.assertIn("give --configmap NAME", line)
        self.assertEqual(self.api.connections, [])

    def test_403(self):
        self.api.deny_all()
        fix = (f"grant get, list and watch on configmaps named {CM} in {NS} "
               "(see examples/api-watch/)")
        self.assertIn(fix, self.fallback("403 Forbidden"))
        self.assertIn(fix, self.required("403 Forbidden"))

    def test_401(self):
        self.api.rotate_token("tok-" + secrets.token_hex(20))
        self.tokens += list(self.api.tokens)
        self.fallback("401 Unauthorized")
        self.required("401 Unauthorized")

    def test_404(self):
        self.api.store.delete("configmaps", NS, CM)
        self.fallback("not found")
        self.required("not found")

    def test_connection_refused(self):
        url = f"https://127.0.0.1:{fakeapi.refused_port()}"
        self.fallback("Connection refused", server=url)
        w = self.launch(dir=False, server=url)
        self.assertExit(w, 2, timeout=3)
        self.assertLess(w.elapsed, 2 * SLOW)
        self.assertIn("Connection refused", w.log())

    def test_missing_credentials(self):
        empty = os.path.join(self.tmp, "nothing")
        os.mkdir(empty)
        self.fallback(empty + "/", creds=empty)
        self.required(empty + "/", creds=empty)
        self.assertEqual(self.api.connections, [])

    def test_default_credentials_missing(self):
        w = self.start("--api", "auto", "--api-server", self.api.url,
                       "--configmap", CM, "--key", KEY)
        line = w.wait_for_line("cannot use the Kubernetes API")
        self.assertIn("/var/run/secrets/kubernetes.io/serviceaccount", line)

    def test_no_server_variables(self):
        args = [a for a in self.argv() if a not in ("--api-server",
                                                    self.api.url)]
        saved = {k: os.environ.pop(k) for k in list(os.environ)
                 if k.startswith("KUBERNETES_SERVICE")}
        try:
            w = Waiter(*args, results_dir=self.results)
            self.waiters.append(w)
            self.assertExit(w, 2)
        finally:
            os.environ.update(saved)
        self.assertIn("KUBERNETES_SERVICE_HOST", w.log())
        self.assertEqual(self.api.connections, [])

    def test_stalled_handshake_times_out(self):
        self.api.set_mode("stall")
        line = self.required("timed out", timeout=15)
        self.assertIn("timed out", line)
        w = self.waiters[-1]
        self.assertGreater(w.elapsed, 9.0)
        self.assertLess(w.elapsed, 13.0 * SLOW)
        self.assertEqual(self.api.requests, [])

    def test_stalled_server_does_not_delay_the_volume(self):
        self.api.set_mode("stall")
        w = self.launch(mode="auto")
        w.watching(timeout=2)
        self.volume.update({KEY: "approved"})
        self.assertExit(w, 0, timeout=2)
        self.assertLess(w.elapsed, 2.0 * SLOW)

    def test_sigterm_during_a_stalled_handshake(self):
        self.api.set_mode("stall")
        w = self.launch(dir=False)
        self.api.wait_for(lambda: self.api.connections, what="a connection")
        time.sleep(0.3)
        rc, took = exit_after_signal(w, signal.SIGTERM)
        self.assertEqual(rc, 1)
        self.assertLess(took, 0.1 * SLOW, f"{took * 1000:.0f} ms")
        self.assertEqual(w.result("decision"), "cancelled")

    def test_redirect_not_followed(self):
        self.api.on_request = lambda req: (
            b"HTTP/1.1 302 Found\r\nLocation: https://127.0.0.2:1/\r\n"
            b"Content-Length: 0\r\n\r\n")
        self.required("302")
        self.assertEqual(len(self.api.requests), 1)

    def test_oversized_response_head(self):
        self.api.on_request = lambda req: (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" +
            b"X-Padding: " + b"a" * (17 * 1024) + b"\r\n"
            b"Content-Length: 2\r\n\r\n{}")
        self.required("")

    def test_not_an_api_server(self):
        self.api.on_request = lambda req: (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
            b"Content-Length: 15\r\n\r\n<html>hi</html>")
        self.required("")


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
        env = {"KUBERNETES_SERVICE_HOST": "::1",
               "KUBERNETES_SERVICE_PORT": str(self.api.port)}
        args = [a for a in self.argv() if a not in ("--api-server",
                                                    self.api.url)]
        w = Waiter(*args, results_dir=self.results, env=env)
        self.waiters.append(w)
        self.assertIn(f"through the API at https://[::1]:{self.api.port}",
                      w.wait_for_line(ESTABLISHED))


class Bundle(Certificates):
    def test_ca_file_with_several_certificates(self):
        fakeapi.write_credentials(self.creds, self.token,
                                  [CERTS.ca("another-ca")[0],
                                   CERTS.ca("fake-cluster-ca")[0]], NS)
        self.accepted()

    def test_tls12_only_server(self):
        self.api.stop()
        self.api = fakeapi.FakeAPI(CERTS, cert=server_cert(self.sans),
                                   tokens={self.token: USER},
                                   tls_versions=("1.2", "1.2")).start()
        self.api.configmap(NS, CM, {KEY: "init"})
        self.accepted()


class Recovery(APITest):
    """Once watching: every way the stream can end, and how it resumes."""

    def resumed_from(self, n, rv):
        req = self.api.wait_for_watch(n, 10 * SLOW)
        self.assertEqual(req.query["resourceVersion"], str(rv))
        return req

    def test_server_timeout_rewatch_from_the_last_version(self):
        self.api.watch_timeout = 1.0
        w = self.launch(dir=False)
        self.established(w)
        obj = self.patch({KEY: "notified"})
        w.wait_for_line('"notified": pending')
        ended = time.monotonic()
        second = self.resumed_from(2, obj["metadata"]["resourceVersion"])
        self.assertLess(second.t - ended, 3.0 * SLOW)
        # A bookmark moves the version on without an event for us.
        self.api.store.touch_other(7)
        rv = self.api.bookmark()
        self.resumed_from(3, rv)
        self.assertEqual(len(self.api.requests_of("list")), 1)
        self.patch({KEY: "approved"})
        self.assertExit(w, 0)
        self.assertThroughAPI(w, "approved")

    def test_watch_renewal_logs_nothing(self):
        self.api.watch_timeout = 0.5
        w = self.launch(dir=False)
        self.established(w)
        before = len(w.lines())
        self.api.wait_for_watch(3, 10 * SLOW)
        self.assertEqual(self.new_lines(w, before), [])

    def test_broken_stream_rewatch_from_the_last_version(self):
        w = self.launch(dir=False)
        self.established(w)
        obj = self.patch({KEY: "notified"})
        w.wait_for_line('"notified": pending')
        self.api.break_watches(partial=b"7f\r\n{\"type\":\"MODIF")
        self.resumed_from(2, obj["metadata"]["resourceVersion"])
        self.patch({KEY: "approved"})
        self.assertExit(w, 0)

    def test_decision_made_while_disconnected_is_not_lost(self):
        w = self.launch(dir=False)
        self.established(w)
        self.api.set_mode("reset")
        self.api.break_watches()
        self.patch({KEY: "approved"})
        time.sleep(1.5)
        self.api.set_mode("serve")
        self.assertExit(w, 0, timeout=40)
        self.assertThroughAPI(w, "approved")

    def gone(self, how):
        self.api.gone_as = how
        w = self.launch(dir=False)
        self.established(w)
        self.api.break_watches()
        self.patch({KEY: "approved"})
        self.api.store.expire()
        self.assertExit(w, 0, timeout=10)
        self.assertThroughAPI(w, "approved")
        verbs = [(r.verb, r.status) for r in self.api.requests]
        self.assertEqual(verbs[:2], [("list", 200), ("watch", 200)])
        self.assertIn(("watch", 410 if how == "status" else 200), verbs[2:])
        self.assertEqual(verbs[-1], ("list", 200), verbs)

    def test_410_as_http_status_then_list_again(self):
        self.gone("status")

    def test_410_as_error_event_then_list_again(self):
        self.gone("event")

    def test_error_event_on_an_open_watch(self):
        w = self.launch(dir=False)
        self.established(w)
        self.api.error_event()
        second = self.api.wait_for_watch(2, 5 * SLOW)
        lists = self.api.requests_of("list")
        self.assertEqual(len(lists), 2)
        self.assertEqual(second.query["resourceVersion"],
                         lists[1].response["metadata"]["resourceVersion"])
        self.patch({KEY: "approved"})
        self.assertExit(w, 0)

    def test_malformed_events_logged_once_and_skipped_past(self):
        w = self.launch(dir=False)
        self.established(w)
        before = len(w.lines())
        self.api.inject(b'{"type":"MODIFIED","object":{"metadata":\n')
        self.api.inject(b'not json at all\n')
        self.api.inject(b'{"type":"MODIFIED","object":"a string"}\n')
        time.sleep(0.5)
        self.patch({KEY: "approved"})
        self.assertExit(w, 0)
        warnings = [ln for ln in self.new_lines(w, before)
                    if "warning" in ln]
        self.assertEqual(len(warnings), 1, w.log())
        self.assertCleanLog(w)

    def test_oversized_event_drops_the_connection_once(self):
        w = self.launch(dir=False)
        self.established(w)
        obj = self.patch({KEY: "notified"})
        w.wait_for_line('"notified": pending')
        before = len(w.lines())
        self.api.inject(b'{"type":"MODIFIED","object":{"data":{"x":"' +
                        b"a" * (2 * MiB) + b'"}}}\n')
        self.resumed_from(2, obj["metadata"]["resourceVersion"])
        warnings = [ln for ln in self.new_lines(w, before)
                    if "warning" in ln]
        self.assertEqual(len(warnings), 1, w.log())
        self.patch({KEY: "approved"})
        self.assertExit(w, 0)

    def test_a_configmap_near_1_mib_is_read(self):
        w = self.launch(dir=False)
        self.established(w)
        self.patch({"blob": "b" * (1000 * 1000), KEY: "approved"})
        self.assertExit(w, 0)

    def test_token_reread_on_each_connection(self):
        w = self.launch(dir=False)
        self.established(w)
        new = "tok-" + secrets.token_hex(20)
        self.tokens.append(new)
        self.api.rotate_token(new, keep_old=True)
        fakeapi.rotate_token_file(self.creds, new)
        self.api.break_watches()
        req = self.api.wait_for_watch(2, 5 * SLOW)
        self.assertEqual(req.headers["authorization"], f"Bearer {new}")

    def test_401_then_rotated_token(self):
        w = self.launch(dir=False)
        self.established(w)
        new = "tok-" + secrets.token_hex(20)
        self.tokens.append(new)
        self.api.rotate_token(new)          # the old token is now refused
        self.api.break_watches()
        self.api.wait_for(lambda: any(r.status == 401
                                      for r in self.api.requests),
                          5 * SLOW, "a 401")
        fakeapi.rotate_token_file(self.creds, new)
        req = self.api.wait_for_watch(2, 10 * SLOW)
        self.assertEqual(req.headers["authorization"], f"Bearer {new}")
        self.assertIsNone(w.proc.poll())
        self.patch({KEY: "approved"})
        self.assertExit(w, 0)

    def test_403_after_start_keeps_waiting_and_the_volume_decides(self):
        w = self.launch(mode="auto")
        self.established(w)
        self.api.deny_all()
        self.api.break_watches()
        self.api.wait_for(lambda: any(r.status == 403
                                      for r in self.api.requests),
                          5 * SLOW, "a 403")
        w.running_after(0.3)
        self.volume.update({KEY: "approved"})
        self.assertExit(w, 0)
        self.assertNotThroughAPI(w)


class Backoff(APITest):
    """Never more than one attempt a second, however the server fails."""

    def attempts_during(self, seconds, what):
        t0 = time.monotonic()
        time.sleep(seconds)
        times = [t for t in what() if t >= t0]
        return times

    def assertAtMostOncePerSecond(self, times):
        self.assertTrue(all(g >= 0.95 for g in gaps(times)),
                        f"attempts {len(times)}, gaps "
                        f"{[round(g, 3) for g in gaps(times)]}")

    def test_refused_connections(self):
        w = self.launch(dir=False)
        self.established(w)
        self.api.set_mode("reset")
        self.api.break_watches()
        times = self.attempts_during(
            4.0, lambda: [c.t for c in self.api.connections])
        self.assertGreaterEqual(len(times), 2)
        self.assertAtMostOncePerSecond(times)
        self.api.set_mode("serve")
        self.patch({KEY: "approved"})
        self.assertExit(w, 0, timeout=40)

    def test_watch_ending_at_once(self):
        self.api.watch_timeout = 0
        w = self.launch(dir=False)
        w.wait_for_line(ESTABLISHED)
        times = self.attempts_during(
            3.0, lambda: [r.t for r in self.api.requests_of("watch")])
        self.assertAtMostOncePerSecond(times)

    def test_410_for_every_watch(self):
        def gone(req):
            if req.is_watch:
                return (b"HTTP/1.1 410 Gone\r\nContent-Type: application/"
                        b"json\r\nContent-Length: 2\r\n\r\n{}")
            return None
        w = self.launch(dir=False)
        self.established(w)
        self.api.on_request = gone
        self.api.break_watches()
        times = self.attempts_during(
            3.0, lambda: [r.t for r in self.api.requests_of("list")])
        self.assertAtMostOncePerSecond(times)
        self.assertIsNone(w.proc.poll())


class Both(APITest):
    """The volume and the API watched together: the first decision wins."""

    def test_api_first(self):
        self.volume.update({KEY: "init"})
        w = self.launch(mode="auto")
        self.established(w)
        self.patch({KEY: "refused"})
        self.assertExit(w, 1)
        self.assertThroughAPI(w, "refused")

    def test_volume_first(self):
        self.volume.update({KEY: "init"})
        w = self.launch(mode="on")
        self.established(w)
        self.volume.update({KEY: "approved"})
        self.assertExit(w, 0)
        self.assertNotThroughAPI(w)
        self.assertDecision(w, "approved")

    def test_votes_from_both_are_not_added_together(self):
        # One vote on the volume, another through the API: each source is
        # one snapshot; neither alone has two approvals.
        w = self.launch("--approvals", "2", "--approvers", APPROVERS,
                        mode="on", timeout="3s")
        self.established(w)
        self.volume.update({ALICE: "approved"})
        self.patch({BOB: "approved"})
        self.assertExit(w, 1, timeout=8)
        self.assertDecision(w, "timeout")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""approve-step --api: what it sends (list, then watch), its options, and what it
cannot use at start."""

import os
import secrets
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))

import fakeapi  # noqa: E402
from api_kit import (CM, ESTABLISHED, KEY, NS, USER, APITest,  # noqa: E402
                     exit_after_signal)
from cases import main  # noqa: E402
from proc import SLOW, Waiter, run  # noqa: E402


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
        self.assertIn(f"through the API at {self.api.url}",
                      self.launch_by_service_variables("127.0.0.1"))

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

    def test_votes_with_no_namespace_name_the_configmap_alone(self):
        # No --namespace and no ServiceAccount namespace file: the start
        # line names the ConfigMap without inventing a namespace.
        w = self.start("--api", "auto", "--api-server", self.api.url,
                       "--configmap", CM, "--key", KEY, "--approvals", "2")
        first = w.wait_for_line("waiting for 2 approvals")
        self.assertIn(f"in configmap {CM} (namespace unknown) key {KEY}.USER",
                      first)
        self.assertNotIn("?/", first)

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


if __name__ == "__main__":
    main()

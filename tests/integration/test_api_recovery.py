#!/usr/bin/env python3
"""approve-step --api: once watching, every way the stream ends and how it resumes;
the pace of retries; the volume and the API together."""

import os
import secrets
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))

import fakeapi  # noqa: E402
from api_kit import (ALICE, APPROVERS, BOB, ESTABLISHED, KEY, MiB, APITest,  # noqa: E402
                     gaps)
from cases import main  # noqa: E402
from proc import SLOW  # noqa: E402


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
                        b"a" * (16 * MiB) + b'"}}}\n')
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

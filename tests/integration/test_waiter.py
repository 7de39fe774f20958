#!/usr/bin/env python3
"""approve-step as a Tekton step runs it: against a directory updated the
way the kubelet updates a ConfigMap volume, and the way people write files
by hand. Every assertion is something a user sees: exit code, results,
log lines, time against the deadline."""

import json
import mmap
import os
import random
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from cases import WaiterTest, main  # noqa: E402
from contract import (CUT_MARK, RESULT_NAMES, RESULTS_TOTAL_MAX,  # noqa: E402
                      TERMINATION_MESSAGE_MAX, termination_message)
from proc import BIN, SLOW, WRAPPER, run, send  # noqa: E402
from volume import KubeletVolume, write_by_rename, write_in_place  # noqa: E402


class KubeletUpdates(WaiterTest):
    def test_approval_via_configmap_swap(self):
        self.volume.update({"status": "init"})
        w = self.start("--timeout", "30s")
        w.watching()
        self.volume.patch({"status": "success"})
        self.assertExit(w, 0)
        self.assertDecision(w, "approved")
        self.assertIn("approve-step: approved after", w.log())

    def test_refusal_via_configmap_swap(self):
        self.volume.update({"status": "init"})
        w = self.start()
        w.watching()
        self.volume.patch({"status": "refused"})
        self.assertExit(w, 1)
        self.assertDecision(w, "refused")

    def test_json_decision_reaches_results_and_log(self):
        w = self.start()
        w.watching()
        self.volume.patch({"status": json.dumps(
            {"decision": "approved", "approver": "alice@example.com",
             "comment": "LGTM, ship it"})})
        self.assertExit(w, 0)
        self.assertDecision(w, "approved", "alice@example.com",
                            "LGTM, ship it")
        self.assertRegex(w.log(), r'approve-step: approved by '
                         r'"alice@example.com" after \d+s: "LGTM, ship it"\n')

    def test_key_added_later_per_run(self):
        # The Task's default key is the TaskRun's name: absent at first.
        self.volume.update({"status": "init"})
        w = self.start("--key", "build-42-approve")
        w.wait_for_line("does not exist yet: pending")
        self.volume.patch({"build-42-approve": "approved"})
        self.assertExit(w, 0)

    def test_shared_status_key_is_named_once_with_this_runs_command(self):
        # The article's `kubectl patch ... {"data":{"status":"success"}}`
        # on a run with its own key: not taken, and not silently ignored.
        self.volume.update({"status": "init"})
        w = self.start("--key", "build-42-approve", "--configmap",
                       "approve-cm", "--namespace", "ci", "--timeout", "30s")
        w.watching()
        self.volume.patch({"status": "success"})
        line = w.wait_for_line("not this run's")
        self.assertIn('/status holds "success", but this run waits on the '
                      'key build-42-approve', line)
        command = ("to approve: kubectl patch configmap approve-cm -n ci "
                   "--type=merge -p '{\"data\":{\"build-42-approve\":"
                   "\"approved\"}}'")
        plugin = ("to approve or refuse as yourself (recorded as the "
                  "approver): kubectl approve build-42-approve -n ci "
                  "[--refuse] [-m COMMENT]")
        self.volume.patch({"status": "refused"})  # said once, not again
        self.volume.patch({"build-42-approve": "approved"})
        self.assertExit(w, 0)
        self.assertDecision(w, "approved")
        log = w.log()
        self.assertEqual(log.count("not this run's"), 1)
        self.assertEqual(log.count(command), 2)  # at start, and with the note
        self.assertEqual(log.count(plugin), 2)

    def test_shared_status_key_of_this_run_is_no_note(self):
        self.volume.update({"status": "init"})
        w = self.start("--configmap", "approve-cm")
        w.watching()
        self.volume.patch({"status": "success"})
        self.assertExit(w, 0)
        self.assertNotIn("not this run's", w.log())

    def test_key_removed_and_added_again(self):
        self.volume.update({"status": "pending", "other": "x"})
        w = self.start()
        w.watching()
        self.volume.patch({}, remove=["status"])
        w.wait_for_line("does not exist yet")
        self.volume.patch({"status": "refused"})
        self.assertExit(w, 1)

    def test_other_keys_churn_does_not_decide(self):
        self.volume.update({"status": "init", "run-2": "approved"})
        w = self.start("--timeout", "2s")
        w.watching()
        for i in range(10):
            self.volume.patch({"other": str(i), "run-3": "refused"})
        self.assertExit(w, 1, timeout=10)
        self.assertDecision(w, "timeout")

    def test_pending_states_are_logged_once_each(self):
        self.volume.update({"status": "init"})
        w = self.start()
        w.wait_for_line('status is "init": pending')
        self.volume.patch({"status": "notifying"})
        w.wait_for_line('"notifying": pending')
        self.volume.patch({"status": "notified"})
        w.wait_for_line('"notified": pending')
        self.volume.patch({"other": "churn"})  # same status: no new line
        self.volume.patch({"status": "approved"})
        self.assertExit(w, 0)
        self.assertEqual(w.log().count('"notified": pending'), 1)

    def test_unknown_value_warned_once_then_valid_decision_taken(self):
        w = self.start()
        w.watching()
        self.volume.patch({"status": "aproved"})
        w.wait_for_line('holds "aproved", not a decision word')
        self.volume.patch({"status": "pending"})
        self.volume.patch({"status": "aproved"})  # the same typo again
        self.volume.patch({"status": "Approved\n"})
        self.assertExit(w, 0)
        self.assertEqual(w.log().count('"aproved"'), 1)

    def test_unchanged_update_is_harmless(self):
        self.volume.update({"status": "init"})
        w = self.start()
        w.watching()
        self.volume.update({"status": "init"})  # kubelet: nothing written
        self.volume.patch({"status": "approve"})
        self.assertExit(w, 0)


class PlainWrites(WaiterTest):
    """emptyDir and PVC workspaces: files written in place or renamed in."""

    def setUp(self):
        super().setUp()
        self.key = os.path.join(self.dir, "status")

    def test_write_in_place(self):
        write_in_place(self.key, "init\n")
        w = self.start()
        w.watching()
        write_in_place(self.key, "approved\n")
        self.assertExit(w, 0)

    def test_rename_in(self):
        w = self.start()
        w.watching()
        write_by_rename(self.key, "rejected")
        self.assertExit(w, 1)
        self.assertDecision(w, "refused")

    def test_deleted_and_recreated(self):
        write_in_place(self.key, "pending")
        w = self.start()
        w.watching()
        os.unlink(self.key)
        w.wait_for_line("does not exist yet")
        write_in_place(self.key, "denied")
        self.assertExit(w, 1)

    def test_half_written_file_is_pending(self):
        # A slow writer: the file exists, half written, before it closes.
        w = self.start()
        w.watching()
        with open(self.key, "w") as f:
            f.write('{"decision": "approved", "comment": "af')
            f.flush()
            # Another file's event makes the waiter read this one now.
            write_in_place(os.path.join(self.dir, "other"), "x")
            w.wait_for_line("malformed JSON")
            time.sleep(0.2)
            self.assertIsNone(w.proc.poll())
            f.write('ter the freeze"}')
        self.assertExit(w, 0)
        self.assertDecision(w, "approved", comment="after the freeze")

    def test_made_readable_by_chmod(self):
        write_in_place(self.key, "approved")
        os.chmod(self.key, 0)
        if os.geteuid() != 0:
            self.skipTest("needs root to run as another user")
        os.chmod(self.tmp, 0o755)
        os.chmod(self.results, 0o777)
        # The build tree may sit under a directory only root can enter.
        binary = os.path.join(self.tmp, "approve-step")
        shutil.copy(BIN, binary)
        os.chmod(binary, 0o755)
        w = self.start(user=65534, group=65534, binary=binary)
        w.wait_for_line("Permission denied; still waiting")
        os.chmod(self.key, 0o644)
        self.assertExit(w, 0)

    def test_periodic_reread_sees_changes_inotify_cannot(self):
        # A write through mmap produces no inotify event, like a write on
        # another NFS client: only --poll-interval can see it.
        # Closing a file opened for writing is an event: keep it open.
        # Without re-reads the change is seen only by the last read at
        # the deadline.
        for interval, seen_after in (("200ms", 0), ("0", 3)):
            write_in_place(self.key, "waiting!")
            with open(self.key, "r+b") as f, \
                    mmap.mmap(f.fileno(), 8) as m:
                w = self.start("--poll-interval", interval, "--timeout",
                               "3s")
                w.wait_for_line('"waiting!"')
                m[:8] = b"approved"
                self.assertExit(w, 0, timeout=6)
            self.assertGreaterEqual(w.elapsed, seen_after)
            self.assertLess(w.elapsed, seen_after + 1.5 * SLOW)


class Deadline(WaiterTest):
    def test_timeout_refuses_on_time(self):
        w = self.start("--timeout", "1s")
        w.watching()
        self.assertExit(w, 1)
        self.assertDecision(w, "timeout")
        self.assertGreaterEqual(w.elapsed, 1.0)
        self.assertLess(w.elapsed, 1.0 + 1.5 * SLOW)
        self.assertIn("no decision within 1s: refused (--on-timeout "
                      "refuse)", w.log())

    def test_timeout_approve(self):
        w = self.start("--timeout", "1500ms", "--on-timeout", "approve")
        self.assertExit(w, 0)
        self.assertDecision(w, "approved")
        self.assertGreaterEqual(w.elapsed, 1.5)
        self.assertIn("(--on-timeout approve)", w.log())

    def test_go_decimal_fraction(self):
        # Go's time.ParseDuration form: "1.5h" is 1h30m, ".5s" is 500ms.
        w = self.start("--timeout", "1.5h")
        w.wait_for_line("(timeout 1h30m,")
        w.signal(signal.SIGTERM)
        self.assertExit(w, 1)
        w = self.start("--timeout", ".5s", "--on-timeout", "approve")
        self.assertExit(w, 0)
        self.assertGreaterEqual(w.elapsed, 0.5)

    def test_seconds_form(self):
        w = self.start("--timeout", "1")
        self.assertExit(w, 1)
        self.assertGreaterEqual(w.elapsed, 1.0)

    def test_events_do_not_reset_the_deadline(self):
        self.volume.update({"status": "init"})
        w = self.start("--timeout", "2s")
        w.watching()
        end = time.monotonic() + 3
        while w.proc.poll() is None and time.monotonic() < end:
            self.volume.patch({"status": random.choice(
                ["init", "notified", "pending"])})
            time.sleep(0.1)
        self.assertExit(w, 1)
        self.assertLess(w.elapsed, 2.0 + 1.5 * SLOW)

    def test_zero_waits_forever(self):
        w = self.start("--timeout", "0")
        w.wait_for_line("(no timeout)")
        time.sleep(1.5)
        self.assertIsNone(w.proc.poll())
        self.volume.patch({"status": "approved"})
        self.assertExit(w, 0)


class StartUp(WaiterTest):
    def test_decision_already_there_is_taken_at_once(self):
        # A step retry: the approval happened before this process ran.
        self.volume.update({"status": "approved"})
        w = self.start("--timeout", "1h")
        self.assertExit(w, 0, timeout=2)

    def test_decision_landing_during_start_up_is_never_lost(self):
        rng = random.Random(int(os.environ.get("SEED", "1")))
        runs = int(os.environ.get("STARTUP_RUNS", "60"))
        for i in range(runs):
            d = os.path.join(self.tmp, f"race-{i}")
            vol = KubeletVolume(d, rng=rng)
            vol.update({"status": "init"})
            word = rng.choice(["approved", "refused"])
            w = self.start("--timeout", "30s", dir=d, results_dir=None)
            time.sleep(rng.uniform(0, 0.004))
            vol.patch({"status": word})
            rc = w.wait(5)
            self.assertEqual(rc, 0 if word == "approved" else 1,
                             f"run {i}: {word} lost; log:\n{w.log()}")


class Cancel(WaiterTest):
    """Tekton cancels by deleting the pod: SIGTERM, then SIGKILL later."""

    def check_signal(self, sig, name):
        self.volume.update({"status": "init"})
        w = self.start()
        w.watching()
        t = time.monotonic()
        send(w, sig)
        self.assertExit(w, 1, timeout=2)
        self.assertLess(time.monotonic() - t, 1.0 * SLOW)
        self.assertDecision(w, "cancelled")
        self.assertIn(f"cancelled by {name} after", w.log())

    def test_sigterm(self):
        self.check_signal(signal.SIGTERM, "SIGTERM")

    def test_sigint(self):
        self.check_signal(signal.SIGINT, "SIGINT")

    def test_sighup(self):
        self.check_signal(signal.SIGHUP, "SIGHUP")

    def test_sigterm_during_start_up_is_not_lost(self):
        # Signals are blocked from the first instruction and read later.
        # Only a signal that lands before main's first line (during exec)
        # takes the default action: killed by SIGTERM, still cancelled.
        for delay in (0, 0.0005, 0.001, 0.002, 0.003, 0.005):
            w = self.start()
            time.sleep(delay)
            send(w, signal.SIGTERM)
            rc = w.wait(2)
            self.assertIn(rc, (1, -signal.SIGTERM), w.log())
            if rc == 1:
                self.assertDecision(w, "cancelled")

    def test_sigpipe_is_ignored(self):
        w = self.start("--timeout", "1s")
        w.watching()
        send(w, signal.SIGPIPE)
        self.assertExit(w, 1)
        self.assertDecision(w, "timeout")

    def test_closed_stderr_changes_nothing(self):
        if WRAPPER:
            self.skipTest("the wrapper (valgrind) itself needs stderr")
        self.volume.update({"status": "approved"})
        p = subprocess.run(
            WRAPPER + [BIN, "--dir", self.dir, "--results-dir",
                       self.results],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            preexec_fn=lambda: os.close(2), timeout=10 * SLOW)
        self.assertEqual(p.returncode, 0)
        with open(os.path.join(self.results, "decision")) as f:
            self.assertEqual(f.read(), "approved")


class DirectoryGone(WaiterTest):
    def test_deleted_while_waiting(self):
        w = self.start()
        w.watching()
        os.rmdir(self.dir)
        self.assertExit(w, 2)
        self.assertIn("was deleted, moved or unmounted while waiting",
                      w.log())

    def test_replaced_while_waiting(self):
        self.volume.update({"status": "init"})
        w = self.start()
        w.wait_for_line('"init": pending')
        os.rename(self.dir, self.dir + ".old")
        KubeletVolume(self.dir).update({"status": "approved"})
        self.assertExit(w, 2)


class UsageErrors(WaiterTest):
    """Exit 2 with a message that says what is wrong, for every option."""

    def expect_usage(self, *args, message):
        rc, out, err = run(*args)
        self.assertEqual(rc, 2, f"{args}: exit {rc}; stderr: {err}")
        self.assertIn(message, err, f"{args}")
        self.assertTrue(err.startswith("approve-step: error: "), err)
        self.assertEqual(err.count("\n"), 1, err)

    def test_bad_options(self):
        d = ["--dir", self.dir]
        cases = [
            ([], "--dir is required"),
            (["--dir"], "--dir needs a value"),
            (["--dir", ""], "--dir \"\": expected a directory"),
            (d + ["--key", "a/b"], '--key "a/b": expected a ConfigMap key'),
            (d + ["--key", "../x"], '--key "../x"'),
            (d + ["--key", ""], '--key ""'),
            (d + ["--key", "..data"], '--key "..data"'),
            (d + ["--timeout", "-1"], '--timeout "-1": expected seconds'),
            (d + ["--timeout", ""], '--timeout ""'),
            (d + ["--timeout", "soon"], '--timeout "soon"'),
            (d + ["--timeout", "5x"], '--timeout "5x"'),
            (d + ["--timeout", "1h-5m"], '--timeout "1h-5m"'),
            (d + ["--timeout", "1.5"], '--timeout "1.5"'),
            (d + ["--timeout", "10us"], '--timeout "10us"'),
            (d + ["--timeout", "876000.5h"], '--timeout "876000.5h"'),
            (d + ["--on-timeout", "maybe"],
             '--on-timeout "maybe": expected refuse or approve'),
            (d + ["--poll-interval", "1ms"], '--poll-interval "1ms"'),
            (d + ["--approvals", "0"], '--approvals "0"'),
            (d + ["--approvals", "two"], '--approvals "two"'),
            (d + ["--configmap", "Not_A_Name"], '--configmap "Not_A_Name"'),
            (d + ["--frobnicate"], 'unknown option "--frobnicate"'),
            (d + ["stray"], 'unexpected argument "stray"'),
            (d + ["--approvals", "2", "--approvers", "a"],
             "--approvals 2 can never be reached"),
            (d + ["--key", "run.1", "--approvals", "2"],
             "--key run.1 has a dot"),
            (d + ["--approvals", "2"],
             "votes (--approvals, --approvers, --requester) are read "
             "through the Kubernetes API"),
            (d + ["--requester", "a", "--bindings-pinned", "yes"],
             '--bindings-pinned "yes": expected true or false'),
            (d + ["--message", "m" * 501],
             "--message is 501 bytes; at most 500"),
            (d + ["--message", "\u00e9" * 251],  # bytes, not characters
             "--message is 502 bytes; at most 500"),
        ]
        for args, message in cases:
            self.expect_usage(*args, message=message)

    def test_dir_missing(self):
        os.rmdir(self.dir)
        self.expect_usage("--dir", self.dir, message="no such directory")

    def test_dir_is_a_file(self):
        os.rmdir(self.dir)
        with open(self.dir, "w") as f:
            f.write("approved")
        self.expect_usage("--dir", self.dir, message="not a directory")

    def test_results_dir_missing(self):
        self.expect_usage("--dir", self.dir, "--results-dir",
                          self.results + "/nope",
                          message="--results-dir")

    def test_help_and_version(self):
        rc, out, err = run("--help")
        self.assertEqual((rc, err), (0, ""))
        for opt in ("--dir", "--key", "--timeout", "--on-timeout",
                    "--results-dir", "--configmap", "--poll-interval",
                    "--approvals", "--approvers", "--requester",
                    "--message"):
            self.assertIn(opt, out)
        # The limits a usage error would name are in --help too.
        self.assertIn("approving votes needed, 1 to 64", out)
        self.assertIn("at least 100ms", out)
        rc, out, err = run("--version")
        self.assertEqual(rc, 0)
        self.assertRegex(out, r"^approve-step \d+\.\d+\.\d+\n$")


class LogSafety(WaiterTest):
    def test_values_cannot_forge_lines_or_drive_the_terminal(self):
        w = self.start()
        w.watching()
        evil = ("x\napprove-step: approved by \"boss\"\r\x1b[2J\x1b]0;t\x07"
                "\u202e\u009b" + "A" * 5000)
        self.volume.patch({"status": evil})
        w.wait_for_line("not a decision word")
        self.volume.patch({"status": json.dumps(
            {"decision": "refused", "approver": "eve\napprove-step: ok",
             "comment": "\x1b[31m" + "B" * 100000})})
        self.assertExit(w, 1)
        log = w.log()
        self.assertNotIn("\x1b", log)
        self.assertNotIn("\r", log)
        self.assertNotIn("\u202e", log)
        self.assertNotIn("\u009b", log)
        self.assertCleanLog(w)  # own lines, bounded, escaped
        self.assertNotIn('\napprove-step: approved by "boss"', log)
        self.assertIn(CUT_MARK, log)
        total = sum(len(w.result(n).encode()) for n in RESULT_NAMES)
        self.assertLessEqual(total, RESULTS_TOTAL_MAX)
        self.assertTrue(w.result("comment").endswith(CUT_MARK))

    def test_results_fit_tekton_after_go_escaping(self):
        # Tekton json.Marshals results into the 4096-byte termination
        # message: 2,000 '<' take 12,000 bytes there, and an approved step
        # whose message is too long fails. It must stay approved.
        w = self.start()
        w.watching()
        self.volume.patch({"status": json.dumps(
            {"decision": "approved", "approver": "a&b<c>\"d\\" * 150,
             "comment": "<" * 2000})})
        self.assertExit(w, 0)
        self.assertEqual(w.result("decision"), "approved")
        results = {}
        for name in RESULT_NAMES:
            with open(os.path.join(w.results_dir, name), "rb") as f:
                results[name] = f.read()
        message = termination_message(results)
        self.assertLessEqual(len(message), TERMINATION_MESSAGE_MAX, message[:200])
        self.assertTrue(results["comment"].startswith(b"<" * 100))
        self.assertTrue(results["comment"].endswith(CUT_MARK.encode()))
        # Tekton's own entries (StartedAt, ExitCode, Reason) keep room.
        self.assertLessEqual(len(message), TERMINATION_MESSAGE_MAX - 512)

    def test_links_out_of_the_volume_are_not_followed(self):
        # A writer of an emptyDir or PVC workspace points keys at the
        # step's environment and at a file outside that says "approved":
        # neither is read, nothing of them reaches the log.
        outside = os.path.join(self.tmp, "outside")
        with open(outside, "w") as f:
            f.write("approved")
        os.symlink("/proc/self/environ", os.path.join(self.dir, "status"))
        os.symlink(outside, os.path.join(self.dir, "run-2"))
        os.symlink("../outside", os.path.join(self.dir, "run-3"))
        secret = {"APPROVE_STEP_TEST_SECRET": "s3cr3t-token-value"}
        for key in ("status", "run-2", "run-3"):
            w = self.start("--key", key, "--timeout", "2s", env=secret)
            w.wait_for_line("is a symbolic link out of the directory, "
                            "not followed; still waiting")
            self.assertExit(w, 1, timeout=10)
            self.assertEqual(w.result("decision"), "timeout")
            self.assertNotIn("s3cr3t", w.log())
            self.assertNotIn("APPROVE_STEP_TEST", w.log())
        # Links inside the volume (the kubelet's ..data layout) still work.
        os.symlink("inside", os.path.join(self.dir, "run-4"))
        with open(os.path.join(self.dir, "inside"), "w") as f:
            f.write("approved")
        w = self.start("--key", "run-4")
        self.assertExit(w, 0)

    def test_a_value_that_decides_nothing_is_shown_by_a_prefix(self):
        w = self.start()
        w.watching()
        self.volume.patch({"status": "TOKEN=" + "x" * 100 + "SECRET-TAIL"})
        line = w.wait_for_line("not a decision word")
        self.assertIn('"TOKEN=xxxx', line)
        self.assertNotIn("SECRET-TAIL", w.log())
        self.volume.patch({"status": json.dumps(
            {"decision": "pending", "comment": "y" * 200 + "TAIL2"})})
        w.wait_for_line(": pending")
        self.assertNotIn("TAIL2", w.log())
        self.volume.patch({"status": "approved"})
        self.assertExit(w, 0)

    def test_first_lines_say_how_to_decide(self):
        w = self.start("--configmap", "approve-cm", "--namespace", "ci",
                       "--key", "run-1")
        w.watching()
        line = w.wait_for_line("to approve:")
        self.assertIn("kubectl patch configmap approve-cm -n ci "
                      "--type=merge -p '{\"data\":{\"run-1\":"
                      "\"approved\"}}'", line)
        self.assertIn('\"refused\"', w.wait_for_line("to refuse:"))
        send(w, signal.SIGTERM)
        self.assertExit(w, 1)



class Message(WaiterTest):
    """--message: what the approvers approve, the line after "waiting for"."""

    def message_line(self, w):
        """The line after "waiting for", once the first lines are out."""
        w.wait_for_line("to approve")
        lines = w.lines()
        i = next(i for i, ln in enumerate(lines)
                 if ln.startswith("approve-step: waiting for "))
        return lines[i + 1]

    def test_shown_on_the_line_after_waiting_for(self):
        w = self.start("--message", "Deploy v1.4.2 to prod")
        self.assertEqual(self.message_line(w),
                         'approve-step: message: "Deploy v1.4.2 to prod"')
        self.volume.patch({"status": "approved"})
        self.assertExit(w, 0)
        self.assertEqual(w.log().count("message:"), 1)
        # Not a result: the results are what they were.
        self.assertDecision(w, "approved")
        self.assertEqual(sorted(os.listdir(w.results_dir)),
                         sorted(RESULT_NAMES))

    def test_shown_after_waiting_for_votes(self):
        w = self.start("--approvals", "2", "--requester", "bob",
                       "--approvers", "alice,bob,carol",
                       "--bindings-pinned", "true",
                       "--message", "Deploy v1.4.2 to prod")
        self.assertEqual(self.message_line(w),
                         'approve-step: message: "Deploy v1.4.2 to prod"')
        send(w, signal.SIGTERM)
        self.assertExit(w, 1)

    def test_empty_or_absent_is_no_line(self):
        for args in ([], ["--message", ""]):
            w = self.start("--timeout", "1ms", *args)
            self.assertExit(w, 1)
            self.assertNotIn("message:", w.log())
            self.assertTrue(w.lines()[1].startswith("approve-step: to approve"),
                            w.lines())

    def test_cannot_forge_lines_or_drive_the_terminal(self):
        # Whoever fills the Pipeline's params writes the message: a forged
        # "approved by" line, a screen clear, a window title, a bidi
        # override, a line separator and a C1 CSI.
        evil = ('Deploy v1\napprove-step: approved by "boss"\r\x1b[2J'
                '\x1b]0;t\x07\u202e\u2028\u009b\\ done')
        w = self.start("--message", evil, "--timeout", "1s")
        self.assertEqual(
            self.message_line(w),
            'approve-step: message: "Deploy v1\\napprove-step: approved by '
            '\\"boss\\"\\r\\x1b[2J\\x1b]0;t\\x07\\u{202e}\\u{2028}'
            '\\u{009b}\\\\ done"')
        self.assertExit(w, 1, timeout=10)  # nothing approved it
        self.assertDecision(w, "timeout")
        log = w.log()
        for raw in ("\x1b", "\r", "\x07", "\u202e", "\u2028", "\u009b"):
            self.assertNotIn(raw, log)
        self.assertNotIn('\napprove-step: approved by "boss"', log)
        self.assertCleanLog(w)

    def test_invalid_utf8_is_shown_byte_by_byte(self):
        # argv is bytes: a param need not be UTF-8 (nor cut on a character).
        w = self.start("--message", b"Deploy \xff\xfe v1 \xe2\x80",
                       "--timeout", "1ms")
        self.assertExit(w, 1)
        self.assertEqual(self.message_line(w),
                         'approve-step: message: '
                         '"Deploy \\xff\\xfe v1 \\xe2\\x80"')
        self.assertCleanLog(w)

    def test_longest_plain_message_is_shown_whole(self):
        # 500 bytes of plain text are shown whole: the bound is what a
        # quoted value in the log holds.
        text = "<" * 496 + "TAIL"
        w = self.start("--message", text, "--timeout", "1ms")
        self.assertExit(w, 1)
        self.assertEqual(self.message_line(w),
                         'approve-step: message: "%s"' % text)
        self.assertCleanLog(w)

    def test_escaped_message_is_bounded_like_other_values(self):
        # Escapes take up to ten bytes a character: a message of them is
        # cut in the log as any value from outside, and marked.
        w = self.start("--message", "\u202e" * 160 + "TAIL",
                       "--timeout", "1ms")
        self.assertExit(w, 1)
        line = self.message_line(w)
        self.assertTrue(line.startswith('approve-step: message: "\\u{202e}'),
                        line)
        self.assertTrue(line.endswith(CUT_MARK + '"'), line)
        self.assertNotIn("TAIL", line)
        self.assertLess(len(line.encode()), 512 + len("approve-step: message: "))
        self.assertCleanLog(w)


if __name__ == "__main__":
    main()

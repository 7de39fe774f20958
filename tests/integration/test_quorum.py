#!/usr/bin/env python3
"""N-of-M approval: votes in KEY.USER files, counted against --approvals,
--approvers and --requester, on a kubelet-style volume."""

import json
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from cases import WaiterTest, main  # noqa: E402
from contract import encode_voter  # noqa: E402
from volume import KubeletVolume  # noqa: E402


def vote(decision, comment=None):
    v = {"decision": decision}
    if comment is not None:
        v["comment"] = comment
    return json.dumps(v)


APPROVERS = "alice@example.com,bob@example.com,carol@example.com"
ALICE, BOB, CAROL = ("run-1.alice_40example.com", "run-1.bob_40example.com",
                     "run-1.carol_40example.com")


class Quorum(WaiterTest):
    def start(self, *args, pinned=True, **kw):
        """Votes on this volume count: the cluster is said to pin the
        workspace's binding (the weaker mode)."""
        extra = ("--bindings-pinned", "true") if pinned else ()
        return super().start(*args, *extra, **kw)

    def start_two_of_three(self, *extra):
        w = self.start("--key", "run-1", "--approvals", "2", "--approvers",
                       APPROVERS, "--requester", "carol@example.com",
                       "--timeout", "30s", *extra)
        self.assertIn('approvals in %s/run-1.USER from "alice@example.com, '
                      'bob@example.com, carol@example.com"' % self.dir,
                      w.watching())
        return w

    def test_cmdline_keeps_the_approvers_commas(self):
        # ps shows /proc/PID/cmdline: the list must not be split in place.
        w = self.start_two_of_three()
        with open("/proc/%d/cmdline" % w.pid, "rb") as f:
            args = f.read().split(b"\0")
        self.assertIn(APPROVERS.encode(), args)
        w.signal(signal.SIGTERM)
        self.assertExit(w, 1)

    def test_two_of_three_approve(self):
        self.volume.update({"run-1": "init"})
        w = self.start_two_of_three()
        self.volume.patch({ALICE: vote("approved", "LGTM")})
        w.wait_for_line("1 of 2 approvals so far")
        self.volume.patch({BOB: "approve"})
        self.assertExit(w, 0)
        self.assertDecision(w, "approved",
                            "alice@example.com,bob@example.com",
                            "alice@example.com: LGTM")

    def test_requester_cannot_approve_own_run(self):
        w = self.start_two_of_three("--timeout", "3s")
        self.volume.patch({CAROL: "approved", ALICE: "approved"})
        w.wait_for_line("not counted: the requester may not approve")
        self.assertExit(w, 1, timeout=8)
        self.assertDecision(w, "timeout")

    def test_votes_from_others_and_plain_key_do_not_count(self):
        w = self.start_two_of_three("--timeout", "3s")
        self.volume.patch({
            "run-1": "approved",                       # the shared key
            "run-1.mallory": "approved",               # not an approver
            "run-1.alice@example.com": "approved",     # not encoded
            "run-2.bob_40example.com": "approved",     # another run
            ALICE: "approved",
        })
        w.wait_for_line("not counted: not on --approvers")
        w.wait_for_line("not counted: its name is not an encoded username")
        self.assertExit(w, 1, timeout=8)
        self.assertDecision(w, "timeout")

    def test_one_refusal_decides(self):
        w = self.start_two_of_three()
        self.volume.patch({ALICE: "approved"})
        self.volume.patch({BOB: vote("refused", "not on a Friday")})
        self.assertExit(w, 1)
        self.assertDecision(w, "refused", "bob@example.com",
                            "bob@example.com: not on a Friday")

    def test_unknown_vote_is_warned_and_not_counted(self):
        w = self.start_two_of_three()
        self.volume.patch({ALICE: "yes please", BOB: "approved"})
        w.wait_for_line("not counted: not a decision word")
        self.volume.patch({ALICE: "approved"})
        self.assertExit(w, 0)

    def test_approval_and_refusal_in_one_update_refuse(self):
        # One kubelet update brings bob's approval and carol's refusal
        # together: however the waiter's reads interleave with the swap,
        # it must not approve on alice's and bob's votes alone.
        for i in range(30):
            vol = KubeletVolume(os.path.join(self.tmp, f"r{i}"))
            vol.update({ALICE: "approved"})
            w = self.start("--key", "run-1", "--approvals", "2",
                           "--approvers", APPROVERS, dir=vol.path,
                           results_dir=None)
            w.watching()
            vol.patch({BOB: "approved", CAROL: "refused"})
            self.assertEqual(w.wait(), 1, f"round {i}: {w.log()}")

    def test_votes_already_there_at_start(self):
        self.volume.update({ALICE: "approved", BOB: "approved"})
        w = self.start_two_of_three()
        self.assertExit(w, 0, timeout=2)

    def test_names_in_log_are_escaped(self):
        w = self.start("--key", "run-1", "--requester", "x",
                       "--timeout", "3s")
        w.watching()
        # A username with a newline and an escape, encoded as the policy
        # would: it must not forge a log line when decoded.
        self.volume.patch({"run-1.eve_0aapprove-step_3a_20ok_1b": "approved"})
        self.assertExit(w, 0)
        self.assertIn('"eve\\napprove-step: ok\\x1b"', w.log())
        self.assertEqual(w.result("approver"), "eve\\napprove-step: ok\\x1b")


    def test_service_accounts_vote_only_when_named(self):
        # Whoever can run pods as two ServiceAccounts of the namespace has
        # two identities: without --approvers neither counts, so the
        # requester cannot reach "approvals: 2" alone.
        sa1, sa2 = ("system:serviceaccount:ci:builder",
                    "system:serviceaccount:ci:deployer")
        w = self.start("--key", "run-1", "--approvals", "2", "--requester",
                       "carol@example.com", "--timeout", "3s")
        self.assertIn("--requester without --approvers is weak",
                      w.wait_for_line("warning: --requester"))
        self.volume.patch({"run-1." + encode_voter(sa1): "approved",
                           "run-1." + encode_voter(sa2): "approved"})
        w.wait_for_line("not counted: a ServiceAccount or other system: user "
                        "votes only when named in --approvers")
        self.assertExit(w, 1, timeout=8)
        self.assertDecision(w, "timeout")
        # Named in --approvers, a ServiceAccount votes like anyone.
        w = self.start("--key", "run-1", "--approvals", "2", "--approvers",
                       f"{sa1},{sa2}", "--requester", "carol@example.com")
        self.assertExit(w, 0)
        self.assertEqual(w.result("approver"), f"{sa1},{sa2}")
        self.assertNotIn("is weak", w.log())


    def test_printed_vote_command_names_the_run_not_its_uid(self):
        # The Task's key is NAME-UID; kubectl approve takes the TaskRun's
        # name and computes the UID itself.
        key = "release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19"
        w = self.start("--key", key, "--approvals", "2", "--configmap",
                       "approve-cm", "--namespace", "ci")
        line = w.wait_for_line("to vote:")
        self.assertIn("to vote: kubectl approve release-42-approval -n ci "
                      "[--refuse]", line)
        self.assertIn("or set key %s.USER" % key, line)
        w = self.start("--key", "run-1", "--approvals", "2", "--configmap",
                       "approve-cm")
        self.assertIn("kubectl approve run-1 [--refuse]",
                      w.wait_for_line("to vote:"))


    def test_volume_votes_refused_unless_bindings_are_pinned(self):
        # Whoever creates the run chooses what its workspace holds: vote
        # files planted there (a PVC, items mapping old votes) prove
        # nothing. Without --bindings-pinned true they are not read.
        self.volume.update({ALICE: "approved", BOB: "approved"})
        w = self.start("--key", "run-1", "--approvals", "2", pinned=False)
        self.assertExit(w, 2)
        self.assertIn("votes (--approvals, --approvers, --requester) are "
                      "read through the Kubernetes API", w.log())
        self.assertIsNone(w.result("decision"))
        # --api auto that cannot reach the API does not fall back to them.
        w = self.start("--key", "run-1", "--approvals", "2", "--api", "auto",
                       "--configmap", "approvals", "--api-credentials",
                       os.path.join(self.tmp, "none"), pinned=False)
        self.assertExit(w, 2)
        self.assertIn("votes are not read from the volume unless "
                      "--bindings-pinned true", w.log())
        self.assertIn("vote files in %s are not counted" % self.dir, w.log())


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""approve-step --api: the decision and the votes read from the watch stream, however
it is chunked, and what is refused in it."""

import json
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))

import fakeapi  # noqa: E402
from api_kit import (ALICE, APPROVERS, BOB, CAROL, CM, ESTABLISHED, KEY, NS,  # noqa: E402
                     APITest, exit_after_signal, vote)
from cases import main  # noqa: E402
from proc import SLOW  # noqa: E402


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
        # The deadline must outlast the TLS handshake, which valgrind or
        # qemu slows past a second.
        deadline = int(SLOW)
        w = self.launch(dir=False, timeout=f"{deadline}s")
        self.established(w)
        self.assertExit(w, 1, timeout=deadline + 3 * SLOW)
        self.assertDecision(w, "timeout")
        self.assertLess(w.elapsed, deadline + 1.5 * SLOW)
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

    def test_escaped_size_cannot_make_the_gate_unreadable(self):
        # A voter writes 360 KiB of "<" under their own key: 1 MiB raw is
        # well within what the API server accepts, but Go writes each "<"
        # as six bytes (\u003c), over 2 MiB on the wire. The gate still
        # decides, from the first list and from a watch event.
        self.patch({KEY + ".mallory": "<" * (360 * 1024)})
        body = self.api.store.get("configmaps", NS, CM)
        self.assertGreater(len(fakeapi.go_json(body)), 2 * 1024 * 1024)
        w = self.start_two_of_three()
        self.patch({ALICE: "approved", KEY + ".mallory2": "&" * (600 * 1024)})
        w.wait_for_line("1 of 2 approvals so far")
        self.patch({BOB: "approved"})
        self.assertExit(w, 0)
        self.assertDecision(w, "approved",
                            "alice@example.com,bob@example.com")
        w = self.launch("--approvals", "2", "--approvers", APPROVERS,
                        dir=False)
        self.assertExit(w, 0)

    def test_a_member_twice_in_an_event_is_one_voter(self):
        # JSON allows "k.alice" twice in one object and cJSON keeps both:
        # an event so written must not count alice twice.
        w = self.start_two_of_three(timeout="3s")
        obj = self.patch({ALICE: "approved"})
        w.wait_for_line("1 of 2 approvals so far")
        obj["metadata"]["resourceVersion"] = str(
            int(obj["metadata"]["resourceVersion"]) + 1)
        line = fakeapi.go_json({"type": "MODIFIED", "object": obj})
        member = b'"%s":"approved"' % ALICE.encode()
        self.assertIn(member, line)
        self.api.inject(line.replace(member, member + b"," + member) + b"\n")
        w.wait_for_line('"alice@example.com" approves in more than one '
                        "entry: counted once")
        self.assertExit(w, 1, timeout=8)
        self.assertDecision(w, "timeout")

    def test_a_vote_naming_its_decision_twice_is_not_counted(self):
        w = self.start_two_of_three(timeout="3s")
        self.patch({BOB: "approved"})
        w.wait_for_line("1 of 2 approvals so far")
        self.patch({ALICE: '{"decision":"approved","decision":"refused"}'})
        w.wait_for_line('naming "decision", "approver" or "comment" twice')
        self.assertExit(w, 1, timeout=8)
        self.assertDecision(w, "timeout")

    def test_votes_present_at_start(self):
        self.patch({ALICE: "approved", BOB: "approved"})
        w = self.launch("--approvals", "2", "--approvers", APPROVERS,
                        dir=False)
        self.assertExit(w, 0)
        self.assertDecision(w, "approved",
                            "alice@example.com,bob@example.com")
        self.assertThroughAPI(w, "approved")


if __name__ == "__main__":
    main()

"""Plugin cases: a requester who controls their TaskRun's params, or a
proxy that answers with other objects than asked, cannot steer a vote; the
target is shown and confirmed; the key binds the run's UID."""

import os
import shutil
import tempfile

from fixture import (CASES, CONFIG_NS, FAKE, QUORUM_LOOKUP, WHOAMI, annotate,
                     expect, find, get_cm, get_pr, get_tr, list_tr_of,
                     no_writes, patch, run_plugin, set_param, vote_json,
                     with_state)


# ------------------------------------------------------------------ steering
# A requester controls the params of their TaskRun; a proxy or a cluster
# may answer with other objects than asked. None of it moves the vote.
FORGED = "\n".join(["x", "\x1f".join(["release-42-approval", "prod", "hotfix-7", "approve-step", "hotfix-7-approval-pod",
                                      "Unknown", "Running", "gate", "gate", "hotfix-7", "1", "", "x"])])


@CASES.add("attack: a newline in a param forges a record for another namespace: refused, nothing written")
def attack_newline_in_param_forges_record():
    def setup(s):
        set_param(find(s, "TaskRun", "release-42-approval"), "requester", FORGED)
    p = []
    for args in (["release-42"], ["release-42-approval"]):
        r = run_plugin(args, setup)
        p += expect(r, 1, err_has=["a control character in a name, label, param or binding", "not used"])
        p += no_writes(r)
        if find(r.state, "ConfigMap", "gate", "prod").get("data") != {"hotfix-7-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a17.carol_40example.com": "refused"} and \
                any(c[:3] == ["patch", "configmap", "gate"] for c in r.calls):
            p.append("wrote to prod/gate")
    return p


@CASES.add("attack: terminal escapes in params and vote names never reach the terminal")
def attack_terminal_escapes_never_printed():
    def setup(s):
        set_param(find(s, "TaskRun", "deploy-approval-x7k2p"), "key", "evil\x1b]0;pwned\x07\x1b[2J")
        find(s, "ConfigMap", "approve-cm")["data"]["release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19.eve_1b_5b2J_0d"] = "approved"
    r = run_plugin(["list"], setup)
    p = expect(r, 0, err_has=["not shown, with a control character in a name, label, param or binding: "
                              "TaskRun deploy-approval-x7k2p"])
    for stream in (r.out, r.err):
        if any(c in stream for c in "\x1b\x07\r"):
            p.append(f"control character printed: {stream!r}")
    if "eve\\x1b[2J\\r" not in r.out:
        p.append(f"vote name not shown cleaned: {r.out!r}")
    r = run_plugin(["release-42"], setup)
    p += expect(r, 0, out_has=["not counted: eve\\x1b[2J\\r (not an approver)"])
    if "\x1b" in r.out + r.err or "\r" in r.out + r.err:
        p.append("control character printed by a vote")
    return p


@CASES.add("attack: a server that answers with another namespace's TaskRun or ConfigMap: refused, nothing written")
def attack_answer_from_another_namespace():
    p = []
    for tamper, args, msg in [
        ([["TaskRun", "release-42-approval", "namespace", "prod"]], ["release-42-approval"],
         "kubectl answered with TaskRun prod/release-42-approval for ci/release-42-approval: not used"),
        ([["TaskRun", "release-42-approval", "namespace", "prod"]], ["release-42"],
         "kubectl answered with TaskRun prod/release-42-approval (PipelineRun release-42) for PipelineRun ci/release-42"),
        ([["TaskRun", "release-42-approval", "labels", {"tekton.dev/pipelineRun": "hotfix-7"}]], ["release-42"],
         "(PipelineRun hotfix-7) for PipelineRun ci/release-42: not used"),
        ([["ConfigMap", "approve-cm", "namespace", "prod"]], ["release-42"],
         "kubectl answered with another object for ConfigMap ci/approve-cm: not used"),
    ]:
        r = run_plugin(args, with_state(tamper=tamper))
        p += expect(r, 1, err_has=[msg])
        p += no_writes(r)
    return p


@CASES.add("attack: a binding that maps chosen keys (items) is refused, as the console refuses it")
def attack_items_binding_refused():
    def setup(s):
        tr = find(s, "TaskRun", "release-42-approval")
        tr["spec"]["workspaces"][0]["configMap"]["items"] = [
            {"key": "release-41-approval.bob_40example.com", "path": "release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19.bob_40example.com"}]
    r = run_plugin(["release-42"], setup)
    return expect(r, 1, err_has=["binds ConfigMap approve-cm with items or subPath", "do not vote"]) + no_writes(r)


@CASES.add("confirmation: the exact target is shown; only y writes; n or no answer writes nothing")
def confirmation_shows_target_and_asks():
    p = []
    target = ("About to vote refused:\n  namespace:   ci\n  TaskRun:     release-42-approval (PipelineRun release-42)\n"
              "  ConfigMap:   approve-cm\n  key:         release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19.alice_40example.com\n"
              "  as:          alice@example.com\nWrite this vote? A vote is final. [y/N] ")
    for answer, rc in (("n\n", 1), ("", 1), ("yes please\n", 1), ("y\n", 0)):
        r = run_plugin(["release-42", "--refuse"], answer=answer)
        p += expect(r, rc, err_has=[target])
        wrote = [c for c in r.calls if c[0] == "patch"]
        if (rc == 0) != bool(wrote):
            p.append(f"answer {answer!r}: calls {wrote}")
        if rc:
            p += expect(r, rc, err_has=["not confirmed: nothing written (give --yes"])
    return p


@CASES.add("confirmation on an unlabelled ConfigMap: the vote is called unprotected, never final")
def confirmation_on_unprotected_configmap():
    def unlabel(s):
        find(s, "ConfigMap", "approve-cm")["metadata"].pop("labels", None)
    r = run_plugin(["release-42"], unlabel, answer="n\n")
    p = expect(r, 1, err_has=["Write this vote? ConfigMap approve-cm is not protected by a policy: "
                              "anyone who may patch it can change or remove your vote. [y/N] "])
    if "A vote is final" in r.err:
        p.append("an unprotected vote was called final")
    return p + no_writes(r)


@CASES.add("without -n, the current namespace of the kubeconfig, named in every call")
def current_namespace_from_kubeconfig():
    r = run_plugin(["hotfix-7"], lambda s: s.update(context_namespace="prod", user="carol@example.com"))
    p = expect(r, 1, [WHOAMI, CONFIG_NS, get_tr("hotfix-7", "prod"), list_tr_of("hotfix-7", "prod"),
                      get_cm("gate", "prod")], err_has=["already holds 'refused'"])
    r = run_plugin(["release-42"], lambda s: s.update(context_namespace=""))
    p += expect(r, 1, [WHOAMI, CONFIG_NS, get_tr("release-42", "default"), list_tr_of("release-42", "default"),
                       get_pr("release-42", "default")], err_has=["in namespace default"])
    return p


@CASES.add("error: jq is not on PATH")
def error_jq_is_not_on_path():
    tmp = tempfile.mkdtemp()
    try:
        for tool in ("sh", "awk", "mktemp", "cat", "grep", "rm", "date", "python3"):
            src = shutil.which(tool)
            if src:
                os.symlink(src, os.path.join(tmp, tool))
        os.symlink(os.path.join(FAKE, "kubectl"), os.path.join(tmp, "kubectl"))
        r = run_plugin(["release-42"], path=tmp)
    finally:
        shutil.rmtree(tmp)
    return expect(r, 1, [], err_has=["jq not found on PATH: it reads kubectl's JSON"])


UID42 = "5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19"


def task_key_default(s, tr_name="release-42-approval"):
    """The TaskRun ran this Task: its status.taskSpec has the key default."""
    tr = find(s, "TaskRun", tr_name)
    tr["status"]["taskSpec"]["params"] = [
        {"name": "key", "type": "string", "default": "$(context.taskRun.name)-$(context.taskRun.uid)"}]


@CASES.add("attack: a reused run name: old votes under the name alone do not count; the vote goes to the key with the run's UID")
def reused_run_name_old_votes_do_not_count():
    def setup(s):
        task_key_default(s)
        # votes of an earlier, deleted release-42 (same name, another UID)
        d = find(s, "ConfigMap", "approve-cm")["data"]
        d["release-42-approval.bob_40example.com"] = "approved"
        d["release-42-approval-0b6f6a2e-7f1c-4a8e-9d3b-2c4e5f6a7b8c.bob_40example.com"] = "approved"
    r = run_plugin(["release-42", "-m", "LGTM"], setup)
    key = f"release-42-approval-{UID42}.alice_40example.com"
    p = expect(r, 0, QUORUM_LOOKUP + [patch("approve-cm", "ci", key, vote_json("approved", "LGTM")),
                                      annotate("release-42-approval-pod", "ci")],
               out_has=["approvals: 1 of 2 (alice@example.com); still needed: 1 more from bob@example.com"])
    r = run_plugin(["list"], setup)
    p += expect(r, 0, out_has=[f"approve-cm   release-42-approval-{UID42}   "])
    return p


@CASES.add("a StepAction's key, from the step's --key in the resolved spec (status.taskSpec)")
def stepaction_key_from_resolved_steps():
    def setup(s):
        tr = find(s, "TaskRun", "release-42-approval")
        tr["status"]["taskSpec"] = {"steps": [
            {"name": "build", "command": ["make"], "args": ["--key", "$(params.other)"]},
            {"name": "approval", "command": ["/approve-step"],
             "args": ["--dir", "/workspace/data", "--key", "$(context.taskRun.name)-$(context.taskRun.uid)",
                      "--approvals", "2", "--approvers", "alice@example.com,bob@example.com"]}]}
    r = run_plugin(["release-42"], setup)
    return expect(r, 0, out_has=[f"wrote release-42-approval-{UID42}.alice_40example.com to ConfigMap ci/approve-cm"])


@CASES.add("the key param may hold the run's name and UID in any order; both are put in")
def key_param_context_variables():
    def setup(s):
        set_param(find(s, "TaskRun", "release-42-approval"), "key",
                  "$(context.taskRun.uid)-x-$(context.taskRun.name)-$(context.taskRun.uid)")
    r = run_plugin(["release-42"], setup)
    key = f"{UID42}-x-release-42-approval-{UID42}.alice_40example.com"
    return expect(r, 0, out_has=[f"wrote {key} to ConfigMap ci/approve-cm"])


UID41 = "5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a18"


@CASES.add("attack: a key param naming another run's key: refused, since one approval would approve two runs")
def key_param_naming_another_runs_key_refused():
    # the requester of release-42 points its key at the key of release-41
    def setup(s):
        set_param(find(s, "TaskRun", "release-42-approval"), "key", f"release-41-approval-{UID41}")
    r = run_plugin(["release-42"], setup)
    p = expect(r, 1, QUORUM_LOOKUP[:-1],
               err_has=[f"TaskRun ci/release-42-approval waits on key release-41-approval-{UID41}, which does not "
                        f"name its UID {UID42}: refusing, since a key not derived from the run could approve "
                        "another run"]) + no_writes(r)
    r = run_plugin(["list"], setup)
    p += expect(r, 0, out_has=["release-42-approval     release-42    approve-cm   ?   "],
                err_has=[f"waits on key release-41-approval-{UID41}, which does not name its UID {UID42}"])
    if f"release-41-approval-{UID41}" in r.out:
        p.append(f"list shows the foreign key as this run's: {r.out!r}")
    return p


@CASES.add("attack: a shared key without the UID (the classic status) is not voted on")
def shared_key_without_uid_refused():
    r = run_plugin(["release-42"], lambda s: set_param(find(s, "TaskRun", "release-42-approval"), "key", "status"))
    return expect(r, 1, err_has=[f"waits on key status, which does not name its UID {UID42}: refusing"]) + no_writes(r)


@CASES.add("attack: a TaskRun without status.taskSpec: refused, no vote under its bare name")
def no_status_taskspec_refused():
    def setup(s):
        del find(s, "TaskRun", "release-42-approval")["status"]["taskSpec"]
        # a vote under the bare name would be all the fallback could aim at
        find(s, "ConfigMap", "approve-cm")["data"]["release-42-approval.bob_40example.com"] = "approved"
    r = run_plugin(["release-42"], setup)
    p = expect(r, 1, QUORUM_LOOKUP[:-1],
               err_has=["TaskRun ci/release-42-approval is not resolved yet (no status.taskSpec): cannot tell which "
                        "key it waits on; try again when it runs"]) + no_writes(r)
    r = run_plugin(["release-42-approval", "--key", "release-42-approval"], setup)
    p += expect(r, 1, err_has=["is not resolved yet (no status.taskSpec)"]) + no_writes(r)
    return p


@CASES.add("attack: bidi overrides, marks, separators, the BOM and invisible characters in vote names are shown as approve-step shows them")
def bidi_in_vote_names_escaped_as_the_step():
    # mallory<U+202E>moc.elpmaxe@... would read as another address
    names = {"_e2_80_ae": "\\u{202e}", "_d8_9c": "\\u{061c}", "_e2_80_a8": "\\u{2028}", "_ef_bb_bf": "\\u{feff}",
             "_c2_9b": "\\u{009b}", "_e2_81_a6": "\\u{2066}", "_e2_80_8f": "\\u{200f}",
             # mal<ZWSP>lory looks like mallory
             "_e2_80_8b": "\\u{200b}", "_c2_ad": "\\u{00ad}", "_e2_81_a0": "\\u{2060}", "_f3_a0_80_81": "\\u{e0001}"}

    def setup(s):
        d = find(s, "ConfigMap", "approve-cm")["data"]
        for enc in names:
            d[f"release-42-approval-{UID42}.mallory{enc}x_40example.com"] = "approved"
    r = run_plugin(["release-42", "-m", "ok"], setup)
    p = expect(r, 0)
    for shown in names.values():
        if f"not counted: mallory{shown}x@example.com (not an approver)" not in r.out:
            p.append(f"not shown as {shown}: {r.out!r}")
    r2 = run_plugin(["list"], setup)
    p += expect(r2, 0, out_has=["mallory\\u{202e}x@example.com=approved"])
    for stream in (r.out, r.err, r2.out, r2.err):
        if any(c in stream for c in "\u202e\u061c\u2028\ufeff\x9b\u2066\u200f\u200b\u00ad\u2060\U000e0001"):
            p.append(f"unsafe code point printed: {stream!r}")
    return p

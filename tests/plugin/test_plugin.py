#!/usr/bin/env python3
"""Tests of plugin/kubectl-approve against a stand-in kubectl (fake/kubectl).

Each case copies fixtures/cluster.json (real-shaped Tekton and core objects),
changes what the case needs, runs the plugin with fake/ first on PATH, and
checks the exit status, the exact kubectl calls (patch and annotate in full),
the output, and the cluster state the calls left. Prints one PASS/FAIL line
per case and "N passed, M failed"; exits 1 on any failure. fixture.py runs
the plugin and builds the calls it must make.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from cases import Registry, Skip  # noqa: E402
from fixture import (CONFIG_NS, FAKE, FIXTURE, KEY_ALICE, NOW, PLUGIN,  # noqa: E402
                     QUORUM_LOOKUP, WHOAMI, annotate, expect,
                     find, get_cm, get_pr, get_tr, list_tr_of, no_writes,
                     patch, run_plugin, set_param, vote_json, with_state)

CASES = Registry("")


# ------------------------------------------------------------------ votes
@CASES.add("approve a PipelineRun: finds its approval TaskRun, patches KEY.NAME, nudges the pod")
def approve_a_pipelinerun_finds_its_approval():
    r = run_plugin(["release-42", "-m", "LGTM"])
    value = vote_json("approved", "LGTM")
    p = expect(r, 0, QUORUM_LOOKUP + [patch("approve-cm", "ci", KEY_ALICE, value),
                                      annotate("release-42-approval-pod", "ci")],
               out="approved TaskRun ci/release-42-approval as alice@example.com: wrote "
                   "release-42-approval.alice_40example.com to ConfigMap ci/approve-cm\n"
                   "nudged pod ci/release-42-approval-pod: the step sees the vote within seconds\n"
                   "approvals: 1 of 2 (alice@example.com); still needed: 1 more from bob@example.com, "
                   "carol@example.com\n", err_empty=True)
    data = find(r.state, "ConfigMap", "approve-cm")["data"]
    if data.get(KEY_ALICE) != '{"decision":"approved","comment":"LGTM"}':
        p.append(f"ConfigMap holds {data.get(KEY_ALICE)!r}")
    if json.loads(data[KEY_ALICE]) != {"decision": "approved", "comment": "LGTM"}:
        p.append("vote is not the JSON object")
    if find(r.state, "Pod", "release-42-approval-pod")["metadata"]["annotations"].get("approve-step/nudge") != NOW:
        p.append("pod not annotated")
    return p


@CASES.add("approve a TaskRun by name: no PipelineRun lookup, empty comment")
def approve_a_taskrun_by_name_no_pipelinerun():
    r = run_plugin(["release-42-approval"])
    return expect(r, 0, [WHOAMI, CONFIG_NS, get_tr("release-42-approval"), get_cm("approve-cm", "ci"),
                         patch("approve-cm", "ci", KEY_ALICE, vote_json("approved", "")),
                         annotate("release-42-approval-pod", "ci")], err_empty=True)


@CASES.add("a comment with quotes, backslashes, newlines, tabs, control bytes and UTF-8 is JSON-escaped exactly")
def a_comment_with_quotes_backslashes():
    comment = 'He said "no\\go"\nthen\ttabbed\r\x01\x1f\x7f – naïve ✓ <&>'
    r = run_plugin(["release-42-approval", "-m", comment])
    esc = ('"He said \\"no\\\\go\\"\\nthen\\ttabbed\\r\\u0001\\u001f\\u007f – naïve ✓ <&>"')
    value = '{"decision":"approved","comment":%s}' % esc
    p = expect(r, 0, [WHOAMI, CONFIG_NS, get_tr("release-42-approval"), get_cm("approve-cm", "ci"),
                      patch("approve-cm", "ci", KEY_ALICE, value), annotate("release-42-approval-pod", "ci")])
    stored = find(r.state, "ConfigMap", "approve-cm")["data"].get(KEY_ALICE, "")
    try:
        if json.loads(stored) != {"decision": "approved", "comment": comment}:
            p.append(f"stored vote decodes to {json.loads(stored)!r}")
    except ValueError as e:
        p.append(f"stored vote is not JSON ({e}): {stored!r}")
    return p


@CASES.add("a comment ending in newlines keeps them")
def a_comment_ending_in_newlines_keeps_them():
    r = run_plugin(["release-42-approval", "-m", "a\n\n"])
    stored = find(r.state, "ConfigMap", "approve-cm")["data"].get(KEY_ALICE, "{}")
    p = expect(r, 0)
    if json.loads(stored).get("comment") != "a\n\n":
        p.append(f"stored {stored!r}")
    return p


@CASES.add("refuse: the vote says refused and the summary says the run is refused")
def refuse_the_vote_says_refused_and_the():
    r = run_plugin(["release-42", "--refuse", "--message=not today"], with_state(user="bob@example.com"))
    return expect(r, 0, QUORUM_LOOKUP + [
        patch("approve-cm", "ci", "release-42-approval.bob_40example.com", vote_json("refused", "not today")),
        annotate("release-42-approval-pod", "ci")],
        out_has=["refused TaskRun ci/release-42-approval as bob@example.com",
                 "decision: refused by bob@example.com\n"])


@CASES.add("the second approval reaches the quorum")
def the_second_approval_reaches_the_quorum():
    def setup(s):
        find(s, "ConfigMap", "approve-cm")["data"]["release-42-approval.bob_40example.com"] = "approved"
    r = run_plugin(["release-42"], setup)
    return expect(r, 0, out_has=["decision: approved by alice@example.com, bob@example.com (2 of 2)\n"])


@CASES.add("the requester's and strangers' votes are shown as not counted")
def the_requester_s_and_strangers_votes_are():
    def setup(s):
        d = find(s, "ConfigMap", "approve-cm")["data"]
        d["release-42-approval.dave_40example.com"] = "approved"
        d["release-42-approval.mallory_40example.com"] = "approved"
    r = run_plugin(["release-42"], setup)
    return expect(r, 0, out_has=[
        "approvals: 1 of 2 (alice@example.com); still needed: 1 more from bob@example.com, carol@example.com\n"
        "  not counted: dave@example.com (the requester)\n"
        "  not counted: mallory@example.com (not an approver)\n"])


@CASES.add("-n NAMESPACE and a key param: the vote goes to KEY.NAME in that namespace")
def n_namespace_and_a_key_param_the_vote():
    def setup(s):
        s["user"] = "carol@example.com"
        find(s, "ConfigMap", "gate", "prod")["data"] = {}
    r = run_plugin(["-n", "prod", "hotfix-7", "-m", "go"], setup)
    return expect(r, 0, [WHOAMI, get_tr("hotfix-7", "prod"), list_tr_of("hotfix-7", "prod"), get_cm("gate", "prod"),
                         patch("gate", "prod", "hotfix-7.carol_40example.com", vote_json("approved", "go")),
                         annotate("hotfix-7-approval-pod", "prod")],
                  out_has=["decision: approved by carol@example.com (1 of 1)\n"])


@CASES.add("--configmap and --key override the TaskRun's")
def configmap_and_key_override_the_taskrun_s():
    def setup(s):
        cm = json.loads(json.dumps(find(s, "ConfigMap", "approve-cm")))
        cm["metadata"]["name"] = "other-cm"
        cm["data"] = {}
        s["items"].append(cm)
    r = run_plugin(["release-42-approval", "--configmap", "other-cm", "--key=custom"], setup)
    return expect(r, 0, [WHOAMI, CONFIG_NS, get_tr("release-42-approval"), get_cm("other-cm", "ci"),
                         patch("other-cm", "ci", "custom.alice_40example.com", vote_json("approved", "")),
                         annotate("release-42-approval-pod", "ci")])


@CASES.add("a service account votes under its encoded name")
def a_service_account_votes_under_its():
    sa = "system:serviceaccount:ci:approver-bot"
    def setup(s):
        s["user"] = sa
        set_param(find(s, "TaskRun", "release-42-approval"), "approvers", "alice@example.com," + sa)
    r = run_plugin(["release-42-approval"], setup)
    return expect(r, 0, [WHOAMI, CONFIG_NS, get_tr("release-42-approval"), get_cm("approve-cm", "ci"),
                         patch("approve-cm", "ci", "release-42-approval.system_3aserviceaccount_3aci_3aapprover-bot",
                               vote_json("approved", "")),
                         annotate("release-42-approval-pod", "ci")],
                  out_has=[f"approvals: 1 of 2 ({sa}); still needed: 1 more from alice@example.com\n"])


@CASES.add("without approvers, a service account's vote would not count: nothing written, and others' are shown as not counted")
def without_approvers_a_service_account_does_not_count():
    sa = "system:serviceaccount:ci:approver-bot"
    def setup(s):
        s["user"] = sa
        tr = find(s, "TaskRun", "release-42-approval")
        set_param(tr, "approvers", None)
        find(s, "ConfigMap", "approve-cm")["data"][
            "release-42-approval.system_3aserviceaccount_3aci_3aother-bot"] = "approved"
    r = run_plugin(["release-42-approval"], setup)
    p = expect(r, 1, err_has=[f"you ({sa}) are a ServiceAccount or other system: user, which votes only "
                              "when named in the approvers: your vote would not count"])
    p += no_writes(r)
    r = run_plugin(["release-42-approval"], lambda s: (setup(s), s.update(user="bob@example.com")))
    p += expect(r, 0, out_has=["not counted: system:serviceaccount:ci:other-bot (a ServiceAccount, "
                               "not named in approvers)"])
    return p


@CASES.add("an odd e-mail address (apostrophe, plus, underscore) is encoded byte by byte")
def an_odd_e_mail_address_apostrophe_plus():
    user = "o'brien+ci_ops@example.com"
    def setup(s):
        s["user"] = user
        set_param(find(s, "TaskRun", "release-42-approval"), "approvers", user + ",bob@example.com")
    r = run_plugin(["release-42-approval", "--refuse"], setup)
    key = "release-42-approval.o_27brien_2bci_5fops_40example.com"
    p = expect(r, 0, [WHOAMI, CONFIG_NS, get_tr("release-42-approval"), get_cm("approve-cm", "ci"),
                      patch("approve-cm", "ci", key, vote_json("refused", "")),
                      annotate("release-42-approval-pod", "ci")], out_has=[f"decision: refused by {user}\n"])
    return p


@CASES.add("approvers written with spaces after the commas are read as approve-step reads them")
def approvers_written_with_spaces_after_the():
    def setup(s):
        set_param(find(s, "TaskRun", "release-42-approval"), "approvers",
                  " alice@example.com, bob@example.com ,, carol@example.com ")
    r = run_plugin(["release-42"], setup)
    return expect(r, 0, out_has=["approvals: 1 of 2 (alice@example.com); still needed: 1 more from "
                                 "bob@example.com, carol@example.com\n"])


@CASES.add("--context, --kubeconfig and --as go to every kubectl call")
def context_kubeconfig_and_as_go_to_every():
    r = run_plugin(["release-42-approval", "--context", "prod", "--kubeconfig=/k/config", "--as", "bob@example.com"])
    g = ["--context=prod", "--kubeconfig=/k/config", "--as=bob@example.com"]
    key = "release-42-approval.bob_40example.com"
    return expect(r, 0, [g + WHOAMI, g + CONFIG_NS, g + get_tr("release-42-approval"), g + get_cm("approve-cm", "ci"),
                         g + patch("approve-cm", "ci", key, vote_json("approved", "")),
                         g + annotate("release-42-approval-pod", "ci")],
                  out_has=["as bob@example.com: wrote " + key])


@CASES.add("a single-decision run (no quorum params) writes the plain key with the approver")
def a_single_decision_run_no_quorum_params():
    r = run_plugin(["deploy-approval-x7k2p", "-m", "ok"])
    value = '{"decision":"approved","approver":"alice@example.com","comment":"ok"}'
    return expect(r, 0, [WHOAMI, CONFIG_NS, get_tr("deploy-approval-x7k2p"), get_cm("approvals", "ci"),
                         patch("approvals", "ci", "deploy-approval-x7k2p", value),
                         annotate("deploy-approval-x7k2p-pod", "ci")],
                  out_has=["decision: approved (key deploy-approval-x7k2p)\n"],
                  err_has=["warning: ConfigMap ci/approvals is not labelled approve-step/gate=true"])


@CASES.add("a TaskRun without a pod yet: the vote is written, nothing is annotated")
def a_taskrun_without_a_pod_yet_the_vote_is():
    def setup(s):
        del find(s, "TaskRun", "release-42-approval")["status"]["podName"]
    r = run_plugin(["release-42-approval"], setup)
    return expect(r, 0, [WHOAMI, CONFIG_NS, get_tr("release-42-approval"), get_cm("approve-cm", "ci"),
                         patch("approve-cm", "ci", KEY_ALICE, vote_json("approved", ""))],
                  out_has=["has no pod yet: the step reads the vote when it starts"])


@CASES.add("a pending word in one's own key may be replaced")
def a_pending_word_in_one_s_own_key_may_be():
    def setup(s):
        find(s, "ConfigMap", "approve-cm")["data"][KEY_ALICE] = "pending"
    return expect(run_plugin(["release-42-approval"], setup), 0)


@CASES.add("the plugin runs under bash --posix as well")
def the_plugin_runs_under_bash_posix_as_well():
    if not shutil.which("bash"):
        return ["bash not installed"]
    r = run_plugin(["release-42", "-m", "LGTM"], shell="bash --posix")
    return expect(r, 0, QUORUM_LOOKUP + [patch("approve-cm", "ci", KEY_ALICE, vote_json("approved", "LGTM")),
                                         annotate("release-42-approval-pod", "ci")], err_empty=True)


# ------------------------------------------------------------------ list
@CASES.add("list: approvals waiting in the current namespace, with keys and votes")
def list_approvals_waiting_in_the_current():
    def setup(s):
        find(s, "ConfigMap", "approve-cm")["data"].update({
            "release-42-approval.bob_40example.com": '{"decision":"refused","comment":"x"}',
            "release-42-approval.alice_40example.com": "approved"})
    r = run_plugin(["list"], setup)
    want = (
        "TASKRUN                 PIPELINERUN   CONFIGMAP    KEY                     NEEDS                                                                            VOTES\n"
        "release-42-approval     release-42    approve-cm   release-42-approval     2 of alice@example.com,bob@example.com,carol@example.com, not dave@example.com   alice@example.com=approved, bob@example.com=refused\n"
        "deploy-approval-x7k2p   -             approvals    deploy-approval-x7k2p   1 (plain key)                                                                    -\n")
    return expect(r, 0, [CONFIG_NS, ["get", "taskruns.tekton.dev", "--namespace=ci", "-o", "json"],
                         ["get", "configmap", "approve-cm", "--namespace=ci", "-o", "json"],
                         ["get", "configmap", "approvals", "--namespace=ci", "-o", "json"]],
                  out=want, err_empty=True)


@CASES.add("list -A: every namespace")
def list_a_every_namespace():
    r = run_plugin(["list", "-A"])
    want = (
        "TASKRUN                    PIPELINERUN   CONFIGMAP    KEY                     NEEDS                                                                            VOTES\n"
        "ci/release-42-approval     release-42    approve-cm   release-42-approval     2 of alice@example.com,bob@example.com,carol@example.com, not dave@example.com   -\n"
        "ci/deploy-approval-x7k2p   -             approvals    deploy-approval-x7k2p   1 (plain key)                                                                    -\n"
        "prod/hotfix-7-approval     hotfix-7      gate         hotfix-7                1 of carol@example.com                                                           carol@example.com=refused\n")
    p = expect(r, 0, out=want, err_empty=True)
    if r.calls and r.calls[0] != ["get", "taskruns.tekton.dev", "--all-namespaces", "-o", "json"]:
        p.append(f"first call {r.calls[0]}")
    if "release-41" in r.out or "release-42-build" in r.out:
        p.append("lists a finished or non-approval TaskRun")
    return p


@CASES.add("list: nothing waiting")
def list_nothing_waiting():
    r = run_plugin(["list", "-n", "empty"])
    return expect(r, 0, out="", err_has=["No approvals waiting in namespace empty."])


@CASES.add("list: votes that cannot be read are shown as ?")
def list_votes_that_cannot_be_read_are_shown():
    r = run_plugin(["list"], with_state(forbid=["get configmaps"]))
    return expect(r, 0, out_has=["release-42-approval", "   ?\n"],
                  err_has=["warning: could not read the votes (?) of: ci/approve-cm: Error from server (Forbidden)"])


# ------------------------------------------------------------------ errors
@CASES.add("error: no cluster reachable")
def error_no_cluster_reachable():
    r = run_plugin(["release-42"], with_state(unreachable=True))
    return expect(r, 1, [WHOAMI],
                  err_has=["kubectl approve: error: cannot find out who you are (kubectl auth whoami): "
                           "The connection to the server localhost:8080 was refused",
                           "hint: no cluster reachable"], out="")


@CASES.add("error: the cluster has no kubectl auth whoami")
def error_the_cluster_has_no_kubectl_auth():
    r = run_plugin(["release-42"], with_state(no_whoami=True))
    return expect(r, 1, [WHOAMI], err_has=["SelfSubjectReview needs Kubernetes 1.28 or later"])


@CASES.add("error: Tekton is not installed")
def error_tekton_is_not_installed():
    r = run_plugin(["release-42"], with_state(no_tekton=True))
    return expect(r, 1, [WHOAMI, CONFIG_NS, get_tr("release-42")],
                  err_has=['doesn\'t have a resource type "taskruns.tekton.dev"', "hint: is Tekton Pipelines installed"])


@CASES.add("error: no permission to read TaskRuns")
def error_no_permission_to_read_taskruns():
    r = run_plugin(["release-42"], with_state(forbid=["get taskruns"]))
    return expect(r, 1, [WHOAMI, CONFIG_NS, get_tr("release-42")],
                  err_has=["cannot read TaskRun release-42 in namespace ci: Error from server (Forbidden): "
                           'taskruns.tekton.dev "release-42" is forbidden: User "alice@example.com" cannot get',
                           "hint: you lack this permission"])


@CASES.add("error: no permission to patch the ConfigMap: nothing is annotated")
def error_no_permission_to_patch_the():
    r = run_plugin(["release-42"], with_state(forbid=["patch configmaps"]))
    p = expect(r, 1, QUORUM_LOOKUP + [patch("approve-cm", "ci", KEY_ALICE, vote_json("approved", ""))],
               err_has=[f"cannot write {KEY_ALICE} to ConfigMap ci/approve-cm: Error from server (Forbidden)",
                        "hint: you lack this permission"], out="")
    if KEY_ALICE in find(r.state, "ConfigMap", "approve-cm")["data"]:
        p.append("vote stored")
    return p


@CASES.add("error: the admission policy refuses the vote")
def error_the_admission_policy_refuses_the():
    r = run_plugin(["release-42"], with_state(deny_patch="approve-step: key x is the vote of y, not yours"))
    return expect(r, 1, QUORUM_LOOKUP + [patch("approve-cm", "ci", KEY_ALICE, vote_json("approved", ""))],
                  err_has=["denied request: approve-step: key x is the vote of y, not yours",
                           "hint: the approve-step policy refused this write"])


@CASES.add("warning: the pod cannot be annotated, the vote stands (exit 0)")
def warning_the_pod_cannot_be_annotated_the():
    r = run_plugin(["release-42"], with_state(forbid=["patch pods"]))
    p = expect(r, 0, QUORUM_LOOKUP + [patch("approve-cm", "ci", KEY_ALICE, vote_json("approved", "")),
                                      annotate("release-42-approval-pod", "ci")],
               err_has=["warning: your vote is recorded, but the pod ci/release-42-approval-pod could not be nudged",
                        "within about 1-2 minutes"])
    if "nudged" in r.out:
        p.append("claims a nudge")
    return p


@CASES.add("error: unknown run")
def error_unknown_run():
    r = run_plugin(["nope"])
    return expect(r, 1, [WHOAMI, CONFIG_NS, get_tr("nope"), list_tr_of("nope"), get_pr("nope")],
                  err_has=["error: no TaskRun or PipelineRun named nope in namespace ci"], out="")


@CASES.add("error: unknown run in a named namespace")
def error_unknown_run_in_a_named_namespace():
    r = run_plugin(["nope", "--namespace", "prod"])
    return expect(r, 1, [WHOAMI, get_tr("nope", "prod"), list_tr_of("nope", "prod"), get_pr("nope", "prod")],
                  err_has=["no TaskRun or PipelineRun named nope in namespace prod"])


@CASES.add("error: a PipelineRun without TaskRuns yet")
def error_a_pipelinerun_without_taskruns_yet():
    def setup(s):
        s["items"] = [o for o in s["items"] if o["metadata"].get("labels", {}).get("tekton.dev/pipelineRun") != "release-42"]
    r = run_plugin(["release-42"], setup)
    return expect(r, 1, [WHOAMI, CONFIG_NS, get_tr("release-42"), list_tr_of("release-42"), get_pr("release-42")],
                  err_has=["PipelineRun release-42 has no TaskRun yet"])


@CASES.add("error: a PipelineRun whose approval has finished")
def error_a_pipelinerun_whose_approval_has():
    def setup(s):
        c = find(s, "TaskRun", "release-42-approval")["status"]["conditions"][0]
        c.update(status="False", reason="Failed")
    r = run_plugin(["release-42"], setup)
    p = expect(r, 1, [WHOAMI, CONFIG_NS, get_tr("release-42"), list_tr_of("release-42")],
               err_has=["PipelineRun release-42 has no approval waiting; its TaskRuns: "
                        "release-42-build (Succeeded), release-42-approval (Failed)"])
    return p + no_writes(r)


@CASES.add("error: a PipelineRun with two approvals waiting asks for the TaskRun")
def error_a_pipelinerun_with_two_approvals():
    def setup(s):
        tr = json.loads(json.dumps(find(s, "TaskRun", "release-42-approval")))
        tr["metadata"]["name"] = "release-42-second-approval"
        s["items"].append(tr)
    r = run_plugin(["release-42"], setup)
    return expect(r, 1, err_has=["PipelineRun release-42 has 2 approvals waiting: release-42-approval, "
                                 "release-42-second-approval; name the TaskRun, e.g. kubectl approve release-42-approval"]) + no_writes(r)


@CASES.add("error: a finished TaskRun")
def error_a_finished_taskrun():
    r = run_plugin(["release-41-approval"])
    return expect(r, 1, [WHOAMI, CONFIG_NS, get_tr("release-41-approval")],
                  err_has=["TaskRun ci/release-41-approval has already finished (Succeeded): nothing waits for a vote"])


@CASES.add("error: the requester cannot approve their own run")
def error_the_requester_cannot_approve_their():
    r = run_plugin(["release-42"], with_state(user="dave@example.com"))
    return expect(r, 1, QUORUM_LOOKUP, err_has=["you (dave@example.com) requested this run: your vote would not count"])


@CASES.add("error: a user who is not an approver")
def error_a_user_who_is_not_an_approver():
    r = run_plugin(["release-42"], with_state(user="eve@example.com"))
    return expect(r, 1, QUORUM_LOOKUP,
                  err_has=["you (eve@example.com) are not among the approvers of release-42-approval "
                           "(alice@example.com,bob@example.com,carol@example.com): your vote would not count"])


@CASES.add("error: a second vote (a vote is final)")
def error_a_second_vote_a_vote_is_final():
    def setup(s):
        find(s, "ConfigMap", "approve-cm")["data"][KEY_ALICE] = '{"decision":"approved","comment":""}'
    r = run_plugin(["release-42", "--refuse"], setup)
    return expect(r, 1, QUORUM_LOOKUP, err_has=[f"{KEY_ALICE} in ConfigMap ci/approve-cm already holds 'approved': a vote is final"])


@CASES.add("error: a single-decision run on a gated ConfigMap")
def error_a_single_decision_run_on_a_gated():
    def setup(s):
        find(s, "ConfigMap", "approvals")["metadata"]["labels"] = {"approve-step/gate": "true"}
    r = run_plugin(["deploy-approval-x7k2p"], setup)
    return expect(r, 1, [WHOAMI, CONFIG_NS, get_tr("deploy-approval-x7k2p"), get_cm("approvals", "ci")],
                  err_has=["takes a single decision in the plain key 'deploy-approval-x7k2p', which the approve-step "
                           "policy lets nobody write"])


@CASES.add("error: a key with a dot on a gated ConfigMap")
def error_a_key_with_a_dot_on_a_gated():
    r = run_plugin(["release-42-approval", "--key", "release.42"])
    return expect(r, 1, [WHOAMI, CONFIG_NS, get_tr("release-42-approval"), get_cm("approve-cm", "ci")],
                  err_has=["the key 'release.42' contains a dot"])


@CASES.add("error: a key that is no ConfigMap key")
def error_a_key_that_is_no_configmap_key():
    r = run_plugin(["release-42-approval", "--key", "a/b"])
    return expect(r, 1, [WHOAMI, CONFIG_NS, get_tr("release-42-approval")], err_has=["the key 'a/b' is not a ConfigMap key"])


@CASES.add("error: a TaskRun with several ConfigMaps and no workspace data")
def error_a_taskrun_with_several_configmaps():
    def setup(s):
        find(s, "TaskRun", "release-42-approval")["spec"]["workspaces"] = [
            {"name": "a", "configMap": {"name": "cm-a"}}, {"name": "b", "configMap": {"name": "cm-b"}}]
    r = run_plugin(["release-42-approval"], setup)
    return expect(r, 1, [WHOAMI, CONFIG_NS, get_tr("release-42-approval")],
                  err_has=["binds several ConfigMaps (cm-a cm-b) and none to the workspace data: name one with --configmap"])


@CASES.add("error: the ConfigMap does not exist")
def error_the_configmap_does_not_exist():
    def setup(s):
        s["items"] = [o for o in s["items"] if o["metadata"]["name"] != "approve-cm"]
    r = run_plugin(["release-42-approval"], setup)
    return expect(r, 1, [WHOAMI, CONFIG_NS, get_tr("release-42-approval"), get_cm("approve-cm", "ci")],
                  err_has=['cannot read ConfigMap ci/approve-cm: Error from server (NotFound): configmaps "approve-cm" not found'])


@CASES.add("error: kubectl is not on PATH")
def error_kubectl_is_not_on_path():
    tmp = tempfile.mkdtemp()
    try:
        for tool in ("sh", "awk", "mktemp", "cat", "grep", "rm", "date"):
            src = shutil.which(tool)
            if src:
                os.symlink(src, os.path.join(tmp, tool))
        r = run_plugin(["release-42"], path=tmp)
    finally:
        shutil.rmtree(tmp)
    return expect(r, 1, [], err_has=["kubectl not found on PATH"])


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
        if find(r.state, "ConfigMap", "gate", "prod").get("data") != {"hotfix-7.carol_40example.com": "refused"} and \
                any(c[:3] == ["patch", "configmap", "gate"] for c in r.calls):
            p.append("wrote to prod/gate")
    return p


@CASES.add("attack: terminal escapes in params and vote names never reach the terminal")
def attack_terminal_escapes_never_printed():
    def setup(s):
        set_param(find(s, "TaskRun", "deploy-approval-x7k2p"), "key", "evil\x1b]0;pwned\x07\x1b[2J")
        find(s, "ConfigMap", "approve-cm")["data"]["release-42-approval.eve_1b_5b2J_0d"] = "approved"
    r = run_plugin(["list"], setup)
    p = expect(r, 0, err_has=["not shown, with a control character in a name, label, param or binding: "
                              "TaskRun deploy-approval-x7k2p"])
    for stream in (r.out, r.err):
        if any(c in stream for c in "\x1b\x07\r"):
            p.append(f"control character printed: {stream!r}")
    if "eve?[2J?" not in r.out:
        p.append(f"vote name not shown cleaned: {r.out!r}")
    r = run_plugin(["release-42"], setup)
    p += expect(r, 0, out_has=["not counted: eve?[2J? (not an approver)"])
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
            {"key": "release-41-approval.bob_40example.com", "path": "release-42-approval.bob_40example.com"}]
    r = run_plugin(["release-42"], setup)
    return expect(r, 1, err_has=["binds ConfigMap approve-cm with items or subPath", "do not vote"]) + no_writes(r)


@CASES.add("confirmation: the exact target is shown; only y writes; n or no answer writes nothing")
def confirmation_shows_target_and_asks():
    p = []
    target = ("About to vote refused:\n  namespace:   ci\n  TaskRun:     release-42-approval (PipelineRun release-42)\n"
              "  ConfigMap:   approve-cm\n  key:         release-42-approval.alice_40example.com\n"
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
    tr["status"]["taskSpec"] = {"params": [
        {"name": "key", "type": "string", "default": "$(context.taskRun.name)-$(context.taskRun.uid)"}]}


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
    p += expect(r, 0, out_has=[f"release-42-approval-{UID42}   2 of"])
    return p


@CASES.add("the key param may hold the run's name and UID in any order; both are put in")
def key_param_context_variables():
    def setup(s):
        set_param(find(s, "TaskRun", "release-42-approval"), "key",
                  "$(context.taskRun.uid)-x-$(context.taskRun.name)-$(context.taskRun.uid)")
    r = run_plugin(["release-42"], setup)
    key = f"{UID42}-x-release-42-approval-{UID42}.alice_40example.com"
    return expect(r, 0, out_has=[f"wrote {key} to ConfigMap ci/approve-cm"])


@CASES.add("-- makes list a run name")
def makes_list_a_run_name():
    r = run_plugin(["--", "list"])
    return expect(r, 1, [WHOAMI, CONFIG_NS, get_tr("list"), list_tr_of("list"), get_pr("list")],
                  err_has=["no TaskRun or PipelineRun named list"])


for args, msg in [
    ([], "missing RUN"),
    (["-m"], "option -m needs a value"),
    (["release-42", "--bogus"], "unknown option: --bogus"),
    (["a", "b"], "more than one RUN: a and b"),
    (["list", "--refuse"], "list takes only"),
    (["release-42", "-A"], "-A/--all-namespaces goes only with list"),
    (["list", "-A", "-n", "x"], "-n and -A exclude each other"),
]:
    def make(args=args, msg=msg):
        @CASES.add(f"usage error: {' '.join(args) or '(no arguments)'}")
        def usage_error_join_args_or_no_arguments():
            r = run_plugin(args)
            return expect(r, 2, [], err_has=[msg, "Run 'kubectl approve --help' for usage."], out="")
    make()


@CASES.add("--help and --version")
def help_and_version():
    h = run_plugin(["--help"])
    v = run_plugin(["--version"])
    p = expect(h, 0, [], out_has=["kubectl approve RUN [--refuse] [-m COMMENT] [-n NAMESPACE] [--configmap NAME]",
                                  "kubectl approve list"])
    return p + expect(v, 0, [], out="kubectl-approve 0.1.0\n")


@CASES.add("shellcheck: the plugin is clean")
def shellcheck_the_plugin_is_clean():
    sc = shutil.which("shellcheck")
    if not sc:
        return ["shellcheck not installed (Debian: apt-get install shellcheck)"]
    p = subprocess.run([sc, "-s", "sh", PLUGIN], capture_output=True, text=True)
    return [p.stdout.strip()] if p.returncode else []


def real_kubectl():
    """A real kubectl to compare the stand-in's jsonpath with, if there is one."""
    if os.environ.get("REAL_KUBECTL"):
        return os.environ["REAL_KUBECTL"]
    for d in os.environ.get("PATH", "").split(os.pathsep):
        k = os.path.join(d, "kubectl")
        if d and os.path.realpath(d) != os.path.realpath(FAKE) and os.access(k, os.X_OK):
            return k
    return None


REAL = real_kubectl()


@CASES.add("the stand-in's jsonpath answers as a real kubectl does" + (f" ({REAL})" if REAL else ""))
def stand_in_jsonpath_matches_kubectl():
    if REAL is None:
        raise Skip("no real kubectl; set REAL_KUBECTL")
    import importlib.machinery
    import importlib.util
    loader = importlib.machinery.SourceFileLoader("fake_kubectl", os.path.join(FAKE, "kubectl"))
    spec = importlib.util.spec_from_loader("fake_kubectl", loader)
    fake = importlib.util.module_from_spec(spec)
    loader.exec_module(fake)
    with open(FIXTURE, encoding="utf-8") as f:
        objs = json.load(f)["items"]
    cm_extra = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "odd", "namespace": "ci"},
                "data": {"k.x": '{"decision":"approved","comment":"<a> & \\"b\\" \\u2028 é\\n"}', "e": ""}}
    templates = {
        "ConfigMap": ["{.data}"],
        "PipelineRun": ["{.metadata.name}"],
        "Pod": ["{.metadata.name}{.status.podName}"],
    }
    problems = []
    tmp = tempfile.mkdtemp()
    try:
        for i, o in enumerate(objs + [cm_extra]):
            path = os.path.join(tmp, f"{i}.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(o, f)
            for t in templates.get(o["kind"], []):
                p = subprocess.run([REAL, "annotate", "--local", "-f", path, "approve-step/check=1",
                                    "-o", "jsonpath=" + t], capture_output=True, env={"PATH": "/usr/bin:/bin",
                                                                                      "HOME": tmp})
                if p.returncode:
                    problems.append(f"real kubectl failed: {p.stderr.decode()[:200]}")
                    continue
                want = p.stdout.decode()
                got = fake.jsonpath(t, o)
                if got != want:
                    problems.append(f"{o['kind']} {o['metadata']['name']} {t[:40]}...: stand-in {got!r}, real {want!r}")
    finally:
        shutil.rmtree(tmp)
    return problems


if __name__ == "__main__":
    sys.exit(CASES.main(__doc__))

"""Plugin cases: what goes wrong (no cluster, no Tekton, no permission,
unknown or finished runs, votes that may not be cast) is said plainly, with
the exit status the plugin documents, and nothing is written."""

import base64
import json
import os
import shutil
import tempfile

from fixture import (CASES, CONFIG_NS, KEY_ALICE, QUORUM_LOOKUP, WHOAMI,
                     annotate, expect, find, get_cm, get_pr, get_tr,
                     list_tr_of, no_writes, patch, run_plugin, set_param, vote_json,
                     with_state)


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
                  err_has=["takes a single decision in the plain key 'deploy-approval-x7k2p-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a21', which the approve-step "
                           "policy lets nobody write"])


@CASES.add("error: a key with a dot on a gated ConfigMap")
def error_a_key_with_a_dot_on_a_gated():
    r = run_plugin(["release-42-approval"], lambda s: set_param(find(s, "TaskRun", "release-42-approval"), "key",
                                                                "release.42-$(context.taskRun.uid)"))
    return expect(r, 1, [WHOAMI, CONFIG_NS, get_tr("release-42-approval"), get_cm("approve-cm", "ci")],
                  err_has=["the key 'release.42-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19' contains a dot"])


@CASES.add("error: a key that is no ConfigMap key")
def error_a_key_that_is_no_configmap_key():
    r = run_plugin(["release-42-approval"], lambda s: set_param(find(s, "TaskRun", "release-42-approval"), "key",
                                                                "a/b-$(context.taskRun.uid)"))
    return expect(r, 1, [WHOAMI, CONFIG_NS, get_tr("release-42-approval")],
                  err_has=["TaskRun ci/release-42-approval waits on key 'a/b-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19', "
                           "which is not a ConfigMap key"])


@CASES.add("error: no --configmap and a --dir that is no bound workspace's path: refused, not guessed among the ConfigMaps")
def error_a_taskrun_with_several_configmaps():
    def setup(s):
        tr = find(s, "TaskRun", "release-42-approval")
        tr["spec"]["workspaces"] = [
            {"name": "a", "configMap": {"name": "cm-a"}}, {"name": "b", "configMap": {"name": "cm-b"}}]
        set_param(tr, "configmap", None)
    r = run_plugin(["release-42-approval"], setup)
    p = expect(r, 1, [WHOAMI, CONFIG_NS, get_tr("release-42-approval")],
               err_has=["TaskRun ci/release-42-approval has no ConfigMap to vote in: its step names no --configmap, "
                        "and its --dir '$(workspaces.data.path)' is no workspace's path; name the ConfigMap with --configmap"])
    r = run_plugin(["list"], setup)
    p += expect(r, 0, out_has=["release-42-approval     release-42    ?           "],
                err_has=["no ConfigMap to vote in (?):\n  TaskRun ci/release-42-approval: its step names no --configmap"])
    return p


@CASES.add("error: the step reads a workspace bound to no ConfigMap and names no --configmap: refused")
def error_dir_workspace_not_a_configmap():
    def setup(s):
        tr = find(s, "TaskRun", "release-42-approval")
        tr["spec"]["workspaces"] = [{"name": "data", "emptyDir": {}}, {"name": "b", "configMap": {"name": "cm-b"}}]
        set_param(tr, "configmap", None)
    r = run_plugin(["release-42"], setup)
    return expect(r, 1, err_has=["has no ConfigMap to vote in: its step names no --configmap, and reads workspace "
                                 "data, which is bound to no ConfigMap"]) + no_writes(r)


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


# ------------------------------------------------------------------ capacity
@CASES.add("a nearly full ConfigMap: the vote that would not fit is refused before writing, with what to do")
def nearly_full_configmap_refused_before_writing():
    def nearly_full(s):
        # final votes of earlier runs: just under 1 MiB
        find(s, "ConfigMap", "approve-cm")["data"]["release-1-approval.zed_40example.com"] = "x" * (1048576 - 200)
    r = run_plugin(["release-42", "-m", "LGTM " * 40], nearly_full)
    p = expect(r, 1, err_has=["ConfigMap ci/approve-cm holds", "past the 1048576 bytes a ConfigMap may hold",
                              "nothing written", "docs/approvers.md, Capacity"])
    p += no_writes(r)
    return p


def fill_to(s, total, binary=False):
    """Fills approve-cm with one more key (in data, or in binaryData) so that
    it holds TOTAL bytes as the API server counts them."""
    cm = find(s, "ConfigMap", "approve-cm")
    have = sum(len(k.encode()) + len(v.encode()) for k, v in cm["data"].items())
    k = "release-1-approval.zed_40example.com"
    n = total - have - len(k)
    if binary:
        cm["binaryData"] = {k: base64.b64encode(b"\x00" * n).decode()}
    else:
        cm["data"][k] = "x" * n


@CASES.add("attack: a ConfigMap full through binaryData: the vote is refused before writing, as the API server counts")
def full_through_binarydata_refused():
    # data is small; binaryData (counted decoded) takes it to 1 MiB less 100 bytes
    r = run_plugin(["release-42", "-m", "LGTM " * 20], lambda s: fill_to(s, 1048576 - 100, binary=True))
    p = expect(r, 1, err_has=["ConfigMap ci/approve-cm holds 1048476 bytes (keys and values of data and binaryData",
                              "past the 1048576 bytes a ConfigMap may hold", "nothing written",
                              "hint: archive it and start an empty one, or use a ConfigMap per run "
                              "(docs/approvers.md, Capacity)"])
    return p + no_writes(r)


@CASES.add("capacity: a vote that takes the ConfigMap to exactly 1 MiB is written; one byte more is refused")
def capacity_boundary_exact():
    vote = len(KEY_ALICE) + len(vote_json("approved", "ok"))
    r = run_plugin(["release-42", "-m", "ok"], lambda s: fill_to(s, 1048576 - vote))
    p = expect(r, 0, out_has=[f"wrote {KEY_ALICE} to ConfigMap ci/approve-cm"])
    r = run_plugin(["release-42", "-m", "ok"], lambda s: fill_to(s, 1048576 - vote + 1))
    p += expect(r, 1, err_has=["your vote would take it to 1048577, past the 1048576 bytes"]) + no_writes(r)
    # a pending word the vote replaces is not counted twice
    def pending(s):
        find(s, "ConfigMap", "approve-cm")["data"][KEY_ALICE] = "pending"
        fill_to(s, 1048576 - len(vote_json("approved", "ok")) + len("pending"))
    r = run_plugin(["release-42", "-m", "ok"], pending)
    p += expect(r, 0, out_has=[f"wrote {KEY_ALICE} to ConfigMap ci/approve-cm"])
    return p


@CASES.add("a full ConfigMap refused by the API server (filled by another writer meanwhile): its message and a hint")
def full_configmap_refused_by_the_server():
    r = run_plugin(["release-42", "-m", "LGTM"], with_state(configmap_max=100))
    return expect(r, 1, err_has=['The ConfigMap "approve-cm" is invalid: []: Too long: must have at most 1048576 bytes',
                                 "hint: the ConfigMap is full (1 MiB): archive it and start an empty one, or use a ConfigMap per run (docs/approvers.md, Capacity)"])

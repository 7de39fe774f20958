#!/usr/bin/env python3
"""Tests of plugin/kubectl-approve against a stand-in kubectl (fake/kubectl).

Each case copies fixtures/cluster.json (real-shaped Tekton and core objects),
changes what the case needs, runs the plugin with fake/ first on PATH, and
checks the exit status, the exact kubectl calls (patch and annotate in full),
the output, and the cluster state the calls left. Prints one PASS/FAIL line
per case and "N passed, M failed"; exits 1 on any failure. fixture.py runs
the plugin and builds the calls it must make; errors.py and steering.py hold
the error and steering cases.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from cases import Skip  # noqa: E402
from fixture import (CASES, CONFIG_NS, FAKE, FIXTURE, KEY_ALICE, NOW, PLUGIN,  # noqa: E402
                     QUORUM_LOOKUP, WHOAMI, annotate, expect,
                     find, get_cm, get_pr, get_tr, list_tr_of, no_writes,
                     patch, run_plugin, set_param, vote_json, with_state)

# ------------------------------------------------------------------ votes
@CASES.add("approve a PipelineRun: finds its approval TaskRun, patches KEY.NAME, nudges the pod")
def approve_a_pipelinerun_finds_its_approval():
    r = run_plugin(["release-42", "-m", "LGTM"])
    value = vote_json("approved", "LGTM")
    p = expect(r, 0, QUORUM_LOOKUP + [patch("approve-cm", "ci", KEY_ALICE, value),
                                      annotate("release-42-approval-pod", "ci")],
               out="approved TaskRun ci/release-42-approval as alice@example.com: wrote "
                   "release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19.alice_40example.com to ConfigMap ci/approve-cm\n"
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
        patch("approve-cm", "ci", "release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19.bob_40example.com", vote_json("refused", "not today")),
        annotate("release-42-approval-pod", "ci")],
        out_has=["refused TaskRun ci/release-42-approval as bob@example.com",
                 "decision: refused by bob@example.com\n"])


@CASES.add("the second approval reaches the quorum")
def the_second_approval_reaches_the_quorum():
    def setup(s):
        find(s, "ConfigMap", "approve-cm")["data"]["release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19.bob_40example.com"] = "approved"
    r = run_plugin(["release-42"], setup)
    return expect(r, 0, out_has=["decision: approved by alice@example.com, bob@example.com (2 of 2)\n"])


@CASES.add("the requester's and strangers' votes are shown as not counted")
def the_requester_s_and_strangers_votes_are():
    def setup(s):
        d = find(s, "ConfigMap", "approve-cm")["data"]
        d["release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19.dave_40example.com"] = "approved"
        d["release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19.mallory_40example.com"] = "approved"
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
                         patch("gate", "prod", "hotfix-7-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a17.carol_40example.com", vote_json("approved", "go")),
                         annotate("hotfix-7-approval-pod", "prod")],
                  out_has=["decision: approved by carol@example.com (1 of 1)\n"])


@CASES.add("--configmap overrides the TaskRun's; --key may only repeat the key the TaskRun waits on")
def configmap_and_key_override_the_taskrun_s():
    def setup(s):
        cm = json.loads(json.dumps(find(s, "ConfigMap", "approve-cm")))
        cm["metadata"]["name"] = "other-cm"
        cm["data"] = {}
        s["items"].append(cm)
    key = "release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19"
    r = run_plugin(["release-42-approval", "--configmap", "other-cm", "--key=" + key], setup)
    return expect(r, 0, [WHOAMI, CONFIG_NS, get_tr("release-42-approval"), get_cm("other-cm", "ci"),
                         patch("other-cm", "ci", key + ".alice_40example.com", vote_json("approved", "")),
                         annotate("release-42-approval-pod", "ci")])


@CASES.add("attack: --key naming another key than the TaskRun waits on: refused, nothing written")
def key_option_naming_another_key_refused():
    r = run_plugin(["release-42-approval", "--key=hotfix-7-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a17"])
    return expect(r, 1, [WHOAMI, CONFIG_NS, get_tr("release-42-approval")],
                  err_has=["--key hotfix-7-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a17 is not the key TaskRun "
                           "ci/release-42-approval waits on (release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19): "
                           "refusing to vote on another key"]) + no_writes(r)


@CASES.add("a service account votes under its encoded name")
def a_service_account_votes_under_its():
    sa = "system:serviceaccount:ci:approver-bot"
    def setup(s):
        s["user"] = sa
        set_param(find(s, "TaskRun", "release-42-approval"), "approvers", "alice@example.com," + sa)
    r = run_plugin(["release-42-approval"], setup)
    return expect(r, 0, [WHOAMI, CONFIG_NS, get_tr("release-42-approval"), get_cm("approve-cm", "ci"),
                         patch("approve-cm", "ci", "release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19.system_3aserviceaccount_3aci_3aapprover-bot",
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
            "release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19.system_3aserviceaccount_3aci_3aother-bot"] = "approved"
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
    key = "release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19.o_27brien_2bci_5fops_40example.com"
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
    key = "release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19.bob_40example.com"
    return expect(r, 0, [g + WHOAMI, g + CONFIG_NS, g + get_tr("release-42-approval"), g + get_cm("approve-cm", "ci"),
                         g + patch("approve-cm", "ci", key, vote_json("approved", "")),
                         g + annotate("release-42-approval-pod", "ci")],
                  out_has=["as bob@example.com: wrote " + key])


@CASES.add("a single-decision run (no quorum params) writes the plain key with the approver")
def a_single_decision_run_no_quorum_params():
    r = run_plugin(["deploy-approval-x7k2p", "-m", "ok"])
    value = '{"decision":"approved","approver":"alice@example.com","comment":"ok"}'
    return expect(r, 0, [WHOAMI, CONFIG_NS, get_tr("deploy-approval-x7k2p"), get_cm("approvals", "ci"),
                         patch("approvals", "ci", "deploy-approval-x7k2p-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a21", value),
                         annotate("deploy-approval-x7k2p-pod", "ci")],
                  out_has=["decision: approved (key deploy-approval-x7k2p-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a21)\n"],
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


@CASES.add("a JSON pending vote in one's own key ({\"decision\":\"pending\"}, any pending word) is replaced, as the step reads it")
def json_pending_in_own_key_is_replaced():
    p = []
    for word in ["pending", "", "init", "notifying", "notified", "waiting", " Waiting "]:
        held = '{"decision":%s,"comment":"asked on chat"}' % json.dumps(word)

        def setup(s, held=held):
            d = find(s, "ConfigMap", "approve-cm")["data"]
            d[KEY_ALICE] = held
            # bob's JSON pending vote is no approval either
            d[KEY_ALICE.replace("alice", "bob")] = '{"decision":"pending"}'
        r = run_plugin(["release-42-approval", "-m", "ok"], setup)
        p += expect(r, 0, out_has=["approvals: 1 of 2 (alice@example.com); still needed: 1 more from bob@example.com, "
                                   "carol@example.com\n"])
        if find(r.state, "ConfigMap", "approve-cm")["data"][KEY_ALICE] != vote_json("approved", "ok"):
            p.append(f"{held!r} not replaced by the vote")
    # attack: pending votes that a reader of the first "decision" (or the last) takes for approvals
    for held in ['{"note":{"decision":"approved"},"decision":"pending"}',
                 '{"decision":"pending","decision":"approved"}', '{"decision":"approved","decision":"pending"}']:
        def setup(s, held=held):
            find(s, "ConfigMap", "approve-cm")["data"][KEY_ALICE.replace("alice", "bob")] = held
        r = run_plugin(["release-42-approval", "-m", "ok"], setup)
        p += expect(r, 0, out_has=["approvals: 1 of 2 (alice@example.com); still needed: 1 more from bob@example.com, "
                                   "carol@example.com\n"])
        r = run_plugin(["list"], setup)
        if "bob@example.com=approved" in r.out:
            p.append(f"list counts {held!r} as bob's approval: {r.out!r}")
    # a final JSON vote is not replaced
    r = run_plugin(["release-42-approval"], lambda s: find(s, "ConfigMap", "approve-cm")["data"].update(
        {KEY_ALICE: '{"decision":"refused"}'}))
    p += expect(r, 1, err_has=["already holds 'refused': a vote is final"]) + no_writes(r)
    return p


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
            "release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19.bob_40example.com": '{"decision":"refused","comment":"x"}',
            "release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19.alice_40example.com": "approved"})
    r = run_plugin(["list"], setup)
    want = (
        "TASKRUN                 PIPELINERUN   CONFIGMAP    KEY                                                          NEEDS                                                                            VOTES                                                 MESSAGE\n"
        "release-42-approval     release-42    approve-cm   release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19     2 of alice@example.com,bob@example.com,carol@example.com, not dave@example.com   alice@example.com=approved, bob@example.com=refused   -\n"
        "deploy-approval-x7k2p   -             approvals    deploy-approval-x7k2p-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a21   1 (plain key)                                                                    -                                                     -\n")
    return expect(r, 0, [CONFIG_NS, ["get", "taskruns.tekton.dev", "--namespace=ci", "-o", "json"],
                         ["get", "configmap", "approve-cm", "--namespace=ci", "-o", "json"],
                         ["get", "configmap", "approvals", "--namespace=ci", "-o", "json"]],
                  out=want, err_empty=True)


@CASES.add("list -A: every namespace")
def list_a_every_namespace():
    r = run_plugin(["list", "-A"])
    # apps/ship-9-deploy: a user's Task with the approve-step StepAction;
    # approve-per-run/...: a per-run ConfigMap named by the configmap param
    want = (
        "TASKRUN                                 PIPELINERUN    CONFIGMAP            KEY                                                          NEEDS                                                                            VOTES                       MESSAGE\n"
        "ci/release-42-approval                  release-42     approve-cm           release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19     2 of alice@example.com,bob@example.com,carol@example.com, not dave@example.com   -                           -\n"
        "ci/deploy-approval-x7k2p                -              approvals            deploy-approval-x7k2p-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a21   1 (plain key)                                                                    -                           -\n"
        "prod/hotfix-7-approval                  hotfix-7       gate                 hotfix-7-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a17                1 of carol@example.com                                                           carol@example.com=refused   -\n"
        "apps/ship-9-deploy                      ship-9         ship-votes           ship-9-deploy-7a1e2b3c-4d5e-4f60-8a7b-9c0d1e2f3a41           1 of alice@example.com,bob@example.com                                           -                           -\n"
        "approve-per-run/release-7x9k-approval   release-7x9k   release-7x9k-votes   release-7x9k-approval-8b2f3c4d-5e6f-4071-9b8c-0d1e2f3a4b51   2 of alice@example.com,bob@example.com,carol@example.com, not dave@example.com   -                           -\n")
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
    return expect(r, 0, out_has=["release-42-approval", "   ?       -\n"],
                  err_has=["warning: could not read the votes (?) of: ci/approve-cm: Error from server (Forbidden)"])


# ------------------------------------------------------------------ errors, steering
# In files of their own; imported here, their cases run in this place.
import errors  # noqa: E402,F401
import steering  # noqa: E402,F401
import discovery  # noqa: E402,F401
import install  # noqa: E402,F401
import show  # noqa: E402,F401


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
    (["show"], "show needs RUN"),
    (["show", "a", "b"], "show takes one RUN: a and b"),
    (["show", "release-42", "--refuse"], "show takes only RUN and -n/--namespace"),
    (["show", "release-42", "-m", "x"], "show takes only RUN and -n/--namespace"),
    (["show", "release-42", "-A"], "show takes only RUN and -n/--namespace"),
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

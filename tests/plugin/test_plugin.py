#!/usr/bin/env python3
"""Tests of plugin/kubectl-approve against a stand-in kubectl (fake/kubectl).

Each case copies fixtures/cluster.json (real-shaped Tekton and core objects),
changes what the case needs, runs the plugin with fake/ first on PATH, and
checks the exit status, the exact kubectl calls (patch and annotate in full),
the output, and the cluster state the calls left. Prints one PASS/FAIL line
per case and "N passed, M failed"; exits 1 on any failure.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PLUGIN = os.environ.get("PLUGIN", os.path.join(ROOT, "plugin", "kubectl-approve"))
FAKE = os.path.join(HERE, "fake")
FIXTURE = os.path.join(HERE, "fixtures", "cluster.json")

# The jsonpath templates the plugin sends (checked verbatim in the calls).
US = '{"\\x1f"}'
TR_FIELDS = (
    "{.metadata.name}" + US + "{.metadata.namespace}" + US + "{.metadata.labels.tekton\\.dev/pipelineRun}" + US
    + "{.metadata.labels.tekton\\.dev/task}" + US + "{.status.podName}" + US
    + '{.status.conditions[?(@.type=="Succeeded")].status}' + US
    + '{.status.conditions[?(@.type=="Succeeded")].reason}' + US
    + '{.spec.workspaces[?(@.name=="data")].configMap.name}' + US + "{.spec.workspaces[*].configMap.name}" + US
    + '{.spec.params[?(@.name=="key")].value}' + US + '{.spec.params[?(@.name=="approvals")].value}' + US
    + '{.spec.params[?(@.name=="approvers")].value}' + US + '{.spec.params[?(@.name=="requester")].value}{"\\n"}'
)
WHOAMI = ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]
CM_READ = "jsonpath={.metadata.labels.approve-step/gate}" + US + "{.data}"
NOW = "1727773200"


def get_tr(name, ns=None):
    return ["get", "taskruns.tekton.dev", name] + ([f"--namespace={ns}"] if ns else []) + [
        "--ignore-not-found", "-o", "jsonpath=" + TR_FIELDS]


def list_tr_of(pr, ns=None):
    return ["get", "taskruns.tekton.dev"] + ([f"--namespace={ns}"] if ns else []) + [
        "-l", f"tekton.dev/pipelineRun={pr}", "-o", "jsonpath={range .items[*]}" + TR_FIELDS + "{end}"]


def get_pr(name, ns=None):
    return ["get", "pipelineruns.tekton.dev", name] + ([f"--namespace={ns}"] if ns else []) + [
        "--ignore-not-found", "-o", "jsonpath={.metadata.name}"]


def get_cm(name, ns):
    return ["get", "configmap", name, f"--namespace={ns}", "-o", CM_READ]


def vote_json(decision, comment):
    # the plugin's byte layout: {"decision":"...","comment":"..."} with JSON escapes
    return '{"decision":"%s","comment":%s}' % (decision, json.dumps(comment, ensure_ascii=False))


def patch(cm, ns, key, value):
    body = '{"data":{"%s":%s}}' % (key, json.dumps(value, ensure_ascii=False))
    return ["patch", "configmap", cm, f"--namespace={ns}", "--type=merge", "-p", body]


def annotate(pod, ns):
    return ["annotate", "pod", pod, f"--namespace={ns}", f"approve-step/nudge={NOW}", "--overwrite"]


def find(state, kind, name, ns="ci"):
    for o in state["items"]:
        if o["kind"] == kind and o["metadata"]["name"] == name and o["metadata"].get("namespace") == ns:
            return o
    raise KeyError(f"{kind} {ns}/{name}")


def set_param(tr, name, value):
    params = tr["spec"].setdefault("params", [])
    params[:] = [p for p in params if p["name"] != name]
    if value is not None:
        params.append({"name": name, "value": value})


class Run:
    def __init__(self, rc, out, err, calls, state):
        self.rc, self.out, self.err, self.calls, self.state = rc, out, err, calls, state


def run_plugin(args, setup=None, path=None, shell=None):
    tmp = tempfile.mkdtemp(prefix="kubectl-approve-test.")
    try:
        with open(FIXTURE, encoding="utf-8") as f:
            state = json.load(f)
        if setup:
            setup(state)
        state_file = os.path.join(tmp, "state.json")
        with open(state_file, "w", encoding="utf-8") as f:
            json.dump(state, f)
        log = os.path.join(tmp, "calls.log")
        env = {
            "PATH": path if path is not None else FAKE + ":/usr/local/bin:/usr/bin:/bin",
            "FAKE_KUBECTL_STATE": state_file,
            "FAKE_KUBECTL_LOG": log,
            "TMPDIR": tmp,
            "HOME": tmp,
            "LANG": "C.UTF-8",
        }
        cmd = (shell.split() + [PLUGIN]) if shell else [PLUGIN]
        p = subprocess.run(cmd + args, env=env, capture_output=True, timeout=60)
        calls = []
        if os.path.exists(log):
            with open(log, encoding="utf-8") as f:
                calls = [json.loads(line) for line in f if line.strip()]
        with open(state_file, encoding="utf-8") as f:
            state = json.load(f)
        leftovers = [n for n in os.listdir(tmp) if n.startswith("kubectl-approve.")]
        r = Run(p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), calls, state)
        r.leftovers = leftovers
        return r
    finally:
        shutil.rmtree(tmp)


passed = failed = 0


def case(name):
    def deco(fn):
        global passed, failed
        try:
            problems = fn() or []
        except Exception as e:  # a broken case is a failed case
            problems = [f"exception {type(e).__name__}: {e}"]
        if problems:
            failed += 1
            print(f"FAIL {name}: " + "; ".join(problems))
        else:
            passed += 1
            print(f"PASS {name}")
        return fn
    return deco


def expect(r, rc=0, calls=None, out=None, out_has=(), err_has=(), err_empty=False):
    p = []
    if r.rc != rc:
        p.append(f"exit {r.rc}, want {rc} (stderr: {r.err.strip()!r})")
    if calls is not None and r.calls != calls:
        p.append("calls differ:\n    got  " + "\n         ".join(json.dumps(c) for c in r.calls)
                 + "\n    want " + "\n         ".join(json.dumps(c) for c in calls))
    if out is not None and r.out != out:
        p.append(f"stdout {r.out!r}, want {out!r}")
    for s in out_has:
        if s not in r.out:
            p.append(f"stdout lacks {s!r}: {r.out!r}")
    for s in err_has:
        if s not in r.err:
            p.append(f"stderr lacks {s!r}: {r.err!r}")
    if err_empty and r.err:
        p.append(f"stderr not empty: {r.err!r}")
    if getattr(r, "leftovers", None):
        p.append(f"temporary files left: {r.leftovers}")
    return p


def no_writes(r):
    return [f"wrote: {c}" for c in r.calls if c and c[0] in ("patch", "annotate")]


QUORUM_LOOKUP = [WHOAMI, get_tr("release-42"), list_tr_of("release-42"), get_cm("approve-cm", "ci")]
KEY_ALICE = "release-42-approval.alice_40example.com"


# ------------------------------------------------------------------ votes
@case("approve a PipelineRun: finds its approval TaskRun, patches KEY.NAME, nudges the pod")
def _():
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


@case("approve a TaskRun by name: no PipelineRun lookup, empty comment")
def _():
    r = run_plugin(["release-42-approval"])
    return expect(r, 0, [WHOAMI, get_tr("release-42-approval"), get_cm("approve-cm", "ci"),
                         patch("approve-cm", "ci", KEY_ALICE, vote_json("approved", "")),
                         annotate("release-42-approval-pod", "ci")], err_empty=True)


@case("a comment with quotes, backslashes, newlines, tabs, control bytes and UTF-8 is JSON-escaped exactly")
def _():
    comment = 'He said "no\\go"\nthen\ttabbed\r\x01\x1f\x7f – naïve ✓ <&>'
    r = run_plugin(["release-42-approval", "-m", comment])
    esc = ('"He said \\"no\\\\go\\"\\nthen\\ttabbed\\r\\u0001\\u001f\\u007f – naïve ✓ <&>"')
    value = '{"decision":"approved","comment":%s}' % esc
    p = expect(r, 0, [WHOAMI, get_tr("release-42-approval"), get_cm("approve-cm", "ci"),
                      patch("approve-cm", "ci", KEY_ALICE, value), annotate("release-42-approval-pod", "ci")])
    stored = find(r.state, "ConfigMap", "approve-cm")["data"].get(KEY_ALICE, "")
    try:
        if json.loads(stored) != {"decision": "approved", "comment": comment}:
            p.append(f"stored vote decodes to {json.loads(stored)!r}")
    except ValueError as e:
        p.append(f"stored vote is not JSON ({e}): {stored!r}")
    return p


@case("a comment ending in newlines keeps them")
def _():
    r = run_plugin(["release-42-approval", "-m", "a\n\n"])
    stored = find(r.state, "ConfigMap", "approve-cm")["data"].get(KEY_ALICE, "{}")
    p = expect(r, 0)
    if json.loads(stored).get("comment") != "a\n\n":
        p.append(f"stored {stored!r}")
    return p


@case("refuse: the vote says refused and the summary says the run is refused")
def _():
    def setup(s):
        s["user"] = "bob@example.com"
    r = run_plugin(["release-42", "--refuse", "--message=not today"], setup)
    return expect(r, 0, QUORUM_LOOKUP + [
        patch("approve-cm", "ci", "release-42-approval.bob_40example.com", vote_json("refused", "not today")),
        annotate("release-42-approval-pod", "ci")],
        out_has=["refused TaskRun ci/release-42-approval as bob@example.com",
                 "decision: refused by bob@example.com\n"])


@case("the second approval reaches the quorum")
def _():
    def setup(s):
        find(s, "ConfigMap", "approve-cm")["data"]["release-42-approval.bob_40example.com"] = "approved"
    r = run_plugin(["release-42"], setup)
    return expect(r, 0, out_has=["decision: approved by alice@example.com, bob@example.com (2 of 2)\n"])


@case("the requester's and strangers' votes are shown as not counted")
def _():
    def setup(s):
        d = find(s, "ConfigMap", "approve-cm")["data"]
        d["release-42-approval.dave_40example.com"] = "approved"
        d["release-42-approval.mallory_40example.com"] = "approved"
    r = run_plugin(["release-42"], setup)
    return expect(r, 0, out_has=[
        "approvals: 1 of 2 (alice@example.com); still needed: 1 more from bob@example.com, carol@example.com\n"
        "  not counted: dave@example.com (the requester)\n"
        "  not counted: mallory@example.com (not an approver)\n"])


@case("-n NAMESPACE and a key param: the vote goes to KEY.NAME in that namespace")
def _():
    def setup(s):
        s["user"] = "carol@example.com"
        find(s, "ConfigMap", "gate", "prod")["data"] = {}
    r = run_plugin(["-n", "prod", "hotfix-7", "-m", "go"], setup)
    return expect(r, 0, [WHOAMI, get_tr("hotfix-7", "prod"), list_tr_of("hotfix-7", "prod"), get_cm("gate", "prod"),
                         patch("gate", "prod", "hotfix-7.carol_40example.com", vote_json("approved", "go")),
                         annotate("hotfix-7-approval-pod", "prod")],
                  out_has=["decision: approved by carol@example.com (1 of 1)\n"])


@case("--configmap and --key override the TaskRun's")
def _():
    def setup(s):
        cm = json.loads(json.dumps(find(s, "ConfigMap", "approve-cm")))
        cm["metadata"]["name"] = "other-cm"
        cm["data"] = {}
        s["items"].append(cm)
    r = run_plugin(["release-42-approval", "--configmap", "other-cm", "--key=custom"], setup)
    return expect(r, 0, [WHOAMI, get_tr("release-42-approval"), get_cm("other-cm", "ci"),
                         patch("other-cm", "ci", "custom.alice_40example.com", vote_json("approved", "")),
                         annotate("release-42-approval-pod", "ci")])


@case("a service account votes under its encoded name")
def _():
    sa = "system:serviceaccount:ci:approver-bot"
    def setup(s):
        s["user"] = sa
        set_param(find(s, "TaskRun", "release-42-approval"), "approvers", "alice@example.com," + sa)
    r = run_plugin(["release-42-approval"], setup)
    return expect(r, 0, [WHOAMI, get_tr("release-42-approval"), get_cm("approve-cm", "ci"),
                         patch("approve-cm", "ci", "release-42-approval.system_3aserviceaccount_3aci_3aapprover-bot",
                               vote_json("approved", "")),
                         annotate("release-42-approval-pod", "ci")],
                  out_has=[f"approvals: 1 of 2 ({sa}); still needed: 1 more from alice@example.com\n"])


@case("an odd e-mail address (apostrophe, plus, underscore) is encoded byte by byte")
def _():
    user = "o'brien+ci_ops@example.com"
    def setup(s):
        s["user"] = user
        set_param(find(s, "TaskRun", "release-42-approval"), "approvers", user + ",bob@example.com")
    r = run_plugin(["release-42-approval", "--refuse"], setup)
    key = "release-42-approval.o_27brien_2bci_5fops_40example.com"
    p = expect(r, 0, [WHOAMI, get_tr("release-42-approval"), get_cm("approve-cm", "ci"),
                      patch("approve-cm", "ci", key, vote_json("refused", "")),
                      annotate("release-42-approval-pod", "ci")], out_has=[f"decision: refused by {user}\n"])
    return p


@case("approvers written with spaces after the commas are read as approve-step reads them")
def _():
    def setup(s):
        set_param(find(s, "TaskRun", "release-42-approval"), "approvers",
                  " alice@example.com, bob@example.com ,, carol@example.com ")
    r = run_plugin(["release-42"], setup)
    return expect(r, 0, out_has=["approvals: 1 of 2 (alice@example.com); still needed: 1 more from "
                                 "bob@example.com, carol@example.com\n"])


@case("--context, --kubeconfig and --as go to every kubectl call")
def _():
    r = run_plugin(["release-42-approval", "--context", "prod", "--kubeconfig=/k/config", "--as", "bob@example.com"])
    g = ["--context=prod", "--kubeconfig=/k/config", "--as=bob@example.com"]
    key = "release-42-approval.bob_40example.com"
    return expect(r, 0, [g + WHOAMI, g + get_tr("release-42-approval"), g + get_cm("approve-cm", "ci"),
                         g + patch("approve-cm", "ci", key, vote_json("approved", "")),
                         g + annotate("release-42-approval-pod", "ci")],
                  out_has=["as bob@example.com: wrote " + key])


@case("a single-decision run (no quorum params) writes the plain key with the approver")
def _():
    r = run_plugin(["deploy-approval-x7k2p", "-m", "ok"])
    value = '{"decision":"approved","approver":"alice@example.com","comment":"ok"}'
    return expect(r, 0, [WHOAMI, get_tr("deploy-approval-x7k2p"), get_cm("approvals", "ci"),
                         patch("approvals", "ci", "deploy-approval-x7k2p", value),
                         annotate("deploy-approval-x7k2p-pod", "ci")],
                  out_has=["decision: approved (key deploy-approval-x7k2p)\n"],
                  err_has=["warning: ConfigMap ci/approvals is not labelled approve-step/gate=true"])


@case("a TaskRun without a pod yet: the vote is written, nothing is annotated")
def _():
    def setup(s):
        del find(s, "TaskRun", "release-42-approval")["status"]["podName"]
    r = run_plugin(["release-42-approval"], setup)
    return expect(r, 0, [WHOAMI, get_tr("release-42-approval"), get_cm("approve-cm", "ci"),
                         patch("approve-cm", "ci", KEY_ALICE, vote_json("approved", ""))],
                  out_has=["has no pod yet: the step reads the vote when it starts"])


@case("a pending word in one's own key may be replaced")
def _():
    def setup(s):
        find(s, "ConfigMap", "approve-cm")["data"][KEY_ALICE] = "pending"
    return expect(run_plugin(["release-42-approval"], setup), 0)


@case("the plugin runs under bash --posix as well")
def _():
    if not shutil.which("bash"):
        return ["bash not installed"]
    r = run_plugin(["release-42", "-m", "LGTM"], shell="bash --posix")
    return expect(r, 0, QUORUM_LOOKUP + [patch("approve-cm", "ci", KEY_ALICE, vote_json("approved", "LGTM")),
                                         annotate("release-42-approval-pod", "ci")], err_empty=True)


# ------------------------------------------------------------------ list
@case("list: approvals waiting in the current namespace, with keys and votes")
def _():
    def setup(s):
        find(s, "ConfigMap", "approve-cm")["data"].update({
            "release-42-approval.bob_40example.com": '{"decision":"refused","comment":"x"}',
            "release-42-approval.alice_40example.com": "approved"})
    r = run_plugin(["list"], setup)
    want = (
        "TASKRUN                 PIPELINERUN   CONFIGMAP    KEY                     NEEDS                                                                            VOTES\n"
        "release-42-approval     release-42    approve-cm   release-42-approval     2 of alice@example.com,bob@example.com,carol@example.com, not dave@example.com   alice@example.com=approved, bob@example.com=refused\n"
        "deploy-approval-x7k2p   -             approvals    deploy-approval-x7k2p   1 (plain key)                                                                    -\n")
    return expect(r, 0, [WHOAMI[:0] + ["get", "taskruns.tekton.dev", "-o", "jsonpath={range .items[*]}" + TR_FIELDS + "{end}"],
                         ["get", "configmap", "approve-cm", "--namespace=ci", "-o", "jsonpath={.data}"],
                         ["get", "configmap", "approvals", "--namespace=ci", "-o", "jsonpath={.data}"]],
                  out=want, err_empty=True)


@case("list -A: every namespace")
def _():
    r = run_plugin(["list", "-A"])
    want = (
        "TASKRUN                    PIPELINERUN   CONFIGMAP    KEY                     NEEDS                                                                            VOTES\n"
        "ci/release-42-approval     release-42    approve-cm   release-42-approval     2 of alice@example.com,bob@example.com,carol@example.com, not dave@example.com   -\n"
        "ci/deploy-approval-x7k2p   -             approvals    deploy-approval-x7k2p   1 (plain key)                                                                    -\n"
        "prod/hotfix-7-approval     hotfix-7      gate         hotfix-7                1 of carol@example.com                                                           carol@example.com=refused\n")
    p = expect(r, 0, out=want, err_empty=True)
    if r.calls and r.calls[0] != ["get", "taskruns.tekton.dev", "--all-namespaces", "-o",
                                  "jsonpath={range .items[*]}" + TR_FIELDS + "{end}"]:
        p.append(f"first call {r.calls[0]}")
    if "release-41" in r.out or "release-42-build" in r.out:
        p.append("lists a finished or non-approval TaskRun")
    return p


@case("list: nothing waiting")
def _():
    r = run_plugin(["list", "-n", "empty"])
    return expect(r, 0, out="", err_has=["No approvals waiting in namespace empty."])


@case("list: votes that cannot be read are shown as ?")
def _():
    def setup(s):
        s["forbid"] = ["get configmaps"]
    r = run_plugin(["list"], setup)
    return expect(r, 0, out_has=["release-42-approval", "   ?\n"],
                  err_has=["warning: could not read the votes (?) of: ci/approve-cm: Error from server (Forbidden)"])


# ------------------------------------------------------------------ errors
@case("error: no cluster reachable")
def _():
    def setup(s):
        s["unreachable"] = True
    r = run_plugin(["release-42"], setup)
    return expect(r, 1, [WHOAMI],
                  err_has=["kubectl approve: error: cannot find out who you are (kubectl auth whoami): "
                           "The connection to the server localhost:8080 was refused",
                           "hint: no cluster reachable"], out="")


@case("error: the cluster has no kubectl auth whoami")
def _():
    def setup(s):
        s["no_whoami"] = True
    r = run_plugin(["release-42"], setup)
    return expect(r, 1, [WHOAMI], err_has=["SelfSubjectReview needs Kubernetes 1.28 or later"])


@case("error: Tekton is not installed")
def _():
    def setup(s):
        s["no_tekton"] = True
    r = run_plugin(["release-42"], setup)
    return expect(r, 1, [WHOAMI, get_tr("release-42")],
                  err_has=['doesn\'t have a resource type "taskruns.tekton.dev"', "hint: is Tekton Pipelines installed"])


@case("error: no permission to read TaskRuns")
def _():
    def setup(s):
        s["forbid"] = ["get taskruns"]
    r = run_plugin(["release-42"], setup)
    return expect(r, 1, [WHOAMI, get_tr("release-42")],
                  err_has=["cannot read TaskRun release-42 in the current namespace: Error from server (Forbidden): "
                           'taskruns.tekton.dev "release-42" is forbidden: User "alice@example.com" cannot get',
                           "hint: you lack this permission"])


@case("error: no permission to patch the ConfigMap: nothing is annotated")
def _():
    def setup(s):
        s["forbid"] = ["patch configmaps"]
    r = run_plugin(["release-42"], setup)
    p = expect(r, 1, QUORUM_LOOKUP + [patch("approve-cm", "ci", KEY_ALICE, vote_json("approved", ""))],
               err_has=[f"cannot write {KEY_ALICE} to ConfigMap ci/approve-cm: Error from server (Forbidden)",
                        "hint: you lack this permission"], out="")
    if KEY_ALICE in find(r.state, "ConfigMap", "approve-cm")["data"]:
        p.append("vote stored")
    return p


@case("error: the admission policy refuses the vote")
def _():
    def setup(s):
        s["deny_patch"] = "approve-step: key x is the vote of y, not yours"
    r = run_plugin(["release-42"], setup)
    return expect(r, 1, QUORUM_LOOKUP + [patch("approve-cm", "ci", KEY_ALICE, vote_json("approved", ""))],
                  err_has=["denied request: approve-step: key x is the vote of y, not yours",
                           "hint: the approve-step policy refused this write"])


@case("warning: the pod cannot be annotated, the vote stands (exit 0)")
def _():
    def setup(s):
        s["forbid"] = ["patch pods"]
    r = run_plugin(["release-42"], setup)
    p = expect(r, 0, QUORUM_LOOKUP + [patch("approve-cm", "ci", KEY_ALICE, vote_json("approved", "")),
                                      annotate("release-42-approval-pod", "ci")],
               err_has=["warning: your vote is recorded, but the pod ci/release-42-approval-pod could not be nudged",
                        "within about 1-2 minutes"])
    if "nudged" in r.out:
        p.append("claims a nudge")
    return p


@case("error: unknown run")
def _():
    r = run_plugin(["nope"])
    return expect(r, 1, [WHOAMI, get_tr("nope"), list_tr_of("nope"), get_pr("nope")],
                  err_has=["error: no TaskRun or PipelineRun named nope in the current namespace"], out="")


@case("error: unknown run in a named namespace")
def _():
    r = run_plugin(["nope", "--namespace", "prod"])
    return expect(r, 1, [WHOAMI, get_tr("nope", "prod"), list_tr_of("nope", "prod"), get_pr("nope", "prod")],
                  err_has=["no TaskRun or PipelineRun named nope in namespace prod"])


@case("error: a PipelineRun without TaskRuns yet")
def _():
    def setup(s):
        s["items"] = [o for o in s["items"] if o["metadata"].get("labels", {}).get("tekton.dev/pipelineRun") != "release-42"]
    r = run_plugin(["release-42"], setup)
    return expect(r, 1, [WHOAMI, get_tr("release-42"), list_tr_of("release-42"), get_pr("release-42")],
                  err_has=["PipelineRun release-42 has no TaskRun yet"])


@case("error: a PipelineRun whose approval has finished")
def _():
    def setup(s):
        c = find(s, "TaskRun", "release-42-approval")["status"]["conditions"][0]
        c.update(status="False", reason="Failed")
    r = run_plugin(["release-42"], setup)
    p = expect(r, 1, [WHOAMI, get_tr("release-42"), list_tr_of("release-42")],
               err_has=["PipelineRun release-42 has no approval waiting; its TaskRuns: "
                        "release-42-build (Succeeded), release-42-approval (Failed)"])
    return p + no_writes(r)


@case("error: a PipelineRun with two approvals waiting asks for the TaskRun")
def _():
    def setup(s):
        tr = json.loads(json.dumps(find(s, "TaskRun", "release-42-approval")))
        tr["metadata"]["name"] = "release-42-second-approval"
        s["items"].append(tr)
    r = run_plugin(["release-42"], setup)
    return expect(r, 1, err_has=["PipelineRun release-42 has 2 approvals waiting: release-42-approval, "
                                 "release-42-second-approval; name the TaskRun, e.g. kubectl approve release-42-approval"]) + no_writes(r)


@case("error: a finished TaskRun")
def _():
    r = run_plugin(["release-41-approval"])
    return expect(r, 1, [WHOAMI, get_tr("release-41-approval")],
                  err_has=["TaskRun ci/release-41-approval has already finished (Succeeded): nothing waits for a vote"])


@case("error: the requester cannot approve their own run")
def _():
    def setup(s):
        s["user"] = "dave@example.com"
    r = run_plugin(["release-42"], setup)
    return expect(r, 1, QUORUM_LOOKUP, err_has=["you (dave@example.com) requested this run: your vote would not count"])


@case("error: a user who is not an approver")
def _():
    def setup(s):
        s["user"] = "eve@example.com"
    r = run_plugin(["release-42"], setup)
    return expect(r, 1, QUORUM_LOOKUP,
                  err_has=["you (eve@example.com) are not among the approvers of release-42-approval "
                           "(alice@example.com,bob@example.com,carol@example.com): your vote would not count"])


@case("error: a second vote (a vote is final)")
def _():
    def setup(s):
        find(s, "ConfigMap", "approve-cm")["data"][KEY_ALICE] = '{"decision":"approved","comment":""}'
    r = run_plugin(["release-42", "--refuse"], setup)
    return expect(r, 1, QUORUM_LOOKUP, err_has=[f"{KEY_ALICE} in ConfigMap ci/approve-cm already holds 'approved': a vote is final"])


@case("error: a single-decision run on a gated ConfigMap")
def _():
    def setup(s):
        find(s, "ConfigMap", "approvals")["metadata"]["labels"] = {"approve-step/gate": "true"}
    r = run_plugin(["deploy-approval-x7k2p"], setup)
    return expect(r, 1, [WHOAMI, get_tr("deploy-approval-x7k2p"), get_cm("approvals", "ci")],
                  err_has=["takes a single decision in the plain key 'deploy-approval-x7k2p', which the approve-step "
                           "policy lets nobody write"])


@case("error: a key with a dot on a gated ConfigMap")
def _():
    r = run_plugin(["release-42-approval", "--key", "release.42"])
    return expect(r, 1, [WHOAMI, get_tr("release-42-approval"), get_cm("approve-cm", "ci")],
                  err_has=["the key 'release.42' contains a dot"])


@case("error: a key that is no ConfigMap key")
def _():
    r = run_plugin(["release-42-approval", "--key", "a/b"])
    return expect(r, 1, [WHOAMI, get_tr("release-42-approval")], err_has=["the key 'a/b' is not a ConfigMap key"])


@case("error: a TaskRun with several ConfigMaps and no workspace data")
def _():
    def setup(s):
        find(s, "TaskRun", "release-42-approval")["spec"]["workspaces"] = [
            {"name": "a", "configMap": {"name": "cm-a"}}, {"name": "b", "configMap": {"name": "cm-b"}}]
    r = run_plugin(["release-42-approval"], setup)
    return expect(r, 1, [WHOAMI, get_tr("release-42-approval")],
                  err_has=["binds several ConfigMaps (cm-a cm-b) and none to the workspace data: name one with --configmap"])


@case("error: the ConfigMap does not exist")
def _():
    def setup(s):
        s["items"] = [o for o in s["items"] if o["metadata"]["name"] != "approve-cm"]
    r = run_plugin(["release-42-approval"], setup)
    return expect(r, 1, [WHOAMI, get_tr("release-42-approval"), get_cm("approve-cm", "ci")],
                  err_has=['cannot read ConfigMap ci/approve-cm: Error from server (NotFound): configmaps "approve-cm" not found'])


@case("error: kubectl is not on PATH")
def _():
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


@case("-- makes list a run name")
def _():
    r = run_plugin(["--", "list"])
    return expect(r, 1, [WHOAMI, get_tr("list"), list_tr_of("list"), get_pr("list")],
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
        @case(f"usage error: {' '.join(args) or '(no arguments)'}")
        def _():
            r = run_plugin(args)
            return expect(r, 2, [], err_has=[msg, "Run 'kubectl approve --help' for usage."], out="")
    make()


@case("--help and --version")
def _():
    h = run_plugin(["--help"])
    v = run_plugin(["--version"])
    p = expect(h, 0, [], out_has=["kubectl approve RUN [--refuse] [-m COMMENT] [-n NAMESPACE] [--configmap NAME]",
                                  "kubectl approve list"])
    return p + expect(v, 0, [], out="kubectl-approve 0.1.0\n")


@case("shellcheck: the plugin is clean")
def _():
    sc = shutil.which("shellcheck")
    if not sc:
        return ["shellcheck not installed (Debian: apt-get install shellcheck)"]
    p = subprocess.run([sc, "-s", "sh", PLUGIN], capture_output=True, text=True)
    return [p.stdout.strip()] if p.returncode else []


skipped = 0


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
if REAL is None:
    skipped += 1
    print("SKIP the stand-in's jsonpath answers as a real kubectl does (no real kubectl; set REAL_KUBECTL)")
else:
    @case(f"the stand-in's jsonpath answers as a real kubectl does ({REAL})")
    def _():
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
            "TaskRun": [TR_FIELDS],
            "ConfigMap": [CM_READ[len("jsonpath="):], "{.data}"],
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

print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed else 0)

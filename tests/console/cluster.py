#!/usr/bin/env python3
"""The cluster behind the console's browser tests: tests/lib/fakecluster.py
(fakeapi.py's TLS, tokens, get/list/watch/merge patch, with SelfSubjectReview,
the vote policy and armed failures in front) holding realistic Tekton
objects: the fixture every case starts from.

It writes a kubeconfig with one context per user, prints one JSON line
{"kubeconfig": ..., "url": ...} and then answers JSON commands on stdin, one
per line, with one JSON line each (Cluster's cmd_ methods).
"""

import json
import os
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("FAKEAPI_LIB", os.path.join(HERE, "..", "lib")))
from fakecluster import Cluster  # noqa: E402

T0 = "2024-10-01T09:00:00Z"
USERS = {
    "alice": ("alice@example.com", ["release-approvers"]),
    "bob": ("bob@example.com", ["release-approvers"]),
    "carol": ("carol@example.com", ["release-approvers"]),
    "dave": ("dave@example.com", ["developers"]),
    "erin": ("erin@example.com", ["developers"]),
    "frank": ("frank@example.com", []),  # no Role at all: 403 on everything
}


def ts(minutes):
    """T0 plus MINUTES, as the API server writes times."""
    t = time.gmtime(time.mktime(time.strptime(T0, "%Y-%m-%dT%H:%M:%SZ")) + minutes * 60)
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", t)


def labels(pr, task, pipeline_task):
    out = {"app.kubernetes.io/managed-by": "tekton-pipelines", "tekton.dev/task": task,
           "tekton.dev/taskRun": None}
    if pr:
        out.update({"tekton.dev/pipeline": "release", "tekton.dev/pipelineRun": pr,
                    "tekton.dev/pipelineTask": pipeline_task, "tekton.dev/memberOf": "tasks"})
    return out


def uid(ns, name):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, ns + "/" + name))


def key(ns, name):
    """The key the approve-step Task's default gives TaskRun NAME: its name and UID."""
    return f"{name}-{uid(ns, name)}"


# status.taskSpec as Tekton resolves the approve-step Task into it
# Any other Task: no step runs /approve-step, so it is no gate.
BUILD_SPEC = {"params": [{"name": "revision", "type": "string"}],
              "steps": [{"name": "build", "image": "registry.example.com/builder:1",
                         "command": ["make"], "args": ["release", "REVISION=$(params.revision)"]}]}
TASK_SPEC = {"params": [{"name": "key", "type": "string", "default": "$(context.taskRun.name)-$(context.taskRun.uid)"},
                        {"name": "timeout", "type": "string", "default": "86400"},
                        {"name": "configmap", "type": "string", "default": ""},
                        {"name": "approvals", "type": "string", "default": "1"},
                        {"name": "approvers", "type": "string", "default": ""},
                        {"name": "requester", "type": "string", "default": ""},
                        {"name": "on-timeout", "type": "string", "default": "refuse"},
                        {"name": "message", "type": "string", "default": ""}],
             "steps": [{"name": "wait", "image": "registry.example.com/approve-step/approve-step:0.1.0",
                        "command": ["/approve-step"],
                        "args": ["--dir", "$(workspaces.data.path)", "--key", "$(params.key)",
                                 "--timeout", "$(params.timeout)", "--configmap", "$(params.configmap)",
                                 "--approvals", "$(params.approvals)", "--approvers", "$(params.approvers)",
                                 "--requester", "$(params.requester)", "--on-timeout", "$(params.on-timeout)",
                                 "--message", "$(params.message)"]}]}


def taskrun(ns, name, pr, params, cm="approve-cm", start=5, task="approve-step", done=None, workspace=None, spec=None):
    """An approve-step TaskRun as Tekton v1 writes it: running, or DONE =
    (reason, status, minutes, results)."""
    lab = labels(pr, task, "approval")
    lab["tekton.dev/taskRun"] = name
    tr = {
        "apiVersion": "tekton.dev/v1", "kind": "TaskRun",
        "metadata": {"name": name, "namespace": ns, "uid": uid(ns, name),
                     "creationTimestamp": ts(start - 1), "generation": 1, "labels": lab,
                     "annotations": {"pipeline.tekton.dev/release": "v0.65.0"}},
        "spec": {"params": [{"name": k, "value": v} for k, v in params],
                 "serviceAccountName": "default", "taskRef": {"kind": "Task", "name": task},
                 "timeout": "48h0m0s",
                 "workspaces": [workspace or {"name": "data", "configMap": {"name": cm}}]},
        "status": {"podName": name + "-pod", "startTime": ts(start),
                   "conditions": [{"type": "Succeeded", "status": "Unknown", "reason": "Running",
                                   "message": "Not all Steps in the Task have finished executing",
                                   "lastTransitionTime": ts(start)}],
                   "steps": [{"name": "wait", "container": "step-wait",
                              "running": {"startedAt": ts(start)}}],
                   "taskSpec": json.loads(json.dumps(spec or (TASK_SPEC if task == "approve-step" else BUILD_SPEC)))},
    }
    if pr:
        tr["metadata"]["ownerReferences"] = [{"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "name": pr,
                                              "controller": True, "blockOwnerDeletion": True,
                                              "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, ns + "/pr/" + pr))}]
    if done:
        finish(tr, *done)
    return tr


def finish(tr, reason, status, minutes, results):
    tr["status"]["conditions"] = [{"type": "Succeeded", "status": status, "reason": reason,
                                   "message": "All Steps have completed executing" if status == "True"
                                   else "\"step-wait\" exited with code 1",
                                   "lastTransitionTime": ts(minutes)}]
    tr["status"]["completionTime"] = ts(minutes)
    tr["status"]["results"] = [{"name": k, "type": "string", "value": v} for k, v in results]
    tr["status"]["steps"] = [{"name": "wait", "container": "step-wait",
                              "terminated": {"exitCode": 0 if status == "True" else 1, "reason": "Completed",
                                             "startedAt": tr["status"]["startTime"], "finishedAt": ts(minutes)}}]
    return tr


def pipelinerun(ns, name, requester, params=()):
    return {"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
            "metadata": {"name": name, "namespace": ns, "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, ns + "/pr/" + name)),
                         "creationTimestamp": T0, "labels": {"tekton.dev/pipeline": "release"}},
            "spec": {"pipelineRef": {"name": "release"}, "params": [{"name": "requester", "value": requester}] + [{"name": k, "value": v} for k, v in params],
                     "timeouts": {"pipeline": "48h0m0s"},
                     "workspaces": [{"name": "approvals", "configMap": {"name": "approve-cm"}}]},
            "status": {"startTime": T0, "conditions": [{"type": "Succeeded", "status": "Unknown", "reason": "Running",
                                                        "lastTransitionTime": ts(1)}]}}


def pod(ns, name, taskrun_name):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "creationTimestamp": ts(5),
                         "labels": {"tekton.dev/taskRun": taskrun_name},
                         "annotations": {"tekton.dev/ready": "READY"}},
            "spec": {"containers": [{"name": "step-wait", "image": "registry.example.com/approve-step/approve-step:0.1.0"}],
                     "restartPolicy": "Never"},
            "status": {"phase": "Running"}}


def vote(decision, comment):
    return json.dumps({"decision": decision, "comment": comment}, separators=(",", ":"), ensure_ascii=False)


# A user's own Task holding the approve-step StepAction, as Tekton resolves
# it into status.taskSpec: no approve-step label, no quorum params; the gate
# is the step that runs /approve-step, read with its literal args.
SHIP_SPEC = {"params": [{"name": "revision", "type": "string"}],
             "steps": [{"name": "build", "image": "registry.example.com/builder:1",
                        "command": ["make"], "args": ["release", "REVISION=$(params.revision)"]},
                       {"name": "approve", "image": "registry.example.com/approve-step/approve-step:0.1.0",
                        "command": ["/approve-step"],
                        "args": ["--dir", "$(workspaces.votes.path)",
                                 "--key", "$(context.taskRun.name)-$(context.taskRun.uid)",
                                 "--configmap", "ship-votes", "--approvals", "2",
                                 "--approvers", "alice@example.com,bob@example.com", "--timeout", "2h"]}]}


INJECT = '<img src=x onerror="document.title=\'pwned\'">'
QUORUM = [("timeout", "24h"), ("configmap", "approve-cm"), ("approvals", "2"),
          ("approvers", "alice@example.com, bob@example.com, carol@example.com"),
          ("requester", "dave@example.com")]


def objects():
    """(resource, object) in creation order: the fixture every case starts from."""
    gate = {"approve-step/gate": "true"}
    out = [
        ("pipelineruns", pipelinerun("ci", "release-42", "dave@example.com",
                                     [("revision", "4f2a9c1"), ("environment", "prod")])),
        ("taskruns", taskrun("ci", "release-42-build", "release-42", [("revision", "4f2a9c1")], task="build",
                             workspace={"name": "source", "emptyDir": {}},
                             done=("Succeeded", "True", 4, []))),
        ("taskruns", taskrun("ci", "release-42-approval", "release-42",
                             QUORUM + [("message", "Deploy 4f2a9c1 to prod (payments-api, 14 commits since v2.3.0)")], start=5)),
        ("pods", pod("ci", "release-42-approval-pod", "release-42-approval")),
        ("pipelineruns", pipelinerun("ci", "hotfix-7", "dave@example.com")),
        ("taskruns", taskrun("ci", "hotfix-7-approval", "hotfix-7",
                             [("timeout", "2h"), ("on-timeout", "refuse"), ("approvals", "2"),
                              ("requester", "dave@example.com")], start=35)),
        ("pods", pod("ci", "hotfix-7-approval-pod", "hotfix-7-approval")),
        ("taskruns", taskrun("ci", "release-41-approval", "release-41", QUORUM, start=-60,
                             done=("Succeeded", "True", 30, [("decision", "approved"),
                                                             ("approver", "alice@example.com,bob@example.com"),
                                                             ("comment", "alice@example.com: ship it; bob@example.com: ok"),
                                                             ("waited-seconds", "5400")]))),
        ("configmaps", {"metadata": {"name": "approve-cm", "namespace": "ci", "labels": gate,
                                     "creationTimestamp": "2024-09-01T08:00:00Z"},
                        "data": {"release-41-approval.alice_40example.com": vote("approved", "ship it"),
                                 "release-41-approval.bob_40example.com": vote("approved", "ok"),
                                 key("ci", "hotfix-7-approval") + ".carol_40example.com": vote("approved", "Checked the diff; LGTM"),
                                 key("ci", "hotfix-7-approval") + ".dave_40example.com": vote("approved", "my own fix, looks fine")}}),
        # a namespace whose run and votes carry markup
        ("taskruns", taskrun("lab", "exp-1-approval", "exp-1",
                             [("approvals", "2"), ("reason", INJECT), ("requester", "dave@example.com"),
                              ("message", f"Check {INJECT}\n\u202egnp.x")], start=10)),
        ("pods", pod("lab", "exp-1-approval-pod", "exp-1-approval")),
        ("configmaps", {"metadata": {"name": "approve-cm", "namespace": "lab", "labels": gate},
                        "data": {key("lab", "exp-1-approval") + ".carol_40example.com": vote("approved", INJECT)}}),
        # a namespace whose runs try to steer the vote: a path for a
        # ConfigMap name, and old votes remapped onto this run's keys
        # (no configmap param: the step would read the one it names through
        # the API, and the page would write there; here only the workspace names one)
        ("taskruns", taskrun("odd", "odd-1-approval", "odd-1", [p for p in QUORUM if p[0] != "configmap"], start=12,
                             workspace={"name": "data", "configMap": {"name": "approve-cm/../../pods/odd-1-approval-pod"}})),
        ("taskruns", taskrun("odd", "odd-2-approval", "odd-2", QUORUM, start=14,
                             workspace={"name": "data", "configMap": {"name": "approve-cm", "items": [
                                 {"key": "release-41-approval.alice_40example.com", "path": key("odd", "odd-2-approval") + ".alice_40example.com"},
                                 {"key": "release-41-approval.bob_40example.com", "path": key("odd", "odd-2-approval") + ".bob_40example.com"}]}})),
        ("configmaps", {"metadata": {"name": "approve-cm", "namespace": "odd", "labels": gate},
                        "data": {"release-41-approval.alice_40example.com": vote("approved", "ship it"),
                                 "release-41-approval.bob_40example.com": vote("approved", "ok")}}),
        # a StepAction gate inside a user's own Task, voting in its --configmap
        ("pipelineruns", pipelinerun("apps", "ship-9", "dave@example.com")),
        ("taskruns", taskrun("apps", "ship-9-deploy", "ship-9", [("revision", "v2.0.1")], task="deploy",
                             start=55, spec=SHIP_SPEC, workspace={"name": "votes", "configMap": {"name": "ship-votes"}})),
        ("pods", pod("apps", "ship-9-deploy-pod", "ship-9-deploy")),
        ("configmaps", {"metadata": {"name": "ship-votes", "namespace": "apps", "labels": gate}, "data": {}}),
        # the catalog Task with a configmap param: votes go to that ConfigMap,
        # which the step watches, not to the one the workspace binds
        ("pipelineruns", pipelinerun("apps", "hold-3", "dave@example.com")),
        ("taskruns", taskrun("apps", "hold-3-approval", "hold-3",
                             [("configmap", "hold-votes"), ("approvals", "2"),
                              ("approvers", "alice@example.com, bob@example.com")], cm="approve-cm", start=56)),
        ("pods", pod("apps", "hold-3-approval-pod", "hold-3-approval")),
        ("configmaps", {"metadata": {"name": "hold-votes", "namespace": "apps", "labels": gate}, "data": {}}),
        # examples/per-run-configmap: the gate's workspace an emptyDir, the
        # votes in the run's own ConfigMap, named by the configmap param
        ("pipelineruns", pipelinerun("approve-per-run", "release-7x9k", "dave@example.com")),
        ("taskruns", taskrun("approve-per-run", "release-7x9k-approval", "release-7x9k",
                             [("approvals", "2"), ("approvers", "alice@example.com,bob@example.com,carol@example.com"),
                              ("requester", "dave@example.com"), ("configmap", "release-7x9k-votes"), ("timeout", "24h")],
                             start=58, workspace={"name": "data", "emptyDir": {}})),
        ("pods", pod("approve-per-run", "release-7x9k-approval-pod", "release-7x9k-approval")),
        ("configmaps", {"metadata": {"name": "release-7x9k-votes", "namespace": "approve-per-run", "labels": gate,
                                     "ownerReferences": [{"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
                                                          "name": "release-7x9k",
                                                          "uid": str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                                                "approve-per-run/pr/release-7x9k"))}]},
                        "data": {}}),
        # the classic single decision: no quorum params, an unlabelled ConfigMap
        ("taskruns", taskrun("plain", "deploy-approval-x7k2p", None, [("timeout", "1h"), ("on-timeout", "approve")],
                             cm="approvals", start=50)),
        ("pods", pod("plain", "deploy-approval-x7k2p-pod", "deploy-approval-x7k2p")),
        ("configmaps", {"metadata": {"name": "approvals", "namespace": "plain"}, "data": {"status": "init"}}),
        # a namespace with nothing waiting
        ("configmaps", {"metadata": {"name": "approve-cm", "namespace": "quiet", "labels": gate}, "data": {}}),
    ]
    return out


class ConsoleCluster(Cluster):
    def cmd_finish(self, c):
        """Ends a TaskRun as Tekton does when the step exits."""
        tr = self.api.store.get("taskruns", c["ns"], c["name"])
        finish(tr, c["reason"], c["status"], c.get("minutes", 70), c["results"])
        return self.api.store.update("taskruns", c["ns"], c["name"], tr)


def main():
    cluster = ConsoleCluster(USERS, objects, no_rights={"frank"})
    cluster.api.start()
    tmp = tempfile.mkdtemp(prefix="console-cluster-")
    kubeconfig = os.path.join(tmp, "kubeconfig")
    cluster.kubeconfig(kubeconfig)
    print(json.dumps({"kubeconfig": kubeconfig, "url": cluster.api.url, "users": {k: v[0] for k, v in USERS.items()}}),
          flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        c = json.loads(line)
        try:
            out = {"ok": getattr(cluster, "cmd_" + c["op"])(c)}
        except Exception as e:  # the test shows it
            out = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(out), flush=True)
    cluster.api.stop()
    cluster.certs.cleanup()
    os.remove(kubeconfig)
    os.rmdir(tmp)


if __name__ == "__main__":
    main()

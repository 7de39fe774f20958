"""The Kubernetes API for the examples whose gates read it (`api: "on"`):
tests/lib/fakecluster.py (fakeapi.py's TLS, tokens, list/watch and merge
patch, with SelfSubjectReview, discovery, OpenAPI v3 for kubectl's
server-side validation and the vote policy in front), holding what the
example and Tekton write there.

What it models of Tekton and the kubelet, beside check.py's run model:
- the objects Tekton's controller writes while a run goes: the
  PipelineRun; each TaskRun (its name and UID as check.py gives them, the
  labels tekton.dev/pipelineRun, pipelineTask, task and taskRun, an
  ownerReference to the PipelineRun, spec.params, spec.workspaces,
  status.podName, startTime, each step running since its start, and
  status.taskSpec: the Task's spec as written, its params unsubstituted,
  as Tekton stores it) and its pod `<taskrun>-pod`;
  the TaskRun's Succeeded condition and results once its steps end;
- the pod's ServiceAccount token: the run's ServiceAccount
  (taskRunTemplate, else taskRunSpecs of the task, else default) gets a
  token, and the gate gets its files with --api-credentials (the kubelet
  mounts them at /var/run/secrets/kubernetes.io/serviceaccount) and the
  API's address in KUBERNETES_SERVICE_HOST and _PORT; script steps get a
  kubeconfig of the same identity, so their `kubectl` is the real one;
- the people of the examples (alice, bob, carol, dave, erin, each
  NAME@example.com): a kubeconfig each, whose current context is theirs, for
  the README lines that name who runs them.

Not modelled: RBAC (every identity may do everything but delete: the
examples' Roles are checked by rbac_fit and tests/catalog), the runs and
requester policies (tests/policy), the garbage collector.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
import fakeapi  # noqa: E402
from fakecluster import Cluster  # noqa: E402

PEOPLE = ("alice", "bob", "carol", "dave", "erin")


def service_account(run, pipeline_task=None):
    """The ServiceAccount a TaskRun of RUN runs as."""
    spec = run["spec"]
    for s in spec.get("taskRunSpecs") or []:
        if s.get("pipelineTaskName") == pipeline_task and s.get("serviceAccountName"):
            return s["serviceAccountName"]
    return ((spec.get("taskRunTemplate") or {}).get("serviceAccountName")
            or spec.get("serviceAccountName") or "default")


class Api:
    """One run's cluster: start(), then the check's hooks, then stop()."""

    def __init__(self, state, namespace, run, configmaps):
        self.state, self.ns, self.run = state, namespace, run
        users = {p: (p + "@example.com", []) for p in PEOPLE}
        for sa in self._accounts():
            users["sa-" + sa] = ("system:serviceaccount:%s:%s" % (namespace, sa),
                                 ["system:serviceaccounts", "system:serviceaccounts:" + namespace])
        self.cluster = Cluster(users)
        for doc in configmaps:
            meta = dict(doc["metadata"], namespace=namespace)
            self.cluster.api.store.create("configmaps", namespace, {
                "metadata": meta, "data": {k: str(v) for k, v in (doc.get("data") or {}).items()}})

    def _accounts(self):
        spec = self.run["spec"]
        names = {service_account(self.run)}
        names |= {s["serviceAccountName"] for s in spec.get("taskRunSpecs") or [] if s.get("serviceAccountName")}
        return sorted(names)

    def start(self):
        self.cluster.api.start()
        kube = os.path.join(self.state, "kube")
        os.makedirs(kube)
        for ctx in self.cluster.users:
            # a person's kubeconfig names no namespace of the example's (the
            # README's lines must say -n); a pod's is its own
            self.cluster.kubeconfig(os.path.join(kube, ctx), current=ctx,
                                    namespace=self.ns if ctx.startswith("sa-") else "default")
            if ctx.startswith("sa-"):
                fakeapi.write_credentials(os.path.join(kube, ctx + ".sa"), "token-" + ctx,
                                          self.cluster.api.ca_path, self.ns)

    def stop(self):
        self.cluster.api.stop()
        self.cluster.certs.cleanup()

    def kubeconfig(self, who):
        """The kubeconfig of a person, or of the ServiceAccount of a task."""
        return os.path.join(self.state, "kube", who if who in PEOPLE else "sa-" + who)

    def pod_env(self, pipeline_task):
        """What a step's container holds of the API: its address and, as
        files, its ServiceAccount's token (kubeconfig for kubectl)."""
        sa = service_account(self.run, pipeline_task)
        return {"KUBERNETES_SERVICE_HOST": "127.0.0.1",
                "KUBERNETES_SERVICE_PORT": str(self.cluster.api.port),
                "KUBECONFIG": self.kubeconfig(sa)}, self.kubeconfig(sa) + ".sa"

    # -- what Tekton's controller writes
    def pipelinerun(self, name, uid, pipeline):
        meta = {"name": name, "namespace": self.ns, "uid": uid,
                "labels": {"tekton.dev/pipeline": pipeline}}
        self.cluster.api.store.create("pipelineruns", self.ns, {
            "apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "metadata": meta,
            "spec": self.run["spec"],
            "status": {"conditions": [{"type": "Succeeded", "status": "Unknown", "reason": "Running"}]}})

    def taskrun(self, ctx, spec, params, bindings, pr=None, task=None, pipeline_task=None):
        name, uid = ctx["taskRun.name"], ctx["taskRun.uid"]
        sa, now = service_account(self.run, pipeline_task), fakeapi.now_rfc3339()
        labels = {"app.kubernetes.io/managed-by": "tekton-pipelines", "tekton.dev/taskRun": name}
        meta = {"name": name, "namespace": self.ns, "uid": uid, "labels": labels}
        if task:
            labels["tekton.dev/task"] = task
        if pr:
            labels.update({"tekton.dev/pipelineRun": pr[0], "tekton.dev/pipelineTask": pipeline_task,
                           "tekton.dev/memberOf": "tasks"})
            meta["ownerReferences"] = [{"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "name": pr[0],
                                        "uid": pr[1], "controller": True, "blockOwnerDeletion": True}]
        st = self.cluster.api.store
        st.create("taskruns", self.ns, {
            "apiVersion": "tekton.dev/v1", "kind": "TaskRun", "metadata": meta,
            "spec": {"params": [{"name": k, "value": v} for k, v in params.items()],
                     "serviceAccountName": sa,
                     "workspaces": [dict(b, name=w) for w, b in bindings.items()]},
            "status": {"podName": name + "-pod", "taskSpec": spec, "startTime": now,
                       "steps": [{"name": s.get("name", "unnamed"), "container": "step-" + s.get("name", "unnamed"),
                                  "running": {"startedAt": now}} for s in spec.get("steps", [])],
                       "conditions": [{"type": "Succeeded", "status": "Unknown", "reason": "Running"}]}})
        st.create("pods", self.ns, {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name + "-pod", "namespace": self.ns, "labels": dict(labels)},
            "spec": {"serviceAccountName": sa,
                     "containers": [{"name": "step-" + s.get("name", "unnamed")} for s in spec.get("steps", [])]},
            "status": {"phase": "Running"}})

    def finished(self, name, status, results):
        st = self.cluster.api.store
        tr = st.get("taskruns", self.ns, name)
        ok = status == "Succeeded"
        tr["status"]["conditions"] = [{"type": "Succeeded", "status": "True" if ok else "False",
                                       "reason": "Succeeded" if ok else "Failed"}]
        tr["status"]["results"] = [{"name": k, "type": "string", "value": v} for k, v in results.items()]
        st.update("taskruns", self.ns, name, tr)

// policy/approve-step-runs.yaml against the example's PipelineRuns and
// TaskRuns (run by test.mjs).

import { createHash } from "node:crypto";
import { join } from "node:path";
import { admit, loadBinding, loadPolicy, loadYamlDocs } from "./vap.mjs";
import { ALLOWED_IDENTS, admissionRequest, check, checkSubset, configMap, ex, gate, policy, root } from "./kit.mjs";
import { pipelineRun, prRequest } from "./examples.mjs";

// ---------------------------------------------------------------------------
// 8. policy/approve-step-runs.yaml: who must approve and how many is not the
// requester's choice. Each attack a requester can make with a PipelineRun or
// a TaskRun, against the example's settings (examples/quorum/gate-params.yaml).
const RUNS_POLICY = process.env.RUNS_POLICY_FILE || join(root, "policy", "approve-step-runs.yaml");
const runsPolicy = loadPolicy(RUNS_POLICY);
const runsBinding = loadBinding(join(root, "examples", "quorum", "runs-binding.yaml"));
const [gateParams] = ex("gate-params.yaml");
const RUNS_IDENTS = new Set([...ALLOWED_IDENTS, "params"]);

// Each [name, request, want, msg]: the runs policy, bound in the gate
// namespace, admits REQUEST exactly when WANT, and a denial says MSG.
function checkRunsCases(cases) {
  for (const [name, request, want, msg] of cases) {
    check(`case: ${name}`, () => {
      const r = admit(runsPolicy, runsBinding, request, { "kubernetes.io/metadata.name": "approve-quorum" }, gateParams);
      if (r.errors.length) return `errors: ${r.errors.join("; ")}`;
      if (r.allowed !== want) return `allowed=${r.allowed} (${r.message}), want ${want}`;
      if (msg && !r.message.includes(msg)) return `message ${JSON.stringify(r.message)} lacks ${JSON.stringify(msg)}`;
    });
  }
}
checkSubset("runs policy subset", runsPolicy, RUNS_IDENTS);
const CONTROLLER = "system:serviceaccount:tekton-pipelines:tekton-pipelines-controller";
const [examplePipelineRun] = ex("pipelinerun.yaml");
const clone = (o) => JSON.parse(JSON.stringify(o));
// The example's PipelineRun, named, changed by fn.
function gatedRun(fn = () => {}) {
  const pr = clone(examplePipelineRun);
  pr.metadata.name = "release-x7k2p";
  fn(pr.spec, pr);
  return pr;
}
function taskRun(fn = () => {}) {
  const tr = {
    apiVersion: "tekton.dev/v1",
    kind: "TaskRun",
    metadata: { name: "release-x7k2p-approval", namespace: "approve-quorum",
      labels: { "tekton.dev/pipelineRun": "release-x7k2p", "tekton.dev/pipelineTask": "approval" } },
    spec: {
      taskRef: { name: "approve-step" },
      serviceAccountName: "release-pipeline",
      params: [{ name: "approvals", value: "2" }, { name: "approvers", value: "alice@example.com,bob@example.com,carol@example.com" },
        { name: "requester", value: "dave@example.com" }],
      workspaces: [{ name: "data", configMap: { name: "release-approvals" } }],
    },
  };
  fn(tr.spec, tr);
  return tr;
}
function runRequest(op, user, oldObj, newObj) {
  const r = prRequest(op, user, oldObj, newObj);
  if ((newObj || oldObj).kind === "TaskRun") {
    r.kind = { group: "tekton.dev", version: "v1", kind: "TaskRun" };
    r.resource = { group: "tekton.dev", version: "v1", resource: "taskruns" };
  }
  const version = (newObj || oldObj).apiVersion.split("/")[1];
  for (const k of ["kind", "resource", "requestKind", "requestResource"]) if (r[k]) r[k] = { ...r[k], version };
  if (r.requestKind) r.requestKind.kind = r.kind.kind;
  if (r.requestResource) r.requestResource.resource = r.resource.resource;
  return r;
}
const DAVE = "dave@example.com";
const otherVotes = { name: "approvals", configMap: { name: "release-approvals",
  items: [{ key: "release-old-approval.alice_40example.com", path: "release-x7k2p-approval.alice_40example.com" },
    { key: "release-old-approval.bob_40example.com", path: "release-x7k2p-approval.bob_40example.com" }] } };
checkRunsCases([
  ["runs: the example's run, as the requester starts it", runRequest("CREATE", DAVE, null, gatedRun()), true],
  ["runs: Tekton creates the gate's TaskRun", runRequest("CREATE", CONTROLLER, null, taskRun()), true],
  ["runs: cancelling a gated run (UPDATE, same spec)", runRequest("UPDATE", "alice@example.com", gatedRun(),
    gatedRun((s) => { s.status = "Cancelled"; })), true],
  // the requester's attacks
  ["runs: items map other runs' old votes onto this run's keys",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.workspaces = [otherVotes]; })), false, "to the whole ConfigMap release-approvals"],
  ["runs: a subPath of the ConfigMap",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.workspaces[0].subPath = "old"; })), false, "no items, no subPath"],
  ["runs: an optional ConfigMap (missing = an empty, writable-by-none volume)",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.workspaces[0].configMap.optional = true; })), false, "not optional"],
  ["runs: a PVC holding forged vote files",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.workspaces = [{ name: "approvals", persistentVolumeClaim: { claimName: "mine" } }]; })),
    false, "to the whole ConfigMap"],
  ["runs: a Secret in place of the ConfigMap",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.workspaces = [{ name: "approvals", secret: { secretName: "mine" } }]; })),
    false, "to the whole ConfigMap"],
  ["runs: a projected volume in place of the ConfigMap",
    runRequest("CREATE", DAVE, null, gatedRun((s) => {
      s.workspaces = [{ name: "approvals", projected: { sources: [{ configMap: { name: "release-approvals" } }] } }];
    })), false, "to the whole ConfigMap"],
  ["runs: another ConfigMap, unlabelled, of the requester's making",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.workspaces[0].configMap.name = "my-approvals"; })), false, "to the whole ConfigMap"],
  ["runs: the gate workspace bound twice",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.workspaces.push(clone(s.workspaces[0])); })), false, "to the whole ConfigMap"],
  ["runs: no gate workspace at all",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.workspaces = []; })), false, "to the whole ConfigMap"],
  ["runs: approvers of the requester's choosing",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.params.push({ name: "approvers", value: "eve@example.com" }); })), false,
    "may not pass the params"],
  ["runs: approvals 1",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.params.push({ name: "approvals", value: "1" }); })), false, "may not pass"],
  ["runs: bindings-pinned true, to have planted vote files counted",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.params.push({ name: "bindings-pinned", value: "true" }); })), false, "may not pass"],
  ["runs: api off, to keep votes from being read through the API",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.params.push({ name: "api", value: "off" }); })), false, "may not pass"],
  ["runs: on-timeout approve",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.params.push({ name: "on-timeout", value: "approve" }); })), false, "may not pass"],
  ["runs: an inline pipelineSpec",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { delete s.pipelineRef; s.pipelineSpec = { tasks: [] }; })), false,
    "carries only pipelineRef"],
  ["runs: the allowed name plus a pipelineSpec",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.pipelineSpec = { tasks: [] }; })), false, "no pipelineSpec"],
  ["runs: a git resolver the requester controls",
    runRequest("CREATE", DAVE, null, gatedRun((s) => {
      s.pipelineRef = { resolver: "git", params: [{ name: "url", value: "https://example.com/dave/evil" }, { name: "pathInRepo", value: "p.yaml" }] };
    })), false, "no resolver"],
  ["runs: the allowed name with a resolver",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.pipelineRef.resolver = "bundles"; })), false, "no resolver"],
  ["runs: another Pipeline run as the gate's ServiceAccount",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.pipelineRef.name = "deploy-now"; s.workspaces = []; })), false,
    "reference one of the Pipelines"],
  ["runs: the gated Pipeline as another ServiceAccount",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.taskRunTemplate.serviceAccountName = "configmap-editor"; })), false,
    "as the ServiceAccount release-pipeline"],
  ["runs: the gated Pipeline as the default ServiceAccount",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { delete s.taskRunTemplate; })), false, "as the ServiceAccount release-pipeline"],
  ["runs: taskRunSpecs give the gate's task another ServiceAccount",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.taskRunSpecs = [{ pipelineTaskName: "approval", serviceAccountName: "other" }]; })),
    false, "no pipelineSpec, taskRunSpecs, podTemplate"],
  ["runs: v1beta1 taskRunSpecs with taskServiceAccountName",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.taskRunSpecs = [{ pipelineTaskName: "approval", taskServiceAccountName: "other" }]; })),
    false, "no pipelineSpec, taskRunSpecs, podTemplate"],
  ["runs: a v1beta1 PipelineRun names its ServiceAccount in spec.serviceAccountName",
    runRequest("CREATE", DAVE, null, gatedRun((s, pr) => { pr.apiVersion = "tekton.dev/v1beta1"; delete s.taskRunTemplate; s.serviceAccountName = "release-pipeline"; })), true],
  ["runs: changing the binding afterwards (UPDATE)",
    runRequest("UPDATE", DAVE, gatedRun(), gatedRun((s) => { s.workspaces = [otherVotes]; })), false, "does not change after it is created"],
  ["runs: the requester starts the gate's TaskRun directly, with their own bindings",
    runRequest("CREATE", DAVE, null, taskRun((s) => { s.workspaces = [otherVotes]; s.workspaces[0].name = "data"; })), false,
    "only Tekton (" + CONTROLLER + ") creates a TaskRun"],
  ["runs: a TaskRun as the gate's ServiceAccount, by a user",
    runRequest("CREATE", DAVE, null, taskRun((s) => { s.workspaces = []; })), false, "only Tekton"],
  ["runs: a TaskRun binding the gate ConfigMap, as another ServiceAccount, by a user",
    runRequest("CREATE", DAVE, null, taskRun((s) => { s.serviceAccountName = "default"; })), false, "only Tekton"],
]);
check("runs: without its parameter ConfigMap, the binding denies every run (fail closed)", () => {
  const r = admit(runsPolicy, runsBinding, runRequest("CREATE", DAVE, null, gatedRun()), { "kubernetes.io/metadata.name": "approve-quorum" }, null);
  if (r.allowed) return "allowed without params";
});
check("runs: a parameter ConfigMap missing a key denies (an error, failurePolicy Fail)", () => {
  const partial = clone(gateParams);
  delete partial.data.serviceAccount;
  const r = admit(runsPolicy, runsBinding, runRequest("CREATE", DAVE, null, gatedRun()), { "kubernetes.io/metadata.name": "approve-quorum" }, partial);
  if (r.allowed) return "allowed with a partial parameter ConfigMap";
});
check("runs: the binding applies in approve-quorum only", () => {
  const r = admit(runsPolicy, runsBinding, runRequest("CREATE", DAVE, null, gatedRun((s) => { s.workspaces = [otherVotes]; })),
    { "kubernetes.io/metadata.name": "other" }, gateParams);
  if (r.matched) return "applied in namespace other";
});
check("runs: the example's settings agree with its Pipeline, PipelineRun and RBAC", () => {
  const [pipeline] = ex("pipeline.yaml");
  const d = gateParams.data;
  const problems = [];
  if (!d.pipelines.split(",").includes(pipeline.metadata.name)) problems.push(`pipelines lacks ${pipeline.metadata.name}`);
  if (!pipeline.spec.workspaces.some((w) => w.name === d.workspace)) problems.push(`the Pipeline has no workspace ${d.workspace}`);
  const [cm] = ex("configmap.yaml");
  if (cm.metadata.name !== d.configMap) problems.push(`configMap ${d.configMap} is not the example's ${cm.metadata.name}`);
  for (const p of pipeline.spec.params) if (d.lockedParams.split(",").includes(p.name)) problems.push(`the Pipeline's own param ${p.name} is locked`);
  if (examplePipelineRun.spec.taskRunTemplate?.serviceAccountName !== d.serviceAccount) problems.push("the PipelineRun does not run as serviceAccount");
  const rbac = ex("rbac.yaml");
  if (!rbac.some((o) => o.kind === "ServiceAccount" && o.metadata.name === d.serviceAccount)) problems.push(`rbac.yaml creates no ServiceAccount ${d.serviceAccount}`);
  if (runsBinding.spec.paramRef.name !== gateParams.metadata.name) problems.push("the binding's paramRef is not gate-params.yaml");
  return problems.length ? problems.join("; ") : undefined;
});

// ---------------------------------------------------------------------------
// Issue 18: the pinned ServiceAccount without the gate, and podTemplate.
const PINNED = gateParams.data.serviceAccount;
const evilSpec = { tasks: [{ name: "steal", taskSpec: { steps: [{ name: "s", image: "busybox", script: "kubectl get secrets -A" }] } }] };
// A run of the requester's own inline Pipeline: no gated name, no gate workspace.
function bareRun(version, fn) {
  const pr = { apiVersion: `tekton.dev/${version}`, kind: "PipelineRun",
    metadata: { name: "steal-1", namespace: "approve-quorum" }, spec: { pipelineSpec: clone(evilSpec) } };
  fn(pr.spec, pr);
  return pr;
}
const v1beta1Run = (fn = () => {}) => gatedRun((s, pr) => {
  pr.apiVersion = "tekton.dev/v1beta1"; delete s.taskRunTemplate; s.serviceAccountName = PINNED; fn(s, pr);
});
const podAttacks = {
  "env KUBERNETES_SERVICE_HOST/PORT": { env: [{ name: "KUBERNETES_SERVICE_HOST", value: "203.0.113.7" }, { name: "KUBERNETES_SERVICE_PORT", value: "443" }] },
  hostAliases: { hostAliases: [{ ip: "203.0.113.7", hostnames: ["kubernetes.default.svc"] }] },
  dnsConfig: { dnsPolicy: "None", dnsConfig: { nameservers: ["203.0.113.53"] } },
  hostNetwork: { hostNetwork: true },
  "a volume of the requester's": { volumes: [{ name: "v", persistentVolumeClaim: { claimName: "mine" } }] },
};
const issue18 = [
  ["attack: v1 inline pipelineSpec, taskRunSpecs[].serviceAccountName the pinned ServiceAccount",
    runRequest("CREATE", DAVE, null, bareRun("v1", (s) => { s.taskRunSpecs = [{ pipelineTaskName: "steal", serviceAccountName: PINNED }]; })),
    false, "carries only"],
  ["attack: v1beta1 inline pipelineSpec, taskRunSpecs[].taskServiceAccountName the pinned ServiceAccount",
    runRequest("CREATE", DAVE, null, bareRun("v1beta1", (s) => { s.taskRunSpecs = [{ pipelineTaskName: "steal", taskServiceAccountName: PINNED }]; })),
    false, "carries only"],
  ["attack: v1beta1 inline pipelineSpec, deprecated serviceAccountNames[] the pinned ServiceAccount",
    runRequest("CREATE", DAVE, null, bareRun("v1beta1", (s) => { s.serviceAccountNames = [{ taskName: "steal", serviceAccountName: PINNED }]; })),
    false, "carries only"],
  ["attack: v1 inline pipelineSpec as the pinned ServiceAccount in taskRunTemplate",
    runRequest("CREATE", DAVE, null, bareRun("v1", (s) => { s.taskRunTemplate = { serviceAccountName: PINNED }; })), false, "carries only"],
  ["attack: the TaskRun Tekton would create from the inline run, created by the requester",
    runRequest("CREATE", DAVE, null, taskRun((s) => { delete s.taskRef; s.taskSpec = clone(evilSpec.tasks[0].taskSpec); s.workspaces = []; s.params = []; })),
    false, "only Tekton"],
  ["attack: a TaskRun binding the gate ConfigMap through a podTemplate volume, by a user",
    runRequest("CREATE", DAVE, null, taskRun((s) => { s.serviceAccountName = "default"; s.workspaces = [];
      s.podTemplate = { volumes: [{ name: "v", projected: { sources: [{ configMap: { name: "release-approvals" } }] } }] }; })),
    false, "only Tekton"],
  ["attack: an inline run binding the gate ConfigMap through a projected workspace",
    runRequest("CREATE", DAVE, null, bareRun("v1", (s) => {
      s.workspaces = [{ name: "w", projected: { sources: [{ configMap: { name: "release-approvals" } }] } }]; })), false, "carries only"],
  ["attack: the image param of the requester's choosing",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.params.push({ name: "image", value: "registry.example/dave/approve-step:latest" }); })),
    false, "may not pass the params"],
  ["attack: pipelineRef.params without a resolver",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.pipelineRef.params = [{ name: "x", value: "y" }]; })), false, "pipelineRef: {name} only"],
  ["attack: pipelineRef.bundle",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.pipelineRef.bundle = "registry.example/dave/p:1"; })), false, "pipelineRef: {name} only"],
  ["attack: managedBy another controller",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.managedBy = "example.com/mine"; })), false, "carries only"],
  ["attack: a second workspace, a PVC of the requester's",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.workspaces.push({ name: "src", persistentVolumeClaim: { claimName: "mine" } }); })),
    false, "no other workspace"],
  ["attack: the gate workspace with defaultMode and items empty",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.workspaces[0].configMap.items = []; })), false, "no items"],
  ["attack: spec.status of an unknown value", runRequest("CREATE", DAVE, null, gatedRun((s) => { s.status = "Approved"; })), false, "spec.status is"],
  ["attack: adding a podTemplate on UPDATE",
    runRequest("UPDATE", DAVE, gatedRun(), gatedRun((s) => { s.taskRunTemplate.podTemplate = podAttacks.hostNetwork; })),
    false, "does not change after it is created"],
  ["attack: changing a TaskRun's spec on UPDATE (the requester edits the gate's TaskRun)",
    runRequest("UPDATE", DAVE, taskRun(), taskRun((s) => { s.params[0].value = "0"; })), false, "does not change after it is created"],
  ["attack: an UPDATE that makes a gated run ungated (drops the workspace and pipelineRef)",
    runRequest("UPDATE", DAVE, gatedRun(), gatedRun((s) => { delete s.pipelineRef; s.workspaces = []; s.pipelineSpec = clone(evilSpec); })),
    false, "does not change"],
  ["runs: a v1beta1 gated run as the example's", runRequest("CREATE", DAVE, null, v1beta1Run()), true],
  ["runs: a run created pending (spec.status PipelineRunPending)",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.status = "PipelineRunPending"; })), true],
  ["runs: starting a pending run (UPDATE drops spec.status)",
    runRequest("UPDATE", DAVE, gatedRun((s) => { s.status = "PipelineRunPending"; }), gatedRun()), true],
  ["runs: StoppedRunFinally on UPDATE", runRequest("UPDATE", DAVE, gatedRun(), gatedRun((s) => { s.status = "StoppedRunFinally"; })), true],
  ["runs: a run with labels, annotations and generateName",
    runRequest("CREATE", DAVE, null, gatedRun((s, pr) => { pr.metadata.labels = { team: "a" }; pr.metadata.annotations = { note: "b" }; })), true],
  ["runs: Tekton cancels the gate's TaskRun (spec.status on UPDATE)",
    runRequest("UPDATE", CONTROLLER, taskRun(), taskRun((s) => { s.status = "TaskRunCancelled"; s.statusMessage = "PipelineRun cancelled"; })), true],
  ["runs: Tekton updates the gate's TaskRun's labels (UPDATE, same spec)",
    runRequest("UPDATE", CONTROLLER, taskRun(), taskRun((s, tr) => { tr.metadata.labels.x = "y"; })), true],
  ["attack: a run of the requester's own, as another ServiceAccount, with a podTemplate (every run of the gate namespace is gated)",
    runRequest("CREATE", DAVE, null, bareRun("v1", (s) => { s.taskRunTemplate = { serviceAccountName: "default", podTemplate: podAttacks.hostNetwork }; })),
    false, "carries only"],
];
for (const [what, pod] of Object.entries(podAttacks)) {
  issue18.push([`attack: taskRunTemplate.podTemplate ${what}`,
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.taskRunTemplate.podTemplate = clone(pod); })), false, "no podTemplate"]);
  issue18.push([`attack: taskRunSpecs[].podTemplate ${what}`,
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.taskRunSpecs = [{ pipelineTaskName: "approval", podTemplate: clone(pod) }]; })),
    false, "carries only"]);
  issue18.push([`attack: v1beta1 spec.podTemplate ${what}`,
    runRequest("CREATE", DAVE, null, v1beta1Run((s) => { s.podTemplate = clone(pod); })), false, "carries only"]);
}
checkRunsCases(issue18);
check("runs: every example that binds the runs policy locks image with the gate's params", () => {
  const want = ["approvals", "approvers", "on-timeout", "timeout", "key", "configmap", "api", "bindings-pinned", "image"];
  const have = gateParams.data.lockedParams.split(",");
  const missing = want.filter((p) => !have.includes(p));
  if (missing.length) return `gate-params.yaml does not lock ${missing.join(", ")}`;
});

check("runs: in the example's RBAC nobody but admins may write the runs policy's settings", () => {
  const name = runsBinding.spec.paramRef.name;
  const writes = ["patch", "update", "create", "delete", "deletecollection", "*"];
  const problems = [];
  for (const role of ex("rbac.yaml").filter((o) => o.kind === "Role" || o.kind === "ClusterRole")) {
    for (const r of role.rules) {
      if (!r.resources.some((x) => x === "configmaps" || x === "*") || !r.verbs.some((v) => writes.includes(v))) continue;
      if (!r.resourceNames || r.resourceNames.includes(name)) problems.push(`${role.kind} ${role.metadata.name} may write ConfigMap ${name}`);
    }
  }
  return problems.length ? problems.join("; ") : undefined;
});

// Per-run gates (examples/per-run-configmap): the approvers' patch on every
// ConfigMap of their namespace must not reach the runs policy's settings.
check("per-run: approvers who may patch every ConfigMap of their namespace cannot write the runs policy's settings", () => {
  const dir = join(root, "examples", "per-run-configmap");
  const docs = [...loadYamlDocs(join(dir, "rbac.yaml")), ...loadYamlDocs(join(dir, "namespace.yaml"))].filter((d) => d);
  const problems = [];
  const paramNs = runsBinding.spec.paramRef.namespace;
  const ns = docs.find((d) => d.kind === "Namespace")?.metadata.name;
  if (!ns) return "namespace.yaml creates no Namespace";
  if (ns === paramNs) problems.push(`per-run gates live in ${ns}, where the runs policy's settings are`);
  for (const d of docs.filter((o) => ["Role", "RoleBinding", "ServiceAccount"].includes(o.kind))) {
    if (d.metadata.namespace !== ns) problems.push(`${d.kind} ${d.metadata.name} is in ${d.metadata.namespace || "the namespace of kubectl -n"}, not ${ns}`);
  }
  const writes = (r) => r.verbs.some((v) => ["patch", "update", "create", "delete", "deletecollection", "*"].includes(v)) &&
    r.resources.some((x) => x === "configmaps" || x === "*");
  for (const role of docs.filter((o) => o.kind === "Role" || o.kind === "ClusterRole")) {
    if (role.kind === "ClusterRole" && role.rules.some(writes)) problems.push(`ClusterRole ${role.metadata.name} writes ConfigMaps`);
  }
  if (docs.some((o) => o.kind === "ClusterRoleBinding")) problems.push("a ClusterRoleBinding");
  // The approvers are bound to a Role that writes ConfigMaps only in ns.
  const approverRoles = docs.filter((o) => o.kind === "RoleBinding" &&
    o.subjects.some((s) => s.name === "alice@example.com")).map((b) => b.roleRef.name);
  if (!approverRoles.length) problems.push("no RoleBinding gives the approvers their votes");
  // The vote policy is bound there: a forged vote by alice for bob is refused.
  const vb = docs.find((o) => o.kind === "ValidatingAdmissionPolicyBinding");
  if (!vb) problems.push("no binding of the vote policy in the per-run namespace");
  else {
    const req = admissionRequest("UPDATE", "alice@example.com", configMap({ labels: gate, data: {} }),
      configMap({ labels: gate, data: { "r.bob_40example.com": "approved" } }), ns);
    const r = admit(policy, vb, req, { "kubernetes.io/metadata.name": ns });
    if (r.allowed) problems.push(`the vote policy does not refuse a forged vote in ${ns}`);
  }
  return problems.length ? problems.join("; ") : undefined;
});

// ---------------------------------------------------------------------------
// Around the runs: the gate's pod and the runs' status. Whoever may patch the
// gate's pod (the nudge's `patch` on pods, rbac.yaml) or write a run's
// status subresource reaches the release without the votes.
const ALICE = "alice@example.com";
const GATE_IMAGE = "registry.example.com/approve-step@sha256:" + "0".repeat(64);
// The gate's pod, as Tekton creates it from the TaskRun.
function gatePod(fn = () => {}) {
  const pod = {
    apiVersion: "v1", kind: "Pod",
    metadata: { name: "release-x7k2p-approval-pod", namespace: "approve-quorum",
      labels: { "tekton.dev/taskRun": "release-x7k2p-approval", "tekton.dev/pipelineRun": "release-x7k2p" },
      ownerReferences: [{ apiVersion: "tekton.dev/v1", kind: "TaskRun", name: "release-x7k2p-approval", uid: "9d1c", controller: true }] },
    spec: {
      serviceAccountName: PINNED, serviceAccount: PINNED, restartPolicy: "Never",
      containers: [{ name: "step-approve", image: GATE_IMAGE, command: ["/tekton/bin/entrypoint"],
        volumeMounts: [{ name: "ws-abcde", mountPath: "/workspace/data" }] }],
      volumes: [{ name: "ws-abcde", configMap: { name: "release-approvals" } }],
    },
  };
  fn(pod.spec, pod);
  return pod;
}
function podRequest(op, user, oldObj, newObj, subResource) {
  const r = { uid: "51aa", kind: { group: "", version: "v1", kind: "Pod" }, resource: { group: "", version: "v1", resource: "pods" },
    name: (newObj || oldObj).metadata.name, namespace: "approve-quorum", operation: op,
    userInfo: { username: user, groups: ["system:authenticated"] }, object: newObj, oldObject: oldObj };
  if (subResource) r.subResource = subResource;
  return r;
}
// A run's status subresource written (UPDATE of RUN/status).
function statusRequest(user, oldObj, newObj) {
  const r = runRequest("UPDATE", user, oldObj, newObj);
  r.subResource = "status";
  return r;
}
const withStatus = (run, status) => { const o = clone(run); o.status = status; return o; };
const running = { conditions: [{ type: "Succeeded", status: "Unknown", reason: "Running" }], podName: "release-x7k2p-approval-pod" };
const forgedDone = { conditions: [{ type: "Succeeded", status: "True", reason: "Succeeded" }], podName: "release-x7k2p-approval-pod",
  results: [{ name: "decision", type: "string", value: "approved" }, { name: "approver", type: "string", value: "alice@example.com,bob@example.com" }] };
// A pod of the requester's made to pass for the gate's: another
// ServiceAccount, no gate ConfigMap (not gated), Tekton's name, label and owner.
const ungatedPod = (fn = () => {}) => gatePod((s, p) => {
  s.serviceAccountName = s.serviceAccount = "default"; s.volumes = []; s.containers[0].volumeMounts = [];
  s.containers[0].image = "registry.example.com/dave/say-approved:1";
  fn(s, p);
});
const plainPod = (fn = () => {}) => {
  const p = { apiVersion: "v1", kind: "Pod", metadata: { name: "web-5d4f-x2b7c", namespace: "approve-quorum", labels: { app: "web" } },
    spec: { serviceAccountName: "default", serviceAccount: "default", containers: [{ name: "web", image: "registry.example.com/web:1" }] } };
  fn(p);
  return p;
};
const terminatedApproved = { phase: "Succeeded", containerStatuses: [{ name: "step-approve", state: { terminated: { exitCode: 0,
  message: '[{"key":"decision","value":"approved","type":1}]' } } }] };
const connectKind = { exec: "PodExecOptions", attach: "PodAttachOptions", portforward: "PodPortForwardOptions", proxy: "PodProxyOptions" };
function connectRequest(user, pod, sub) {
  return { uid: "61bb", kind: { group: "", version: "v1", kind: connectKind[sub] },
    resource: { group: "", version: "v1", resource: "pods" }, subResource: sub, name: pod, namespace: "approve-quorum",
    operation: "CONNECT", userInfo: { username: user, groups: ["system:authenticated"] },
    object: sub === "proxy" ? { apiVersion: "v1", kind: connectKind[sub], path: "/" }
      : sub === "portforward" ? { apiVersion: "v1", kind: connectKind[sub], ports: [8080] }
      : { apiVersion: "v1", kind: connectKind[sub], stdin: true, tty: true, container: "step-approve", command: ["sh"] },
    oldObject: null };
}
const kubelet = (r) => { r.userInfo.groups = ["system:nodes", "system:authenticated"]; return r; };
const around = [
  ["attack: an approver swaps the gate pod's step image (the nudge's patch on pods): the kubelet restarts the step with it, as the pinned ServiceAccount",
    podRequest("UPDATE", ALICE, gatePod(), gatePod((s) => { s.containers[0].image = "registry.example.com/alice/approve-all:1"; })),
    false, "only Tekton"],
  ["attack: an approver adds an ephemeral container to the gate pod (pods/ephemeralcontainers), with its token and ConfigMap",
    podRequest("UPDATE", ALICE, gatePod(), gatePod((s) => {
      s.ephemeralContainers = [{ name: "debug", image: "registry.example.com/alice/shell:1", volumeMounts: [{ name: "ws-abcde", mountPath: "/w" }] }];
    }), "ephemeralcontainers"), false, "only Tekton"],
  ["attack: a user creates a pod as the pinned ServiceAccount",
    podRequest("CREATE", DAVE, null, gatePod((s) => { s.containers[0].image = "registry.example.com/dave/release-now:1"; s.volumes = []; s.containers[0].volumeMounts = []; })),
    false, "only Tekton"],
  ["attack: a user creates a pod as the pinned ServiceAccount by the deprecated spec.serviceAccount",
    podRequest("CREATE", DAVE, null, gatePod((s) => { delete s.serviceAccountName; s.volumes = []; s.containers[0].volumeMounts = []; })),
    false, "only Tekton"],
  ["attack: a user creates a pod mounting the gate ConfigMap through a projected volume",
    podRequest("CREATE", DAVE, null, gatePod((s) => { s.serviceAccountName = "default"; s.serviceAccount = "default";
      s.volumes = [{ name: "ws-abcde", projected: { sources: [{ configMap: { name: "release-approvals" } }] } }]; })),
    false, "only Tekton"],
  ["attack: the Job controller creates a pod as the pinned ServiceAccount (a Job of the requester's)",
    podRequest("CREATE", "system:serviceaccount:kube-system:job-controller", null, gatePod((s) => { s.volumes = []; s.containers[0].volumeMounts = []; })),
    false, "only Tekton"],
  ["attack: a user marks the gate's TaskRun Succeeded with decision approved (taskruns/status)",
    statusRequest(DAVE, withStatus(taskRun(), running), withStatus(taskRun(), forgedDone)), false, "only Tekton"],
  ["attack: a user points the gated PipelineRun's childReferences at a TaskRun of their own (pipelineruns/status)",
    statusRequest(DAVE, withStatus(gatedRun(), { conditions: running.conditions }), withStatus(gatedRun(), { conditions: running.conditions,
      childReferences: [{ apiVersion: "tekton.dev/v1", kind: "TaskRun", name: "daves-approved-taskrun", pipelineTaskName: "approval" }] })),
    false, "only Tekton"],
  // what Tekton and the nudge still do
  ["runs: Tekton creates the gate's pod", podRequest("CREATE", CONTROLLER, null, gatePod()), true],
  ["runs: the nudge: an approver annotates the gate's pod",
    podRequest("UPDATE", ALICE, gatePod(), gatePod((s, p) => { p.metadata.annotations = { "approve-step/nudge": "1765120000" }; })), true],
  ["runs: Tekton stops the gate's pod's sidecar (swaps its image for nop)",
    podRequest("UPDATE", CONTROLLER, gatePod((s) => { s.containers.push({ name: "sidecar-x", image: "registry.example.com/side:1" }); }),
      gatePod((s) => { s.containers.push({ name: "sidecar-x", image: "registry.example.com/nop:1" }); })), true],
  ["runs: Tekton writes the gate's TaskRun's status",
    statusRequest(CONTROLLER, withStatus(taskRun(), running), withStatus(taskRun(), forgedDone)), true],
  ["runs: Tekton writes the gated PipelineRun's status",
    statusRequest(CONTROLLER, gatedRun(), withStatus(gatedRun(), { conditions: running.conditions })), true],
  ["runs: a pod of another ServiceAccount, without the gate ConfigMap, is not concerned",
    podRequest("UPDATE", ALICE, gatePod((s) => { s.serviceAccountName = s.serviceAccount = "default"; s.volumes = []; s.containers[0].volumeMounts = []; }),
      gatePod((s) => { s.serviceAccountName = s.serviceAccount = "default"; s.volumes = []; s.containers[0].volumeMounts = []; s.containers[0].image = "x"; })), true],
  // Tekton takes a pod by status.podName (whoever made it), or by the label
  // tekton.dev/taskRun and a controller ownerReference: an ungated pod of the
  // requester's, as another ServiceAccount and without the ConfigMap, whose
  // step's termination message says decision approved.
  ["attack: the gate's pod deleted, a user creates an ungated pod of its name (Tekton gets TaskRun.status.podName by name)",
    podRequest("CREATE", DAVE, null, ungatedPod()), false, "only Tekton"],
  ["attack: a user creates an ungated pod of the gate's retry name",
    podRequest("CREATE", DAVE, null, ungatedPod((s, p) => { p.metadata.name = "release-x7k2p-approval-pod-retry1"; })), false, "only Tekton"],
  ["attack: a user creates an ungated pod labelled tekton.dev/taskRun and controlled by the gate's TaskRun (adopted while status.podName is empty)",
    podRequest("CREATE", DAVE, null, ungatedPod((s, p) => { p.metadata.name = "daves-pod-x"; })), false, "only Tekton"],
  ["attack: a user creates an ungated pod owned by the gate's TaskRun only",
    podRequest("CREATE", DAVE, null, ungatedPod((s, p) => { p.metadata.name = "daves-pod-x"; p.metadata.labels = {}; })), false, "only Tekton"],
  ["attack: a user labels and owns a pod of their own as the gate's TaskRun's (UPDATE)",
    podRequest("UPDATE", DAVE, ungatedPod((s, p) => { p.metadata.name = "daves-pod-x"; p.metadata.labels = {}; delete p.metadata.ownerReferences; }),
      ungatedPod((s, p) => { p.metadata.name = "daves-pod-x"; })), false, "only Tekton"],
  ["attack: a user writes the gate pod's status: the step terminated with decision approved (pods/status)",
    podRequest("UPDATE", DAVE, gatePod(), withStatus(gatePod(), terminatedApproved), "status"), false, "only the kubelet"],
  ["attack: a user writes the status of a Tekton pod of another ServiceAccount (pods/status)",
    podRequest("UPDATE", DAVE, ungatedPod(), withStatus(ungatedPod(), terminatedApproved), "status"), false, "only the kubelet"],
  ["attack: a user named system:node:x, not in system:nodes, writes the gate pod's status",
    podRequest("UPDATE", "system:node:x", gatePod(), withStatus(gatePod(), terminatedApproved), "status"), false, "only the kubelet"],
  ["attack: an approver execs into the gate's pod (CONNECT pods/exec), with its token and volumes",
    connectRequest(ALICE, "release-x7k2p-approval-pod", "exec"), false, "no exec"],
  ["attack: an approver attaches to a retried gate pod (CONNECT pods/attach)",
    connectRequest(ALICE, "release-x7k2p-approval-pod-retry2", "attach"), false, "no exec"],
  ["attack: an approver port-forwards to the gate's pod (CONNECT pods/portforward)",
    connectRequest(ALICE, "release-x7k2p-approval-pod", "portforward"), false, "no exec"],
  ["attack: an approver proxies HTTP into the gate's pod (CONNECT pods/proxy)",
    connectRequest(ALICE, "release-x7k2p-approval-pod", "proxy"), false, "no exec"],
  ["attack: an approver proxies to a port of the gate's pod (CONNECT pods/proxy, name pod:port)",
    connectRequest(ALICE, "release-x7k2p-approval-pod:8080", "proxy"), false, "no exec"],
  ["attack: an approver proxies over HTTPS to a retried gate pod (name https:pod:port)",
    connectRequest(ALICE, "https:release-x7k2p-approval-pod-retry1:8443", "proxy"), false, "no exec"],
  ["attack: an approver proxies to the gate's pod with an empty port (name pod:)",
    connectRequest(ALICE, "release-x7k2p-approval-pod:", "proxy"), false, "no exec"],
  ["runs: a user proxies to a port of a pod not named as Tekton's", connectRequest(DAVE, "https:web-7f9c:8443", "proxy"), true],
  ["attack: the garbage collector orphans the gate's pod (ownerReferences dropped)",
    podRequest("UPDATE", "system:serviceaccount:kube-system:generic-garbage-collector", gatePod(),
      gatePod((s, p) => { delete p.metadata.ownerReferences; })), false, "only Tekton"],
  // what the cluster and the users still do
  ["attack: a ServiceAccount named as Tekton's in the gate namespace creates the gate's pod",
    podRequest("CREATE", "system:serviceaccount:approve-quorum:tekton-pipelines-controller", null, gatePod()), false, "only Tekton"],
  ["attack: a ServiceAccount named as Tekton's in the gate namespace creates a TaskRun",
    runRequest("CREATE", "system:serviceaccount:approve-quorum:tekton-pipelines-controller", null, taskRun()), false, "only Tekton"],
  ["runs: the kubelet writes the gate pod's status", kubelet(podRequest("UPDATE", "system:node:n1", gatePod(),
    withStatus(gatePod(), terminatedApproved), "status")), true],
  ["runs: the scheduler writes the gate pod's status (PodScheduled)", podRequest("UPDATE", "system:kube-scheduler", gatePod(),
    withStatus(gatePod(), { conditions: [{ type: "PodScheduled", status: "True" }] }), "status"), true],
  ["runs: Tekton creates the gate's retry pod",
    podRequest("CREATE", CONTROLLER, null, gatePod((s, p) => { p.metadata.name = "release-x7k2p-approval-pod-retry1"; })), true],
  ["runs: the nudge labels the gate's pod", podRequest("UPDATE", ALICE, gatePod(),
    gatePod((s, p) => { p.metadata.labels["approve-step/nudged"] = "1"; })), true],
  ["runs: a user creates an ordinary pod (another ServiceAccount, no Tekton name or marks)",
    podRequest("CREATE", DAVE, null, plainPod()), true],
  ["runs: the ReplicaSet controller adopts an ordinary pod (ownerReferences of a ReplicaSet)",
    podRequest("UPDATE", "system:serviceaccount:kube-system:replicaset-controller", plainPod(), plainPod((p) => {
      p.metadata.ownerReferences = [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-5d4f", uid: "aa11", controller: true }]; })), true],
  ["runs: a user writes an ordinary pod's status", podRequest("UPDATE", DAVE, plainPod(), withStatus(plainPod(), { phase: "Running" }), "status"), true],
  ["runs: exec into an ordinary pod", connectRequest(ALICE, "web-5d4f-x2b7c", "exec"), true],
  ["attack: a user writes the status of a run of another form (one made before the policy was bound)",
    statusRequest(DAVE, bareRun("v1", () => {}), withStatus(bareRun("v1", () => {}), { conditions: running.conditions })), false, "carries only"],
];
checkRunsCases(around);

// ---------------------------------------------------------------------------
// A gated PipelineRun takes as its task's TaskRun whatever TaskRun bears the
// name Tekton gives it (<pipelinerun>-<task>, or a hash of the name past 63
// characters) or, listed by its labels, claims it through ownerReferences:
// Tekton checks neither who made it nor how. A finished TaskRun of that
// name, with a decision result, is an approval nobody gave.
const squatter = (fn = () => {}) => taskRun((s, tr) => {
  tr.metadata.labels = {}; delete s.taskRef; s.serviceAccountName = "default"; s.workspaces = []; s.params = [];
  s.taskSpec = { results: [{ name: "decision" }, { name: "approver" }, { name: "comment" }],
    steps: [{ name: "s", image: "registry.example.com/busybox:1", script: "printf approved > $(results.decision.path)" }] };
  fn(s, tr);
});
// kmeta.ChildName(parent, suffix) past 63 characters: parent[:31-len(suffix)] + md5(parent) + suffix.
const longName = "release-" + "a".repeat(52);
const hashedPrefix = longName.slice(0, 31 - "-approval".length) + createHash("md5").update(longName).digest("hex");
const squat = [
  ["attack: an ungated inline run named release, task x7k2p-approval: Tekton names its TaskRun release-x7k2p-approval, which the gated run release-x7k2p takes as its approval",
    runRequest("CREATE", DAVE, null, bareRun("v1", (s, pr) => { pr.metadata.name = "release"; s.pipelineSpec.tasks[0].name = "x7k2p-approval"; })),
    false, "carries only"],
  ["attack: an ungated run of another Pipeline in the gate namespace",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.pipelineRef.name = "lint"; s.workspaces = []; delete s.taskRunTemplate; })),
    false, "reference one of the Pipelines"],
  ["attack: a user creates an ungated TaskRun of the gated run's approval name, approved",
    runRequest("CREATE", DAVE, null, squatter()), false, "only Tekton"],
  ["attack: a user creates an ungated TaskRun labelled and owned as the gated run's approval",
    runRequest("CREATE", DAVE, null, squatter((s, tr) => { tr.metadata.name = "daves-approval";
      tr.metadata.labels = { "tekton.dev/pipelineRun": "release-x7k2p", "tekton.dev/pipelineTask": "approval" };
      tr.metadata.ownerReferences = [{ apiVersion: "tekton.dev/v1", kind: "PipelineRun", name: "release-x7k2p", uid: "77e1", controller: true }]; })),
    false, "only Tekton"],
  ["attack: a user relabels another run's approved TaskRun as this run's (UPDATE of labels and ownerReferences)",
    runRequest("UPDATE", DAVE, taskRun(), taskRun((s, tr) => {
      tr.metadata.labels["tekton.dev/pipelineRun"] = "release-evil1";
      tr.metadata.ownerReferences = [{ apiVersion: "tekton.dev/v1", kind: "PipelineRun", name: "release-evil1", uid: "88f2", controller: true }]; })),
    false, "labels and ownerReferences"],
  ["attack: a gated run whose name is past Tekton's hashing length: its approval TaskRun is named as a shorter gated run's, approved for other params",
    runRequest("CREATE", DAVE, null, gatedRun((s, pr) => { pr.metadata.name = longName; })), false, "at most 30 characters"],
  ["attack: a run name of 31 characters", runRequest("CREATE", DAVE, null, gatedRun((s, pr) => { pr.metadata.name = "release-" + "c".repeat(23); })),
    false, "at most 30 characters"],
  ["attack: a dotted run name (its TaskRun's key would split at the dot, where the vote policy gives the rest to another user)",
    runRequest("CREATE", DAVE, null, gatedRun((s, pr) => { pr.metadata.name = "rel.x7k2p"; })), false, "a dot"],
  ["attack: a v1 run with the v1beta1 spelling spec.serviceAccountName (kept by the CRD, ignored by Tekton's v1)",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.serviceAccountName = PINNED; })), false, "carries only"],
  ["attack: a v1beta1 run with v1's taskRunTemplate and a podTemplate in it",
    runRequest("CREATE", DAVE, null, v1beta1Run((s) => { s.taskRunTemplate = { serviceAccountName: PINNED, podTemplate: podAttacks.hostNetwork }; })),
    false, "carries only"],
  ["attack: an empty podTemplate in taskRunTemplate",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.taskRunTemplate.podTemplate = {}; })), false, "no podTemplate"],
  ["attack: the cluster resolver fetching a Pipeline of the gated name from a namespace of the requester's",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.pipelineRef = { resolver: "cluster", params: [{ name: "kind", value: "pipeline" },
      { name: "name", value: "release-with-quorum" }, { name: "namespace", value: "dave-sandbox" }] }; })), false, "no resolver"],
  ["attack: a PipelineRun field spelt in another case (Go's encoding/json matches names case-insensitively)",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.PipelineSpec = clone(evilSpec); })), false, "carries only"],
  ["attack: a second ServiceAccountName in taskRunTemplate, in another case",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.taskRunTemplate.ServiceAccountName = "other"; })), false, "as the ServiceAccount"],
  ["runs: the shorter run of that pair is admitted (names up to 30 characters are never hashed)",
    runRequest("CREATE", DAVE, null, gatedRun((s, pr) => { pr.metadata.name = "release-" + "b".repeat(22); })), true],
  ["attack: orphaning a deleted run's TaskRuns (the garbage collector drops their ownerReferences), to create a run of the same name that takes them",
    runRequest("UPDATE", "system:serviceaccount:kube-system:generic-garbage-collector", taskRun((s, tr) => {
      tr.metadata.ownerReferences = [{ apiVersion: "tekton.dev/v1", kind: "PipelineRun", name: "release-x7k2p", uid: "77e1", controller: true }]; }),
    taskRun()), false, "labels and ownerReferences"],
  ["runs: Tekton labels the TaskRuns it makes (UPDATE of labels by the controller)",
    runRequest("UPDATE", CONTROLLER, taskRun(), taskRun((s, tr) => { tr.metadata.labels["tekton.dev/task"] = "approve-step"; })), true],
  ["runs: a user annotates a gated run (UPDATE of annotations)",
    runRequest("UPDATE", DAVE, gatedRun(), gatedRun((s, pr) => { pr.metadata.annotations = { note: "x" }; })), true],
];
check("squat: the long name's approval TaskRun is the short one's (the attack's premise)", () => {
  if (hashedPrefix.length !== 54) return `prefix of ${hashedPrefix.length} characters`;
});
checkRunsCases(squat);

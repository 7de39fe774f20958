// The example's objects (examples/quorum) against the votes policy, and
// policy/approve-step-requester.yaml (run by test.mjs).

import { admit, loadBinding, loadPolicy } from "./vap.mjs";
import { EXAMPLE_BINDING, admissionRequest, binding, check, checkSubset, configMap, ex, gate, policy, root } from "./kit.mjs";
import { join } from "node:path";

// ---------------------------------------------------------------------------
// 5. The example's binding (namespace-scoped) gives the same decisions in its
// namespace and none elsewhere.
check("example binding: applies in approve-quorum only", () => {
  const exampleBinding = loadBinding(EXAMPLE_BINDING);
  if (exampleBinding.spec.policyName !== policy.metadata.name)
    return `binds ${exampleBinding.spec.policyName}, not ${policy.metadata.name}`;
  const forged = (ns) =>
    admissionRequest("UPDATE", "alice@example.com", configMap({ labels: gate }),
      configMap({ labels: gate, data: { "run1.bob_40example.com": "approved" } }), ns);
  const inside = admit(policy, exampleBinding, forged("approve-quorum"), { "kubernetes.io/metadata.name": "approve-quorum" });
  const outside = admit(policy, exampleBinding, forged("other"), { "kubernetes.io/metadata.name": "other" });
  const unlabelled = admit(policy, exampleBinding,
    admissionRequest("UPDATE", "alice@example.com", configMap({}), configMap({ data: { "run1.bob_40example.com": "x" } }), "approve-quorum"),
    { "kubernetes.io/metadata.name": "approve-quorum" });
  if (inside.allowed) return "forged vote allowed in approve-quorum";
  if (outside.matched) return "binding applies outside approve-quorum";
  if (unlabelled.matched) return "binding applies to an unlabelled ConfigMap";
});

check("a binding without selectors still applies only to labelled ConfigMaps (matchConditions)", () => {
  const bare = { kind: "ValidatingAdmissionPolicyBinding", spec: { policyName: policy.metadata.name, validationActions: ["Deny"] } };
  const forged = (labels) =>
    admissionRequest("UPDATE", "alice@example.com", configMap({ labels }),
      configMap({ labels, data: { "run1.bob_40example.com": "approved" } }));
  const labelled = admit(policy, bare, forged(gate));
  const unlabelled = admit(policy, bare, forged({ team: "x" }));
  if (labelled.allowed) return "forged vote allowed in a labelled ConfigMap";
  if (unlabelled.matched) return "policy applied to an unlabelled ConfigMap";
  const dropped = admit(policy, bare, admissionRequest("UPDATE", "alice@example.com",
    configMap({ labels: gate, data: { "run1.bob_40example.com": "refused" } }), configMap({ labels: {}, data: {} })));
  if (dropped.allowed) return "dropping the label and a vote allowed";
});

// ---------------------------------------------------------------------------
// 6. examples/quorum: its objects fit together, and a two-of-three vote on its
// ConfigMap goes through the policy as documented.
check("example: the ConfigMap is labelled, empty, and may be created", () => {
  const [cm] = ex("configmap.yaml");
  if (cm.kind !== "ConfigMap" || cm.metadata.labels?.["approve-step/gate"] !== "true") return "not a labelled ConfigMap";
  const r = admit(policy, binding, { ...admissionRequest("CREATE", "admin@example.com", null, cm, cm.metadata.namespace) });
  if (!r.matched || !r.allowed) return `matched=${r.matched} allowed=${r.allowed} ${r.message}`;
});
check("example: two of three approve, forgeries and rewrites are denied", () => {
  const [cm] = ex("configmap.yaml");
  const ns = cm.metadata.namespace;
  const nsLabels = { "kubernetes.io/metadata.name": ns };
  const exampleBinding = loadBinding(EXAMPLE_BINDING);
  let cur = JSON.parse(JSON.stringify(cm));
  const key = "release-x7k2p-approval";
  const steps = [
    ["dave@example.com", { [`${key}.dave_40example.com`]: "approved" }, true], // allowed; the step ignores the requester
    ["alice@example.com", { [`${key}.alice_40example.com`]: '{"decision":"approved","comment":"ok"}' }, true],
    ["alice@example.com", { [`${key}.bob_40example.com`]: "approved" }, false],
    ["alice@example.com", { [`${key}.alice_40example.com`]: "refused" }, false],
    ["carol@example.com", { [`${key}.alice_40example.com`]: null }, false],
    ["bob@example.com", { [`${key}.bob_40example.com`]: '{"decision":"approved","comment":""}' }, true],
  ];
  for (const [user, change, ok] of steps) {
    const next = JSON.parse(JSON.stringify(cur));
    next.data = { ...(next.data || {}) };
    for (const [k, v] of Object.entries(change)) {
      if (v === null) delete next.data[k];
      else next.data[k] = v;
    }
    const r = admit(policy, exampleBinding, admissionRequest("UPDATE", user, cur, next, ns), nsLabels);
    if (!r.matched) return `${user} ${JSON.stringify(change)}: policy not applied`;
    if (r.allowed !== ok) return `${user} ${JSON.stringify(change)}: allowed=${r.allowed}, want ${ok} (${r.message})`;
    if (r.allowed) cur = next;
  }
  const voters = Object.keys(cur.data).map((k) => k.slice(key.length + 1)).sort();
  if (voters.join(",") !== "alice_40example.com,bob_40example.com,dave_40example.com") return `votes ${voters}`;
});
check("example: RBAC, Pipeline and PipelineRun agree with each other", () => {
  const [cm] = ex("configmap.yaml");
  const [role, roleBinding] = ex("rbac.yaml");
  const [pipeline] = ex("pipeline.yaml");
  const [run] = ex("pipelinerun.yaml");
  const problems = [];
  const rule = (res) => role.rules.find((r) => r.resources.includes(res));
  const cmRule = rule("configmaps");
  if (!cmRule || JSON.stringify(cmRule.resourceNames) !== JSON.stringify([cm.metadata.name]))
    problems.push("configmaps not limited to the example ConfigMap by resourceNames");
  else if (!["get", "patch"].every((v) => cmRule.verbs.includes(v)) || cmRule.verbs.some((v) => !["get", "patch"].includes(v)))
    problems.push(`configmap verbs ${cmRule.verbs}`);
  if (!rule("taskruns") || !rule("taskruns").verbs.includes("get")) problems.push("no get on taskruns");
  if (!rule("pods") || !rule("pods").verbs.includes("patch")) problems.push("no patch on pods");
  const task = pipeline.spec.tasks.find((t) => t.taskRef && t.taskRef.name === "approve-step");
  const param = (n) => (task.params.find((p) => p.name === n) || {}).value;
  if (param("approvals") !== "2") problems.push(`approvals ${param("approvals")}`);
  const approvers = param("approvers").split(",");
  const subjects = roleBinding.subjects.map((s) => s.name);
  if (approvers.length !== 3 || approvers.join(",") !== subjects.join(","))
    problems.push(`approvers ${approvers} vs RoleBinding ${subjects}`);
  if (param("requester") !== "$(params.requester)") problems.push(`requester ${param("requester")}`);
  // The requester can start a run (create PipelineRuns), but not a TaskRun,
  // which the requester policy does not check.
  const requester = (run.spec.params.find((p) => p.name === "requester") || {}).value;
  const docs = ex("rbac.yaml");
  const rBindingDoc = docs.find((d) => d.kind === "RoleBinding" && d.subjects.some((s) => s.name === requester));
  const rRole = rBindingDoc && docs.find((d) => d.kind === "Role" && d.metadata.name === rBindingDoc.roleRef.name);
  const grants = (res, verb) => rRole && rRole.rules.some((r) => r.resources.includes(res) && r.verbs.includes(verb));
  if (!grants("pipelineruns", "create")) problems.push(`the requester ${requester} cannot create PipelineRuns`);
  if (grants("taskruns", "create")) problems.push(`the requester ${requester} may create TaskRuns`);
  if (grants("configmaps", "patch")) problems.push(`the requester ${requester} may patch ConfigMaps`);
  if (param("configmap") !== cm.metadata.name) problems.push(`configmap param ${param("configmap")}`);
  const ws = run.spec.workspaces.find((w) => w.configMap);
  if (!ws || ws.configMap.name !== cm.metadata.name) problems.push("PipelineRun binds another ConfigMap");
  if (run.metadata.namespace !== cm.metadata.namespace || role.metadata.namespace !== cm.metadata.namespace)
    problems.push("namespaces differ");
  const ns = ex("namespace.yaml")[0].metadata.name;
  const sel = loadBinding(EXAMPLE_BINDING).spec.matchResources.namespaceSelector.matchLabels["kubernetes.io/metadata.name"];
  if (ns !== cm.metadata.namespace || sel !== ns) problems.push(`namespace ${ns}, binding selects ${sel}`);
  if (problems.length) return problems.join("; ");
});

// ---------------------------------------------------------------------------
// 7. policy/approve-step-requester.yaml: a PipelineRun's requester param is
// the user who creates it.
const REQUESTER_POLICY = process.env.REQUESTER_POLICY_FILE || join(root, "policy", "approve-step-requester.yaml");
const REQUESTER_BINDING = join(root, "examples", "quorum", "requester-binding.yaml");
const rPolicy = loadPolicy(REQUESTER_POLICY);
const rBinding = loadBinding(REQUESTER_BINDING);
checkSubset("requester policy subset", rPolicy);
export function pipelineRun(params, extra = {}) {
  const pr = {
    apiVersion: "tekton.dev/v1",
    kind: "PipelineRun",
    metadata: { name: "release-x7k2p", generateName: "release-", namespace: "approve-quorum", ...extra.metadata },
    spec: {
      pipelineRef: { name: "release-with-quorum" },
      timeouts: { pipeline: "48h" },
      workspaces: [{ name: "approvals", configMap: { name: "release-approvals" } }],
    },
  };
  if (params) pr.spec.params = params;
  if (extra.status) pr.status = extra.status;
  return pr;
}
export function prRequest(op, user, oldObj, newObj, ns = "approve-quorum") {
  return {
    uid: "0d7c2b2e-3b8e-4a53-9f61-4a7d1f0e9c21",
    kind: { group: "tekton.dev", version: "v1", kind: "PipelineRun" },
    resource: { group: "tekton.dev", version: "v1", resource: "pipelineruns" },
    name: newObj ? newObj.metadata.name : oldObj.metadata.name,
    namespace: ns,
    operation: op,
    userInfo: { username: user, groups: ["system:authenticated"] },
    object: newObj,
    oldObject: oldObj,
  };
}
const req = (v) => [{ name: "requester", value: v }];
const started = { conditions: [{ type: "Succeeded", status: "Unknown", reason: "Running" }] };
for (const [name, request, want, msg] of [
  ["requester: dave starts a run naming himself", prRequest("CREATE", "dave@example.com", null, pipelineRun(req("dave@example.com"))), true],
  ["requester: dave cannot name alice as the requester",
    prRequest("CREATE", "dave@example.com", null, pipelineRun(req("alice@example.com"))), false,
    "must be the user who creates it: set it to dave@example.com"],
  ["requester: a service account names itself",
    prRequest("CREATE", "system:serviceaccount:ci:trigger-bot", null, pipelineRun(req("system:serviceaccount:ci:trigger-bot"))), true],
  ["requester: two requester params are denied",
    prRequest("CREATE", "dave@example.com", null, pipelineRun([...req("dave@example.com"), ...req("eve@example.com")])), false,
    "must be the user who creates it"],
  ["requester: an array value is denied",
    prRequest("CREATE", "dave@example.com", null, pipelineRun([{ name: "requester", value: ["dave@example.com"] }])), false,
    "must be the user who creates it"],
  ["requester: an empty requester is denied",
    prRequest("CREATE", "dave@example.com", null, pipelineRun(req(""))), false, "set it to dave@example.com"],
  ["requester: a run without the param is not checked",
    prRequest("CREATE", "dave@example.com", null, pipelineRun([{ name: "x", value: "y" }])), true],
  ["requester: cancelling keeps the requester (allowed, by anyone)",
    prRequest("UPDATE", "alice@example.com", pipelineRun(req("dave@example.com"), { status: started }),
      { ...pipelineRun(req("dave@example.com"), { status: started }), spec: { ...pipelineRun(req("dave@example.com")).spec, status: "Cancelled" } }), true],
  ["requester: changing it afterwards is denied",
    prRequest("UPDATE", "dave@example.com", pipelineRun(req("dave@example.com")), pipelineRun(req("alice@example.com"))), false,
    "cannot be changed"],
  ["requester: removing it afterwards is denied",
    prRequest("UPDATE", "dave@example.com", pipelineRun(req("dave@example.com")), pipelineRun([])), false, "cannot be changed"],
]) {
  check(`case: ${name}`, () => {
    const r = admit(rPolicy, rBinding, request, { "kubernetes.io/metadata.name": "approve-quorum" });
    if (r.errors.length) return `errors: ${r.errors.join("; ")}`;
    if (r.allowed !== want) return `allowed=${r.allowed} (${r.message}), want ${want}`;
    if (msg && !r.message.includes(msg)) return `message ${JSON.stringify(r.message)} lacks ${JSON.stringify(msg)}`;
  });
}
check("requester: the binding applies in approve-quorum only", () => {
  const r = admit(rPolicy, rBinding, prRequest("CREATE", "dave@example.com", null, pipelineRun(req("alice@example.com")), "other"),
    { "kubernetes.io/metadata.name": "other" });
  if (r.matched) return "applied in namespace other";
});
check("example: the Pipeline's requester param has no default", () => {
  const [pipeline] = ex("pipeline.yaml");
  const p = pipeline.spec.params.find((x) => x.name === "requester");
  if (!p) return "no requester param";
  if ("default" in p) return "has a default: a PipelineRun could leave the requester out";
});

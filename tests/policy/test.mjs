// Tests of policy/approve-step-votes.yaml: the exact CEL expressions read from
// the policy file, evaluated by an independent CEL implementation
// (@bufbuild/cel) against admission requests. Prints one PASS/FAIL line per
// case and a closing "N passed, M failed"; exits 1 on any failure.

import { fileURLToPath } from "node:url";
import { dirname, join, relative } from "node:path";
import {
  loadPolicy,
  loadBinding,
  loadYamlDocs,
  admit,
  encodeName,
  policyExpressions,
  expressionSymbols,
} from "./vap.mjs";
import { Tally } from "../lib/tally.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const POLICY = process.env.POLICY_FILE || join(root, "policy", "approve-step-votes.yaml");
const BINDING = process.env.BINDING_FILE || join(root, "policy", "approve-step-votes-binding.yaml");
const EXAMPLE_BINDING = join(root, "examples", "quorum", "binding.yaml");

const tally = new Tally();
function report(ok, name, detail) {
  if (ok) tally.ok(name);
  else tally.fail(name, detail);
}
function check(name, fn) {
  let detail;
  try {
    detail = fn();
  } catch (e) {
    detail = `exception: ${e.stack || e}`;
  }
  report(detail === undefined || detail === null || detail === true, name, detail === true ? "" : detail);
}

const policy = loadPolicy(POLICY);
const binding = loadBinding(BINDING);
console.log(`# policy ${relative(root, POLICY)}, binding ${relative(root, BINDING)}`);

// ---------------------------------------------------------------------------
// 1. The expressions stay inside what Kubernetes (cel-go with its standard
// library and the strings extension) and @bufbuild/cel both implement.
// Kubernetes 1.30 also offers lists, sets, regex, url, quantity, ip/cidr,
// authorizer and optional types; @bufbuild/cel does not, so the policy must
// not use them. Both follow the CEL spec for the standard functions; indexOf,
// substring and replace come from the strings extension in both.
const ALLOWED_FUNCS = new Set([
  // operators and macros' internals (standard)
  "_&&_", "_||_", "!_", "_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_", "_+_", "_-_",
  "_?_:_", "_[_]", "@in", "@not_strictly_false",
  // standard functions
  "size", "matches", "startsWith", "endsWith", "contains",
  // standard macros
  "has", "all", "exists", "exists_one", "filter", "map",
  // strings extension (cel-go ext.Strings, enabled in Kubernetes; @bufbuild/cel/ext strings)
  "indexOf", "substring", "replace",
]);
const ALLOWED_IDENTS = new Set(["object", "oldObject", "request", "variables"]);

for (const { where, expr } of policyExpressions(policy)) {
  check(`subset: ${where}`, () => {
    const { funcs, idents } = expressionSymbols(expr);
    const badF = [...funcs].filter((f) => !ALLOWED_FUNCS.has(f));
    const badI = [...idents].filter((i) => !ALLOWED_IDENTS.has(i));
    if (badF.length || badI.length) return `uses ${[...badF, ...badI].join(", ")}`;
  });
}

// ---------------------------------------------------------------------------
// 2. Admission requests from cases.yaml.
function configMap(spec) {
  if (spec === null || spec === undefined) return null;
  const cm = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: "approve-cm",
      namespace: "ci",
      uid: "4b7e6c1e-0d6a-4f0e-9a55-2f1f7d1c9a10",
      resourceVersion: "4242",
      creationTimestamp: "2024-10-01T09:00:00Z",
    },
  };
  if (spec.labels && Object.keys(spec.labels).length) cm.metadata.labels = { ...spec.labels };
  if (spec.annotations) cm.metadata.annotations = { ...spec.annotations };
  if (spec.data) cm.data = { ...spec.data };
  if (spec.binaryData) cm.binaryData = { ...spec.binaryData };
  if (spec.immutable !== undefined) cm.immutable = spec.immutable;
  return cm;
}

function admissionRequest(op, user, oldCm, newCm, namespace = "ci") {
  return {
    uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
    kind: { group: "", version: "v1", kind: "ConfigMap" },
    resource: { group: "", version: "v1", resource: "configmaps" },
    requestKind: { group: "", version: "v1", kind: "ConfigMap" },
    requestResource: { group: "", version: "v1", resource: "configmaps" },
    name: "approve-cm",
    namespace,
    operation: op,
    userInfo: {
      username: user,
      uid: "1a2b3c",
      groups: user.startsWith("system:serviceaccount:")
        ? ["system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"]
        : ["system:authenticated"],
    },
    object: newCm,
    oldObject: oldCm,
    dryRun: false,
    options:
      op === "CREATE"
        ? { apiVersion: "meta.k8s.io/v1", kind: "CreateOptions" }
        : op === "UPDATE"
          ? { apiVersion: "meta.k8s.io/v1", kind: "UpdateOptions" }
          : { apiVersion: "meta.k8s.io/v1", kind: "DeleteOptions" },
  };
}

const caseDoc = loadYamlDocs(join(here, "cases.yaml"))[0];
for (const c of caseDoc.cases) {
  check(`case: ${c.name}`, () => {
    const req = admissionRequest(c.op, c.user, configMap(c.old), configMap(c.new));
    const r = admit(policy, binding, req);
    const problems = [];
    if (r.errors.length) problems.push(`evaluation errors: ${r.errors.join("; ")}`);
    if (r.variableErrors && Object.keys(r.variableErrors).length)
      problems.push(`variable errors: ${JSON.stringify(r.variableErrors)}`);
    if (c.matched !== undefined && r.matched !== c.matched) problems.push(`matched=${r.matched}, want ${c.matched}`);
    if (c.expect === "allow" && !r.allowed) problems.push(`denied: ${r.message}`);
    if (c.expect === "deny" && r.allowed) problems.push(`allowed (matched=${r.matched})`);
    if (c.expect === "deny" && c.message && !r.message.includes(c.message))
      problems.push(`message ${JSON.stringify(r.message)} lacks ${JSON.stringify(c.message)}`);
    if (r.warnings.length && !c.warnings) problems.push(`warnings: ${r.warnings.join("; ")}`);
    if (problems.length) return problems.join("; ");
  });
}

// ---------------------------------------------------------------------------
// 3. The encoding computed in CEL equals the contract's encoding, for every
// printable ASCII character and for real-world user names.
const gate = { "approve-step/gate": "true" };
function meOf(user) {
  const req = admissionRequest(
    "UPDATE",
    user,
    configMap({ labels: gate }),
    configMap({ labels: gate, data: { "run1.x": "approved" } }),
  );
  const r = admit(policy, binding, req);
  if (!r.variables || typeof r.variables.me !== "string") throw new Error(`no variables.me: ${r.message}`);
  return r.variables.me;
}
check("encoding: each of the 95 printable ASCII characters", () => {
  const bad = [];
  for (let b = 0x20; b <= 0x7e; b++) {
    const user = "a" + String.fromCharCode(b) + "z";
    const got = meOf(user);
    if (got !== encodeName(user)) bad.push(`${JSON.stringify(user)} -> ${got}, want ${encodeName(user)}`);
  }
  if (bad.length) return bad.join("; ");
});
check("encoding: all printable ASCII characters in one name", () => {
  let user = "";
  for (let b = 0x7e; b >= 0x20; b--) user += String.fromCharCode(b);
  const got = meOf(user);
  if (got !== encodeName(user)) return `${got} != ${encodeName(user)}`;
});
for (const [user, want] of [
  ["alice@example.com", "alice_40example.com"],
  ["system:serviceaccount:ns:sa", "system_3aserviceaccount_3ans_3asa"],
  ["system:serviceaccount:tekton-pipelines:tekton-pipelines-controller",
    "system_3aserviceaccount_3atekton-pipelines_3atekton-pipelines-controller"],
  ["kube:admin", "kube_3aadmin"],
  ["oidc:jane.doe@corp.example", "oidc_3ajane.doe_40corp.example"],
  ["https://accounts.example.com#10769150350006150715113082367", "https_3a_2f_2faccounts.example.com_2310769150350006150715113082367"],
  ["CORP\\Jane Doe", "CORP_5cJane_20Doe"],
  ["a_5fb", "a_5f5fb"],
]) {
  check(`encoding: ${user}`, () => {
    const got = meOf(user);
    if (encodeName(user) !== want) return `test table wrong: ${encodeName(user)}`;
    if (got !== want) return `${got}, want ${want}`;
  });
}

// ---------------------------------------------------------------------------
// 4. Random requests: the policy must agree with a plain JavaScript statement
// of the rule, and every request it allows must leave every other user's vote
// (as the step reads votes for a run key without a dot) and the caller's own
// decided votes as they were.
const APPROVE = ["approved", "approve", "success"];
const REFUSE = ["refused", "refuse", "rejected", "reject", "denied"];
const PENDING_RE = /^[ \t\r\n]*(init|pending|notifying|notified|waiting)?[ \t\r\n]*$/i;

function refAllowed(op, user, oldCm, newCm) {
  const gated = (cm) => !!cm && !!cm.metadata.labels && cm.metadata.labels["approve-step/gate"] === "true";
  if (op === "DELETE") return true;
  if (!gated(oldCm) && !gated(newCm)) return true;
  if (gated(oldCm) && !gated(newCm)) return false;
  if (newCm.immutable === true) return false;
  if (newCm.binaryData && Object.keys(newCm.binaryData).length) return false;
  const oldData = gated(oldCm) ? oldCm.data || {} : {};
  const newData = newCm.data || {};
  const keys = new Set([...Object.keys(oldData), ...Object.keys(newData)]);
  const changed = [...keys].filter((k) => oldData[k] !== newData[k]);
  if (changed.some((k) => k.indexOf(".") < 1)) return false;
  if (changed.length && !/^[\x20-\x7e]+$/.test(user)) return false;
  const me = encodeName(user);
  if (changed.some((k) => k.slice(k.indexOf(".") + 1) !== me)) return false;
  if (changed.some((k) => k in oldData && !PENDING_RE.test(oldData[k]))) return false;
  return true;
}

// How the step reads a vote value (contract): word or JSON {"decision": ...}.
function stepDecision(v) {
  if (v === undefined) return "absent";
  const w = v.trim().toLowerCase();
  if (APPROVE.includes(w)) return "approved";
  if (REFUSE.includes(w)) return "refused";
  try {
    const j = JSON.parse(v);
    if (j && typeof j.decision === "string") {
      const d = j.decision.trim().toLowerCase();
      if (APPROVE.includes(d)) return "approved";
      if (REFUSE.includes(d)) return "refused";
    }
  } catch {
    // not JSON: pending
  }
  return "pending";
}

// The votes the step counts for run key `run` (no dot): KEY.NAME -> NAME.
function stepVotes(data, run) {
  const out = new Map();
  for (const [k, v] of Object.entries(data || {})) {
    if (k.startsWith(run + ".") && k.length > run.length + 1) out.set(k.slice(run.length + 1), v);
  }
  return out;
}

function soundnessViolation(user, oldCm, newCm) {
  const oldData = (oldCm && oldCm.data) || {};
  const newData = (newCm && newCm.data) || {};
  const me = encodeName(user);
  const all = new Set([...Object.keys(oldData), ...Object.keys(newData)]);
  for (const k of all) {
    if (!k.includes(".") && oldData[k] !== newData[k]) return `plain key ${k} changed`;
  }
  // every run key without a dot that any key could belong to
  const runs = new Set();
  for (const k of all) {
    const i = k.indexOf(".");
    if (i > 0) runs.add(k.slice(0, i));
  }
  for (const run of runs) {
    const before = stepVotes(oldData, run);
    const after = stepVotes(newData, run);
    for (const voter of new Set([...before.keys(), ...after.keys()])) {
      if (before.get(voter) === after.get(voter)) continue;
      if (voter !== me) return `vote of ${voter} on ${run} changed by ${user}`;
      const d = stepDecision(before.get(voter));
      if (d === "approved" || d === "refused") return `decided vote of ${voter} on ${run} changed`;
    }
  }
  if (newCm && newCm.binaryData && Object.keys(newCm.binaryData).length) return "binaryData added";
  return null;
}

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}
const USERS = [
  "alice@example.com", "bob@example.com", "alice", "com", "example.com", "bob.example.com",
  "bob.smith", "smith", "x.alice_40example.com", "under_score", "a_5fb",
  "system:serviceaccount:ci:approver-bot", "josé@example.com",
];
const RUNS = ["run1", "run2", "run1.bob", "run1.x", "alice_40example", "r-2"];
const VALUES = ["approved", "refused", "pending", "", " Waiting\n", "maybe", '{"decision":"approved"}',
  '{"decision":"pending"}', "REJECT"];

function randomCase(rand) {
  const pick = (a) => a[Math.floor(rand() * a.length)];
  const user = pick(USERS);
  const keyPool = [];
  for (const r of RUNS) for (const u of USERS) keyPool.push(`${r}.${encodeName(u)}`);
  keyPool.push("run1", "status", ".com", "run1.", "run1.x.alice_40example.com");
  const oldData = {};
  const n = Math.floor(rand() * 5);
  for (let i = 0; i < n; i++) oldData[pick(keyPool)] = pick(VALUES);
  const newData = { ...oldData };
  const steps = 1 + Math.floor(rand() * 2);
  for (let i = 0; i < steps; i++) {
    const what = rand();
    const existing = Object.keys(newData);
    if (what < 0.4) newData[`${pick(RUNS)}.${encodeName(user)}`] = pick(VALUES); // own vote
    else if (what < 0.6) newData[pick(keyPool)] = pick(VALUES); // any key
    else if (what < 0.8 && existing.length) newData[pick(existing)] = pick(VALUES); // change
    else if (existing.length) delete newData[pick(existing)]; // remove
  }
  const labelOld = rand() < 0.9 ? gate : {};
  const labelNew = rand() < 0.93 ? gate : rand() < 0.5 ? {} : { "approve-step/gate": "no" };
  const op = rand() < 0.1 ? "CREATE" : "UPDATE";
  const oldCm = op === "CREATE" ? null : configMap({ labels: labelOld, data: oldData });
  const newCm = configMap({ labels: labelNew, data: newData });
  return { op, user, oldCm, newCm };
}

check("random: 3000 requests agree with the rule and never touch another user's vote", () => {
  const rand = rng(20241001);
  let allowedCount = 0;
  let deniedCount = 0;
  for (let i = 0; i < 3000; i++) {
    const { op, user, oldCm, newCm } = randomCase(rand);
    const r = admit(policy, binding, admissionRequest(op, user, oldCm, newCm));
    const where = () => `#${i} ${op} by ${user}: ${JSON.stringify(oldCm && oldCm.data)} -> ${JSON.stringify(newCm.data)}`;
    if (r.errors.length) return `${where()}: errors ${r.errors.join("; ")}`;
    // Before the label, nothing protected the ConfigMap: only requests on a
    // ConfigMap that was labelled already (or is being created) must keep
    // other users' votes.
    const labelledBefore = !!oldCm && !!oldCm.metadata.labels && oldCm.metadata.labels["approve-step/gate"] === "true";
    if (r.allowed && r.matched && (labelledBefore || !oldCm)) {
      const v = soundnessViolation(user, oldCm, newCm);
      if (v) return `${where()}: allowed but ${v}`;
    }
    const want = refAllowed(op, user, oldCm, newCm);
    if (r.allowed !== want) return `${where()}: policy ${r.allowed ? "allowed" : "denied"} (${r.message}), rule says ${want}`;
    if (r.allowed) allowedCount++;
    else deniedCount++;
  }
  // the generator must exercise both outcomes
  if (allowedCount < 300 || deniedCount < 300) return `too one-sided: ${allowedCount} allowed, ${deniedCount} denied`;
});

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
const ex = (f) => loadYamlDocs(join(root, "examples", "quorum", f)).filter((d) => d);
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
for (const { where, expr } of policyExpressions(rPolicy)) {
  check(`requester policy subset: ${where}`, () => {
    const { funcs, idents } = expressionSymbols(expr);
    const bad = [...[...funcs].filter((f) => !ALLOWED_FUNCS.has(f)), ...[...idents].filter((i) => !ALLOWED_IDENTS.has(i))];
    if (bad.length) return `uses ${bad.join(", ")}`;
  });
}
function pipelineRun(params, extra = {}) {
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
function prRequest(op, user, oldObj, newObj, ns = "approve-quorum") {
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

// ---------------------------------------------------------------------------
// 8. policy/approve-step-runs.yaml: who must approve and how many is not the
// requester's choice. Each attack a requester can make with a PipelineRun or
// a TaskRun, against the example's settings (examples/quorum/gate-params.yaml).
const RUNS_POLICY = process.env.RUNS_POLICY_FILE || join(root, "policy", "approve-step-runs.yaml");
const runsPolicy = loadPolicy(RUNS_POLICY);
const runsBinding = loadBinding(join(root, "examples", "quorum", "runs-binding.yaml"));
const [gateParams] = ex("gate-params.yaml");
const RUNS_IDENTS = new Set([...ALLOWED_IDENTS, "params"]);
for (const { where, expr } of policyExpressions(runsPolicy)) {
  check(`runs policy subset: ${where}`, () => {
    const { funcs, idents } = expressionSymbols(expr);
    const bad = [...[...funcs].filter((f) => !ALLOWED_FUNCS.has(f)), ...[...idents].filter((i) => !RUNS_IDENTS.has(i))];
    if (bad.length) return `uses ${bad.join(", ")}`;
  });
}
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
  return r;
}
const DAVE = "dave@example.com";
const otherVotes = { name: "approvals", configMap: { name: "release-approvals",
  items: [{ key: "release-old-approval.alice_40example.com", path: "release-x7k2p-approval.alice_40example.com" },
    { key: "release-old-approval.bob_40example.com", path: "release-x7k2p-approval.bob_40example.com" }] } };
for (const [name, request, want, msg] of [
  ["runs: the example's run, as the requester starts it", runRequest("CREATE", DAVE, null, gatedRun()), true],
  ["runs: Tekton creates the gate's TaskRun", runRequest("CREATE", CONTROLLER, null, taskRun()), true],
  ["runs: cancelling a gated run (UPDATE, same spec)", runRequest("UPDATE", "alice@example.com", gatedRun(),
    gatedRun((s) => { s.status = "Cancelled"; })), true],
  ["runs: a run of another Pipeline, with no gate and another ServiceAccount, is not concerned",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.pipelineRef.name = "lint"; s.workspaces = []; delete s.taskRunTemplate; })), true],
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
    "reference one of the Pipelines release-with-quorum by name"],
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
    false, "taskRunSpecs may not change it"],
  ["runs: v1beta1 taskRunSpecs with taskServiceAccountName",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { s.taskRunSpecs = [{ pipelineTaskName: "approval", taskServiceAccountName: "other" }]; })),
    false, "taskRunSpecs may not change it"],
  ["runs: a v1beta1 PipelineRun names its ServiceAccount in spec.serviceAccountName",
    runRequest("CREATE", DAVE, null, gatedRun((s) => { delete s.taskRunTemplate; s.serviceAccountName = "release-pipeline"; })), true],
  ["runs: changing the binding afterwards (UPDATE)",
    runRequest("UPDATE", DAVE, gatedRun(), gatedRun((s) => { s.workspaces = [otherVotes]; })), false, "to the whole ConfigMap"],
  ["runs: the requester starts the gate's TaskRun directly, with their own bindings",
    runRequest("CREATE", DAVE, null, taskRun((s) => { s.workspaces = [otherVotes]; s.workspaces[0].name = "data"; })), false,
    "only Tekton (" + CONTROLLER + ") creates a TaskRun"],
  ["runs: a TaskRun as the gate's ServiceAccount, by a user",
    runRequest("CREATE", DAVE, null, taskRun((s) => { s.workspaces = []; })), false, "only Tekton"],
  ["runs: a TaskRun binding the gate ConfigMap, as another ServiceAccount, by a user",
    runRequest("CREATE", DAVE, null, taskRun((s) => { s.serviceAccountName = "default"; })), false, "only Tekton"],
]) {
  check(`case: ${name}`, () => {
    const r = admit(runsPolicy, runsBinding, request, { "kubernetes.io/metadata.name": "approve-quorum" }, gateParams);
    if (r.errors.length) return `errors: ${r.errors.join("; ")}`;
    if (r.allowed !== want) return `allowed=${r.allowed} (${r.message}), want ${want}`;
    if (msg && !r.message.includes(msg)) return `message ${JSON.stringify(r.message)} lacks ${JSON.stringify(msg)}`;
  });
}
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

process.exit(tally.close());

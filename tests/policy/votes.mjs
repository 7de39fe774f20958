// Tests of policy/approve-step-votes.yaml (run by test.mjs): the exact CEL
// expressions read from the policy file, evaluated by an independent CEL
// implementation (@bufbuild/cel) against admission requests.

import { join } from "node:path";
import { admit, encodeName, loadYamlDocs } from "./vap.mjs";
import { admissionRequest, binding, check, checkSubset, configMap, gate, here, policy } from "./kit.mjs";

// ---------------------------------------------------------------------------
// 1. The expressions stay inside the CEL both evaluators implement (kit.mjs).
checkSubset("subset", policy);

// ---------------------------------------------------------------------------
// 2. Admission requests from cases.yaml.
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
  // A written JSON vote whose decision the step reads as pending (decision.c).
  if (changed.some((k) => k in newData && jsonPending(newData[k]))) return false;
  return true;
}
function jsonPending(v) {
  if (!/^[ \t\r\n\v\f]*\{/.test(v)) return false;
  try {
    const j = JSON.parse(v);
    return typeof j.decision === "string" && PENDING_RE.test(j.decision.replace(/^[\v\f]+|[\v\f]+$/g, ""));
  } catch {
    return false;
  }
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

// The schema walk of policy/approve-step-runs.yaml (run by test.mjs): every
// field path of Tekton's PipelineRun and TaskRun schemas, v1 and v1beta1
// (../shared/tekton-api/*.json), set with a type-appropriate value on an
// otherwise admitted gated run, must be denied unless the path is on the
// policy's allow-list (then a valid value must be admitted). A self-check
// runs the walk against a loosened copy of the policy and requires it to
// find the hole, so the walk cannot pass by admitting nothing or everything.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { admit, loadBinding, loadPolicy } from "./vap.mjs";
import { check, ex, root } from "./kit.mjs";

const API = join(root, "..", "shared", "tekton-api");
const RUNS_POLICY = process.env.RUNS_POLICY_FILE || join(root, "policy", "approve-step-runs.yaml");
const policy = loadPolicy(RUNS_POLICY);
const binding = loadBinding(join(root, "examples", "quorum", "runs-binding.yaml"));
const [params] = ex("gate-params.yaml");
const NS = { "kubernetes.io/metadata.name": "approve-quorum" };
const CONTROLLER = params.data.controller;
const DAVE = "dave@example.com";
const MAX_DEPTH = 9;
// Types whose JSON is a scalar although the swagger describes their Go struct.
const SCALAR = new Set(["v1.ParamValue", "v1beta1.ParamValue", "v1.Duration", "v1.Time", "v1beta1.ParamValue"]);
// Core types the files reference but do not define: the fields a run could
// use to reshape a volume, probed by name.
const CORE_PROBES = {
  "v1.ConfigMapVolumeSource": { name: "string", items: "array", optional: "boolean", defaultMode: "integer" },
  "v1.ProjectedVolumeSource": { sources: "array", defaultMode: "integer" },
};

const clone = (o) => JSON.parse(JSON.stringify(o));
const sample = { string: "x", boolean: true, integer: 1, number: 1, array: ["x"], object: { x: "x" } };

// Every path: [{path: ["spec","taskRunSpecs","[]","podTemplate"], value}].
function walk(defs, schema, path, seen, out) {
  if (path.length > MAX_DEPTH) return;
  let s = schema;
  if (s.$ref) {
    const name = s.$ref.replace("#/definitions/", "");
    if (SCALAR.has(name)) { out.push({ path, value: "x" }); return; }
    if (!defs[name]) {
      out.push({ path, value: { x: "x" } });
      for (const [k, t] of Object.entries(CORE_PROBES[name] || {})) out.push({ path: [...path, k], value: sample[t] });
      return;
    }
    if (seen.has(name)) { out.push({ path, value: { x: "x" } }); return; }
    seen = new Set(seen).add(name);
    s = defs[name];
  }
  if (s.type === "array") {
    if (s.items) walk(defs, s.items, [...path, "[]"], seen, out);
    else out.push({ path, value: ["x"] });
    return;
  }
  if (s.properties && Object.keys(s.properties).length) {
    for (const [k, sub] of Object.entries(s.properties)) walk(defs, sub, [...path, k], seen, out);
    return;
  }
  if (s.additionalProperties) { out.push({ path, value: { x: "x" } }); return; }
  out.push({ path, value: sample[s.type] ?? { x: "x" } });
}

// Set path on obj: an existing array's first element, else a new one.
function setPath(obj, path, value) {
  let o = obj;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i];
    const next = path[i + 1] === "[]" ? [] : {};
    if (k === "[]") {
      if (!o.length) o.push(next);
      o = o[0];
    } else {
      if (o[k] === undefined || o[k] === null || typeof o[k] !== "object") o[k] = next;
      o = o[k];
    }
  }
  const last = path[path.length - 1];
  if (last === "[]") { if (o.length) o[0] = value; else o.push(value); }
  else o[last] = value;
}

// The allow-list, with a valid value for each path (spec.*), per version.
function allowList(version, kind) {
  if (kind === "TaskRun") return { "spec.status": "TaskRunCancelled", "spec.statusMessage": "cancelled by dave" };
  const a = {
    "spec.pipelineRef.name": "release-with-quorum",
    "spec.params.[].name": "note",
    "spec.params.[].value": "x",
    "spec.workspaces.[].name": params.data.workspace,
    "spec.workspaces.[].configMap": { name: params.data.configMap },
    "spec.workspaces.[].configMap.name": params.data.configMap,
    "spec.timeouts.pipeline": "1h",
    "spec.timeouts.tasks": "1h",
    "spec.timeouts.finally": "1h",
    "spec.status": "Cancelled",
    "spec.statusMessage": "cancelled by dave",
  };
  if (version === "v1") a["spec.taskRunTemplate.serviceAccountName"] = params.data.serviceAccount;
  else { a["spec.serviceAccountName"] = params.data.serviceAccount; a["spec.timeout"] = "1h"; }
  return a;
}

function baseRun(version, kind) {
  if (kind === "PipelineRun") {
    const [pr] = ex("pipelinerun.yaml");
    const r = clone(pr);
    r.apiVersion = `tekton.dev/${version}`;
    r.metadata.name = "release-x7k2p";
    if (version === "v1beta1") { delete r.spec.taskRunTemplate; r.spec.serviceAccountName = params.data.serviceAccount; }
    return r;
  }
  return {
    apiVersion: `tekton.dev/${version}`, kind: "TaskRun",
    metadata: { name: "release-x7k2p-approval", namespace: "approve-quorum" },
    spec: { taskRef: { name: "approve-step" }, serviceAccountName: params.data.serviceAccount,
      workspaces: [{ name: "data", configMap: { name: params.data.configMap } }] },
  };
}

function request(op, user, version, kind, oldObj, obj) {
  const resource = kind === "PipelineRun" ? "pipelineruns" : "taskruns";
  return {
    uid: "2f0c", kind: { group: "tekton.dev", version, kind }, resource: { group: "tekton.dev", version, resource },
    requestKind: { group: "tekton.dev", version, kind }, requestResource: { group: "tekton.dev", version, resource },
    name: obj.metadata.name, namespace: "approve-quorum", operation: op,
    userInfo: { username: user, uid: "u1", groups: ["system:authenticated"] },
    object: obj, oldObject: oldObj, dryRun: false, options: {},
  };
}

// One walk: the problems found, and the figures.
export function runWalk(pol) {
  const problems = [];
  const figures = [];
  for (const version of ["v1", "v1beta1"]) {
    const defs = JSON.parse(readFileSync(join(API, `${version}-swagger.json`), "utf8")).definitions;
    for (const kind of ["PipelineRun", "TaskRun"]) {
      const paths = [];
      walk(defs, defs[`${version}.${kind}Spec`], ["spec"], new Set(), paths);
      const allow = allowList(version, kind);
      let denied = 0, admitted = 0;
      // PipelineRun: created by the requester. TaskRun: the requester
      // creates it (all denied: only Tekton does), then updates the one
      // Tekton created (only status and statusMessage may change).
      for (const mode of ["CREATE", "UPDATE"]) {
        for (const { path, value } of paths) {
          const key = path.join(".");
          const listed = (mode === "UPDATE" || kind === "PipelineRun") && key in allow;
          const obj = baseRun(version, kind);
          setPath(obj, path, listed ? allow[key] : value);
          const old = mode === "UPDATE" ? baseRun(version, kind) : null;
          // An update changes only spec.status and spec.statusMessage.
          const ok = listed && (mode === "CREATE" || ["spec.status", "spec.statusMessage"].includes(key) ||
            JSON.stringify(obj) === JSON.stringify(old));
          const req = request(mode, DAVE, version, kind, old, obj);
          const r = admit(pol, binding, req, NS, params);
          if (r.errors.length && ok) problems.push(`${version} ${kind} ${mode} ${key}: errors ${r.errors.join("; ")}`);
          if (r.allowed) admitted++; else denied++;
          if (r.allowed !== ok) problems.push(`${version} ${kind} ${mode} ${key}: allowed=${r.allowed}, want ${ok}`);
        }
      }
      // Every ServiceAccount field of the schema, naming the pinned one on a
      // run that is otherwise not gated (an inline spec, no gate ConfigMap),
      // makes it gated: denied.
      let saPaths = 0;
      for (const { path } of paths.filter((p) => /serviceaccountname$/i.test(p.path[p.path.length - 1]))) {
        saPaths++;
        const obj = kind === "PipelineRun"
          ? { apiVersion: `tekton.dev/${version}`, kind, metadata: { name: "steal-1" }, spec: { pipelineSpec: { tasks: [] } } }
          : { apiVersion: `tekton.dev/${version}`, kind, metadata: { name: "steal-1" }, spec: { taskSpec: { steps: [] } } };
        setPath(obj, path, params.data.serviceAccount);
        const r = admit(pol, binding, request("CREATE", DAVE, version, kind, null, obj), NS, params);
        if (r.allowed) problems.push(`${version} ${kind} ${path.join(".")} = ${params.data.serviceAccount} on an inline run: admitted`);
      }
      if (!saPaths) problems.push(`${version} ${kind}: the schema has no serviceAccountName field`);
      figures.push(`${version} ${kind}: ${paths.length} paths, ${denied} denied, ${admitted} admitted (CREATE and UPDATE); ` +
        `${saPaths} ServiceAccount fields gate an inline run`);
    }
  }
  return { problems, figures };
}

if (!existsSync(API)) {
  console.log(`# SKIPPED: the schema walk of the runs policy: ${API} is missing (CI has it)`);
} else {
  let result;
  check("runs schema walk: every PipelineRun and TaskRun field path off the allow-list is denied (v1, v1beta1)", () => {
    result = runWalk(policy);
    for (const f of result.figures) console.log(`# walk ${f}`);
    if (result.problems.length) return `${result.problems.length} wrong: ${result.problems.slice(0, 8).join("; ")}`;
  });
  // Loosen a copy: drop the spec allow-list; the walk must see the hole.
  check("runs schema walk self-check: without the spec allow-list the walk fails", () => {
    const loose = clone(policy);
    const before = loose.spec.validations.length;
    loose.spec.validations = loose.spec.validations.filter((v) => !v.expression.includes("variables.specKeys"));
    if (loose.spec.validations.length !== before - 1) return "the policy has no validation using variables.specKeys";
    const { problems } = runWalk(loose);
    if (!problems.length) return "the walk found nothing wrong with a loosened policy";
    console.log(`# walk self-check: the loosened policy admits ${problems.length} path(s), e.g. ${problems[0]}`);
  });
  check("runs schema walk self-check: with only gated PipelineRuns checked and a ServiceAccount field left out of 'gated' the walk fails", () => {
    const loose = clone(policy);
    const pr = loose.spec.variables.find((x) => x.name === "prGated");
    if (pr.expression !== "variables.isPipelineRun") return `prGated is ${pr.expression}`;
    pr.expression = "variables.isPipelineRun && variables.gated";
    const v = loose.spec.variables.find((x) => x.name === "reachesSA");
    v.expression = v.expression.replace("(has(variables.spec.taskRunSpecs)", "false && (has(variables.spec.taskRunSpecs)");
    const { problems } = runWalk(loose);
    if (!problems.some((p) => p.includes("taskRunSpecs"))) return "the walk did not see the ungated taskRunSpecs ServiceAccount";
  });
  check("runs schema walk self-check: without the UPDATE rule the walk fails", () => {
    const loose = clone(policy);
    loose.spec.validations = loose.spec.validations.filter((v) => !v.expression.includes("request.operation != 'UPDATE'"));
    const { problems } = runWalk(loose);
    if (!problems.length) return "the walk found nothing wrong with a loosened policy";
  });
}

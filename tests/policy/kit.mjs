// What the policy tests share (test.mjs runs them: votes.mjs, examples.mjs,
// runs.mjs): the files under test, the PASS/FAIL tally, the CEL subset
// both evaluators implement, and admission requests for ConfigMaps.

import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { loadPolicy, loadBinding, loadYamlDocs, policyExpressions, expressionSymbols } from "./vap.mjs";
import { Tally } from "../lib/tally.mjs";

export const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, "..", "..");
export const POLICY = process.env.POLICY_FILE || join(root, "policy", "approve-step-votes.yaml");
export const BINDING = process.env.BINDING_FILE || join(root, "policy", "approve-step-votes-binding.yaml");
export const EXAMPLE_BINDING = join(root, "examples", "quorum", "binding.yaml");

export const tally = new Tally();
export function report(ok, name, detail) {
  if (ok) tally.ok(name);
  else tally.fail(name, detail);
}
export function check(name, fn) {
  let detail;
  try {
    detail = fn();
  } catch (e) {
    detail = `exception: ${e.stack || e}`;
  }
  report(detail === undefined || detail === null || detail === true, name, detail === true ? "" : detail);
}

export const policy = loadPolicy(POLICY);
export const binding = loadBinding(BINDING);
// The objects of examples/quorum/FILE.
export const ex = (f) => loadYamlDocs(join(root, "examples", "quorum", f)).filter((d) => d);
export const gate = { "approve-step/gate": "true" };

// The expressions stay inside what Kubernetes (cel-go with its standard
// library and the strings extension) and @bufbuild/cel both implement.
// Kubernetes 1.30 also offers lists, sets, regex, url, quantity, ip/cidr,
// authorizer and optional types; @bufbuild/cel does not, so the policy must
// not use them. Both follow the CEL spec for the standard functions; indexOf,
// substring and replace come from the strings extension in both.
export const ALLOWED_FUNCS = new Set([
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
export const ALLOWED_IDENTS = new Set(["object", "oldObject", "request", "variables"]);

// One check a CEL expression of pol: "PREFIX: WHERE", failing with the
// functions and identifiers outside the subset.
export function checkSubset(prefix, pol, idents = ALLOWED_IDENTS) {
  for (const { where, expr } of policyExpressions(pol)) {
    check(`${prefix}: ${where}`, () => {
      const { funcs, idents: used } = expressionSymbols(expr);
      const bad = [...[...funcs].filter((f) => !ALLOWED_FUNCS.has(f)), ...[...used].filter((i) => !idents.has(i))];
      if (bad.length) return `uses ${bad.join(", ")}`;
    });
  }
}

// A ConfigMap and the AdmissionRequest of an operation on it.
export function configMap(spec) {
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
  if (spec.ownerReferences) cm.metadata.ownerReferences = spec.ownerReferences.map((o) => ({ ...o }));
  if (spec.data) cm.data = { ...spec.data };
  if (spec.binaryData) cm.binaryData = { ...spec.binaryData };
  if (spec.immutable !== undefined) cm.immutable = spec.immutable;
  return cm;
}

export function admissionRequest(op, user, oldCm, newCm, namespace = "ci") {
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

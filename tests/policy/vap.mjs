// A small model of how the Kubernetes API server applies one
// ValidatingAdmissionPolicy and one ValidatingAdmissionPolicyBinding to one
// admission request, with the CEL expressions evaluated by @bufbuild/cel
// (an implementation independent of the cel-go that Kubernetes uses).
//
// What it models (admissionregistration.k8s.io/v1):
// - matchConstraints.resourceRules (apiGroups, apiVersions, resources with
//   subresources, operations)
// - binding matchResources.objectSelector (matchLabels, matchExpressions),
//   matched against the old OR the new object, as the API server does
// - binding matchResources.namespaceSelector against the namespace's labels
// - matchConditions: any false skips the policy; an error with none false
//   applies failurePolicy
// - variables, in order, visible as `variables.NAME`; an error in a variable
//   is an error of every expression that refers to it (Kubernetes evaluates
//   variables lazily)
// - validations: false denies; message from messageExpression when it yields
//   a non-empty single-line string, else message, else the expression
// - the first denied validation gives the message of the denial
// - failurePolicy Fail (errors deny) or Ignore
//
// It does not model: paramKind/params, authorizer, auditAnnotations,
// runtime cost limits, validationActions other than Deny.

import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { isCelError, parse, plan, celEnv } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";

export function loadYamlDocs(path) {
  return parseAllDocuments(readFileSync(path, "utf8")).map((d) => {
    if (d.errors.length) throw new Error(`${path}: ${d.errors[0].message}`);
    return d.toJS();
  });
}

export function loadPolicy(path) {
  const docs = loadYamlDocs(path).filter((d) => d && d.kind === "ValidatingAdmissionPolicy");
  if (docs.length !== 1) throw new Error(`${path}: expected one ValidatingAdmissionPolicy, found ${docs.length}`);
  return docs[0];
}

export function loadBinding(path) {
  const docs = loadYamlDocs(path).filter((d) => d && d.kind === "ValidatingAdmissionPolicyBinding");
  if (docs.length !== 1) throw new Error(`${path}: expected one ValidatingAdmissionPolicyBinding, found ${docs.length}`);
  return docs[0];
}

// Every expression of a policy, with where it is.
export function policyExpressions(policy) {
  const out = [];
  const s = policy.spec;
  (s.matchConditions || []).forEach((m, i) => out.push({ where: `matchConditions[${i}]`, expr: m.expression }));
  (s.variables || []).forEach((v, i) => out.push({ where: `variables[${i}] (${v.name})`, expr: v.expression }));
  (s.validations || []).forEach((v, i) => {
    out.push({ where: `validations[${i}].expression`, expr: v.expression });
    if (v.messageExpression) out.push({ where: `validations[${i}].messageExpression`, expr: v.messageExpression });
  });
  return out;
}

const MACROS = new Set(["all", "exists", "exists_one", "filter", "map"]);

// Function names and free identifiers an expression uses.
export function expressionSymbols(expr) {
  const parsed = parse(expr);
  const funcs = new Set();
  const idents = new Set();
  const walk = (node, bound) => {
    if (node === null || typeof node !== "object") return;
    if (Array.isArray(node)) {
      node.forEach((n) => walk(n, bound));
      return;
    }
    if (node.$typeName === "cel.expr.Expr.Comprehension") {
      const inner = new Set(bound);
      inner.add(node.iterVar);
      if (node.iterVar2) inner.add(node.iterVar2);
      inner.add(node.accuVar);
      walk(node.iterRange, bound);
      walk(node.accuInit, bound);
      walk(node.loopCondition, inner);
      walk(node.loopStep, inner);
      walk(node.result, inner);
      return;
    }
    if (node.$typeName === "cel.expr.Expr.Call") {
      funcs.add(node.function);
      // an unexpanded macro call: x.filter(v, e) binds v in e
      if (MACROS.has(node.function) && node.target && node.args.length >= 2) {
        const v = node.args[0].exprKind;
        if (v.case === "identExpr") {
          const inner = new Set(bound);
          inner.add(v.value.name);
          walk(node.target, bound);
          node.args.slice(1).forEach((a) => walk(a, inner));
          return;
        }
      }
    }
    if (node.$typeName === "cel.expr.Expr.Ident" && !bound.has(node.name)) idents.add(node.name);
    for (const [k, v] of Object.entries(node)) {
      if (k !== "$typeName") walk(v, bound);
    }
  };
  // The expanded expression decides which identifiers are free. The
  // macro calls kept in sourceInfo name the macros (has, all, ...), but
  // their variables are bound only by the expansion: take their function
  // names, not their identifiers.
  walk(parsed.expr, new Set());
  const freeBefore = new Set(idents);
  walk(parsed.sourceInfo, new Set());
  idents.clear();
  freeBefore.forEach((i) => idents.add(i));
  return { funcs, idents };
}

const env = celEnv({ funcs: strings });
const planned = new Map();

function celRun(expr, bindings) {
  let r;
  try {
    let fn = planned.get(expr);
    if (!fn) {
      fn = plan(env, parse(expr));
      planned.set(expr, fn);
    }
    r = fn(bindings);
  } catch (e) {
    return { error: `evaluator threw: ${e.message}` };
  }
  if (isCelError(r)) return { error: r.message };
  return { value: r };
}

function labelsOf(obj) {
  return (obj && obj.metadata && obj.metadata.labels) || {};
}

export function selectorMatches(selector, labels) {
  if (!selector) return true; // an absent selector matches everything
  for (const [k, v] of Object.entries(selector.matchLabels || {})) {
    if (labels[k] !== v) return false;
  }
  for (const e of selector.matchExpressions || []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    switch (e.operator) {
      case "In":
        if (!has || !e.values.includes(labels[e.key])) return false;
        break;
      case "NotIn":
        if (has && e.values.includes(labels[e.key])) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        throw new Error(`unknown selector operator ${e.operator}`);
    }
  }
  return true;
}

// A rule's resource "pods" matches the resource itself, never a subresource
// ("pods/status", "pods/*", "*/status" and "*/*" do); "*" matches every
// resource and no subresource.
function resourceMatches(list, res, sub) {
  return (list || []).some((x) => {
    const [r, s] = x.split("/");
    if (r !== "*" && r !== res) return false;
    if (s === undefined) return !sub;
    return s === "*" ? true : s === sub;
  });
}
function ruleMatches(rules, req) {
  const has = (list, v) => (list || []).includes("*") || (list || []).includes(v);
  return (rules || []).some(
    (r) =>
      has(r.apiGroups, req.resource.group) &&
      has(r.apiVersions, req.resource.version) &&
      resourceMatches(r.resources, req.resource.resource, req.subResource || "") &&
      has(r.operations, req.operation),
  );
}

// request: an admission.k8s.io/v1 AdmissionRequest-shaped object
// (operation, userInfo, resource, namespace, name, object, oldObject).
// namespaceLabels: labels of request.namespace (for namespaceSelector).
// params: the object the binding's paramRef names (policies with a
// paramKind), or null when it does not exist.
export function admit(policy, binding, request, namespaceLabels = {}, params = null) {
  const spec = policy.spec;
  const failClosed = (spec.failurePolicy || "Fail") === "Fail";
  const result = { matched: false, allowed: true, failures: [], errors: [], warnings: [], message: "" };

  if (!ruleMatches(spec.matchConstraints.resourceRules, request)) return result;
  const mr = (binding && binding.spec.matchResources) || {};
  if (mr.resourceRules && !ruleMatches(mr.resourceRules, request)) return result;
  if (mr.objectSelector) {
    const objs = [request.object, request.oldObject].filter((o) => o);
    if (!objs.some((o) => selectorMatches(mr.objectSelector, labelsOf(o)))) return result;
  }
  if (mr.namespaceSelector && !selectorMatches(mr.namespaceSelector, namespaceLabels)) return result;

  // A paramKind policy without its params object: the binding's
  // parameterNotFoundAction decides (Deny unless it says Allow).
  if (spec.paramKind && params === null) {
    result.matched = true;
    const ref = (binding && binding.spec.paramRef) || {};
    if (ref.parameterNotFoundAction !== "Allow") {
      result.allowed = false;
      result.message = `no params object ${ref.namespace || ""}/${ref.name || ""} found for policy ${policy.metadata.name}`;
    }
    return result;
  }

  const base = {
    object: request.object ?? null,
    oldObject: request.oldObject ?? null,
    request,
    params,
    namespaceObject: { metadata: { name: request.namespace, labels: namespaceLabels } },
  };

  // matchConditions
  let condError = null;
  for (const [i, m] of (spec.matchConditions || []).entries()) {
    const r = celRun(m.expression, base);
    if (r.error) {
      condError = condError || `matchConditions[${i}] (${m.name}): ${r.error}`;
      continue;
    }
    if (r.value !== true && r.value !== false) {
      condError = condError || `matchConditions[${i}] (${m.name}): not a bool`;
      continue;
    }
    if (r.value === false) return result; // skipped
  }
  result.matched = true;
  if (condError) {
    result.errors.push(condError);
    if (failClosed) {
      result.allowed = false;
      result.message = condError;
    }
    return result;
  }

  // variables
  const vars = {};
  const varErrors = {};
  for (const v of spec.variables || []) {
    const r = celRun(v.expression, { ...base, variables: vars });
    if (r.error) varErrors[v.name] = r.error;
    else vars[v.name] = r.value;
  }
  const refError = (expr) => {
    for (const [name, err] of Object.entries(varErrors)) {
      if (new RegExp(`variables\\.${name}\\b`).test(expr)) return `variable ${name}: ${err}`;
    }
    return null;
  };
  const ctx = { ...base, variables: vars };

  // validations
  for (const [i, v] of (spec.validations || []).entries()) {
    let r = { error: refError(v.expression) };
    if (!r.error) r = celRun(v.expression, ctx);
    if (!r.error && r.value !== true && r.value !== false) r = { error: "validation is not a bool" };
    if (r.error) {
      result.errors.push(`validations[${i}]: ${r.error}`);
      if (failClosed) result.failures.push({ index: i, message: `expression error: ${r.error}` });
      continue;
    }
    if (r.value === true) continue;
    let message = v.message || `failed expression: ${v.expression}`;
    if (v.messageExpression) {
      let m = { error: refError(v.messageExpression) };
      if (!m.error) m = celRun(v.messageExpression, ctx);
      // Kubernetes falls back to the static message (and logs why).
      if (m.error) result.warnings.push(`validations[${i}].messageExpression: ${m.error}`);
      else if (typeof m.value !== "string") result.warnings.push(`validations[${i}].messageExpression: not a string`);
      else if (m.value.trim() === "" || /[\r\n]/.test(m.value))
        result.warnings.push(`validations[${i}].messageExpression: empty or multi-line, static message used`);
      else message = m.value;
    }
    result.failures.push({ index: i, message });
  }
  if (result.failures.length) {
    result.allowed = false;
    result.message = result.failures[0].message;
  }
  result.variables = vars;
  result.variableErrors = varErrors;
  return result;
}

// The encoding of user names for ConfigMap keys, as the contract states it:
// every byte outside [-.a-zA-Z0-9] (underscore included) becomes _xx.
export function encodeName(name) {
  let out = "";
  for (const b of Buffer.from(name, "utf8")) {
    const c = String.fromCharCode(b);
    out += /[-.a-zA-Z0-9]/.test(c) ? c : "_" + b.toString(16).padStart(2, "0");
  }
  return out;
}

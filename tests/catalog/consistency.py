"""Consistency between the catalog and the rest of the project: the Task and
the StepAction run the same step, the READMEs say what the files do, the
image tag is the project's version, the binary accepts the args it is
given, the e2e tests are runnable, the examples are documented."""

import os
import re
import subprocess
import tempfile

import yaml

from model import (BINARY_RESULTS, GO_DURATION, TEKTON_RESULTS_DIR, Skip,
                   PLATFORMS_TESTED, check, containerfile_versions, documented_options,
                   markdown_section, params_of, parse_image, project_version,
                   readme_param_table, steps_of)
from rules import approve_steps


@check("task-stepaction-sync", "the StepAction runs the same step as the Task: params, results, image, args, securityContext")
def check_sync(ctx, notes):
    task, sa = ctx.catalog_object("Task"), ctx.catalog_object("StepAction")
    if task is None or sa is None:
        return ["Task or StepAction missing"]
    errs = []
    task_only, sa_only = {"on-error"}, {"dir", "results-dir"}
    tp = {p["name"]: p for p in params_of(task.spec)}
    sp = {p["name"]: p for p in params_of(sa.spec)}
    for name in sorted(set(tp) - task_only - set(sp)):
        errs.append(f"param {name} is in the Task but not in the StepAction")
    for name in sorted(set(sp) - sa_only - set(tp)):
        errs.append(f"param {name} is in the StepAction but not in the Task")
    for name in sorted(set(tp) & set(sp)):
        if tp[name] != sp[name]:
            errs.append(f"param {name} differs: Task {tp[name]} vs StepAction {sp[name]}")
    common = [n for n in tp if n in sp]
    if common != [n for n in sp if n in tp]:
        errs.append("shared params are in a different order")
    if (sp.get("results-dir") or {}).get("default") != TEKTON_RESULTS_DIR:
        errs.append(f"StepAction param results-dir must default to {TEKTON_RESULTS_DIR}, where the Task writes")
    if task.spec.get("results") != sa.spec.get("results"):
        errs.append("results differ between Task and StepAction")
    steps = steps_of(task.spec)
    if len(steps) != 1:
        return errs + ["the Task must have one step to compare"]
    step = steps[0]
    for field in ("image", "command", "securityContext"):
        if step.get(field) != sa.spec.get(field):
            errs.append(f"{field} differs: Task {step.get(field)!r} vs StepAction {sa.spec.get(field)!r}")
    mapping = {"$(workspaces.data.path)": "$(params.dir)", TEKTON_RESULTS_DIR: "$(params.results-dir)"}
    mapped = [mapping.get(a, a) for a in step.get("args") or []]
    if mapped != sa.spec.get("args"):
        errs.append(f"args differ (after mapping the workspace and results dir): Task {mapped} vs StepAction {sa.spec.get('args')}")
    tm, sm = task.obj.get("metadata", {}), sa.obj.get("metadata", {})
    if tm.get("labels") != sm.get("labels"):
        errs.append("labels differ")
    ta = {k: v for k, v in (tm.get("annotations") or {}).items() if k != "tekton.dev/pipelines.minVersion"}
    sa_ann = {k: v for k, v in (sm.get("annotations") or {}).items() if k != "tekton.dev/pipelines.minVersion"}
    if ta != sa_ann:
        errs.append("annotations (other than minVersion) differ")
    return errs


@check("readme-params", "each catalog README's Parameters table lists exactly the params, in order, with their defaults")
def check_readme_params(ctx, notes):
    errs = []
    for _, readme, text, path in ctx.catalog_readmes(errs):
        section = markdown_section(text, "Parameters")
        if section is None:
            errs.append(f"{ctx.rel(readme)}: no '## Parameters' section")
            continue
        rows = readme_param_table(section)
        for d in ctx.docs_in(path):
            params = params_of(d.spec)
            if [r[0] for r in rows] != [p.get("name") for p in params]:
                errs.append(f"{ctx.rel(readme)}: table lists {[r[0] for r in rows]}, the {d.kind} has {[p.get('name') for p in params]}")
                continue
            for (rname, rdefault, rdesc), p in zip(rows, params):
                if rdefault != p.get("default"):
                    errs.append(f"{ctx.rel(readme)}: param {rname} default {rdefault!r} in the table, {p.get('default')!r} in the {d.kind}")
                if len(rdesc.split()) < 3:
                    errs.append(f"{ctx.rel(readme)}: param {rname} is not described")
    return errs


README_NEEDS = {
    "task": {
        "sections": ["Install", "Parameters", "Workspaces", "Results", "Platforms", "Usage", "Security"],
        "phrases": {
            "kubectl apply -f": "Install with kubectl apply",
            "resolver: git": "Install with the git resolver",
            "resolver: bundles": "Install with the bundles resolver",
            "timeouts:": "PipelineRun timeouts",
            "60 minutes": "Tekton's default timeout of 60 minutes",
            "kubectl patch configmap approve-cm --type=merge": "how to approve and refuse",
            "\"refused\\\"": "the refusal command",
            "approve-step/nudge=\"$(date +%s)\" --overwrite": "the nudge annotation",
            "60 to 90 seconds": "the kubelet's propagation delay",
            "resourceNames": "RBAC limited by resourceNames",
            "`edit`": "that the edit role can approve",
            "`status`": "the shared key and why it is unsafe",
        },
    },
    "stepaction": {
        "sections": ["Install", "Parameters", "Results", "Platforms", "Usage", "Security"],
        "phrases": {
            "kubectl apply -f": "Install with kubectl apply",
            "resolver: git": "the git resolver",
            "results-dir": "where results go",
            "approve-step/nudge=": "the nudge annotation",
        },
    },
}


@check("readme-sections", "each catalog README has the catalog's sections and the usage it owes")
def check_readme_sections(ctx, notes):
    errs = []
    for kind_dir, readme, text, _ in ctx.catalog_readmes(errs):
        need = README_NEEDS[kind_dir]
        for section in need["sections"]:
            body = markdown_section(text, section)
            if body is None or not body.split():
                errs.append(f"{ctx.rel(readme)}: section '## {section}' missing or empty")
            elif section == "Platforms":
                claimed = set(re.findall(r"\blinux/[a-z0-9]+\b", body))
                if claimed != PLATFORMS_TESTED:
                    errs.append(f"{ctx.rel(readme)}: Platforms names {', '.join(sorted(claimed)) or 'none'}, "
                                f"not the built and tested {', '.join(sorted(PLATFORMS_TESTED))}")
        flat = " ".join(text.split())
        for phrase, what in need["phrases"].items():
            if phrase not in flat:
                errs.append(f"{ctx.rel(readme)}: does not show {what} ({phrase!r})")
    return errs


@check("image-version", "the image tag is the project version (meson.build, Containerfile) and matches the catalog version")
def check_image_version(ctx, notes):
    errs = []
    version = project_version(ctx.root)
    cf = containerfile_versions(ctx.root)
    if version is None:
        notes.append("meson.build not there yet: tag compared with the catalog version only")
    elif version == "unparsable":
        errs.append("meson.build: cannot read project('approve-step', ..., version: ...)")
        version = None
    if cf is not None:
        if not cf:
            notes.append("Containerfile has no ARG VERSION=")
        for v in cf:
            if version is not None and v != version:
                errs.append(f"Containerfile ARG VERSION={v} differs from meson.build's {version}")
    for kind_dir, name, cat_version, path in ctx.catalog_resources():
        for d in ctx.docs_in(path):
            image = next((p.get("default") for p in params_of(d.spec) if p.get("name") == "image"), None)
            ref = parse_image(image) if isinstance(image, str) else None
            if not ref or not ref["tag"]:
                errs.append(f"{ctx.rel(path)}: param image has no tagged default")
                continue
            tag = ref["tag"]
            for expected, source in ((version, "meson.build"), *((v, "Containerfile") for v in cf or [])):
                if expected is not None and tag != expected:
                    errs.append(f"{ctx.rel(path)}: image tag {tag} is not the {source} version {expected}")
            if ".".join(tag.split(".")[:2]) != cat_version:
                errs.append(f"{ctx.rel(path)}: image tag {tag} does not belong to catalog version {cat_version}")
            if ref["repo"] != "approve-step/approve-step":
                errs.append(f"{ctx.rel(path)}: image {image} is not the approve-step image")
            # The project publishes no image: a default on a real registry
            # is a name someone else can claim and so decide the gate. A
            # reserved TLD (RFC 2606) fails to pull, clearly, everywhere.
            if not (ref["host"] or "").endswith(".invalid"):
                errs.append(f"{ctx.rel(path)}: default image {image} names a registry someone can claim: "
                            "use a host under .invalid and release your own with tools/release.sh")
    return errs


@check("binary-options", "every --option the Task and StepAction pass is one the binary documents, each with a value")
def check_binary_options(ctx, notes):
    documented, source = documented_options(ctx.root)
    notes.append(f"options read from {source}")
    errs = []
    for label, step, params, doc in approve_steps(ctx):
        args = step.get("args") or []
        if len(args) % 2:
            errs.append(f"{label}: args must be --option value pairs")
        for i, opt in enumerate(args[0::2]):
            if not isinstance(opt, str) or not opt.startswith("--"):
                errs.append(f"{label}: args[{2 * i}] {opt!r} is not an --option")
            elif opt not in documented:
                errs.append(f"{label}: {opt} is not an option the binary documents")
        for i, value in enumerate(args[1::2]):
            if isinstance(value, str) and value.startswith("--"):
                errs.append(f"{label}: {args[2 * i]} has no value")
        seen = [a for a in args[0::2]]
        for opt in set(seen):
            if seen.count(opt) > 1:
                errs.append(f"{label}: {opt} is passed twice")
        if "--dir" not in seen:
            errs.append(f"{label}: --dir (required by the binary) is not passed")
    return errs


def substitute(arg, defaults, extra):
    """Tekton's order: params (and workspaces) first, then context variables,
    so a param default may hold $(context.taskRun.name)."""
    def repl(m):
        name = m.group(1)
        if name in extra:
            return extra[name]
        if name in defaults:
            return defaults[name]
        raise KeyError(m.group(0))
    arg = re.sub(r"\$\(((?:params|workspaces)\.[-\w.]+)\)", repl, arg)
    return re.sub(r"\$\((context\.[-\w.]+)\)", repl, arg)


@check("binary-run", "the built binary accepts the Task's and StepAction's args with their defaults and writes the results")
def check_binary_run(ctx, notes):
    if not ctx.binary:
        raise Skip("no built binary (build/approve-step/approve-step or $APPROVE_STEP_BIN)")
    notes.append(f"binary: {ctx.binary}")
    errs = []
    for label, step, params, doc in approve_steps(ctx):
        defaults = {f"params.{p['name']}": p["default"] for p in params if isinstance(p.get("default"), str)}
        for word, want_exit, want_decision in (("approved", 0, "approved"), ("refused", 1, "refused")):
            with tempfile.TemporaryDirectory() as tmp:
                data, results = os.path.join(tmp, "data"), os.path.join(tmp, "results")
                os.mkdir(data)
                os.mkdir(results)
                extra = {"workspaces.data.path": data, "params.dir": data, "context.taskRun.name": "run-1",
                         "context.taskRun.uid": "0b6f6a2e-7f1c-4a8e-9d3b-2c4e5f6a7b8c",
                         "context.taskRun.namespace": "ci", "params.results-dir": results}
                try:
                    args = [substitute(a, defaults, extra) for a in step.get("args") or []]
                except KeyError as e:
                    errs.append(f"{label}: {e} has no value to substitute")
                    break
                args = [results if a == TEKTON_RESULTS_DIR else a for a in args]
                key = args[args.index("--key") + 1] if "--key" in args else "status"
                with open(os.path.join(data, key), "w", encoding="utf-8") as fh:
                    fh.write(word)
                try:
                    out = subprocess.run([ctx.binary] + args, capture_output=True, text=True, timeout=20)
                except subprocess.TimeoutExpired:
                    errs.append(f"{label}: with {word!r} in key {key} the binary did not exit within 20 s")
                    continue
                if out.returncode != want_exit:
                    errs.append(f"{label}: with {word!r} the binary exited {out.returncode}, expected {want_exit}: {out.stderr.strip()[-300:]}")
                    continue
                for name in BINARY_RESULTS:
                    if not os.path.exists(os.path.join(results, name)):
                        errs.append(f"{label}: result {name} not written")
                decision_file = os.path.join(results, "decision")
                if os.path.exists(decision_file):
                    with open(decision_file, encoding="utf-8") as fh:
                        got = fh.read()
                    if got != want_decision:
                        errs.append(f"{label}: decision result {got!r}, expected {want_decision!r}")
    return errs


@check("e2e-tests", "tests/run.yaml: PipelineRuns within 10 min, an approval by a voter with its own RBAC, a refusal that succeeds")
def check_e2e(ctx, notes):
    errs = []
    for kind_dir, name, version, path in ctx.catalog_resources():
        run = os.path.join(os.path.dirname(path), "tests", "run.yaml")
        docs = ctx.docs_in(run)
        rel = ctx.rel(run)
        runs = [d for d in docs if d.kind == "PipelineRun"]
        if not runs:
            errs.append(f"{rel}: no PipelineRun")
        for d in runs:
            t = (d.spec.get("timeouts") or {}).get("pipeline")
            if not isinstance(t, str) or not GO_DURATION.match(t) or duration_seconds(t) > 600 or duration_seconds(t) == 0:
                errs.append(f"{rel}: PipelineRun {d.name} needs timeouts.pipeline within the runner's 10 minutes, has {t!r}")
        roles = {d.name: d for d in docs if d.kind == "Role"}
        bindings = [d for d in docs if d.kind == "RoleBinding"]
        voters = set()
        for d in runs:
            for trs in d.spec.get("taskRunSpecs") or []:
                if trs.get("serviceAccountName"):
                    voters.add(trs["serviceAccountName"])
        if not voters:
            errs.append(f"{rel}: no task runs with its own ServiceAccount (the approver)")
        for sa in voters:
            if not any(x.kind == "ServiceAccount" and x.name == sa for x in docs):
                errs.append(f"{rel}: ServiceAccount {sa} is not created")
            bound = [b for b in bindings if any(s.get("kind") == "ServiceAccount" and s.get("name") == sa for s in b.obj.get("subjects") or [])]
            if not bound:
                errs.append(f"{rel}: ServiceAccount {sa} has no RoleBinding")
            for b in bound:
                role = roles.get((b.obj.get("roleRef") or {}).get("name"))
                if role is None:
                    errs.append(f"{rel}: RoleBinding {b.name} refers to no Role in the file")
                    continue
                cm_rules = [r for r in role.obj.get("rules") or [] if "configmaps" in (r.get("resources") or [])]
                if not cm_rules or any(not r.get("resourceNames") for r in cm_rules):
                    errs.append(f"{rel}: Role {role.name} must limit configmaps by resourceNames")
                if cm_rules and not all("patch" in (r.get("verbs") or []) for r in cm_rules):
                    errs.append(f"{rel}: Role {role.name} must allow patch on the ConfigMap")
        text = open(run, encoding="utf-8").read() if os.path.exists(run) else ""
        if "kubectl" not in text or "patch" not in text:
            errs.append(f"{rel}: no task patches the ConfigMap with kubectl")
        if kind_dir == "task":
            refused = [d for d in runs if any(p.get("value") == "refused" for p in d.spec.get("params") or [])]
            if not refused:
                errs.append(f"{rel}: no PipelineRun expects a refusal")
            for d in refused:
                if not any(p.get("name") == "on-error" and p.get("value") == "continue" for p in d.spec.get("params") or []):
                    errs.append(f"{rel}: the refusal run {d.name} must set on-error continue to succeed")
            if "$(tasks.wait.results.decision)" not in text:
                errs.append(f"{rel}: no check on the decision result")
    return errs


def duration_seconds(text):
    total = 0.0
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    for number, unit in re.findall(r"([0-9.]+)(ns|us|µs|ms|s|m|h)", text):
        total += float(number) * units[unit]
    return total


@check("owners", "catalog/OWNERS names approvers and reviewers")
def check_owners(ctx, notes):
    path = os.path.join(ctx.root, "catalog", "OWNERS")
    if not os.path.exists(path):
        return ["catalog/OWNERS missing"]
    try:
        with open(path, encoding="utf-8") as fh:
            owners = yaml.safe_load(fh) or {}
    except yaml.YAMLError as e:
        return [f"catalog/OWNERS: {e}"]
    return [f"catalog/OWNERS: no {k}" for k in ("approvers", "reviewers")
            if not isinstance(owners.get(k), list) or not owners[k]]


@check("examples-readme", "examples/README.md shows how to apply every example file, and how to approve and refuse")
def check_examples_readme(ctx, notes):
    readme = os.path.join(ctx.root, "examples", "README.md")
    if not os.path.exists(readme):
        return ["examples/README.md missing"]
    with open(readme, encoding="utf-8") as fh:
        text = fh.read()
    errs = []
    applied = set()
    for line in re.findall(r"kubectl (?:apply|create) [^\n]*", text):
        applied.update(re.findall(r"-f (\S+)", line))
    applied.discard("-")
    for path in ctx.yaml_files:
        rel = os.path.relpath(path, os.path.join(ctx.root, "examples"))
        if rel.startswith(".."):
            continue
        if rel.split(os.sep)[0] == "quorum":
            continue
        if not any(a in (rel, "examples/" + rel, os.path.dirname(rel), os.path.dirname(rel) + "/",
                         "examples/" + os.path.dirname(rel), "examples/" + os.path.dirname(rel) + "/") for a in applied):
            errs.append(f"examples/README.md: no `kubectl apply -f` for examples/{rel}")
    for a in applied:
        target = a if a.startswith("examples/") else "examples/" + a
        if "://" not in a and not a.startswith("catalog/") and not os.path.exists(os.path.join(ctx.root, target.rstrip("/"))):
            errs.append(f"examples/README.md: applies {a}, which does not exist")
    for word in ("approved", "refused"):
        if not re.search(r"kubectl patch configmap .*" + word, text):
            errs.append(f"examples/README.md: no kubectl patch command writing {word!r}")
    if "approve-step/nudge" not in text:
        errs.append("examples/README.md: does not show the nudge annotation")
    return errs

"""The catalog's rules: YAML that parses and passes yamllint, objects valid
against Tekton's and Kubernetes' schemas, the catalog's layout, metadata,
descriptions and images (what catlin enforces), the approve step's
contract, and references between objects that resolve (what Tekton's
webhook would refuse). Each check returns its problems (none: pass)."""

import glob
import os
import re
import subprocess
import sys

from model import (APPROVE_SECURITY_CONTEXT, BINARY_RESULTS, CATALOG_KINDS, Skip,
                   CATEGORIES, PIPELINE_CONTEXT_VARS, PLATFORMS_TESTED,
                   TASK_CONTEXT_VARS, TEKTON_RESULTS_DIR, check, images_of,
                   param_names, params_of, parse_image, pipeline_tasks,
                   resolve_param_default, steps_of, tekton_vars)
from schemas import Schemas


@check("yaml-parse", "every YAML file under catalog/ and examples/ parses, without duplicate keys")
def check_yaml_parse(ctx, notes):
    errs = [f"{ctx.rel(p)}: {e}" for p, e in ctx.parse_errors.items()]
    if not ctx.yaml_files:
        errs.append("no YAML files found under catalog/ or examples/")
    for d in ctx.docs:
        if not isinstance(d.obj, dict) or "apiVersion" not in d.obj or "kind" not in d.obj:
            errs.append(f"{ctx.rel(d.path)}#{d.index}: not a Kubernetes object (apiVersion and kind)")
    notes.append(f"{len(ctx.yaml_files)} files, {len(ctx.docs)} objects")
    return errs


@check("yamllint", "yamllint with tests/catalog/yamllint.yaml (strict)")
def check_yamllint(ctx, notes):
    config = os.path.join(ctx.root, "tests", "catalog", "yamllint.yaml")
    if not os.path.exists(config):
        return ["tests/catalog/yamllint.yaml is missing"]
    targets = [p for p in (os.path.join(ctx.root, "catalog"), os.path.join(ctx.root, "examples")) if os.path.isdir(p)]
    cmd = [sys.executable, "-m", "yamllint", "--strict", "-f", "parsable", "-c", config] + targets
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except OSError as e:
        return [f"cannot run yamllint: {e}"]
    if "No module named yamllint" in out.stderr:
        return ["yamllint is not installed (apt-get install yamllint)"]
    errs = [ctx.rel(line.split(":", 1)[0]) + ":" + line.split(":", 1)[1]
            for line in out.stdout.splitlines() if line.strip()]
    if out.returncode != 0 and not errs:
        errs.append(f"yamllint exited {out.returncode}: {out.stderr.strip()}")
    return errs


@check("schema", "every object validates against Tekton's OpenAPI definitions (Kubernetes' for core types)")
def check_schema(ctx, notes):
    if not os.path.isdir(ctx.api_dir):
        # A clone without the steering repo's shared/ beside it: say so and
        # go on, rather than fail a check that cannot run here.
        raise Skip(f"Tekton's API definitions are not in {ctx.api_dir}: set TEKTON_API_DIR "
                   "to a directory with v1-swagger.json and v1beta1-swagger.json "
                   "(tektoncd/pipeline pkg/apis/pipeline/{v1,v1beta1}/swagger.json)")
    try:
        schemas = Schemas(ctx.api_dir)
    except OSError as e:
        return [f"Tekton API definitions not readable in {ctx.api_dir}: {e} (set TEKTON_API_DIR)"]
    errs = []
    if schemas.k8s is None:
        errs.append("python3-kubernetes is missing: Kubernetes core types cannot be checked (apt-get install python3-kubernetes)")
    tekton = 0
    for d in ctx.docs:
        if not isinstance(d.obj, dict):
            continue
        tekton += d.is_tekton
        for e in schemas.validate_top(d.obj):
            errs.append(f"{d.where(ctx.root)}: {e}")
    notes.append(f"{tekton} Tekton objects, {len(ctx.docs) - tekton} Kubernetes objects")
    if schemas.unchecked:
        notes.append("not checkable (no definition): " + ", ".join(sorted(schemas.unchecked)))
    return errs


@check("catalog-layout", "catalog/<kind>/<name>/<version>/<name>.yaml with README.md, samples/, tests/run.yaml")
def check_catalog_layout(ctx, notes):
    errs = []
    resources = ctx.catalog_resources()
    kinds = {k for k, *_ in resources}
    for kind_dir in CATALOG_KINDS:
        if kind_dir not in kinds:
            errs.append(f"no {CATALOG_KINDS[kind_dir]} under catalog/{kind_dir}/")
    for kind_dir, name, version, path in resources:
        rel = ctx.rel(path)
        folder = os.path.dirname(path)
        if not re.fullmatch(r"[0-9]+\.[0-9]+", version):
            errs.append(f"{rel}: version folder {version!r} is not MAJOR.MINOR")
        if os.path.basename(path) != name + ".yaml":
            errs.append(f"{rel}: file name must be {name}.yaml")
        docs = ctx.docs_in(path)
        if len(docs) != 1:
            errs.append(f"{rel}: must hold exactly one object, holds {len(docs)}")
        for d in docs:
            if d.kind != CATALOG_KINDS[kind_dir]:
                errs.append(f"{rel}: kind {d.kind} under catalog/{kind_dir}/")
            if (d.obj.get("metadata") or {}).get("name") != name:
                errs.append(f"{rel}: metadata.name {d.name!r} differs from the folder {name!r}")
        if not os.path.isfile(os.path.join(folder, "README.md")):
            errs.append(f"{rel}: README.md missing beside it")
        if not glob.glob(os.path.join(folder, "samples", "*.yaml")):
            errs.append(f"{rel}: no samples/*.yaml beside it")
        if not os.path.isfile(os.path.join(folder, "tests", "run.yaml")):
            errs.append(f"{rel}: tests/run.yaml missing beside it")
    return errs


@check("catalog-metadata", "required labels and annotations, hints, categories, platforms, spec.description")
def check_catalog_metadata(ctx, notes):
    errs = []
    for _, version, path, d in ctx.catalog_docs():
        rel = ctx.rel(path)
        meta = d.obj.get("metadata") or {}
        labels = meta.get("labels") or {}
        ann = meta.get("annotations") or {}
        if labels.get("app.kubernetes.io/version") != version:
            errs.append(f"{rel}: label app.kubernetes.io/version must be {version!r}, is {labels.get('app.kubernetes.io/version')!r}")
        mv = ann.get("tekton.dev/pipelines.minVersion")
        if not isinstance(mv, str) or not re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", mv):
            errs.append(f"{rel}: annotation tekton.dev/pipelines.minVersion must be X.Y.Z, is {mv!r}")
        cats = ann.get("tekton.dev/categories")
        if not isinstance(cats, str) or not cats.strip():
            errs.append(f"{rel}: annotation tekton.dev/categories missing")
        else:
            for c in (c.strip() for c in cats.split(",")):
                if c not in CATEGORIES:
                    errs.append(f"{rel}: category {c!r} is not one of the catalog's categories")
        for hint in ("tekton.dev/tags", "tekton.dev/displayName"):
            if not isinstance(ann.get(hint), str) or not ann.get(hint).strip():
                errs.append(f"{rel}: annotation {hint} missing")
        plats = ann.get("tekton.dev/platforms")
        if not isinstance(plats, str):
            errs.append(f"{rel}: annotation tekton.dev/platforms missing")
        else:
            items = [p.strip() for p in plats.split(",")]
            for p in items:
                if not re.fullmatch(r"[a-z0-9]+/[a-z0-9]+(/v[0-9]+)?", p):
                    errs.append(f"{rel}: platform {p!r} is not OS/ARCH")
            if set(items) != PLATFORMS_TESTED:
                errs.append(f"{rel}: platforms {plats!r}: claim exactly the built and tested "
                            f"{', '.join(sorted(PLATFORMS_TESTED))}")
        desc = d.spec.get("description")
        if not isinstance(desc, str) or len(desc.split()) < 8:
            errs.append(f"{rel}: spec.description missing or too short to say what it does")
    return errs


@check("catalog-descriptions", "every param, workspace and result of the catalog resources is described")
def check_catalog_descriptions(ctx, notes):
    errs = []
    for _, _, path, d in ctx.catalog_docs():
        for field in ("params", "workspaces", "results"):
            for item in d.spec.get(field) or []:
                if not isinstance(item, dict) or not isinstance(item.get("description"), str) or not item["description"].strip():
                    errs.append(f"{ctx.rel(path)}: {field} {item.get('name') if isinstance(item, dict) else item!r} has no description")
    return errs


@check("catlin-images", "every image is tagged (not latest), with a valid tag/digest and a registry host")
def check_images(ctx, notes):
    errs = []
    unpinned = set()
    for d in ctx.docs:
        for where, image, params in images_of(d):
            label = f"{d.where(ctx.root)} {where}"
            resolved, via = resolve_param_default(image, params)
            if via and resolved is None:
                errs.append(f"{label}: image param {via!r} has no default to check")
                continue
            if not isinstance(resolved, str) or not resolved:
                errs.append(f"{label}: image missing")
                continue
            ref = parse_image(resolved)
            if ref is None:
                errs.append(f"{label}: {resolved!r} is not an image reference")
                continue
            if not ref["tag"]:
                errs.append(f"{label}: {resolved!r} has no tag")
            elif ref["tag"] == "latest":
                errs.append(f"{label}: {resolved!r} uses the tag latest")
            elif not re.fullmatch(r"[\w][\w.-]{0,127}", ref["tag"]):
                errs.append(f"{label}: {resolved!r} has an invalid tag")
            if ref["digest"] and not re.fullmatch(r"sha256:[0-9a-f]{64}", ref["digest"]):
                errs.append(f"{label}: {resolved!r} has an invalid digest")
            if not ref["host"] or "." not in ref["host"].split(":")[0]:
                errs.append(f"{label}: {resolved!r} names no registry host (with a dot)")
            if not ref["digest"]:
                unpinned.add(resolved)
    if unpinned:
        notes.append("tagged but not digest-pinned: " + ", ".join(sorted(unpinned)))
    return errs


def approve_steps(ctx):
    """(label, step-like mapping, params) of the Task's step and the StepAction."""
    out = []
    task = ctx.catalog_object("Task")
    if task:
        for s in steps_of(task.spec):
            out.append((f"{ctx.rel(task.path)} step {s.get('name')}", s, params_of(task.spec), task))
    sa = ctx.catalog_object("StepAction")
    if sa:
        out.append((ctx.rel(sa.path), sa.spec, params_of(sa.spec), sa))
    return out


@check("step-contract", "the approve step: command, no script, results dir, securityContext, computeResources, workspace")
def check_step_contract(ctx, notes):
    errs = []
    task = ctx.catalog_object("Task")
    if task is None:
        return ["no catalog Task"]
    steps = steps_of(task.spec)
    if len(steps) != 1:
        errs.append(f"the Task must have exactly one step, has {len(steps)}")
    ws = [w for w in task.spec.get("workspaces") or [] if isinstance(w, dict)]
    if [w.get("name") for w in ws] != ["data"] or ws[0].get("readOnly") is not True:
        errs.append("the Task must declare exactly the workspace data, readOnly: true")
    timeout = next((p for p in params_of(task.spec) if p.get("name") == "timeout"), None)
    if not timeout or timeout.get("default") != "86400":
        errs.append("param timeout must default to \"86400\" (the classic approve-task's)")
    key = next((p for p in params_of(task.spec) if p.get("name") == "key"), None)
    if not key or key.get("default") != "$(context.taskRun.name)-$(context.taskRun.uid)":
        errs.append("param key must default to \"$(context.taskRun.name)-$(context.taskRun.uid)\" "
                    "(per-run isolation, also across a reused run name)")
    result_names = [r.get("name") for r in task.spec.get("results") or [] if isinstance(r, dict)]
    if result_names != BINARY_RESULTS:
        errs.append(f"Task results must be {BINARY_RESULTS} (what the binary writes), are {result_names}")
    for label, step, params, doc in approve_steps(ctx):
        if step.get("command") != ["/approve-step"]:
            errs.append(f"{label}: command must be [\"/approve-step\"], is {step.get('command')!r}")
        if "script" in step:
            errs.append(f"{label}: the image has no shell: no script")
        args = step.get("args")
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            errs.append(f"{label}: args must be a list of strings")
            continue
        opts = dict(zip(args[0::2], args[1::2]))
        results_dir = opts.get("--results-dir")
        if doc.kind == "Task":
            if opts.get("--dir") != "$(workspaces.data.path)":
                errs.append(f"{label}: --dir must be $(workspaces.data.path)")
            if results_dir != TEKTON_RESULTS_DIR:
                errs.append(f"{label}: --results-dir must be {TEKTON_RESULTS_DIR}, the directory of $(results.decision.path)")
            if opts.get("--namespace") != "$(context.taskRun.namespace)":
                errs.append(f"{label}: --namespace must be $(context.taskRun.namespace)")
            res = step.get("computeResources") or {}
            for part in ("requests", "limits"):
                for unit in ("cpu", "memory"):
                    if not (res.get(part) or {}).get(unit):
                        errs.append(f"{label}: computeResources.{part}.{unit} missing")
            if step.get("onError") != "$(params.on-error)":
                errs.append(f"{label}: onError must be $(params.on-error)")
        sc = step.get("securityContext")
        if sc != APPROVE_SECURITY_CONTEXT:
            errs.append(f"{label}: securityContext must be {APPROVE_SECURITY_CONTEXT}, is {sc}")
        if step.get("image") != "$(params.image)":
            errs.append(f"{label}: image must be $(params.image)")
    return errs


def check_task_spec_vars(label, spec, errs, is_catalog, extra_params=()):
    declared = set(param_names(spec)) | set(extra_params)
    workspaces = {w.get("name") for w in spec.get("workspaces") or [] if isinstance(w, dict)}
    results = {r.get("name") for r in spec.get("results") or [] if isinstance(r, dict)}
    step_names = {s.get("name") for s in steps_of(spec)}
    used = set()
    body = {k: v for k, v in spec.items() if k not in ("params", "description")}
    for prefix, parts in tekton_vars(body):
        if not parts:
            continue
        if prefix == "params":
            used.add(parts[0])
            if parts[0] not in declared:
                errs.append(f"{label}: $(params.{parts[0]}) is not declared")
        elif prefix == "workspaces":
            if parts[0] not in workspaces:
                errs.append(f"{label}: $(workspaces.{parts[0]}...) is not declared")
        elif prefix == "results":
            if parts[0] not in results:
                errs.append(f"{label}: $(results.{parts[0]}...) is not declared")
        elif prefix == "context":
            if ".".join(parts) not in TASK_CONTEXT_VARS:
                errs.append(f"{label}: $(context.{'.'.join(parts)}) is not a Task context variable")
        elif prefix == "steps":
            if parts[0] not in step_names:
                errs.append(f"{label}: $(steps.{parts[0]}...) names no step")
        elif prefix in ("tasks", "finally"):
            errs.append(f"{label}: $({prefix}...) is a Pipeline variable")
    for p in params_of(spec):
        for prefix, parts in tekton_vars(p.get("default")):
            if prefix == "context" and ".".join(parts) not in TASK_CONTEXT_VARS:
                errs.append(f"{label}: param {p.get('name')} default uses unknown $(context.{'.'.join(parts)})")
            elif prefix != "context":
                errs.append(f"{label}: param {p.get('name')} default uses $({prefix}...), which Tekton does not substitute there")
    if is_catalog:
        for name in declared - used - set(extra_params):
            errs.append(f"{label}: param {name} is declared but never used")


def resolve_task(ctx, pt, near):
    """The task spec a PipelineTask runs, when it can be found offline."""
    if isinstance(pt.get("taskSpec"), dict):
        return pt["taskSpec"]
    ref = pt.get("taskRef")
    if isinstance(ref, dict) and ref.get("name") and not ref.get("resolver"):
        found = ctx.find_docs("Task", ref["name"], near)
        if found:
            return found[0].spec
        return False
    return None


def check_pipeline_spec(ctx, label, spec, near, errs):
    declared = set(param_names(spec))
    pipeline_ws = {w.get("name") for w in spec.get("workspaces") or [] if isinstance(w, dict)}
    tasks = pipeline_tasks(spec)
    names = [t.get("name") for t in tasks]
    if None in names or len(set(names)) != len(names):
        errs.append(f"{label}: pipeline tasks need unique names")
    specs = {}
    for t in tasks:
        tlabel = f"{label} task {t.get('name')}"
        ts = resolve_task(ctx, t, near)
        if ts is False:
            errs.append(f"{tlabel}: taskRef {t['taskRef']['name']!r} is defined neither beside it nor in the catalog")
            ts = None
        specs[t.get("name")] = ts
        for after in t.get("runAfter") or []:
            if after not in names:
                errs.append(f"{tlabel}: runAfter {after!r} names no task")
        for b in t.get("workspaces") or []:
            if isinstance(b, dict) and b.get("workspace") not in pipeline_ws:
                errs.append(f"{tlabel}: workspace {b.get('workspace')!r} is not a Pipeline workspace")
        if ts is not None:
            if isinstance(t.get("taskSpec"), dict):
                check_task_spec_vars(f"{tlabel} (taskSpec)", ts, errs, False)
            given = {p.get("name") for p in t.get("params") or [] if isinstance(p, dict)}
            for p in params_of(ts):
                if "default" not in p and p.get("name") not in given:
                    errs.append(f"{tlabel}: required param {p.get('name')!r} not passed")
            for g in given - set(param_names(ts)):
                errs.append(f"{tlabel}: param {g!r} is not a param of its Task")
            bound = {b.get("name") for b in t.get("workspaces") or [] if isinstance(b, dict)}
            for w in ts.get("workspaces") or []:
                if isinstance(w, dict) and not w.get("optional") and w.get("name") not in bound:
                    errs.append(f"{tlabel}: workspace {w.get('name')!r} of its Task is not bound")
            for b in bound - {w.get("name") for w in ts.get("workspaces") or [] if isinstance(w, dict)}:
                errs.append(f"{tlabel}: binds workspace {b!r} that its Task does not declare")
    body = {"tasks": spec.get("tasks"), "finally": spec.get("finally"), "results": spec.get("results")}
    for t in tasks:
        own = {k: v for k, v in t.items() if k != "taskSpec"}
        for prefix, parts in tekton_vars(own):
            if prefix == "params" and parts and parts[0] not in declared:
                errs.append(f"{label} task {t.get('name')}: $(params.{parts[0]}) is not a Pipeline param")
            elif prefix == "context" and ".".join(parts) not in PIPELINE_CONTEXT_VARS:
                errs.append(f"{label} task {t.get('name')}: $(context.{'.'.join(parts)}) is not a Pipeline context variable")
    for prefix, parts in tekton_vars(body):
        if prefix in ("tasks",) and len(parts) >= 3 and parts[1] == "results":
            if parts[0] not in names:
                errs.append(f"{label}: $(tasks.{parts[0]}...) names no task")
            elif specs.get(parts[0]) and parts[2] not in {r.get("name") for r in specs[parts[0]].get("results") or []}:
                errs.append(f"{label}: $(tasks.{parts[0]}.results.{parts[2]}) is not a result of that Task")
    return pipeline_ws, declared


@check("references", "variables, params, workspaces, results and refs between objects resolve (offline webhook)")
def check_references(ctx, notes):
    errs = []
    catalog_paths = {path for *_, path in ctx.catalog_resources()}
    sa_names = {d.name for d in ctx.docs if d.kind == "ServiceAccount"}
    for d in ctx.docs:
        label = d.where(ctx.root)
        if d.kind == "Task":
            check_task_spec_vars(label, d.spec, errs, d.path in catalog_paths)
        elif d.kind == "StepAction":
            check_task_spec_vars(label, {**d.spec, "steps": [{k: v for k, v in d.spec.items() if k not in ("params", "results", "description")}]},
                                 errs, d.path in catalog_paths)
        elif d.kind == "Pipeline":
            check_pipeline_spec(ctx, label, d.spec, d.path, errs)
        elif d.kind == "TaskRun":
            ref = d.spec.get("taskRef") or {}
            if isinstance(d.spec.get("taskSpec"), dict):
                tspec = d.spec["taskSpec"]
            elif ref.get("resolver"):
                continue
            else:
                found = ctx.find_docs("Task", ref.get("name"), d.path) if ref.get("name") else []
                if not found:
                    errs.append(f"{label}: taskRef {ref.get('name')!r} is defined neither beside it nor in the catalog")
                    continue
                tspec = found[0].spec
            given = {p.get("name") for p in d.spec.get("params") or [] if isinstance(p, dict)}
            for p in params_of(tspec):
                if "default" not in p and p.get("name") not in given:
                    errs.append(f"{label}: required param {p.get('name')!r} not passed")
            bound = {w.get("name") for w in d.spec.get("workspaces") or [] if isinstance(w, dict)}
            for w in tspec.get("workspaces") or []:
                if isinstance(w, dict) and not w.get("optional") and w.get("name") not in bound:
                    errs.append(f"{label}: workspace {w.get('name')!r} is not bound")
            if not d.spec.get("timeout"):
                errs.append(f"{label}: no timeout (Tekton's default of 60 minutes cuts approval waits)")
        elif d.kind == "PipelineRun":
            if isinstance(d.spec.get("pipelineSpec"), dict):
                pspec = d.spec["pipelineSpec"]
                check_pipeline_spec(ctx, label, pspec, d.path, errs)
            else:
                ref = d.spec.get("pipelineRef") or {}
                found = ctx.find_docs("Pipeline", ref.get("name"), d.path) if ref.get("name") else []
                if ref.get("resolver"):
                    continue
                if not found:
                    errs.append(f"{label}: pipelineRef {ref.get('name')!r} is not defined beside it")
                    continue
                pspec = found[0].spec
            given = {p.get("name") for p in d.spec.get("params") or [] if isinstance(p, dict)}
            for p in params_of(pspec):
                if "default" not in p and p.get("name") not in given:
                    errs.append(f"{label}: required Pipeline param {p.get('name')!r} not passed")
            for g in given - set(param_names(pspec)):
                errs.append(f"{label}: param {g!r} is not a Pipeline param")
            bound = {w.get("name") for w in d.spec.get("workspaces") or [] if isinstance(w, dict)}
            for w in pspec.get("workspaces") or []:
                if isinstance(w, dict) and not w.get("optional") and w.get("name") not in bound:
                    errs.append(f"{label}: Pipeline workspace {w.get('name')!r} is not bound")
            task_names = {t.get("name") for t in pipeline_tasks(pspec)}
            for trs in d.spec.get("taskRunSpecs") or []:
                if trs.get("pipelineTaskName") not in task_names:
                    errs.append(f"{label}: taskRunSpecs names no task {trs.get('pipelineTaskName')!r}")
                sa = trs.get("serviceAccountName")
                if sa and sa not in sa_names:
                    errs.append(f"{label}: ServiceAccount {sa!r} is defined nowhere beside it")
            timeouts = d.spec.get("timeouts") or {}
            if not timeouts.get("pipeline"):
                errs.append(f"{label}: no timeouts.pipeline (Tekton's default of 60 minutes cuts approval waits)")
    return errs

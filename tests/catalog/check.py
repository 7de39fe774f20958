#!/usr/bin/python3
"""Offline checks of the Tekton catalog resources and the examples.

Runs without a cluster: YAML syntax and yamllint, validation of every object
against Tekton's own OpenAPI definitions (and Kubernetes' for core types),
the catalog's rules (what catlin enforces and reviewers ask for), the
consistency of Task, StepAction, READMEs, image tag and the binary's options.

Prints one PASS/FAIL line per check and `N passed, M failed`; exits 1 when a
check fails. With --self-test (the default in run.sh) it also breaks copies
of the files on purpose and requires the matching check to fail.

Needs: python3-yaml, python3-kubernetes (Kubernetes core types), yamllint.
Tekton's definitions: $TEKTON_API_DIR, else <repo>/../shared/tekton-api.
"""

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

# ---------------------------------------------------------------------------
# Facts the checks compare against

CATEGORIES = {
    "Automation", "Build Tools", "CLI", "Cloud", "Code Quality",
    "Continuous Integration", "Deployment", "Developer Tools", "Image Build",
    "Integration & Delivery", "Git", "Kubernetes", "Messaging", "Monitoring",
    "Networking", "Openshift", "Publishing", "Security", "Storage", "Testing",
}
PLATFORMS_REQUIRED = {"linux/amd64", "linux/arm64"}
CATALOG_KINDS = {"task": "Task", "stepaction": "StepAction"}

# The binary's options as the contract lists them; used only when neither a
# built binary nor approve-step/options.c is there to ask.
CONTRACT_OPTIONS = {
    "--dir", "--key", "--timeout", "--on-timeout", "--results-dir",
    "--configmap", "--namespace", "--poll-interval", "--approvals",
    "--approvers", "--requester", "--help", "--version",
}
# Files the binary writes into --results-dir (the contract's results).
BINARY_RESULTS = ["decision", "approver", "comment", "waited-seconds"]
# Tekton writes Task results to $(results.NAME.path) = /tekton/results/NAME.
TEKTON_RESULTS_DIR = "/tekton/results"

APPROVE_SECURITY_CONTEXT = {
    "runAsNonRoot": True,
    "runAsUser": 65532,
    "runAsGroup": 65532,
    "readOnlyRootFilesystem": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}

TASK_CONTEXT_VARS = {
    "taskRun.name", "taskRun.namespace", "taskRun.uid", "task.name",
    "task.retry-count",
}
PIPELINE_CONTEXT_VARS = {
    "pipelineRun.name", "pipelineRun.namespace", "pipelineRun.uid",
    "pipeline.name", "pipelineTask.retries",
}

# Go's embedded structs (`json:",inline"`) that the published swagger leaves
# out: a TaskRef, PipelineRef or step Ref also takes the ResolverRef fields
# `resolver` and `params` (remote resolution).
INLINE_EMBEDS = {
    "v1.TaskRef": ["v1.ResolverRef"],
    "v1.PipelineRef": ["v1.ResolverRef"],
    "v1.Ref": ["v1.ResolverRef"],
    "v1beta1.TaskRef": ["v1beta1.ResolverRef"],
    "v1beta1.PipelineRef": ["v1beta1.ResolverRef"],
}

GO_DURATION = re.compile(r"^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$")
TEKTON_VAR = re.compile(
    r"\$\((params|workspaces|results|context|steps|step|tasks|finally)"
    r"((?:\.[-\w]+|\[['\"][^'\"]+['\"]\]|\[\*\])+)\)")


# ---------------------------------------------------------------------------
# Loading

class DuplicateKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (PyYAML keeps the last)."""


def _construct_mapping(loader, node, deep=False):
    loader.flatten_mapping(node)
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                f"found duplicate key {key!r}", key_node.start_mark)
        seen[key] = True
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


DuplicateKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class Doc:
    def __init__(self, path, index, obj):
        self.path, self.index, self.obj = path, index, obj

    @property
    def kind(self):
        return self.obj.get("kind") if isinstance(self.obj, dict) else None

    @property
    def api(self):
        return self.obj.get("apiVersion") if isinstance(self.obj, dict) else None

    @property
    def name(self):
        meta = self.obj.get("metadata") if isinstance(self.obj, dict) else None
        if isinstance(meta, dict):
            return meta.get("name") or meta.get("generateName")
        return None

    @property
    def spec(self):
        spec = self.obj.get("spec") if isinstance(self.obj, dict) else None
        return spec if isinstance(spec, dict) else {}

    def where(self, root):
        return f"{os.path.relpath(self.path, root)}#{self.index} ({self.kind} {self.name})"

    @property
    def is_tekton(self):
        return isinstance(self.api, str) and self.api.startswith("tekton.dev/")


class Context:
    def __init__(self, root, api_dir, binary=None):
        self.root = root
        self.api_dir = api_dir
        self.binary = binary or find_binary(root)
        self.yaml_files = []
        for top in ("catalog", "examples"):
            for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
                dirnames.sort()
                for f in sorted(filenames):
                    if f.endswith((".yaml", ".yml")):
                        self.yaml_files.append(os.path.join(dirpath, f))
        self.parse_errors = {}
        self.docs = []
        for path in self.yaml_files:
            try:
                with open(path, encoding="utf-8") as fh:
                    objs = list(yaml.load_all(fh, Loader=DuplicateKeyLoader))
            except (yaml.YAMLError, UnicodeDecodeError) as e:
                self.parse_errors[path] = str(e).replace("\n", " ")
                continue
            for i, obj in enumerate(objs):
                if obj is not None:
                    self.docs.append(Doc(path, i, obj))

    def rel(self, path):
        return os.path.relpath(path, self.root)

    def catalog_resources(self):
        """(kind folder, name, version, path) of every catalog resource file."""
        found = []
        for kind_dir in CATALOG_KINDS:
            for path in sorted(glob.glob(os.path.join(self.root, "catalog", kind_dir, "*", "*", "*.yaml"))):
                parts = os.path.relpath(path, self.root).split(os.sep)
                found.append((kind_dir, parts[2], parts[3], path))
        return found

    def docs_in(self, path):
        return [d for d in self.docs if d.path == path]

    def catalog_object(self, kind):
        for kind_dir, name, version, path in self.catalog_resources():
            if CATALOG_KINDS[kind_dir] == kind:
                for d in self.docs_in(path):
                    if d.kind == kind:
                        return d
        return None

    def find_docs(self, kind, name, near=None):
        """Objects of this kind and name: in near's directory, or the catalog's."""
        out = []
        for d in self.docs:
            if d.kind != kind or d.name != name:
                continue
            in_catalog_resource = os.path.basename(os.path.dirname(os.path.dirname(d.path))) == name and \
                self.rel(d.path).startswith("catalog" + os.sep) and \
                os.sep + "tests" + os.sep not in self.rel(d.path) and \
                os.sep + "samples" + os.sep not in self.rel(d.path)
            if near is None or os.path.dirname(d.path) == os.path.dirname(near) or in_catalog_resource:
                out.append(d)
        return out


# ---------------------------------------------------------------------------
# Schema validation

class Schemas:
    def __init__(self, api_dir):
        self.defs = {}
        for version in ("v1", "v1beta1"):
            with open(os.path.join(api_dir, f"{version}-swagger.json"), encoding="utf-8") as fh:
                self.defs[version] = json.load(fh)["definitions"]
        try:
            import kubernetes.client as k8s  # python3-kubernetes
            from kubernetes.client.configuration import Configuration
            self.k8s = k8s
            self.k8s_config = Configuration()
            self.k8s_config.client_side_validation = True
        except ImportError:
            self.k8s = None
        self.unchecked = set()
        self._required_cache = {}

    # -- Tekton definitions -------------------------------------------------

    def tekton_def(self, name, origin):
        for version in (origin, "v1", "v1beta1"):
            if name in self.defs[version]:
                schema = self.defs[version][name]
                if name in INLINE_EMBEDS:
                    schema = dict(schema)
                    props = dict(schema.get("properties", {}))
                    for embedded in INLINE_EMBEDS[name]:
                        props.update(self.defs[version][embedded]["properties"])
                    schema["properties"] = props
                return schema, version
        return None, None

    def validate_top(self, obj):
        errs = []
        if not isinstance(obj, dict):
            return ["document is not a mapping"]
        api, kind = obj.get("apiVersion"), obj.get("kind")
        if not isinstance(api, str) or not isinstance(kind, str):
            return ["apiVersion and kind are required"]
        meta = obj.get("metadata")
        if not isinstance(meta, dict) or not (meta.get("name") or meta.get("generateName")):
            errs.append("metadata.name (or generateName) is required")
        if api.startswith("tekton.dev/"):
            version = api.split("/", 1)[1]
            if version not in self.defs:
                return errs + [f"no Tekton definitions for {api}"]
            schema, origin = self.tekton_def(f"{version}.{kind}", version)
            if schema is None:
                return errs + [f"{api} has no kind {kind}"]
            self.validate(obj, schema, "", errs, origin)
            return errs
        model = self.k8s_model_for_object(api, kind)
        if model is None:
            self.unchecked.add(f"{api} {kind}")
            return errs
        self.validate_k8s(obj, model.__name__, "", errs)
        return errs

    def validate(self, value, schema, path, errs, origin):
        if "$ref" in schema:
            self.validate_ref(value, schema["$ref"].rsplit("/", 1)[1], path, errs, origin)
            return
        kind = schema.get("type")
        props = schema.get("properties")
        addl = schema.get("additionalProperties")
        if kind == "string":
            if not isinstance(value, str):
                errs.append(f"{path or '.'}: expected a string, got {type_name(value)}")
        elif kind == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                errs.append(f"{path}: expected an integer, got {type_name(value)}")
        elif kind == "number":
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                errs.append(f"{path}: expected a number, got {type_name(value)}")
        elif kind == "boolean":
            if not isinstance(value, bool):
                errs.append(f"{path}: expected a boolean, got {type_name(value)}")
        elif kind == "array":
            if not isinstance(value, list):
                errs.append(f"{path}: expected a list, got {type_name(value)}")
                return
            for i, item in enumerate(value):
                self.validate(item, schema.get("items", {}), f"{path}[{i}]", errs, origin)
        elif kind == "object" or props is not None:
            if not isinstance(value, dict):
                errs.append(f"{path or '.'}: expected a mapping, got {type_name(value)}")
                return
            if props is not None:
                for key, item in value.items():
                    sub = f"{path}.{key}" if path else str(key)
                    if key in props:
                        self.validate(item, props[key], sub, errs, origin)
                    elif addl is not None:
                        self.validate(item, addl, sub, errs, origin)
                    else:
                        errs.append(f"{sub}: unknown field")
                for req in schema.get("required", []):
                    if req not in value:
                        errs.append(f"{path or '.'}: missing required field {req}")
            elif isinstance(addl, dict):
                for key, item in value.items():
                    self.validate(item, addl, f"{path}.{key}", errs, origin)

    def validate_ref(self, value, name, path, errs, origin):
        if name.endswith(".ParamValue"):
            # Go unmarshals a ParamValue from a string, a list of strings or
            # a string map; the swagger shows its Go struct instead.
            ok = isinstance(value, str) or \
                (isinstance(value, list) and all(isinstance(v, str) for v in value)) or \
                (isinstance(value, dict) and all(isinstance(v, str) for v in value.values()))
            if not ok:
                errs.append(f"{path}: expected a string, a list of strings or a map of strings, got {type_name(value)}")
            return
        if name == "v1.Duration":
            if not isinstance(value, str) or not GO_DURATION.match(value):
                errs.append(f"{path}: expected a duration like 1h30m, got {value!r}")
            return
        if name == "v1.Time":
            if not isinstance(value, str):
                errs.append(f"{path}: expected a timestamp string")
            return
        if name == "k8s.io.apimachinery.pkg.runtime.RawExtension":
            return
        schema, found_in = self.tekton_def(name, origin)
        if schema is not None:
            self.validate(value, schema, path, errs, found_in)
            return
        if name.startswith("v1."):
            model_name = "V1" + name[3:]
            if self.k8s is not None and hasattr(self.k8s, model_name):
                self.validate_k8s(value, model_name, path, errs)
                return
        self.unchecked.add(name)

    # -- Kubernetes core types, from python3-kubernetes' models --------------

    def k8s_model_for_object(self, api, kind):
        if self.k8s is None:
            return None
        version = api.rsplit("/", 1)[-1]
        model_name = version[0].upper() + version[1:] + kind
        return getattr(self.k8s, model_name, None)

    def k8s_required(self, model):
        if model not in self._required_cache:
            obj = model.__new__(model)
            obj.local_vars_configuration = self.k8s_config
            required = []
            for attr in model.openapi_types:
                try:
                    setattr(obj, attr, None)
                except ValueError:
                    required.append(model.attribute_map[attr])
            self._required_cache[model] = required
        return self._required_cache[model]

    def validate_k8s(self, value, type_str, path, errs, quantity=False):
        where = path or "."
        m = re.match(r"^list\[(.*)\]$", type_str)
        if m:
            if not isinstance(value, list):
                errs.append(f"{where}: expected a list, got {type_name(value)}")
                return
            for i, item in enumerate(value):
                self.validate_k8s(item, m.group(1), f"{path}[{i}]", errs, quantity)
            return
        m = re.match(r"^dict\(str, (.*)\)$", type_str)
        if m:
            if not isinstance(value, dict):
                errs.append(f"{where}: expected a mapping, got {type_name(value)}")
                return
            for key, item in value.items():
                self.validate_k8s(item, m.group(1), f"{path}.{key}", errs, quantity)
            return
        if type_str == "str":
            if not (isinstance(value, str) or (quantity and isinstance(value, (int, float)) and not isinstance(value, bool))):
                errs.append(f"{where}: expected a string, got {type_name(value)}")
            return
        if type_str == "int":
            if not isinstance(value, int) or isinstance(value, bool):
                errs.append(f"{where}: expected an integer, got {type_name(value)}")
            return
        if type_str == "bool":
            if not isinstance(value, bool):
                errs.append(f"{where}: expected a boolean, got {type_name(value)}")
            return
        if type_str == "float":
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                errs.append(f"{where}: expected a number, got {type_name(value)}")
            return
        if type_str in ("datetime", "date"):
            if not isinstance(value, str):
                errs.append(f"{where}: expected a timestamp string")
            return
        if type_str == "object":
            return
        model = getattr(self.k8s, type_str, None)
        if model is None:
            self.unchecked.add(type_str)
            return
        if not isinstance(value, dict):
            errs.append(f"{where}: expected a mapping ({type_str}), got {type_name(value)}")
            return
        by_json = {j: a for a, j in model.attribute_map.items()}
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            if key not in by_json:
                errs.append(f"{sub}: unknown field (Kubernetes {type_str})")
                continue
            is_quantity = type_str == "V1ResourceRequirements" and key in ("limits", "requests")
            self.validate_k8s(item, model.openapi_types[by_json[key]], sub, errs, is_quantity)
        for req in self.k8s_required(model):
            if req not in value:
                errs.append(f"{where}: missing required field {req} (Kubernetes {type_str})")


def type_name(value):
    if value is None:
        return "nothing (empty value)"
    return {str: "a string", bool: "a boolean", int: "an integer", float: "a number",
            list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)


# ---------------------------------------------------------------------------
# Helpers over Tekton objects

def params_of(spec):
    return [p for p in spec.get("params") or [] if isinstance(p, dict)]


def param_names(spec):
    return [p.get("name") for p in params_of(spec)]


def strings_in(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from strings_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings_in(v)


def tekton_vars(value):
    """(prefix, path parts) of every $(...) Tekton variable in value."""
    for s in strings_in(value):
        for m in TEKTON_VAR.finditer(s):
            parts = re.findall(r"\.([-\w]+)|\[['\"]([^'\"]+)['\"]\]|\[(\*)\]", m.group(2))
            yield m.group(1), [a or b or c for a, b, c in parts]


def steps_of(spec):
    return [s for s in spec.get("steps") or [] if isinstance(s, dict)]


def pipeline_tasks(spec):
    return [t for t in (spec.get("tasks") or []) + (spec.get("finally") or []) if isinstance(t, dict)]


def embedded_task_specs(doc):
    """(where, task spec) of Tasks and of taskSpecs embedded in Pipelines."""
    if doc.kind == "Task":
        yield "spec", doc.spec
    elif doc.kind == "Pipeline":
        for t in pipeline_tasks(doc.spec):
            if isinstance(t.get("taskSpec"), dict):
                yield f"task {t.get('name')}", t["taskSpec"]
    elif doc.kind == "PipelineRun" and isinstance(doc.spec.get("pipelineSpec"), dict):
        for t in pipeline_tasks(doc.spec["pipelineSpec"]):
            if isinstance(t.get("taskSpec"), dict):
                yield f"task {t.get('name')}", t["taskSpec"]


def images_of(doc):
    """(where, image, params of the spec) of every container image used."""
    if doc.kind == "StepAction":
        yield "image", doc.spec.get("image"), params_of(doc.spec)
        return
    for where, spec in embedded_task_specs(doc):
        for s in steps_of(spec) + [x for x in spec.get("sidecars") or [] if isinstance(x, dict)]:
            if "image" in s:
                yield f"{where} step {s.get('name')}", s.get("image"), params_of(spec)
        tmpl = spec.get("stepTemplate")
        if isinstance(tmpl, dict) and "image" in tmpl:
            yield f"{where} stepTemplate", tmpl.get("image"), params_of(spec)


IMAGE_RE = re.compile(
    r"^(?:(?P<host>[a-zA-Z0-9.-]+(?::[0-9]+)?)/)?"
    r"(?P<repo>[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"(?::(?P<tag>[^@]+))?(?:@(?P<digest>.+))?$")


def parse_image(ref):
    m = IMAGE_RE.match(ref)
    if not m:
        return None
    d = m.groupdict()
    if d["host"] and "." not in d["host"] and ":" not in d["host"] and d["host"] != "localhost":
        # docker's rule: a first component without a dot or port is a path
        d["repo"] = d["host"] + "/" + d["repo"]
        d["host"] = None
    return d


def resolve_param_default(image, params):
    m = re.fullmatch(r"\$\(params\.([-\w]+)\)", image or "")
    if not m:
        return image, None
    for p in params:
        if p.get("name") == m.group(1):
            return p.get("default"), m.group(1)
    return None, m.group(1)


def markdown_section(text, title):
    m = re.search(rf"^## {re.escape(title)}\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    return m.group(1) if m else None


def readme_param_table(section):
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not line.strip().startswith("|"):
            continue
        m = re.fullmatch(r"`([^`]+)`", cells[0])
        if not m:
            continue
        default = cells[1]
        dm = re.fullmatch(r"`(.*)`", default)
        if dm:
            default = dm.group(1)
            if len(default) >= 2 and default[0] == default[-1] == '"':
                default = default[1:-1]
        else:
            default = None  # "(required)" and the like
        rows.append((m.group(1), default, cells[2]))
    return rows


def project_version(root):
    path = os.path.join(root, "meson.build")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as fh:
        m = re.search(r"project\s*\(\s*'approve-step'.*?version\s*:\s*'([^']+)'", fh.read(), re.S)
    return m.group(1) if m else "unparsable"


def containerfile_versions(root):
    path = os.path.join(root, "Containerfile")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as fh:
        return re.findall(r"^\s*ARG\s+VERSION=(\S+)", fh.read(), re.M)


def find_binary(root):
    for binary in (os.environ.get("APPROVE_STEP_BIN"), os.path.join(root, "build", "approve-step", "approve-step")):
        if binary and os.path.isfile(binary) and os.access(binary, os.X_OK):
            return binary
    return None


class Skip(Exception):
    """A check that cannot run here (reported as SKIP, not as a pass)."""


def documented_options(root):
    """The --options the binary documents, and where they were read."""
    candidates = [os.environ.get("APPROVE_STEP_BIN"),
                  os.path.join(root, "build", "approve-step", "approve-step")]
    for binary in candidates:
        if binary and os.access(binary, os.X_OK):
            try:
                out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=10)
            except OSError:
                continue
            if out.returncode == 0:
                return set(re.findall(r"(--[a-z][-a-z]*)", out.stdout)), f"{binary} --help"
    source = os.path.join(root, "approve-step", "options.c")
    if os.path.exists(source):
        with open(source, encoding="utf-8") as fh:
            text = fh.read()
        # the C string literals that make up `static const char usage[] = ...;`
        m = re.search(r"usage\[\]\s*=((?:\s*\"(?:[^\"\\\n]|\\.)*\")+)\s*;", text)
        if m:
            return set(re.findall(r"(--[a-z][-a-z]*)", m.group(1))), "the usage text in approve-step/options.c"
    return CONTRACT_OPTIONS, "the contract's option list (no binary or options.c found)"


# ---------------------------------------------------------------------------
# The checks: each returns a list of problems (empty: pass) and may add notes

CHECKS = []


def check(name, description):
    def register(fn):
        CHECKS.append((name, description, fn))
        return fn
    return register


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
    for kind_dir, name, version, path in ctx.catalog_resources():
        for d in ctx.docs_in(path):
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
                missing = PLATFORMS_REQUIRED - set(items)
                if missing:
                    errs.append(f"{rel}: platforms lack {', '.join(sorted(missing))}")
            desc = d.spec.get("description")
            if not isinstance(desc, str) or len(desc.split()) < 8:
                errs.append(f"{rel}: spec.description missing or too short to say what it does")
    return errs


@check("catalog-descriptions", "every param, workspace and result of the catalog resources is described")
def check_catalog_descriptions(ctx, notes):
    errs = []
    for kind_dir, name, version, path in ctx.catalog_resources():
        for d in ctx.docs_in(path):
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
    if not key or key.get("default") != "$(context.taskRun.name)":
        errs.append("param key must default to \"$(context.taskRun.name)\" (per-run isolation)")
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
    for kind_dir, name, version, path in ctx.catalog_resources():
        readme = os.path.join(os.path.dirname(path), "README.md")
        if not os.path.exists(readme):
            errs.append(f"{ctx.rel(readme)} missing")
            continue
        with open(readme, encoding="utf-8") as fh:
            section = markdown_section(fh.read(), "Parameters")
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
    for kind_dir, name, version, path in ctx.catalog_resources():
        readme = os.path.join(os.path.dirname(path), "README.md")
        if not os.path.exists(readme):
            errs.append(f"{ctx.rel(readme)} missing")
            continue
        with open(readme, encoding="utf-8") as fh:
            text = fh.read()
        need = README_NEEDS[kind_dir]
        for section in need["sections"]:
            body = markdown_section(text, section)
            if body is None or not body.split():
                errs.append(f"{ctx.rel(readme)}: section '## {section}' missing or empty")
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


# ---------------------------------------------------------------------------
# Self-test: break copies of the files on purpose; the named check must fail

def edit(root, rel, old, new, count=1):
    path = os.path.join(root, rel)
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    if old not in text:
        raise AssertionError(f"mutation does not apply any more: {old!r} not in {rel}")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text.replace(old, new, count))


def write(root, rel, text):
    os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
    with open(os.path.join(root, rel), "w", encoding="utf-8") as fh:
        fh.write(text)


TASK = "catalog/task/approve-step/0.1/approve-step.yaml"
SA = "catalog/stepaction/approve-step/0.1/approve-step.yaml"
TASK_README = "catalog/task/approve-step/0.1/README.md"
TASK_TEST = "catalog/task/approve-step/0.1/tests/run.yaml"

MUTATIONS = [
    ("yaml-parse", "a syntax error", lambda r: edit(r, TASK, "  steps:\n", "  steps: [\n")),
    ("yaml-parse", "a duplicate key", lambda r: edit(r, TASK, "      default: \"86400\"\n", "      default: \"86400\"\n      default: \"60\"\n")),
    ("yamllint", "a trailing space", lambda r: edit(r, TASK, "kind: Task\n", "kind: Task \n")),
    ("yamllint", "an empty value", lambda r: edit(r, TASK_TEST, "  status: \"success\"\n", "  status:\n")),
    ("schema", "an unknown field in a Tekton type", lambda r: edit(r, TASK, "      onError:", "      onErrors:")),
    ("schema", "an unknown field in a core type", lambda r: edit(r, TASK, "runAsNonRoot: true", "runAsNonroot: true")),
    ("schema", "a wrong type", lambda r: edit(r, TASK, "      readOnly: true", "      readOnly: \"true\"")),
    ("schema", "a missing required field", lambda r: edit(r, TASK_TEST, "  - kind: ServiceAccount\n    name: approve-step-e2e-voter\n", "  - kind: ServiceAccount\n")),
    ("schema", "an unknown field in a PipelineRun", lambda r: edit(r, TASK_TEST, "  timeouts:\n    pipeline: 9m\n", "  timeout: 9m\n  timeouts:\n    pipeline: 9m\n")),
    ("catalog-layout", "metadata.name unlike the folder", lambda r: edit(r, TASK, "  name: approve-step\n", "  name: approve-steps\n")),
    ("catalog-layout", "no tests/run.yaml", lambda r: os.remove(os.path.join(r, TASK_TEST))),
    ("catalog-metadata", "no categories", lambda r: edit(r, TASK, "    tekton.dev/categories: Automation\n", "")),
    ("catalog-metadata", "an unknown category", lambda r: edit(r, TASK, "tekton.dev/categories: Automation", "tekton.dev/categories: Approval")),
    ("catalog-metadata", "a version label unlike the folder", lambda r: edit(r, SA, "app.kubernetes.io/version: \"0.1\"", "app.kubernetes.io/version: \"0.2\"")),
    ("catalog-metadata", "a platform missing", lambda r: edit(r, TASK, "\"linux/amd64,linux/arm64\"", "\"linux/amd64\"")),
    ("catalog-descriptions", "an undescribed result", lambda r: edit(r, TASK, "      description: Whole seconds spent waiting for the decision.\n", "")),
    ("catlin-images", "the tag latest", lambda r: edit(r, TASK_TEST, "image: docker.io/library/busybox:1.36.1", "image: docker.io/library/busybox:latest")),
    ("catlin-images", "an untagged image", lambda r: edit(r, TASK_TEST, "image: registry.k8s.io/kubectl:v1.31.0", "image: registry.k8s.io/kubectl")),
    ("catlin-images", "no registry host", lambda r: edit(r, TASK_TEST, "image: docker.io/library/busybox:1.36.1", "image: busybox:1.36.1")),
    ("catlin-images", "an untagged image param default", lambda r: edit(r, TASK, "ghcr.io/approve-step/approve-step:0.1.0", "ghcr.io/approve-step/approve-step")),
    ("step-contract", "a writable root file system", lambda r: edit(r, TASK, "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")),
    ("step-contract", "a script instead of command", lambda r: edit(r, TASK, "      command: [\"/approve-step\"]\n", "      script: /approve-step\n")),
    ("step-contract", "a shared default key", lambda r: edit(r, TASK, "default: \"$(context.taskRun.name)\"", "default: \"status\"")),
    ("step-contract", "a results dir that is not Tekton's", lambda r: edit(r, TASK, "        - /tekton/results\n", "        - /tmp/results\n")),
    ("references", "an undeclared param", lambda r: edit(r, TASK, "- $(params.key)", "- $(params.kee)")),
    ("references", "an unknown Task result", lambda r: edit(r, TASK_TEST, "$(tasks.wait.results.comment)", "$(tasks.wait.results.comments)")),
    ("references", "a Pipeline param that is not passed", lambda r: edit(r, TASK_TEST, "    - name: expected-decision\n      value: timeout\n", "")),
    ("references", "an unknown taskRef", lambda r: edit(r, TASK_TEST, "        name: approve-step-e2e-check\n", "        name: approve-step-e2e-checks\n")),
    ("references", "a TaskRun whose workspace is not bound", lambda r: edit(r, "examples/volumes/emptydir-taskrun.yaml", "    - name: decision\n", "    - name: decisions\n")),
    ("task-stepaction-sync", "a different default", lambda r: edit(r, SA, "default: \"86400\"", "default: \"3600\"")),
    ("task-stepaction-sync", "different args", lambda r: edit(r, SA, "    - --on-timeout\n    - $(params.on-timeout)\n", "")),
    ("readme-params", "a param missing from the table", lambda r: edit(r, TASK_README, "| `requester` |", "| `requestor` |")),
    ("readme-params", "a wrong default in the table", lambda r: edit(r, TASK_README, "| `on-timeout` | `\"refuse\"` |", "| `on-timeout` | `\"approve\"` |")),
    ("readme-sections", "no Platforms section", lambda r: edit(r, TASK_README, "## Platforms\n", "## Architectures\n")),
    ("readme-sections", "no nudge command", lambda r: edit(r, TASK_README, "approve-step/nudge=\"$(date +%s)\" --overwrite", "approve-step/nudge=now", count=-1)),
    ("image-version", "a project version unlike the tag", lambda r: write(r, "meson.build", "project(\n  'approve-step',\n  'c',\n  version: '0.2.0',\n)\n")),
    ("image-version", "a Containerfile version unlike the tag", lambda r: (write(r, "meson.build", "project('approve-step', 'c', version: '0.1.0')\n"), write(r, "Containerfile", "ARG VERSION=0.1.1\n"))),
    ("binary-options", "an option the binary does not have", lambda r: edit(r, TASK, "        - --requester\n", "        - --verbose\n        - \"yes\"\n        - --requester\n")),
    ("binary-options", "an option without value", lambda r: edit(r, SA, "    - --key\n    - $(params.key)\n", "    - --key\n")),
    ("binary-run", "a default the binary rejects", lambda r: edit(r, TASK, "      default: \"refuse\"\n", "      default: \"deny\"\n")),
    ("e2e-tests", "a test PipelineRun without timeouts", lambda r: edit(r, TASK_TEST, "  timeouts:\n    pipeline: 9m\n", "", count=-1)),
    ("e2e-tests", "a voter Role not limited by resourceNames", lambda r: edit(r, TASK_TEST, "    resourceNames: [\"approve-step-e2e\"]\n", "")),
    ("e2e-tests", "a refusal that would fail the run", lambda r: edit(r, TASK_TEST, "    - name: on-error\n      value: continue\n    - name: expected-decision\n      value: refused\n", "    - name: expected-decision\n      value: refused\n")),
    ("owners", "no OWNERS", lambda r: os.remove(os.path.join(r, "catalog", "OWNERS"))),
    ("examples-readme", "an example file the README does not apply", lambda r: write(r, "examples/extra/pipeline.yaml", "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  status: init\n")),
]


def copy_tree(src_root, dst_root):
    for rel in ("catalog", "examples", os.path.join("tests", "catalog")):
        src = os.path.join(src_root, rel)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(dst_root, rel))
    for rel in ("meson.build", "Containerfile", os.path.join("approve-step", "options.c")):
        src = os.path.join(src_root, rel)
        if os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(dst_root, rel)), exist_ok=True)
            shutil.copy(src, os.path.join(dst_root, rel))


def run_check(name, ctx):
    fn = next(fn for n, _, fn in CHECKS if n == name)
    notes = []
    try:
        return fn(ctx, notes), notes
    except Skip:
        raise
    except Exception as e:  # a crash is a failure of the check, not of the run
        return [f"check crashed: {type(e).__name__}: {e}"], notes


def self_test(root, api_dir):
    binary = find_binary(root)
    results = []
    for name, what, mutate in MUTATIONS:
        tmp = tempfile.mkdtemp(prefix="approve-step-catalog-")
        try:
            copy_tree(root, tmp)
            mutate(tmp)
            errs, _ = run_check(name, Context(tmp, api_dir, binary))
            results.append((f"self-test: {name} fails on {what}", [] if errs else ["the check passed on broken files"], []))
        except Skip as e:
            results.append((f"self-test: {name} fails on {what}", None, [str(e)]))
        except AssertionError as e:
            results.append((f"self-test: {name} fails on {what}", [str(e)], []))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return results


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_root = os.path.dirname(os.path.dirname(here))
    try:
        default_root = subprocess.run(["git", "-C", here, "rev-parse", "--show-toplevel"],
                                      capture_output=True, text=True, check=True).stdout.strip() or default_root
    except (OSError, subprocess.CalledProcessError):
        pass
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=default_root, help="repository root (default: this checkout)")
    parser.add_argument("--self-test", action="store_true", help="also break copies on purpose and require each check to fail")
    parser.add_argument("--only", action="append", help="run only this check (repeatable)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print notes under passing checks")
    args = parser.parse_args()
    root = os.path.abspath(args.root)
    api_dir = os.environ.get("TEKTON_API_DIR") or os.path.join(root, "..", "shared", "tekton-api")
    api_dir = os.path.abspath(api_dir)

    ctx = Context(root, api_dir)
    outcomes = []
    for name, description, fn in CHECKS:
        if args.only and name not in args.only:
            continue
        try:
            errs, notes = run_check(name, ctx)
        except Skip as e:
            errs, notes = None, [str(e)]
        outcomes.append((f"{name}: {description}", errs, notes))
    if args.self_test:
        outcomes += self_test(root, api_dir)

    passed = failed = skipped = 0
    for title, errs, notes in outcomes:
        if errs is None:
            skipped += 1
            print(f"SKIP {title}")
            for n in notes:
                print(f"    {n}")
            continue
        if errs:
            failed += 1
            print(f"FAIL {title}")
            for e in errs:
                print(f"    {e}")
        else:
            passed += 1
            print(f"PASS {title}")
        if notes and (errs or args.verbose):
            for n in notes:
                print(f"    note: {n}")
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

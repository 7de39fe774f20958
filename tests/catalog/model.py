"""The catalog's files as the checks see them: the facts they are compared
against (the catalog's categories, the step's contract), the YAML loaded
with duplicate keys refused, helpers over Tekton objects, and the registry
the checks add themselves to (rules.py, consistency.py)."""

import glob
import os
import re
import subprocess

import yaml

# ---------------------------------------------------------------------------
# Facts the checks compare against

CATEGORIES = {
    "Automation", "Build Tools", "CLI", "Cloud", "Code Quality",
    "Continuous Integration", "Deployment", "Developer Tools", "Image Build",
    "Integration & Delivery", "Git", "Kubernetes", "Messaging", "Monitoring",
    "Networking", "Openshift", "Publishing", "Security", "Storage", "Testing",
}
# The platforms the image has been built and tested on: the catalog claims
# exactly these (annotation and README), no others.
PLATFORMS_TESTED = {"linux/amd64", "linux/arm64"}
CATALOG_KINDS = {"task": "Task", "stepaction": "StepAction"}

# The binary's options as the contract lists them; used only when neither a
# built binary nor approve-step/options.c is there to ask.
CONTRACT_OPTIONS = {
    "--dir", "--key", "--timeout", "--on-timeout", "--results-dir",
    "--configmap", "--namespace", "--poll-interval", "--approvals",
    "--approvers", "--requester", "--bindings-pinned", "--help", "--version",
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

    def catalog_docs(self):
        """(kind folder, version, path, object) of every catalog object."""
        for kind_dir, _, version, path in self.catalog_resources():
            for d in self.docs_in(path):
                yield kind_dir, version, path, d

    def catalog_readmes(self, errs):
        """(kind folder, README path, its text, resource path) beside each
        catalog resource; a missing README goes to errs."""
        for kind_dir, _, _, path in self.catalog_resources():
            readme = os.path.join(os.path.dirname(path), "README.md")
            if not os.path.exists(readme):
                errs.append(f"{self.rel(readme)} missing")
                continue
            with open(readme, encoding="utf-8") as fh:
                yield kind_dir, readme, fh.read(), path

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

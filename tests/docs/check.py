#!/usr/bin/env python3
"""Checks that what the Markdown files name exists in the code or the YAML.

    python3 tests/docs/check.py [--root DIR] [--binary PATH] [--self-test] [-v]

Reads every Markdown file of the repository (tracked or new, not ignored)
and checks, one PASS/FAIL line each, then "N passed, M failed":

  paths     every link target and every repository path in code (`examples/
            rbac/approver-role.yaml`, `kubectl apply -f ...`) exists
  options   every --option: an approve-step option (its --help) where
            approve-step runs, a kubectl-approve option after `kubectl
            approve`, a bench/run option after `bench/run`; elsewhere one of
            the project's programs' options or a string of the code, scripts
            or YAML (the kubectl, podman, meson options they use); the
            README's option table and synopsis list exactly --help's options
  params    Task and StepAction params in YAML snippets (taskRef/ref
            approve-step), `$(params.X)` and "param `X`": declared in YAML
  results   `$(tasks.T.results.R)`, `$(steps.S.results.R)`, "result `R`"
            and the README's results table: the Task's results
  labels    label and annotation keys (`approve-step/gate`, `tekton.dev/
            pipelineRun`, ...) appear in the code, scripts or YAML
  steps     `./test.sh STEP` names a step of test.sh; the README lists them all
  tests     test names (`Cancel.test_sigterm`, `test_sigint`) exist in tests/

--binary (or $APPROVE_STEP_BIN, else build/approve-step/approve-step) is
asked for --help; without it, the usage text in approve-step/options.c is
read. --self-test then breaks copies of the files once per check and
requires that check to fail. Needs python3 and python3-yaml.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tally import Tally  # noqa: E402

SOURCE_DIRS = ("approve-step", "bench", "catalog", "docs", "examples",
               "plugin", "policy", "tests", "tools")
ROOT_FILES = ("README.md", "LICENSE", "Containerfile", "meson.build",
              "meson_options.txt", "demo.sh", "test.sh")
# Options of tools the project only mentions (jq, debootstrap, podman
# build, kubectl create): not in any script, so not checkable here.
EXTERNAL_OPTIONS = {"--arg", "--from-literal", "--as-group", "--dry-run",
                    "--platform", "--push", "--variant", "--format",
                    "--option", "--list", "--duration", "--repeat",
                    "--keep", "--build-arg"}
LABEL_RE = re.compile(r"(?<![\w./-])((?:approve-step|tekton\.dev|app\.kubernetes\.io)/[A-Za-z][\w.-]*[A-Za-z0-9])")
OPTION_RE = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")
SHELL_LANGS = ("sh", "bash", "shell")
# A command line in an unmarked block (not recorded output).
COMMAND_LINE_RE = re.compile(r"^(\$ )?(kubectl|approve-step|podman|docker|meson|\./[\w.-]+|(tests|tools|bench)/[\w./-]+)(?= )")
# Labels Tekton itself puts on runs and pods (not the project's to define).
TEKTON_LABELS = {"tekton.dev/pipelineRun", "tekton.dev/taskRun", "tekton.dev/task",
                 "tekton.dev/pipeline", "tekton.dev/pipelineTask", "tekton.dev/memberOf"}
FENCE_RE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w-]*)\s*$")


# ------------------------------------------------------------------ the repo

def tracked_files(root):
    try:
        out = subprocess.run(
            ["git", "-C", root, "ls-files", "-z", "--cached", "--others",
             "--exclude-standard"], capture_output=True, check=True).stdout
        files = [f for f in out.decode().split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for d, dirs, names in os.walk(root):
            dirs[:] = [x for x in dirs if x not in (".git", "node_modules") and not x.startswith("build")]
            files += [os.path.relpath(os.path.join(d, n), root) for n in names]
    return sorted(f for f in files if os.path.isfile(os.path.join(root, f))
                  and "node_modules/" not in f)


def read(root, rel):
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as fh:
        return fh.read()


class Markdown:
    """One Markdown file split into prose spans and code lines."""

    def __init__(self, rel, text):
        self.rel, self.text = rel, text
        self.code = []      # (line number, language, line) inside fences
        self.blocks = []    # (line number, language, text) of each fence
        self.prose = []     # (line number, line) outside fences
        fence, lang, start, buf = None, "", 0, []
        for n, line in enumerate(text.splitlines(), 1):
            m = FENCE_RE.match(line)
            if m and fence is None:
                fence, lang, start, buf = m.group(2), m.group(3), n, []
            elif m and fence and m.group(2).startswith(fence[0]) and len(m.group(2)) >= len(fence):
                self.blocks.append((start, lang, "\n".join(buf)))
                fence = None
            elif fence is not None:
                self.code.append((n, lang, line))
                buf.append(line)
            else:
                self.prose.append((n, line))

    def inline(self):
        """(line, span) for every `code span` of the prose."""
        for n, line in self.prose:
            for m in re.finditer(r"(`+)(.+?)\1", line):
                yield n, m.group(2).strip()

    def snippets(self):
        """Every piece of code a reader is meant to run or copy: inline
        spans, and code lines of shell and YAML blocks (not recorded
        output in unmarked blocks)."""
        yield from self.inline()
        for n, lang, line in self.code:
            if (lang in SHELL_LANGS + ("yaml", "yml")
                    or (lang == "console" and line.startswith("$ "))
                    or (lang == "" and COMMAND_LINE_RE.match(line))):
                yield n, line

    def links(self):
        for n, line in self.prose:
            for m in re.finditer(r"\]\(([^)\s]+)\)", line):
                yield n, m.group(1)


class Repo:
    def __init__(self, root, binary=None):
        self.root = root
        self.files = tracked_files(root)
        self.docs = [Markdown(f, read(root, f)) for f in self.files if f.endswith(".md")]
        texts = []
        for f in self.files:
            if (f.endswith(".md") or "/corpus/" in f or f.endswith((".svg", ".csv", ".json"))
                    or f.startswith("tests/docs/")):
                continue
            try:
                texts.append(read(root, f))
            except OSError:
                pass
        self.code_text = "\n".join(texts)
        self.yaml_docs = []
        for f in self.files:
            if f.endswith((".yaml", ".yml")):
                try:
                    self.yaml_docs += [(f, d) for d in yaml.safe_load_all(read(root, f)) if isinstance(d, dict)]
                except yaml.YAMLError:
                    pass
        self.binary = binary
        self.approve_options = self.help_options([binary, "--help"] if binary else None,
                                                 "approve-step/options.c")
        self.plugin_options = self.help_options(["sh", os.path.join(root, "plugin/kubectl-approve"), "--help"],
                                                "plugin/kubectl-approve")
        self.bench_options = self.help_options([sys.executable, os.path.join(root, "bench/run"), "--help"],
                                               "bench/run")
        self.steps = []
        m = re.search(r'^STEPS="([^"]*)"', read(root, "test.sh"), re.M) if "test.sh" in self.files else None
        if m:
            self.steps = m.group(1).split()

    def help_options(self, argv, fallback):
        text = ""
        if argv and argv[0] and (os.path.isabs(argv[0]) or shutil.which(argv[0])):
            try:
                r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
                text = r.stdout + r.stderr
            except OSError:
                text = ""
        if not OPTION_RE.search(text) and fallback in self.files:
            text = read(self.root, fallback)
        return set(OPTION_RE.findall(text))

    def catalog(self, kind):
        for f, d in self.yaml_docs:
            if f.startswith("catalog/") and "/samples/" not in f and "/tests/" not in f and d.get("kind") == kind:
                return d
        return {}

    def params_of(self, kind):
        return {p.get("name") for p in (self.catalog(kind).get("spec") or {}).get("params") or []}

    def results_of(self, kind):
        return {r.get("name") for r in (self.catalog(kind).get("spec") or {}).get("results") or []}

    def all_params(self):
        names = set()
        for _, d in self.yaml_docs:
            walk_params(d, names)
        return names

    def ignored(self, rel):
        """A path git ignores: made by a build or an install, not shipped."""
        try:
            # A directory pattern (node_modules/) matches only with the slash.
            return subprocess.run(["git", "-C", self.root, "check-ignore", "-q", rel.rstrip("/") + "/"],
                                  capture_output=True).returncode == 0
        except OSError:
            return False

    def exists(self, rel, base=""):
        rel = rel.split("#")[0]
        for cand in (os.path.join(base, rel), rel):
            path = os.path.normpath(os.path.join(self.root, cand))
            if os.path.exists(path):
                return True
        return False


def walk_params(node, names):
    if isinstance(node, dict):
        for key in ("params",):
            for p in node.get(key) or [] if isinstance(node.get(key), list) else []:
                if isinstance(p, dict) and isinstance(p.get("name"), str):
                    names.add(p["name"])
        for v in node.values():
            walk_params(v, names)
    elif isinstance(node, list):
        for v in node:
            walk_params(v, names)


# ------------------------------------------------------------------ checks

CHECKS = []
SEEN = {}   # check name -> how many names it looked at


def seen(name, k=1):
    SEEN[name] = SEEN.get(name, 0) + k


def check(name, what):
    def register(fn):
        CHECKS.append((name, what, fn))
        return fn
    return register


def where(doc, n):
    return f"{doc.rel}:{n}"


PATH_RE = re.compile(r"(?<![\w/.$-])((?:%s)/[\w./-]*|(?:%s))(?![\w/-])" %
                     ("|".join(SOURCE_DIRS), "|".join(re.escape(f) for f in ROOT_FILES)))


def path_candidates(snippet):
    for m in PATH_RE.finditer(snippet):
        p = m.group(1).rstrip(".,:;")
        if p.startswith("approve-step/"):
            # approve-step/ is also the prefix of label keys: only files.
            last = p.split("/")[-1]
            if not re.search(r"\.(c|h|sh|build|py)$", last):
                continue
        if "..." in p or "*" in p or p.endswith("/."):
            continue
        yield p


@check("paths", "every link target and repository path named in the Markdown exists")
def check_paths(repo):
    errs = []
    for doc in repo.docs:
        base = os.path.dirname(doc.rel)
        for n, target in doc.links():
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            seen("paths")
            if not repo.exists(target, base):
                errs.append(f"{where(doc, n)}: link to {target}, which does not exist")
        for n, snippet in doc.snippets():
            if "<" in snippet or "NAME" in snippet:
                continue
            for p in path_candidates(snippet):
                seen("paths")
                if not repo.exists(p, base) and not repo.ignored(p):
                    errs.append(f"{where(doc, n)}: names {p}, which does not exist")
    return errs


def command_context(line):
    """The program a code line runs, and the rest of the line after it."""
    line = re.sub(r"^\s*(\$\s+|#\s+)?", "", line)
    for prog, pat in (("approve-step", r"(?:^|\s)(?:\S*/)?approve-step(?=\s+-)"),
                      ("kubectl-approve", r"\bkubectl[ -]approve\b"),
                      ("bench", r"(?:^|\s)(?:\./)?bench/run\b")):
        m = re.search(pat, line)
        if m and not line[:m.start()].strip().startswith(("podman", "docker")):
            return prog, line[m.end():]
    return None, line


@check("options", "every --option named in the Markdown exists where it is used; the README's table and synopsis are --help's options")
def check_options(repo):
    errs = []
    own = {"approve-step": repo.approve_options, "kubectl-approve": repo.plugin_options,
           "bench": repo.bench_options}
    known = set().union(*own.values())
    if not repo.approve_options:
        return ["no approve-step options found (--help or approve-step/options.c)"]
    for doc in repo.docs:
        for n, snippet in doc.snippets():
            prog, rest = command_context(snippet)
            for opt in OPTION_RE.findall(rest if prog else snippet):
                seen("options")
                if prog:
                    if opt not in own[prog]:
                        errs.append(f"{where(doc, n)}: {prog} has no option {opt}")
                elif opt not in known and opt not in EXTERNAL_OPTIONS and opt not in repo.code_text:
                    errs.append(f"{where(doc, n)}: {opt} is no option of the project's programs "
                                "and appears in no code, script or YAML")
    readme = next((d for d in repo.docs if d.rel == "README.md"), None)
    if readme is None:
        return errs + ["README.md missing"]
    section = re.search(r"^## Command line\s*$(.*?)(?=^## |\Z)", readme.text, re.M | re.S)
    if not section:
        return errs + ["README.md: no '## Command line' section"]
    body = section.group(1)
    table = set(re.findall(r"^\| `(--[a-z][a-z0-9-]*)", body, re.M))
    fence = re.search(r"^```[\w-]*\n(.*?)^```", body, re.M | re.S)
    synopsis = set(OPTION_RE.findall(fence.group(1) if fence else ""))
    want = repo.approve_options
    for label, got in (("option table", table), ("synopsis", synopsis)):
        for opt in sorted(got - want):
            errs.append(f"README.md: the {label} lists {opt}, which --help does not")
    for opt in sorted(want - table - {"--help", "--version"}):
        errs.append(f"README.md: --help's {opt} is missing from the option table")
    for opt in sorted(want - synopsis):
        errs.append(f"README.md: --help's {opt} is missing from the synopsis")
    return errs


def yaml_snippets(doc):
    for n, lang, text in doc.blocks:
        if lang not in ("yaml", "yml"):
            continue
        text = "\n".join(l for l in text.splitlines() if l.strip() not in ("...", "# ..."))
        try:
            docs = list(yaml.safe_load_all(text))
        except yaml.YAMLError:
            continue
        for d in docs:
            yield n, d


def approve_refs(node):
    """(kind, params) for every taskRef/ref to approve-step in a snippet."""
    if isinstance(node, dict):
        for key, kind in (("taskRef", "Task"), ("ref", "StepAction")):
            ref = node.get(key)
            if isinstance(ref, dict) and ref.get("name") == "approve-step" and isinstance(node.get("params"), list):
                yield kind, [p.get("name") for p in node["params"] if isinstance(p, dict)]
        for v in node.values():
            yield from approve_refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from approve_refs(v)


@check("params", "the params the Markdown names are declared: approve-step's in the Task or StepAction, others in some YAML")
def check_params(repo):
    errs = []
    declared = {"Task": repo.params_of("Task"), "StepAction": repo.params_of("StepAction")}
    if not declared["Task"]:
        return ["the catalog Task has no params (catalog/task/...)"]
    anywhere = repo.all_params()
    for doc in repo.docs:
        for n, d in yaml_snippets(doc):
            for kind, names in approve_refs(d):
                for name in names:
                    seen("params")
                    if name not in declared[kind]:
                        errs.append(f"{where(doc, n)}: the {kind} approve-step has no param {name!r}")
        for n, line in doc.prose:
            for m in re.finditer(r"\bparams? `([a-z][a-z0-9-]*)`|`([a-z][a-z0-9-]*)` params?\b", line):
                seen("params")
                name = m.group(1) or m.group(2)
                if name not in anywhere:
                    errs.append(f"{where(doc, n)}: param {name!r} is declared in no YAML")
        for n, snippet in doc.snippets():
            for m in re.finditer(r"\$\(params\.([a-z][a-z0-9-]*)\)", snippet):
                seen("params")
                if m.group(1) not in anywhere:
                    errs.append(f"{where(doc, n)}: $(params.{m.group(1)}) is declared in no YAML")
    return errs


@check("results", "the results the Markdown names are the Task's results")
def check_results(repo):
    errs = []
    results = repo.results_of("Task")
    if not results:
        return ["the catalog Task has no results"]
    for doc in repo.docs:
        for n, snippet in doc.snippets():
            for m in re.finditer(r"\$\((?:tasks\.[\w-]+\.|steps\.[\w-]+\.|step\.)?results\.([\w-]+)", snippet):
                seen("results")
                if m.group(1) not in results and not m.group(1).isupper():
                    errs.append(f"{where(doc, n)}: result {m.group(1)!r} is not one of the Task's")
        for n, line in doc.prose:
            for m in re.finditer(r"\bresults? `([a-z][a-z-]*)`(?!/)", line):
                seen("results")
                if m.group(1) not in results:
                    errs.append(f"{where(doc, n)}: result {m.group(1)!r} is not one of the Task's")
    readme = next((d for d in repo.docs if d.rel == "README.md"), None)
    section = re.search(r"^## Results\s*$(.*?)(?=^## |\Z)", readme.text if readme else "", re.M | re.S)
    if section:
        rows = re.findall(r"^\| `([a-z][a-z-]*)` \|", section.group(1), re.M)
        if set(rows) != results:
            errs.append(f"README.md: the Results table lists {sorted(rows)}, the Task {sorted(results)}")
    return errs


@check("labels", "every label or annotation key the Markdown names appears in the code, scripts or YAML")
def check_labels(repo):
    errs = []
    for doc in repo.docs:
        for n, snippet in doc.snippets():
            for key in LABEL_RE.findall(snippet):
                seen("labels")
                if repo.exists(key) or key in TEKTON_LABELS or re.search(r"\.(c|h|sh|py|yaml|md)$", key):
                    continue
                if key not in repo.code_text:
                    errs.append(f"{where(doc, n)}: label or annotation {key} appears in no code or YAML")
    return errs


@check("steps", "./test.sh STEP names a step of test.sh, and the README lists every step")
def check_steps(repo):
    if not repo.steps:
        return ["no STEPS= in test.sh"]
    errs = []
    for doc in repo.docs:
        for n, snippet in doc.snippets():
            m = re.search(r"(?:^|\s)\./test\.sh((?:\s+[a-z][a-z-]*)+)\s*(?:#|$)", snippet)
            if m:
                for step in m.group(1).split():
                    seen("steps")
                    if step not in repo.steps:
                        errs.append(f"{where(doc, n)}: ./test.sh has no step {step!r}")
    readme = next((d for d in repo.docs if d.rel == "README.md"), None)
    flat = " ".join((readme.text if readme else "").split())
    m = re.search(r"runs only some steps[^(]*\(([^)]*)\)", flat)
    if not m:
        errs.append("README.md: no list of test.sh's steps ('runs only some steps ... (`unit`, ...)')")
    else:
        listed = re.findall(r"`([a-z-]+)`", m.group(1))
        if listed != repo.steps:
            errs.append(f"README.md: lists the steps {listed}, test.sh has {repo.steps}")
    return errs


@check("tests", "the test names the Markdown gives as evidence exist in tests/")
def check_tests(repo):
    errs = []
    py = "\n".join(read(repo.root, f) for f in repo.files if f.startswith("tests/") and f.endswith(".py"))
    for doc in repo.docs:
        for n, span in doc.inline():
            m = re.fullmatch(r"(?:([A-Z]\w+)\.)?(test_\w+)", span)
            if not m:
                continue
            cls, fn = m.groups()
            seen("tests")
            if cls and not re.search(rf"^class {cls}\b(.*\n)+?\s+def {fn}\(", py, re.M):
                errs.append(f"{where(doc, n)}: no test {cls}.{fn} in tests/")
            elif not cls and not re.search(rf"^\s+def {fn}\(", py, re.M):
                errs.append(f"{where(doc, n)}: no test {fn} in tests/")
    return errs


# ------------------------------------------------------------------ running

def run_checks(repo, tally):
    for name, what, fn in CHECKS:
        SEEN.pop(name, None)
        errs = fn(repo)
        if not errs and not SEEN.get(name):
            errs = ["found nothing to check: the check no longer reads the files"]
        if len(errs) > 50:
            errs = errs[:50] + [f"... and {len(errs) - 50} more"]
        tally.check(f"{name}: {what} ({SEEN.get(name, 0)} names)", errs)


# (check, file, old, new): each edit must make that check fail.
MUTATIONS = [
    ("paths", "README.md", "(docs/approvers.md)", "(docs/approver.md)"),
    ("paths", "examples/README.md", "examples/rbac/finder-role.yaml", "examples/rbac/finders-role.yaml"),
    ("options", "README.md", "| `--poll-interval DURATION` |", "| `--poll-intervall DURATION` |"),
    ("options", "docs/approvers.md", "kubectl approve RUN [--refuse]", "kubectl approve RUN [--reject]"),
    ("options", "README.md", "[--approvals N]", "[--approvals-needed N]"),
    ("params", "catalog/task/approve-step/0.1/README.md", "        - name: configmap\n", "        - name: config-map\n"),
    ("params", "README.md", "        - name: image\n", "        - name: images\n"),
    ("params", "README.md", "the `image` param", "the `images` param"),
    ("results", "README.md", "$(tasks.approve.results.decision)", "$(tasks.approve.results.decisions)"),
    ("results", "README.md", "| `waited-seconds` |", "| `waited-secs` |"),
    ("labels", "README.md", "`approve-step/gate: \"true\"`", "`approve-step/gates: \"true\"`"),
    ("steps", "README.md", "`image`, `release`,", "`image`,"),
    ("tests", "README.md", "`Cancel.test_sigterm`", "`Cancel.test_sigterms`"),
]


def self_test(root, binary, tally):
    files = tracked_files(root)
    for name, rel, old, new in MUTATIONS:
        with tempfile.TemporaryDirectory(prefix="docs-check-") as tmp:
            for f in files:
                dst = os.path.join(tmp, f)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copy2(os.path.join(root, f), dst)
            path = os.path.join(tmp, rel)
            text = read(tmp, rel) if os.path.exists(path) else ""
            if old not in text:
                tally.fail(f"self-test: {name}: {rel} no longer holds {old!r}")
                continue
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text.replace(old, new, 1))
            fn = next(f for n, _, f in CHECKS if n == name)
            errs = fn(Repo(tmp, binary))
            if errs:
                tally.ok(f"self-test: {name} fails on {rel}: {old!r} -> {new!r}")
            else:
                tally.fail(f"self-test: {name} does not fail on {rel}: {old!r} -> {new!r}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--root", default=os.path.normpath(os.path.join(here, "..", "..")))
    ap.add_argument("--binary", default=os.environ.get("APPROVE_STEP_BIN"))
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    binary = args.binary
    if not binary:
        cand = os.path.join(args.root, "build", "approve-step", "approve-step")
        binary = cand if os.access(cand, os.X_OK) else None
    repo = Repo(args.root, binary)
    print(f"docs-check: {len(repo.docs)} Markdown files; approve-step options from "
          f"{binary + ' --help' if binary else 'approve-step/options.c'}")
    tally = Tally()
    run_checks(repo, tally)
    if args.self_test:
        self_test(args.root, binary, tally)
    return tally.close()


if __name__ == "__main__":
    sys.exit(main())

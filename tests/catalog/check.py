#!/usr/bin/python3
"""Offline checks of the Tekton catalog resources and the examples.

Runs without a cluster: YAML syntax and yamllint, validation of every object
against Tekton's own OpenAPI definitions (and Kubernetes' for core types),
the catalog's rules (what catlin enforces and reviewers ask for), the
consistency of Task, StepAction, READMEs, image tag and the binary's options.

Prints one PASS/FAIL line per check and `N passed, M failed`; exits 1 when a
check fails. With --self-test (the default in run.sh) it also breaks copies
of the files on purpose and requires the matching check to fail.

The checks live in rules.py (the catalog's rules) and consistency.py (the
catalog against the rest of the project), over the files model.py loads;
schemas.py turns the API definitions into JSON Schema; mutations.yaml is
the self-test's table.

Needs: python3-yaml, python3-jsonschema, python3-kubernetes (Kubernetes core
types), yamllint.
Tekton's definitions: $TEKTON_API_DIR, else <repo>/../shared/tekton-api.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import rules  # noqa: E402,F401  (the checks register themselves, in order)
import consistency  # noqa: E402,F401
from model import CHECKS, Context, Skip, find_binary  # noqa: E402
from tally import Tally  # noqa: E402


# ---------------------------------------------------------------------------
# Self-test: break copies of the files on purpose; the named check must fail

def load_mutations():
    with open(os.path.join(HERE, "mutations.yaml"), encoding="utf-8") as fh:
        table = yaml.safe_load(fh)
    return table["files"], table["mutations"]


def mutate(root, files, m):
    """Breaks the copy at root as mutation m says (see mutations.yaml)."""
    def path(name):
        return os.path.join(root, files.get(name, name))
    if "edit" in m:
        e = m["edit"]
        with open(path(e["file"]), encoding="utf-8") as fh:
            text = fh.read()
        if e["old"] not in text:
            raise AssertionError(f"mutation does not apply any more: "
                                 f"{e['old']!r} not in {e['file']}")
        with open(path(e["file"]), "w", encoding="utf-8") as fh:
            fh.write(text.replace(e["old"], e["new"], e.get("count", 1)))
    if "remove" in m:
        os.remove(path(m["remove"]))
    for name, text in (m.get("write") or {}).items():
        os.makedirs(os.path.dirname(path(name)), exist_ok=True)
        with open(path(name), "w", encoding="utf-8") as fh:
            fh.write(text)


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



def self_test(root, api_dir, tally):
    binary = find_binary(root)
    files, mutations = load_mutations()
    for m in mutations:
        title = f"self-test: {m['check']} fails on {m['what']}"
        tmp = tempfile.mkdtemp(prefix="approve-step-catalog-")
        try:
            copy_tree(root, tmp)
            mutate(tmp, files, m)
            errs, _ = run_check(m["check"], Context(tmp, api_dir, binary))
            tally.check(title, [] if errs else
                        ["the check passed on broken files"])
        except Skip as e:
            tally.skip(title, str(e))
        except AssertionError as e:
            tally.fail(title, [str(e)])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    default_root = os.path.dirname(os.path.dirname(HERE))
    try:
        default_root = subprocess.run(["git", "-C", HERE, "rev-parse", "--show-toplevel"],
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
    tally = Tally()
    for name, description, fn in CHECKS:
        if args.only and name not in args.only:
            continue
        title = f"{name}: {description}"
        try:
            errs, notes = run_check(name, ctx)
        except Skip as e:
            tally.skip(title, str(e))
            continue
        notes = [f"note: {n}" for n in notes]
        if errs:
            tally.fail(title, errs + notes)
        else:
            tally.ok(title, notes if args.verbose else ())
    if args.self_test:
        self_test(root, api_dir, tally)
    return tally.close()


if __name__ == "__main__":
    sys.exit(main())

"""How a plugin case runs: kubectl-approve against the stand-in kubectl
(fake/kubectl) on a copy of fixtures/cluster.json, the exact kubectl calls
it is expected to make, and the check of what it did."""

import json
import os
import shutil
import subprocess
import tempfile

from cases import Registry

# The plugin's cases, in test_plugin.py, errors.py and steering.py.
CASES = Registry("")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PLUGIN = os.environ.get("PLUGIN", os.path.join(ROOT, "plugin", "kubectl-approve"))
FAKE = os.path.join(HERE, "fake")
FIXTURE = os.path.join(HERE, "fixtures", "cluster.json")

WHOAMI = ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]
# Without -n the plugin asks kubectl for the current namespace first.
CONFIG_NS = ["config", "view", "--minify", "-o", "jsonpath={..namespace}"]
NOW = "1727773200"


def get_tr(name, ns="ci"):
    return ["get", "taskruns.tekton.dev", name, f"--namespace={ns}", "--ignore-not-found", "-o", "json"]


def list_tr_of(pr, ns="ci"):
    return ["get", "taskruns.tekton.dev", f"--namespace={ns}", "-l", f"tekton.dev/pipelineRun={pr}", "-o", "json"]


def get_pr(name, ns="ci"):
    return ["get", "pipelineruns.tekton.dev", name, f"--namespace={ns}", "--ignore-not-found", "-o",
            "jsonpath={.metadata.name}"]


def get_cm(name, ns):
    return ["get", "configmap", name, f"--namespace={ns}", "-o", "json"]


def vote_json(decision, comment):
    # the plugin's byte layout: {"decision":"...","comment":"..."} with JSON escapes
    return '{"decision":"%s","comment":%s}' % (decision, json.dumps(comment, ensure_ascii=False))


def patch(cm, ns, key, value):
    body = '{"data":{"%s":%s}}' % (key, json.dumps(value, ensure_ascii=False))
    return ["patch", "configmap", cm, f"--namespace={ns}", "--type=merge", "-p", body]


def annotate(pod, ns):
    return ["annotate", "pod", pod, f"--namespace={ns}", f"approve-step/nudge={NOW}", "--overwrite"]


def find(state, kind, name, ns="ci"):
    for o in state["items"]:
        if o["kind"] == kind and o["metadata"]["name"] == name and o["metadata"].get("namespace") == ns:
            return o
    raise KeyError(f"{kind} {ns}/{name}")


def with_state(**changes):
    """A setup for run_plugin that sets top-level keys of the stand-in's
    state (user, forbid, deny_patch, no_whoami, ...)."""
    return lambda state: state.update(changes)


def set_param(tr, name, value):
    params = tr["spec"].setdefault("params", [])
    params[:] = [p for p in params if p["name"] != name]
    if value is not None:
        params.append({"name": name, "value": value})


class Run:
    def __init__(self, rc, out, err, calls, state):
        self.rc, self.out, self.err, self.calls, self.state = rc, out, err, calls, state


def run_plugin(args, setup=None, path=None, shell=None, answer=None):
    """Runs the plugin; answer: what is typed at its confirmation question
    (stdin), or None to pass --yes to a vote."""
    tmp = tempfile.mkdtemp(prefix="kubectl-approve-test.")
    try:
        with open(FIXTURE, encoding="utf-8") as f:
            state = json.load(f)
        if setup:
            setup(state)
        state_file = os.path.join(tmp, "state.json")
        with open(state_file, "w", encoding="utf-8") as f:
            json.dump(state, f)
        log = os.path.join(tmp, "calls.log")
        env = {
            "PATH": path if path is not None else FAKE + ":/usr/local/bin:/usr/bin:/bin",
            "FAKE_KUBECTL_STATE": state_file,
            "FAKE_KUBECTL_LOG": log,
            "TMPDIR": tmp,
            "HOME": tmp,
            "LANG": "C.UTF-8",
        }
        cmd = (shell.split() + [PLUGIN]) if shell else [PLUGIN]
        votes = bool(args) and args[0] not in ("list", "ui", "show") and not any(
            a in ("-h", "--help", "--version") for a in args)
        if answer is None and votes:
            args = ["--yes"] + args
        p = subprocess.run(cmd + args, env=env, capture_output=True, timeout=60,
                           input=(answer or "").encode())
        calls = []
        if os.path.exists(log):
            with open(log, encoding="utf-8") as f:
                calls = [json.loads(line) for line in f if line.strip()]
        with open(state_file, encoding="utf-8") as f:
            state = json.load(f)
        leftovers = [n for n in os.listdir(tmp) if n.startswith("kubectl-approve.")]
        r = Run(p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), calls, state)
        r.leftovers = leftovers
        return r
    finally:
        shutil.rmtree(tmp)


def expect(r, rc=0, calls=None, out=None, out_has=(), err_has=(), err_empty=False):
    p = []
    if r.rc != rc:
        p.append(f"exit {r.rc}, want {rc} (stderr: {r.err.strip()!r})")
    if calls is not None and r.calls != calls:
        p.append("calls differ:\n    got  " + "\n         ".join(json.dumps(c) for c in r.calls)
                 + "\n    want " + "\n         ".join(json.dumps(c) for c in calls))
    if out is not None and r.out != out:
        p.append(f"stdout {r.out!r}, want {out!r}")
    for s in out_has:
        if s not in r.out:
            p.append(f"stdout lacks {s!r}: {r.out!r}")
    for s in err_has:
        if s not in r.err:
            p.append(f"stderr lacks {s!r}: {r.err!r}")
    if err_empty and r.err:
        p.append(f"stderr not empty: {r.err!r}")
    if getattr(r, "leftovers", None):
        p.append(f"temporary files left: {r.leftovers}")
    return p


def no_writes(r):
    return [f"wrote: {c}" for c in r.calls if c and c[0] in ("patch", "annotate")]


QUORUM_LOOKUP = [WHOAMI, CONFIG_NS, get_tr("release-42"), list_tr_of("release-42"), get_cm("approve-cm", "ci")]
KEY_ALICE = "release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19.alice_40example.com"

#!/usr/bin/env python3
"""./test.sh examples: run every example as Tekton would, offline, with the
real approve-step binary, and require the outcome the example promises.

What it reads: every Pipeline, PipelineRun, Task, TaskRun and StepAction in
examples/ and catalog/*/*/*/{samples,tests}/ (plus the catalog's Task and
StepAction), and the bash blocks of examples/README.md and
examples/*/README.md that create a run (`kubectl create -f RUN.yaml`) and
then approve, refuse or reset it.

What it models of Tekton (docs/examples-check.md says the same for users):
- param values: PipelineRun params, else Pipeline defaults; pipelineTask
  params, else the Task's defaults; a step's `ref` to a StepAction with the
  step's `params`, else the StepAction's defaults. Params are substituted
  before context variables, so a default such as
  "$(context.taskRun.name)-$(context.taskRun.uid)" resolves to the run's own
  name and UID (Tekton's ApplyParameters, then ApplyContexts).
  `$(params.NAME)`, `$(params['NAME'])`, `$(params["NAME"])`;
  array params `$(params.NAME[*])` as a whole arg.
- context: `$(context.pipelineRun.name|namespace|uid)`,
  `$(context.taskRun.name|namespace|uid)`; a Pipeline task's TaskRun is
  named `<pipelinerun>-<pipelinetask>` (a generateName gets 5 random
  characters); names longer than 63 characters are reported, not hashed.
- `$(workspaces.NAME.path)` (/workspace/NAME), `$(results.NAME.path)`,
  `$(step.results.NAME.path)`, `$(steps.S.results.R)` in Task results,
  `$(tasks.T.results.R)` in pipelineTask params and `when` inputs; the
  Task's results are the files its steps wrote under /tekton/results.
- the DAG: runAfter and result references order the tasks, independent
  tasks run at once (a voter beside the gate); `when` (in, notin) skips a
  task; a failed task (exit code not 0, unless the step's `onError` is
  `continue`) fails the PipelineRun and no further task starts; `finally`
  tasks run at the end.
- workspaces: a `configMap` binding is a kubelet-style volume (atomic
  writer, tests/lib/volume.py) seeded from the example's ConfigMap; an
  emptyDir is a fresh directory per TaskRun; a volumeClaimTemplate one
  directory per PipelineRun.
- steps: `/approve-step` runs as the real binary (APPROVE_STEP_BIN) with the
  resolved argv, no Kubernetes API (so `api: auto` falls back to the volume
  after its warning); a `script` runs with /bin/sh, a command with its
  argv, both with the step's env, /tekton and /workspace mapped into the
  run's directory, and a `kubectl` that applies patch, create, wait and
  annotate to the volumes (tests/examples/kubectl) and fails on anything
  else. Sidecars run beside the steps. `sleep` returns at once.
- a gate with `api: "on"`: the Kubernetes API of api.py (a fake API
  server holding what Tekton writes), the real kubectl and plugin for the
  README's lines, each as the person it names; console blocks' commands
  must print what the README shows.

What it does not model: a param default naming another param, object
params and `$(params.x[N])`; RBAC and the admission policies other than
the vote policy (api.py says what of the API it models), images
(busybox's sh is the host's sh), retries,
timeouts of the PipelineRun, Tekton's name hashing, matrix, pipelines in
pipelines, custom tasks, workspace subPath, and validation of the YAML
(tests/catalog does that).
"""

import argparse
import difflib
import glob
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from volume import KubeletVolume  # noqa: E402
from api import PEOPLE, Api  # noqa: E402

GATE_WAIT = 4.0      # seconds a gate may take to decide once decided
PLUGIN = os.path.join(ROOT, "plugin", "kubectl-approve")
NAMESPACE = "default"


class Fail(Exception):
    pass


# --------------------------------------------------------------- loading
def load(root):
    """[(path, doc)] of every Tekton object the check covers."""
    pats = ["examples/**/*.yaml", "catalog/*/*/*/samples/*.yaml",
            "catalog/*/*/*/tests/*.yaml", "catalog/*/*/*/*.yaml"]
    out, seen = [], set()
    for p in pats:
        for f in sorted(glob.glob(os.path.join(root, p), recursive=True)):
            if f in seen:
                continue
            seen.add(f)
            with open(f) as fh:
                for d in yaml.safe_load_all(fh):
                    if isinstance(d, dict) and d.get("kind"):
                        out.append((f, d))
    return out


class Objects:
    def __init__(self, docs):
        self.docs = docs

    def find(self, kind, name, near):
        """The object a ref names: one in the same directory first (the
        examples install their own), then the catalog's."""
        hits = [(f, d) for f, d in self.docs
                if d["kind"] == kind and d["metadata"].get("name") == name]
        for f, d in hits:
            if os.path.dirname(f) == os.path.dirname(near):
                return d
        for f, d in hits:
            if "/catalog/" in f and "/samples/" not in f and "/tests/" not in f:
                return d
        if hits:
            return hits[0][1]
        raise Fail("%s %s not found (referenced from %s)" % (kind, name, near))


# ---------------------------------------------------------- substitution
VAR = re.compile(r"\$\(([^()]*)\)")
PARAM_FORMS = [r"params\.(?P<n>[A-Za-z0-9_.-]+?)(?P<star>\[\*\])?",
               r"params\['(?P<n>[^']+)'\](?P<star>\[\*\])?",
               r'params\["(?P<n>[^"]+)"\](?P<star>\[\*\])?']


def param_name(expr):
    for f in PARAM_FORMS:
        m = re.fullmatch(f, expr)
        if m:
            return m.group("n"), bool(m.group("star"))
    return None, False


def subst_params(s, params):
    """$(params.x) in a string; unknown params stay (Tekton's validation
    rejects them; the check reports what is left over)."""
    def rep(m):
        n, _ = param_name(m.group(1))
        if n is not None and n in params:
            v = params[n]
            return " ".join(v) if isinstance(v, list) else v
        return m.group(0)
    return VAR.sub(rep, s)


def subst(s, table):
    """Replace $(VAR) whose VAR is in table (one pass, as Tekton's
    replacements: the inserted text is not scanned again by this call)."""
    return VAR.sub(lambda m: table.get(m.group(1), m.group(0)), s)


def walk(obj, fn):
    if isinstance(obj, str):
        return fn(obj)
    if isinstance(obj, list):
        out = []
        for x in obj:
            # an array param as a whole arg expands to several args
            if isinstance(x, str) and fn.__dict__.get("arrays"):
                m = re.fullmatch(r"\$\((params[^()]*)\[\*\]\)", x)
                if m:
                    n, _ = param_name(m.group(1) + "[*]")
                    v = fn.arrays.get(n)
                    if isinstance(v, list):
                        out.extend(v)
                        continue
            out.append(walk(x, fn))
        return out
    if isinstance(obj, dict):
        return {k: walk(v, fn) for k, v in obj.items()}
    return obj


def param_values(decls, given, where):
    """Values of declared params: given ones, else defaults."""
    vals = {}
    for p in decls or []:
        n = p["name"]
        if n in given:
            vals[n] = given[n]
        elif "default" in p:
            vals[n] = p["default"]
        else:
            raise Fail("%s: param %s has no value and no default" % (where, n))
    for n in given:
        if n not in vals:
            raise Fail("%s: param %s is passed but not declared" % (where, n))
    return vals


def apply_params(obj, vals):
    fn = lambda s: subst_params(s, vals)  # noqa: E731
    fn.arrays = {k: v for k, v in vals.items() if isinstance(v, list)}
    return walk(obj, fn)


def given_params(lst):
    return {p["name"]: p["value"] for p in lst or []}


# ------------------------------------------------------------- task runs
def resolve_task(objs, spec, params, ctx, near, root):
    """The TaskSpec with every variable replaced, steps' StepActions
    inlined; root is the TaskRun's directory (/tekton, /workspace)."""
    where = "Task of %s" % ctx["taskRun.name"]
    vals = param_values(spec.get("params"), params, where)
    steps = []
    for st in spec.get("steps", []):
        st = apply_params(st, vals)   # also the step's params to a ref
        if "ref" in st:
            sa = objs.find("StepAction", st["ref"]["name"], near)["spec"]
            sv = param_values(sa.get("params"), given_params(st.get("params")),
                              "StepAction %s in step %s" % (st["ref"]["name"], st["name"]))
            body = apply_params({k: v for k, v in sa.items()
                                 if k not in ("params", "results", "description")}, sv)
            merged = dict(body)
            merged.update({k: v for k, v in st.items() if k not in ("ref", "params")})
            st = merged
        steps.append(st)
    side = [apply_params(s, vals) for s in spec.get("sidecars", [])]
    results = apply_params(spec.get("results", []), vals)
    table = {"context." + k: v for k, v in ctx.items()}
    for w in spec.get("workspaces", []):
        table["workspaces.%s.path" % w["name"]] = "/workspace/" + w["name"]
    for r in spec.get("results", []):
        table["results.%s.path" % r["name"]] = "/tekton/results/" + r["name"]

    def finish(step):
        t = dict(table)
        t.update({"step.results.%s.path" % n: "/tekton/steps/step-%s/results/%s" % (step.get("name"), n)
                  for n in ("decision", "approver", "comment", "waited-seconds")})
        out = walk(step, lambda s: subst(s, t))
        return walk(out, lambda s: re.sub(r"(?<![\w.-])/(tekton|workspace)/",
                                          lambda m: os.path.join(root, m.group(1)) + "/", s))
    return ([finish(s) for s in steps], [finish(s) for s in side],
            walk(results, lambda s: subst(s, table)))


def is_gate(step):
    return step.get("command") == ["/approve-step"]


class Env:
    """One PipelineRun (or TaskRun) being executed."""

    def __init__(self, check, state):
        self.check = check
        self.state = state
        self.gates = []           # (taskrun, argv, rc, log)
        self.log = []

    def run_step(self, st, env, cwd):
        if is_gate(st):
            return self.run_gate(st, env)
        penv = dict(os.environ)
        penv.update(env)
        if self.check.api:
            penv.update(self.check.api.pod_env(env.get("EXAMPLES_PIPELINE_TASK"))[0])
        for e in st.get("env", []) or []:
            penv[e["name"]] = str(e.get("value", ""))
        if "script" in st:
            path = os.path.join(cwd, "script-%s" % st.get("name"))
            with open(path, "w") as f:
                f.write(st["script"])
            argv = ["/bin/sh", path]
        else:
            argv = list(st.get("command", [])) + list(st.get("args", []))
        p = subprocess.run(argv, env=penv, cwd=cwd, capture_output=True,
                           text=True, timeout=30)
        self.log.append("step %s: rc %d %s%s" % (st.get("name"), p.returncode,
                                                p.stdout.strip()[-300:], p.stderr.strip()[-300:]))
        return p.returncode

    def run_gate(self, st, env):
        argv = [self.check.binary] + [str(a) for a in st.get("args", [])]
        left = [a for a in argv if VAR.search(a)]
        if left:
            raise Fail("gate argv has unresolved variables: %r" % left)
        self.api_fit(argv)
        if "--key" in argv:  # what the log's first lines name
            self.gate_key = argv[argv.index("--key") + 1]
        penv = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        if self.check.api:
            pod, creds = self.check.api.pod_env(env.get("EXAMPLES_PIPELINE_TASK"))
            penv.update(KUBERNETES_SERVICE_HOST=pod["KUBERNETES_SERVICE_HOST"],
                        KUBERNETES_SERVICE_PORT=pod["KUBERNETES_SERVICE_PORT"])
            argv += ["--api-credentials", creds]
        p = subprocess.Popen(argv, env=penv, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        self.check.started(env["EXAMPLES_TASKRUN"])
        # the README's lines take their time (kubectl, the plugin): the
        # gate has GATE_WAIT once they are done
        deadline = time.time() + 60
        while not self.check.acted.is_set() and p.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        try:
            out, _ = p.communicate(timeout=self.check.gate_wait)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
            rc = None
        if "--api-credentials" in argv:
            argv = argv[:argv.index("--api-credentials")]
        self.gates.append({"argv": argv[1:], "rc": rc, "log": out})
        return rc


    def api_fit(self, argv):
        """`api` auto or on must name the ConfigMap the workspace holds, or
        every run logs a warning (or fails) instead of watching it."""
        def arg(name):
            return argv[argv.index(name) + 1] if name in argv else ""
        api, cm, d = arg("--api") or "auto", arg("--configmap"), arg("--dir")
        cms = os.path.join(self.state, "configmaps") + os.sep
        real = os.path.realpath(d) if d else ""
        bound = os.path.basename(real) if real.startswith(cms) else None
        if api in ("auto", "on") and bound and cm != bound:
            raise Fail("gate on ConfigMap %s passes --configmap %r: `api: %s` cannot watch it"
                       " (pass the configmap param)" % (bound, cm, api))
        if api == "auto" and not bound and not cm:
            raise Fail("gate on a volume that is no ConfigMap with `api: auto` and no configmap:"
                       " every run logs a warning (set api \"off\")")


class Check:
    def __init__(self, root, binary, gate_wait=GATE_WAIT):
        self.root = root
        self.binary = binary
        self.gate_wait = gate_wait
        self.objs = Objects(load(root))

    def uid(self, name):
        """A run's UID: the one the README shows for it, else a new one."""
        return self.given.get("uids", {}).get(name) or str(uuid.uuid4())

    def started(self, taskrun):
        open(os.path.join(self.state, "pods", taskrun), "w").close()

    # A scenario: run one PipelineRun/TaskRun, with actions applied by a
    # shell (the README's lines) once its gate waits.
    def execute(self, run_file, run, actions, configmaps, given=None):
        """GIVEN: what the README shows of the run ({"name", "uids",
        "namespace"}), so that its lines and their output hold as written;
        with "api", the run's gates read the Kubernetes API of api.py."""
        self.state = tempfile.mkdtemp(prefix="examples-")
        self.actor = None
        self.api = None
        self.given = given or {}
        self.acted = threading.Event()
        if not actions:
            self.acted.set()
        try:
            return self._execute(run_file, run, actions, configmaps)
        finally:
            if self.actor and self.actor.is_alive():
                self.actor.join()
            if self.api:
                self.api.stop()
            shutil.rmtree(self.state, ignore_errors=True)

    def _execute(self, run_file, run, actions, configmaps):
        st = self.state
        for d in ("configmaps", "pods", "bin", "runs"):
            os.makedirs(os.path.join(st, d))
        for name, data in configmaps.items():
            KubeletVolume(os.path.join(st, "configmaps", name)).update(data)
        meta = run["metadata"]
        self.namespace = meta.get("namespace") or self.given.get("namespace") or NAMESPACE
        if self.given.get("api"):
            # the real kubectl and plugin, against the run's cluster
            self.api = Api(st, self.namespace, run, seed_configmap_docs(self.objs, run_file))
            self.api.start()
            os.symlink(PLUGIN, os.path.join(st, "bin", "kubectl-approve"))
        else:
            os.symlink(os.path.join(HERE, "kubectl"), os.path.join(st, "bin", "kubectl"))
        with open(os.path.join(st, "bin", "sleep"), "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(os.path.join(st, "bin", "sleep"), 0o755)
        name = meta.get("name") or self.given.get("name") or meta["generateName"] + uuid.uuid4().hex[:5]
        env = {"EXAMPLES_STATE": st, "EXAMPLES_RUN_FILE": os.path.abspath(run_file),
               "EXAMPLES_RUN_NAME": name,
               "PATH": os.path.join(st, "bin") + ":" + os.environ.get("PATH", "")}
        ex = Env(self, st)
        ex.name = name
        actor = None
        if actions:
            actor = self.actor = threading.Thread(target=self.act, args=(ex, actions, env))
        if run["kind"] == "PipelineRun":
            outcome = self.run_pipeline(ex, run_file, run, name, env, actor)
        else:
            outcome = self.run_taskrun(ex, run_file, run, name, env, actor)
        if actor:
            actor.join()
        outcome["gates"] = ex.gates
        outcome["log"] = ex.log
        outcome["actions"] = getattr(ex, "action_results", [])
        outcome["name"] = name
        return outcome

    def act(self, ex, actions, env):
        """Apply the README's lines as written, once the first gate waits."""
        deadline = time.time() + 10
        while not os.listdir(os.path.join(self.state, "pods")) and time.time() < deadline \
                and threading.main_thread().is_alive():
            time.sleep(0.01)
        time.sleep(0.15)   # let the gate print its start and read the volume
        ex.action_results = []
        try:
            for a in actions:
                ex.action_results.append(self.act_line(ex, a, env))
        finally:
            self.acted.set()

    def act_line(self, ex, a, env):
        """One README line, as its user (a kubeconfig of theirs with the
        API), answering y where the plugin asks: (line, rc, error)."""
        line = a["cmd"]
        # KEY=... in a README is an example value: "take the key from
        # the log", which names the key the gate was given
        if line.startswith("KEY="):
            return line, 0, ""
        penv = dict(os.environ)
        penv.update(env)
        if self.api:
            penv["KUBECONFIG"] = self.api.kubeconfig(a.get("user") or "alice")
        script = "PR=%s\nKEY=%s\n%s\n" % (shlex.quote(ex.name),
                                          shlex.quote(getattr(ex, "gate_key", "")), line)
        p = subprocess.run(["/bin/sh", "-ec", script], env=penv, cwd=self.root, input="y\n",
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
        if p.returncode != 0:
            return line, p.returncode, p.stdout.strip()
        if a.get("out") is not None:
            # a terminal shows the y typed at the plugin's question
            got = re.sub(r"(\[y/N\] )", r"\1y\n", p.stdout).rstrip("\n").splitlines()
            want = a["out"].rstrip("\n").splitlines()
            # a shown line ending in … stands for any line it begins (times)
            got = [w if w.endswith("…") and g.startswith(w[:-1]) else g for g, w in zip(got, want)] + got[len(want):]
            if got != want:
                diff = "\n".join(difflib.unified_diff(want, got, "README", "ran", lineterm="", n=1))
                return line, "output", "the README shows other output than the command gives:\n" + diff
        return line, 0, ""

    def workspace_dirs(self, bindings, troot, shared):
        os.makedirs(os.path.join(troot, "workspace"), exist_ok=True)
        os.makedirs(os.path.join(troot, "tekton", "results"), exist_ok=True)
        for wname, b in bindings.items():
            dst = os.path.join(troot, "workspace", wname)
            if "configMap" in b:
                src = os.path.join(self.state, "configmaps", b["configMap"]["name"])
                if not os.path.isdir(src):
                    raise Fail("workspace %s: ConfigMap %s does not exist" % (wname, b["configMap"]["name"]))
                os.symlink(src, dst)
            elif "emptyDir" in b:
                os.makedirs(dst)
            elif "volumeClaimTemplate" in b or "persistentVolumeClaim" in b:
                src = shared.setdefault(json.dumps(b, sort_keys=True),
                                        tempfile.mkdtemp(dir=self.state))
                os.symlink(src, dst)
            else:
                raise Fail("workspace %s: binding %r not modelled" % (wname, b))

    def exec_taskrun(self, ex, spec, params, ctx, near, bindings, env, shared, tekton=None):
        troot = os.path.join(self.state, "runs", ctx["taskRun.name"])
        os.makedirs(troot)
        self.workspace_dirs(bindings, troot, shared)
        if self.api:
            self.api.taskrun(ctx, spec, params, bindings, **(tekton or {}))
        for w in spec.get("workspaces", []):
            if w["name"] not in bindings and not w.get("optional"):
                raise Fail("TaskRun %s: workspace %s not bound" % (ctx["taskRun.name"], w["name"]))
        steps, sidecars, results = resolve_task(self.objs, spec, params, ctx, near, troot)
        env = dict(env, EXAMPLES_TASKRUN=ctx["taskRun.name"],
                   EXAMPLES_PIPELINE_TASK=(tekton or {}).get("pipeline_task") or "")
        side = []
        for sc in sidecars:
            penv = dict(os.environ, **env)
            for e in sc.get("env", []) or []:
                penv[e["name"]] = str(e.get("value", ""))
            side.append(subprocess.Popen(["/bin/sh", "-c", sc["script"]], env=penv,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        status = "Succeeded"
        if not any(is_gate(s) for s in steps):
            self.started(ctx["taskRun.name"])
        for s in steps:
            os.makedirs(os.path.join(troot, "tekton", "steps", "step-" + s["name"], "results"),
                        exist_ok=True)
            rc = ex.run_step(s, env, troot)
            if rc is None:
                status = "Waiting"
                break
            if rc != 0 and s.get("onError") != "continue":
                status = "Failed"
                break
        for p in side:
            p.wait(timeout=10)
        res = {}
        for r in results:
            if "value" in r:
                m = re.fullmatch(r"\$\(steps\.([^.]+)\.results\.([^.)]+)\)", r["value"])
                f = os.path.join(troot, "tekton", "steps", "step-" + m.group(1), "results", m.group(2))
            else:
                f = os.path.join(troot, "tekton", "results", r["name"])
            if os.path.exists(f):
                with open(f) as fh:
                    res[r["name"]] = fh.read()
        if self.api:
            self.api.finished(ctx["taskRun.name"], status, res)
        return status, res

    def run_taskrun(self, ex, run_file, run, name, env, actor):
        spec = run["spec"]
        task = self.objs.find("Task", spec["taskRef"]["name"], run_file)["spec"] \
            if "taskRef" in spec else spec["taskSpec"]
        ctx = {"taskRun.name": name, "taskRun.namespace": self.namespace,
               "taskRun.uid": self.uid(name)}
        binds = {w["name"]: w for w in spec.get("workspaces", [])}
        if actor:
            actor.start()
        status, res = self.exec_taskrun(ex, task, given_params(spec.get("params")), ctx,
                                        run_file, binds, env, {},
                                        {"task": spec.get("taskRef", {}).get("name")})
        return {"status": status, "tasks": {"(taskrun)": (status, res)}}

    def run_pipeline(self, ex, run_file, run, name, env, actor):
        pspec = self.objs.find("Pipeline", run["spec"]["pipelineRef"]["name"], run_file)["spec"] \
            if "pipelineRef" in run["spec"] else run["spec"]["pipelineSpec"]
        pvals = param_values(pspec.get("params"), given_params(run["spec"].get("params")),
                             "Pipeline of " + name)
        pctx = {"context.pipelineRun.name": name, "context.pipelineRun.namespace": self.namespace,
                "context.pipelineRun.uid": self.uid(name)}
        if self.api:
            self.api.pipelinerun(name, pctx["context.pipelineRun.uid"],
                                 run["spec"].get("pipelineRef", {}).get("name", ""))
        binds = {w["name"]: w for w in run["spec"].get("workspaces", [])}
        for w in pspec.get("workspaces", []):
            if w["name"] not in binds and not w.get("optional"):
                raise Fail("PipelineRun %s: workspace %s not bound" % (name, w["name"]))
        tasks = {t["name"]: t for t in pspec["tasks"]}
        done, lock, shared = {}, threading.Lock(), {}
        failed = threading.Event()

        def deps(t):
            d = set(t.get("runAfter", []))
            d |= set(re.findall(r"\$\(tasks\.([^.]+)\.results\.", json.dumps(t)))
            return d

        def run_one(t):
            tname = "%s-%s" % (name, t["name"])
            if len(tname) > 63:
                raise Fail("TaskRun name %s is over 63 characters (hashing not modelled)" % tname)
            with lock:
                table = dict(pctx)
                for tn, (_, res) in done.items():
                    for rn, rv in res.items():
                        table["tasks.%s.results.%s" % (tn, rn)] = rv
            t2 = walk(apply_params(t, pvals), lambda s: subst(s, table))
            for w in t2.get("when", []) or []:
                left = VAR.findall(w["input"])
                if left:  # a result the task did not write: Tekton skips
                    return "Skipped", {}
                hit = w["input"] in w["values"]
                if hit != (w["operator"] == "in"):
                    return "Skipped", {}
            if "taskRef" in t2:
                spec = self.objs.find("Task", t2["taskRef"]["name"], run_file)["spec"]
            else:
                spec = t2["taskSpec"]
            wb = {}
            for w in t2.get("workspaces", []):
                wb[w["name"]] = binds[w["workspace"]]
            ctx = {"taskRun.name": tname, "taskRun.namespace": self.namespace,
                   "taskRun.uid": self.uid(tname)}
            return self.exec_taskrun(ex, spec, given_params(t2.get("params")), ctx,
                                     run_file, wb, env, shared,
                                     {"pr": (name, pctx["context.pipelineRun.uid"]), "pipeline_task": t["name"],
                                      "task": t2.get("taskRef", {}).get("name")})

        pending = dict(tasks)
        running = {}
        if actor:
            actor.start()
        while pending or running:
            for tn in list(pending):
                t = pending[tn]
                dd = deps(t)
                if failed.is_set():
                    pending.pop(tn)
                    continue
                if all(d in done for d in dd):
                    pending.pop(tn)
                    if any(done[d][0] != "Succeeded" for d in dd):
                        # a parent skipped (when): this one is skipped too;
                        # a parent failed has stopped the run already.
                        with lock:
                            done[tn] = ("Skipped", {})
                        continue

                    def go(t=t, tn=tn):
                        try:
                            r = run_one(t)
                        except Exception as e:  # noqa: BLE001
                            r = ("Error: %s" % e, {})
                        with lock:
                            done[tn] = r
                        if r[0] not in ("Succeeded", "Skipped"):
                            failed.set()
                    th = threading.Thread(target=go)
                    th.start()
                    running[tn] = th
            for tn in list(running):
                if not running[tn].is_alive():
                    running.pop(tn)
            time.sleep(0.01)
        for t in pspec.get("finally", []) or []:
            done[t["name"]] = run_one(t)
        errors = [v[0] for v in done.values() if v[0].startswith("Error")]
        if errors:
            raise Fail("; ".join(errors))
        states = [v[0] for v in done.values()]
        status = "Failed" if "Failed" in states else \
            "Waiting" if "Waiting" in states else "Succeeded"
        return {"status": status, "tasks": done}


# ------------------------------------------------------------ scenarios
def readme_scenarios(root):
    """{run file: [(label, [action], expectation, sed, given)]} from the
    READMEs: after `kubectl create -f RUN` (a bash or sh block), each
    `kubectl patch|approve|annotate` line of a bash block, with the comment
    above it or after it, is one alternative decision; a line whose comment
    starts with "and" adds to the decision before it (a second vote), one
    whose comment starts with "or" replaces that decision's last line. The
    `$ kubectl approve` commands of the console blocks that follow are one
    decision, their output as shown. An action: {"cmd", "user" (who runs
    it: "as NAME" in its comment, or the paragraph's first word), "out"}."""
    out, creates, acted = {}, [], set()
    for md in sorted(glob.glob(os.path.join(root, "examples", "**", "README.md"), recursive=True)):
        text = open(md).read()
        rel = os.path.relpath(md, root)
        run, last_console = None, None
        for m in re.finditer(r"```(bash|sh|console)\n(.*?)```", text, re.S):
            kind, block = m.group(1), m.group(2)
            user = prose_user(text[:m.start()])
            if kind == "console":
                if run and out[run]:
                    acts = console_actions(block, user)
                    if acts:
                        if last_console is None:
                            out[run].append(("%s: %s" % (rel, "the commands and output shown"), [], None, None,
                                             out[run][-1][4]))
                            acted.add(creates[-1])
                            last_console = out[run][-1]
                        last_console[1].extend(acts)
                continue
            block = re.sub(r"(\\|(?<=\|))\n\s*", " ", block)
            comment = ""
            lines = block.splitlines()
            for i, raw in enumerate(lines):
                line = raw.strip()
                if line.startswith("#"):
                    comment = line.lstrip("# ")
                    continue
                m2 = re.search(r"kubectl create (?:-n (\S+) )?-f (\S+\.yaml)(.*)", line)
                if m2 and "run" in os.path.basename(m2.group(2)):
                    run = os.path.join(root, m2.group(2))
                    rest = m2.group(3)
                    sed = re.search(r"\| sed '([^']*)' \| kubectl create -f -", rest)
                    given = {"namespace": m2.group(1)}
                    shown = re.match(r"#\s*\w+\.tekton\.dev/(\S+) created", lines[i + 1].strip()) \
                        if i + 1 < len(lines) else None
                    if shown:  # the name the README shows, and its TaskRuns' UIDs
                        given["name"] = shown.group(1)
                        given["uids"] = dict(re.findall(r"\b(%s-[a-z0-9-]*?[a-z0-9])-(%s)" % (
                            re.escape(shown.group(1)), UUID), text))
                    creates.append((run, len(out.setdefault(run, []))))
                    out[run].append(("%s: %s" % (rel, comment or "as written"), [],
                                     expectation(comment), sed.group(1) if sed else None, given))
                    comment, last_console = "", None
                    continue
                if kind == "bash" and run and re.match(r"kubectl (patch|approve|annotate)", line):
                    cmd, _, after = line.partition("  #")
                    cmd, after = cmd.strip(), after.strip().lstrip("# ")
                    note = after or comment
                    act = {"cmd": cmd, "user": named_user(note) or user}
                    label = "%s: %s" % (rel, note or line[:40])
                    prev = out[run][-1] if out[run] else None
                    if (line.startswith("kubectl annotate") or
                            comment.startswith("later")) and prev:
                        # the nudge follows the decision before it
                        prev[1].append(act)
                    elif after.startswith("and") and prev and prev[1]:
                        out[run][-1] = (prev[0] + "; " + note, prev[1] + [act], expectation(note),
                                        prev[3], prev[4])
                    elif after.startswith("or") and prev and prev[1]:
                        out[run].append((label, prev[1][:-1] + [act], expectation(note), None, prev[4]))
                    else:
                        out[run].append((label, [act], expectation(note or line), None,
                                         out[run][creates[-1][1]][4]))
                    acted.add(creates[-1])
                    comment = ""
    # a create followed by decisions is no scenario of its own
    for run, i in sorted(acted, key=lambda x: -x[1]):
        out[run][i] = None
    out = {run: [decided(s) for s in lst if s] for run, lst in out.items()}
    # The catalog Task's README: the sample run, approved and refused with
    # the commands of "Approving and refusing" (KEY taken from the log).
    md = os.path.join(root, "catalog", "task", "approve-step", "0.1", "README.md")
    run = os.path.join(os.path.dirname(md), "samples", "pipelinerun.yaml")
    if os.path.exists(md) and os.path.exists(run):
        text = re.sub(r"\\\n\s*", " ", open(md).read())
        for block in re.findall(r"```bash\n(KEY=.*?)```", text, re.S):
            comment = ""
            for line in block.splitlines():
                if line.startswith("#"):
                    comment = line.lstrip("# ")
                elif line.startswith("kubectl patch"):
                    out.setdefault(run, []).append(
                        ("catalog/task/approve-step/0.1/README.md: " + comment,
                         [{"cmd": line}], expectation(comment), None, {}))
    return out


UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def named_user(note):
    m = re.search(r"\bas (%s)\b" % "|".join(PEOPLE), note)
    return m.group(1) if m else None


def prose_user(before):
    """Who the paragraph before a block names first ("alice approves ...",
    "Run as alice"), if one of the examples' people."""
    para = before.rstrip().rsplit("\n\n", 1)[-1]
    m = re.match(r"\s*(%s)\b" % "|".join(PEOPLE), para)
    return m.group(1) if m else named_user(para)


def console_actions(block, user):
    """The `$ kubectl approve` commands of a console block, with the output
    shown under each."""
    acts = []
    for chunk in re.split(r"(?m)^\$ ", block)[1:]:
        lines = chunk.split("\n")
        cmd = lines.pop(0)
        while cmd.endswith("\\") and lines:
            cmd = cmd[:-1] + lines.pop(0).strip()
        if re.match(r"kubectl approve\b", cmd):
            acts.append({"cmd": cmd, "user": user, "out": "\n".join(lines).strip("\n")})
    return acts


def decided(sc):
    """A console decision's promise: what its last output says."""
    label, acts, exp, sed, given = sc
    if exp is None:
        last = acts[-1]["out"] if acts else ""
        exp = ("refused" if "decision: refused" in last else
               "approved" if "decision: approved" in last else "waiting", None)
    return label, acts, exp, sed, given


def expectation(comment):
    c = comment.lower()
    m = re.search(r"the (\w+) task runs", c)
    then = m.group(1) if m else None
    if c.startswith("reset") or "remove" in c:
        return ("waiting", then)
    if "refuse" in c or "refused run" in c:
        return ("refused", then)
    if "approve" in c:
        return ("approved", then)
    if "reset" in c or "remove" in c:
        return ("waiting", then)
    return ("approved", then)


def seed_configmap_docs(objs, run_file):
    """The ConfigMaps an example creates: its own directory's, and
    examples/approvals.yaml for examples/."""
    out = []
    for f, d in objs.docs:
        if d["kind"] != "ConfigMap":
            continue
        if os.path.dirname(f) == os.path.dirname(run_file) or \
                ("/examples/" in run_file and f.endswith("examples/approvals.yaml")) or \
                ("/catalog/" in run_file and os.path.dirname(os.path.dirname(f)) ==
                 os.path.dirname(os.path.dirname(run_file)) and "/samples/" in f):
            out.append(d)
    return out


def seed_configmaps(objs, run_file):
    """{name: data} of seed_configmap_docs, for their volumes."""
    return {d["metadata"]["name"]: {k: str(v) for k, v in (d.get("data") or {}).items()}
            for d in seed_configmap_docs(objs, run_file)}


def needs_api(check, run_file, run):
    """True when a gate of this run needs the Kubernetes API (api "on")."""
    return '"on"' in json.dumps(run) or "value: \"on\"" in open(_pipeline_file(check, run_file, run)).read()


def _pipeline_file(check, run_file, run):
    if run["kind"] == "PipelineRun" and "pipelineRef" in run["spec"]:
        for f, d in check.objs.docs:
            if d["kind"] == "Pipeline" and d["metadata"]["name"] == run["spec"]["pipelineRef"]["name"]:
                return f
    return run_file


def message_shown(gate):
    """A gate given a --message (the Task's message param, filled from the
    Pipeline's params) shows it on the line after "waiting for"."""
    argv = gate["argv"]
    if "--message" not in argv or not argv[argv.index("--message") + 1]:
        return []
    text = argv[argv.index("--message") + 1]
    lines = gate["log"].splitlines()
    waiting = [i for i, l in enumerate(lines) if l.startswith("approve-step: waiting for ")]
    plain = text.isascii() and text.isprintable() and not set(text) & set('"\\')
    want = 'approve-step: message: "%s"' % text if plain else "approve-step: message: "
    if not waiting or len(lines) <= waiting[0] + 1 or \
            not lines[waiting[0] + 1].startswith(want):
        return ["--message %r not shown after the \"waiting for\" line: %r"
                % (text, lines[:4])]
    return []


def judge(label, exp, out, run_doc):
    """Errors (strings) between the promise and what happened."""
    errs = []
    want, then = exp
    for line, rc, err in out["actions"]:
        if rc != 0:
            errs.append("README line failed (%s): %s: %s" % (rc, line, err))
    gates = out["gates"]
    if not gates:
        errs.append("no gate ran (%s)" % out["status"])
        return errs
    g = gates[0]
    errs += message_shown(g)
    if want == "waiting":
        if g["rc"] is not None:
            errs.append("gate decided (exit %s) where it should still wait" % g["rc"])
        return errs
    if g["rc"] is None:
        errs.append("gate still waiting after %.0fs: the approval did not reach it" % GATE_WAIT)
        return errs
    if want == "approved":
        if g["rc"] != 0:
            errs.append("gate exited %s, expected 0 (approved)" % g["rc"])
        if out["status"] != "Succeeded":
            errs.append("run %s, expected Succeeded" % out["status"])
    elif want == "refused":
        if g["rc"] != 1:
            errs.append("gate exited %s, expected 1 (refused)" % g["rc"])
    if then and out["tasks"].get(then, ("NotRun",))[0] != "Succeeded":
        errs.append("task %s did not run: %s" % (then, out["tasks"].get(then, ("NotRun",))[0]))
    if want in ("approved", "refused") and "tasks" in out:
        for tn, (st, res) in out["tasks"].items():
            if "decision" in res and tn != then and res["decision"] != want:
                errs.append("task %s: decision result %r, expected %r" % (tn, res["decision"], want))
    return errs


def scenarios(check):
    """[(label, run_file, run_doc, actions, expectation, sed, given)]"""
    rs = readme_scenarios(check.root)
    out = []
    for f, d in check.objs.docs:
        if d["kind"] not in ("PipelineRun", "TaskRun"):
            continue
        if f in rs:
            for label, lines, exp, sed, given in rs[f]:
                out.append(("%s <- %s" % (os.path.relpath(f, check.root), label), f, d, lines, exp, sed, given))
        else:
            # no README drives it: a catalog test that votes by itself
            # must succeed; any other run must at least wait.
            rel = os.path.relpath(f, check.root)
            exp = ("approved", None) if "/tests/" in f else ("waiting", None)
            if "/tests/" in f and d["metadata"]["name"].endswith("-stale"):
                exp = ("timeout", None)
            out.append(("%s %s" % (rel, d["metadata"].get("name") or d["metadata"].get("generateName")),
                        f, d, [], exp, None, {}))
    return out


def rbac_fit(check, f, run):
    """A run whose single-approver gate watches through the API must not
    give that permission to every task: taskRunTemplate may name a
    ServiceAccount that a Role of the example lets read ConfigMaps only
    when the gate is the run's one task (else taskRunSpecs, or bind the
    Role to the run's own ServiceAccount). Gated runs (votes, the runs
    policy's fixed ServiceAccount) are the policy's business."""
    sa = ((run["spec"].get("taskRunTemplate") or {}).get("serviceAccountName")
          or run["spec"].get("serviceAccountName"))
    if not sa or run["kind"] != "PipelineRun" or "pipelineRef" not in run["spec"]:
        return []
    here = [d for g, d in check.objs.docs if os.path.dirname(g) == os.path.dirname(f)]
    roles = {d["metadata"]["name"] for d in here if d["kind"] == "Role" and any(
        "configmaps" in r.get("resources", []) and "watch" in r.get("verbs", [])
        for r in d.get("rules", []))}
    bound = any(d["kind"] == "RoleBinding" and d["roleRef"]["name"] in roles and any(
        s.get("kind") == "ServiceAccount" and s.get("name") == sa for s in d.get("subjects", []))
        for d in here)
    pipe = check.objs.find("Pipeline", run["spec"]["pipelineRef"]["name"], f)["spec"]
    gated = any(p["name"] in ("approvals", "approvers", "requester") and p["value"] not in ("1", "")
                for t in pipe["tasks"] for p in t.get("params", []))
    if bound and len(pipe["tasks"]) > 1 and not gated:
        return ["taskRunTemplate.serviceAccountName %s (allowed to watch ConfigMaps) runs every"
                " task of the Pipeline; name it for the approval task alone in taskRunSpecs,"
                " or bind the Role to the run's own ServiceAccount" % sa]
    return []


def run_scenario(check, sc):
    label, f, d, lines, exp, sed, given = sc
    if sed:  # the README's `... -o yaml | sed 'S' | kubectl create -f -`
        text = subprocess.run(["sed", sed], input=open(f).read(), capture_output=True,
                              text=True, check=True).stdout
        d = [x for x in yaml.safe_load_all(text) if x and x.get("kind") == d["kind"]][0]
    fit = rbac_fit(check, f, d)
    if fit:
        return label, "FAIL", fit
    given = dict(given, api=needs_api(check, f, d))
    c = Check.__new__(Check)
    c.__dict__.update(check.__dict__)
    if exp[0] == "timeout":  # the gate's own timeout must end the wait
        c.gate_wait = 40
    try:
        out = c.execute(f, d, lines, seed_configmaps(check.objs, f), given)
    except Fail as e:
        return label, "error", [str(e)]
    if exp[0] == "timeout":
        errs = [] if out["status"] == "Succeeded" and out["gates"] and out["gates"][0]["rc"] == 1 \
            else ["run %s, gates exit %s; expected Succeeded after a timeout (exit 1, onError continue)"
                  % (out["status"], [g["rc"] for g in out["gates"]])]
        for tn, (st, res) in out["tasks"].items():
            if "decision" in res and res["decision"] != "timeout":
                errs.append("decision %r, expected timeout" % res["decision"])
    elif "/tests/" in f:
        errs = [] if out["status"] == "Succeeded" else \
            ["run %s, the e2e test requires Succeeded" % out["status"]]
        if any(g["rc"] is None for g in out["gates"]):
            errs.append("a gate was still waiting: the voter's approval did not reach it")
    else:
        errs = judge(label, exp, out, d)
    detail = "" if not errs else "\n      " + "\n      ".join(
        out["log"][-6:] + ["gate argv: %s" % " ".join(map(shlex.quote, g["argv"])) for g in out["gates"]]
        + ["gate log: " + g["log"].replace("\n", "\n        ") for g in out["gates"]])
    promise = "the e2e run succeeds" if "/tests/" in f else exp[0]
    return label, "ok: %s; run %s, gates exit %s" % (promise, out["status"], [g["rc"] for g in out["gates"]]) \
        if not errs else "FAIL", [e + detail for e in errs[:1]] + errs[1:]


def run_all(check, jobs=6, quiet=False, only=None):
    """Runs every scenario, or those whose label contains ONLY."""
    from concurrent.futures import ThreadPoolExecutor
    scs = [sc for sc in scenarios(check) if only is None or only in sc[0]]
    with ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(lambda s: run_scenario(check, s), scs))
    failed = 0
    for label, verdict, errs in results:
        if errs:
            failed += 1
        if not quiet:
            print("%s %s: %s" % ("FAIL" if errs else "  ok", label, verdict))
            for e in errs:
                print("    " + e)
    return len(results), failed, results


# ------------------------------------------------------------- self-test
# (what, file, text, replacement, the scenarios that must fail: a label part)
MUTATIONS = [
    ("a wrong key in the catalog Task's voter (finding 1 put back)",
     "catalog/task/approve-step/0.1/tests/run.yaml",
     "        # The key the wait task was given above.\n        - name: key\n"
     "          value: $(context.pipelineRun.name)-$(context.pipelineRun.uid)\n",
     "        - name: key\n          value: $(context.pipelineRun.name)-wait\n",
     "catalog/task/approve-step/0.1/tests/run.yaml"),
    ("a wrong param name in a pipeline task",
     "examples/per-run-key/pipeline.yaml", "- name: key\n", "- name: keys\n",
     "examples/per-run-key/pipelinerun.yaml"),
    ("a broken approve command in the README",
     "examples/README.md", "kubectl patch configmap approvals --type=merge -p \"{\\\"data\\\":{\\\"$PR\\\":\\\"approved\\\"}}\"",
     "kubectl patch configmap approvals --type=merge -p \"{\\\"data\\\":{\\\"$PR-x\\\":\\\"approved\\\"}}\"",
     "examples/per-run-key/pipelinerun.yaml <- examples/README.md"),
    ("a broken command in a voter task (kubectl patch -> kubectl replace)",
     "catalog/stepaction/approve-step/0.1/tests/run.yaml",
     "        - patch\n        - configmap\n", "        - replace\n        - configmap\n",
     "catalog/stepaction/approve-step/0.1/tests/run.yaml"),
    ("every task of the api-watch run as the watcher",
     "examples/api-watch/pipelinerun.yaml",
     "  taskRunSpecs:\n    - pipelineTaskName: approval\n      serviceAccountName: approval-watcher\n",
     "  taskRunTemplate:\n    serviceAccountName: approval-watcher\n",
     "examples/api-watch/pipelinerun.yaml"),
    ("the configmap param dropped from a ConfigMap gate",
     "catalog/task/approve-step/0.1/samples/pipeline.yaml",
     "        - name: configmap\n          value: approve-cm\n", "",
     "catalog/task/approve-step/0.1/samples/pipelinerun.yaml"),
    ("a wrong arg in the Task's step",
     "catalog/task/approve-step/0.1/approve-step.yaml", "- $(params.key)\n", "- $(params.key)-old\n",
     "examples/api-watch/pipelinerun.yaml"),
    ("a wrong key in the StepAction test's voter",
     "catalog/stepaction/approve-step/0.1/tests/run.yaml",
     "value: $(context.pipelineRun.name)-gate\n", "value: $(context.pipelineRun.name)\n",
     "catalog/stepaction/approve-step/0.1/tests/run.yaml"),
    ("one vote of two in a 2-of-3 README (the second approver's line dropped)",
     "examples/per-run-configmap/README.md",
     'kubectl approve "$PR" -n approve-per-run --yes            # and as bob: 2 of 2, approved\n', "",
     "examples/per-run-configmap/pipelinerun.yaml <- examples/per-run-configmap/README.md"),
    ("a console command without its namespace (kubectl approve in the README)",
     "examples/quorum/README.md",
     "$ kubectl approve release-x7k2p -n approve-quorum --yes\n", "$ kubectl approve release-x7k2p --yes\n",
     "examples/quorum/pipelinerun.yaml"),
    ("output in a README that the plugin does not print",
     "examples/quorum/README.md",
     "approvals: 1 of 2 (alice@example.com); still needed: 1 more from bob@example.com, carol@example.com\n",
     "approvals: 1 of 2 (alice@example.com); still needed: bob@example.com or carol@example.com\n",
     "examples/quorum/pipelinerun.yaml"),
]


def self_test(check, base):
    """Each mutation of a copy of the tree must make the check fail where
    it should (a failure elsewhere is no proof)."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(4) as pool:
        oks = list(pool.map(lambda m: mutate(check, base, *m), MUTATIONS))
    return all(oks)


def mutate(check, base, what, rel, old, new, where):
    """True when the scenarios labelled WHERE fail on a copy of the tree
    with one change, and passed without it."""
    tmp = tempfile.mkdtemp(prefix="examples-mut-")
    try:
        for d in ("examples", "catalog", "tests"):
            shutil.copytree(os.path.join(check.root, d), os.path.join(tmp, d), symlinks=True)
        p = os.path.join(tmp, rel)
        with open(p) as f:
            text = f.read()
        if old not in text:
            print("self-test: %s: text to mutate not found in %s" % (what, rel))
            return False
        with open(p, "w") as f:
            f.write(text.replace(old, new, 1))
        n, failed, res = run_all(Check(tmp, check.binary, check.gate_wait), jobs=3, quiet=True, only=where)
        caught = ["%s (%s)" % (lab, e[0].split("\n")[0]) for lab, v, e in res
                  if e and lab not in base]
        print("self-test: %s in %s: %s" % (what, rel,
              "caught by %s" % caught[0] if caught else
              "NOT CAUGHT by %s (%d runs)" % (where, n)))
        return bool(caught)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args()
    binary = os.environ.get("APPROVE_STEP_BIN") or os.path.join(ROOT, "build", "approve-step", "approve-step")
    check = Check(ROOT, binary)
    t0 = time.time()
    n, failed, res = run_all(check)
    base = {lab for lab, v, e in res if e}  # failing already: no proof
    print("examples: %d runs, %d failed, %.1fs" % (n, failed, time.time() - t0))
    ok = failed == 0
    if a.self_test:
        ok = self_test(check, base) and ok
        print("examples: self-test done, %.1fs in all" % (time.time() - t0))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

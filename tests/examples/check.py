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

What it does not model: a param default naming another param, object
params and `$(params.x[N])`; the Kubernetes API (api: on gates, `kubectl
approve`, RBAC, admission policies; those examples are resolved and their
argv checked, not run), images (busybox's sh is the host's sh), retries,
timeouts of the PipelineRun, Tekton's name hashing, matrix, pipelines in
pipelines, custom tasks, workspace subPath, and validation of the YAML
(tests/catalog does that).
"""

import argparse
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

GATE_WAIT = 4.0      # seconds a gate may take to decide once decided
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
        p = subprocess.Popen(argv, env=penv, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        self.check.started(env["EXAMPLES_TASKRUN"])
        try:
            out, _ = p.communicate(timeout=self.check.gate_wait)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
            rc = None
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

    def started(self, taskrun):
        open(os.path.join(self.state, "pods", taskrun), "w").close()

    # A scenario: run one PipelineRun/TaskRun, with actions applied by a
    # shell (the README's lines) once its gate waits.
    def execute(self, run_file, run, actions, configmaps):
        self.state = tempfile.mkdtemp(prefix="examples-")
        self.actor = None
        try:
            return self._execute(run_file, run, actions, configmaps)
        finally:
            if self.actor and self.actor.is_alive():
                self.actor.join()
            shutil.rmtree(self.state, ignore_errors=True)

    def _execute(self, run_file, run, actions, configmaps):
        st = self.state
        for d in ("configmaps", "pods", "bin", "runs"):
            os.makedirs(os.path.join(st, d))
        for name, data in configmaps.items():
            KubeletVolume(os.path.join(st, "configmaps", name)).update(data)
        os.symlink(os.path.join(HERE, "kubectl"), os.path.join(st, "bin", "kubectl"))
        with open(os.path.join(st, "bin", "sleep"), "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(os.path.join(st, "bin", "sleep"), 0o755)
        meta = run["metadata"]
        name = meta.get("name") or meta["generateName"] + uuid.uuid4().hex[:5]
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
        for line in actions:
            penv = dict(os.environ)
            penv.update(env)
            # KEY=... in a README is an example value: "take the key from
            # the log", which names the key the gate was given
            if line.startswith("KEY="):
                continue
            script = "PR=%s\nKEY=%s\n%s\n" % (shlex.quote(ex.name),
                                              shlex.quote(getattr(ex, "gate_key", "")), line)
            p = subprocess.run(["/bin/sh", "-ec", script], env=penv, cwd=self.root,
                               capture_output=True, text=True, timeout=20)
            ex.action_results.append((line, p.returncode, p.stderr.strip()))

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

    def exec_taskrun(self, ex, spec, params, ctx, near, bindings, env, shared):
        troot = os.path.join(self.state, "runs", ctx["taskRun.name"])
        os.makedirs(troot)
        self.workspace_dirs(bindings, troot, shared)
        for w in spec.get("workspaces", []):
            if w["name"] not in bindings and not w.get("optional"):
                raise Fail("TaskRun %s: workspace %s not bound" % (ctx["taskRun.name"], w["name"]))
        steps, sidecars, results = resolve_task(self.objs, spec, params, ctx, near, troot)
        env = dict(env, EXAMPLES_TASKRUN=ctx["taskRun.name"])
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
        return status, res

    def run_taskrun(self, ex, run_file, run, name, env, actor):
        spec = run["spec"]
        task = self.objs.find("Task", spec["taskRef"]["name"], run_file)["spec"] \
            if "taskRef" in spec else spec["taskSpec"]
        ctx = {"taskRun.name": name, "taskRun.namespace": NAMESPACE,
               "taskRun.uid": str(uuid.uuid4())}
        binds = {w["name"]: w for w in spec.get("workspaces", [])}
        if actor:
            actor.start()
        status, res = self.exec_taskrun(ex, task, given_params(spec.get("params")), ctx,
                                        run_file, binds, env, {})
        return {"status": status, "tasks": {"(taskrun)": (status, res)}}

    def run_pipeline(self, ex, run_file, run, name, env, actor):
        pspec = self.objs.find("Pipeline", run["spec"]["pipelineRef"]["name"], run_file)["spec"] \
            if "pipelineRef" in run["spec"] else run["spec"]["pipelineSpec"]
        pvals = param_values(pspec.get("params"), given_params(run["spec"].get("params")),
                             "Pipeline of " + name)
        pctx = {"context.pipelineRun.name": name, "context.pipelineRun.namespace": NAMESPACE,
                "context.pipelineRun.uid": str(uuid.uuid4())}
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
            ctx = {"taskRun.name": tname, "taskRun.namespace": NAMESPACE,
                   "taskRun.uid": str(uuid.uuid4())}
            return self.exec_taskrun(ex, spec, given_params(t2.get("params")), ctx,
                                     run_file, wb, env, shared)

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
    """{run file: [(label, [lines], expectation)]} from the READMEs' bash
    blocks: after `kubectl create -f RUN`, each `kubectl patch` line (with
    the comment above it) is one alternative decision."""
    out, creates, acted = {}, [], set()
    for md in sorted(glob.glob(os.path.join(root, "examples", "**", "README.md"), recursive=True)):
        text = open(md).read()
        run = None
        for block in re.findall(r"```bash\n(.*?)```", text, re.S):
            block = re.sub(r"(\\|(?<=\|))\n\s*", " ", block)
            comment = ""
            for raw in block.splitlines():
                line = raw.strip()
                if line.startswith("#"):
                    comment = line.lstrip("# ")
                    continue
                m = re.search(r"kubectl create (?:-n \S+ )?-f (\S+\.yaml)(.*)", line)
                if m and "run" in os.path.basename(m.group(1)):
                    run = os.path.join(root, m.group(1))
                    rest = m.group(2)
                    sed = re.search(r"\| sed '([^']*)' \| kubectl create -f -", rest)
                    creates.append((run, len(out.setdefault(run, []))))
                    out[run].append(
                        ("%s: %s" % (os.path.relpath(md, root), comment or "as written"),
                         [], expectation(comment), sed.group(1) if sed else None))
                    comment = ""
                    continue
                if run and re.match(r"kubectl (patch|approve|annotate)", line):
                    label = "%s: %s" % (os.path.relpath(md, root), comment or line[:40])
                    if (line.startswith("kubectl annotate") or
                            comment.startswith("later")) and out[run]:
                        # the nudge follows the decision before it
                        out[run][-1][1].append(line)
                        continue
                    out[run].append((label, [line], expectation(comment or line), None))
                    acted.add(creates[-1])
                    comment = ""
    # a create followed by decisions is no scenario of its own
    for run, i in sorted(acted, key=lambda x: -x[1]):
        out[run][i] = None
    out = {run: [s for s in lst if s] for run, lst in out.items()}
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
                         [line], expectation(comment), None))
    return out


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


def seed_configmaps(objs, run_file):
    """The ConfigMaps an example creates: its own directory's, and
    examples/approvals.yaml for examples/."""
    cms = {}
    for f, d in objs.docs:
        if d["kind"] != "ConfigMap":
            continue
        if os.path.dirname(f) == os.path.dirname(run_file) or \
                ("/examples/" in run_file and f.endswith("examples/approvals.yaml")) or \
                ("/catalog/" in run_file and os.path.dirname(os.path.dirname(f)) ==
                 os.path.dirname(os.path.dirname(run_file)) and "/samples/" in f):
            cms[d["metadata"]["name"]] = {k: str(v) for k, v in (d.get("data") or {}).items()}
    return cms


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
            errs.append("README line failed (%d): %s: %s" % (rc, line, err))
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
    """[(label, run_file, run_doc, lines, expectation, sed)]"""
    rs = readme_scenarios(check.root)
    out = []
    for f, d in check.objs.docs:
        if d["kind"] not in ("PipelineRun", "TaskRun"):
            continue
        if f in rs:
            for label, lines, exp, sed in rs[f]:
                out.append(("%s <- %s" % (os.path.relpath(f, check.root), label), f, d, lines, exp, sed))
        else:
            # no README drives it: a catalog test that votes by itself
            # must succeed; any other run must at least wait.
            rel = os.path.relpath(f, check.root)
            exp = ("approved", None) if "/tests/" in f else ("waiting", None)
            if "/tests/" in f and d["metadata"]["name"].endswith("-stale"):
                exp = ("timeout", None)
            out.append(("%s %s" % (rel, d["metadata"].get("name") or d["metadata"].get("generateName")),
                        f, d, [], exp, None))
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
    label, f, d, lines, exp, sed = sc
    if sed:  # the README's `... -o yaml | sed 'S' | kubectl create -f -`
        text = subprocess.run(["sed", sed], input=open(f).read(), capture_output=True,
                              text=True, check=True).stdout
        d = [x for x in yaml.safe_load_all(text) if x and x.get("kind") == d["kind"]][0]
    fit = rbac_fit(check, f, d)
    if fit:
        return label, "FAIL", fit
    if needs_api(check, f, d):
        return label, "skipped (needs the Kubernetes API: api \"on\")", []
    c = Check.__new__(Check)
    c.__dict__.update(check.__dict__)
    if exp[0] == "timeout":  # the gate's own timeout must end the wait
        c.gate_wait = 40
    try:
        out = c.execute(f, d, lines, seed_configmaps(check.objs, f))
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


def run_all(check, jobs=6, quiet=False):
    from concurrent.futures import ThreadPoolExecutor
    scs = scenarios(check)
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
MUTATIONS = [
    ("a wrong key in the catalog Task's voter (finding 1 put back)",
     "catalog/task/approve-step/0.1/tests/run.yaml",
     "        # The key the wait task was given above.\n        - name: key\n"
     "          value: $(context.pipelineRun.name)-$(context.pipelineRun.uid)\n",
     "        - name: key\n          value: $(context.pipelineRun.name)-wait\n"),
    ("a wrong param name in a pipeline task",
     "examples/per-run-key/pipeline.yaml", "- name: key\n", "- name: keys\n"),
    ("a broken approve command in the README",
     "examples/README.md", "kubectl patch configmap approvals --type=merge -p \"{\\\"data\\\":{\\\"$PR\\\":\\\"approved\\\"}}\"",
     "kubectl patch configmap approvals --type=merge -p \"{\\\"data\\\":{\\\"$PR-x\\\":\\\"approved\\\"}}\""),
    ("a broken command in a voter task (kubectl patch -> kubectl replace)",
     "catalog/stepaction/approve-step/0.1/tests/run.yaml",
     "        - patch\n        - configmap\n", "        - replace\n        - configmap\n"),
    ("every task of the api-watch run as the watcher",
     "examples/api-watch/pipelinerun.yaml",
     "  taskRunSpecs:\n    - pipelineTaskName: approval\n      serviceAccountName: approval-watcher\n",
     "  taskRunTemplate:\n    serviceAccountName: approval-watcher\n"),
    ("the configmap param dropped from a ConfigMap gate",
     "catalog/task/approve-step/0.1/samples/pipeline.yaml",
     "        - name: configmap\n          value: approve-cm\n", ""),
    ("a wrong arg in the Task's step",
     "catalog/task/approve-step/0.1/approve-step.yaml", "- $(params.key)\n", "- $(params.key)-old\n"),
    ("a wrong key in the StepAction test's voter",
     "catalog/stepaction/approve-step/0.1/tests/run.yaml",
     "value: $(context.pipelineRun.name)-gate\n", "value: $(context.pipelineRun.name)\n"),
]


def self_test(check, base):
    """Each mutation of a copy of the tree must make the check fail."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(len(MUTATIONS)) as pool:
        oks = list(pool.map(lambda m: mutate(check, base, *m), MUTATIONS))
    return all(oks)


def mutate(check, base, what, rel, old, new):
    """True when the check fails on a copy of the tree with one change."""
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
        n, failed, res = run_all(Check(tmp, check.binary, check.gate_wait), jobs=4, quiet=True)
        caught = ["%s (%s)" % (lab, e[0].split("\n")[0]) for lab, v, e in res
                  if e and lab not in base]
        print("self-test: %s in %s: %s" % (what, rel,
              "caught by %s" % caught[0] if caught else "NOT CAUGHT"))
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

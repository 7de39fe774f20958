"""The benchmark's runs: reaction, start-up, idle cost and scale, for each
kind of waiter, on fresh kubelet-style volumes."""

import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time

import api
import volume  # tests/lib/volume.py: the kubelet-style writer
from common import BENCH, DECIDED, KINDS, ROOT, BenchError, ms, now, say
from probes import (Limits, Perf, UserNamespace, inotify_watches,
                    kind_watches, loadavg, machine_info, proc_children,
                    proc_state, proc_status, source_revision)
from report import Report, stats
from waiters import (Loop, Waiter, Writer, build_approve_step, build_floor,
                     describe_binary, image_size, shown_path)


# ------------------------------------------------------------------ the bench

class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.out = os.path.abspath(args.out)
        os.makedirs(self.out, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix="approve-step-bench.",
                                    dir=args.tmpdir)
        self.loop = Loop()
        self.writer = None
        self.waiters = []
        self.limits = Limits()
        self.rng = random.Random(args.seed)
        self.ndir = 0
        self.results = {}  # filled by the phases
        self.failures = []

    # -- plumbing

    def argv(self, kind, path, key):
        if kind == "polling":
            return ["bash", os.path.join(BENCH, "poll-waiter.sh"), path, key,
                    "3600"]
        if kind == "floor":
            return [self.floor, path, key]
        if kind == "floor-close":
            return [self.floor_close, path, key]
        return [self.bin, "--dir", path, "--key", key, "--timeout", "1h"]

    def new_dir(self, data):
        self.ndir += 1
        path = os.path.join(self.tmp, f"cm{self.ndir}")
        volume.KubeletVolume(path).update(data)
        return path

    def spawn(self, kind, path, key="status", perf=False, prefix=()):
        w = Waiter(self, kind, path, key, perf=perf, prefix=prefix)
        self.waiters.append(w)
        return w

    def drop(self, ws):
        for w in ws:
            w.stop()
            if w in self.waiters:
                self.waiters.remove(w)

    def wait_ready(self, ws, timeout_s):
        self.loop.run_until(
            lambda: all(w.ready or w.t_exit is not None for w in ws),
            now() + int(timeout_s * 1e9), "the waiters to start")
        bad = [w for w in ws if not w.ready]
        if bad:
            w = bad[0]
            raise BenchError(f"{w.kind} exited before watching (rc {w.rc}): "
                             + " | ".join(t for _, t in w.lines[-3:]))

    def wait_asleep(self, w, timeout_s=2.0):
        """Until the waiter sleeps (state S) in its wait, briefly."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end and proc_state(w.pid) != "S":
            time.sleep(0.005)

    def setup(self):
        a = self.args
        self.info = machine_info(self.tmp)
        self.info["load_start"] = loadavg()
        if a.bin:
            self.bin = os.path.abspath(a.bin)
            self.bin_how = "given with --bin"
        else:
            self.bin, self.bin_how = build_approve_step(self.out)
        if not os.access(self.bin, os.X_OK):
            raise BenchError(f"{self.bin} is not executable")
        r = subprocess.run([self.bin, "--version"], capture_output=True,
                           text=True)
        self.bin_version = (r.stdout or r.stderr).strip().splitlines()[:1]
        self.floor, self.floor_how = build_floor(self.out)
        self.floor_close, _ = build_floor(self.out, "floor-close",
                                          ["-DCLOSE_BEFORE_EXIT"])
        Perf.setup()
        self.writer = Writer(self.loop)

    def cleanup(self):
        for w in list(self.waiters):
            try:
                w.stop()
            except Exception:
                pass
        self.waiters = []
        if self.writer:
            self.writer.close()
        self.limits.restore()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- reaction latency

    def sample(self, kinds, delay_range, concurrency, timeout_s=30):
        """One latency sample per entry of `kinds`, `concurrency` at a time:
        start the waiter on a fresh pending volume, wait until it watches,
        after a random delay approve with a kubelet-style update, and time
        the waiter's decision line and exit against the swap."""
        todo = list(kinds)
        active, done = [], []
        while todo or active:
            while todo and len(active) < concurrency:
                kind = todo.pop(0)
                path = self.new_dir({"status": "pending"})
                w = self.spawn(kind, path)
                active.append({"w": w, "kind": kind, "path": path,
                               "swap_at": None, "id": None})
            t = now()
            for s in active:
                w = s["w"]
                if s["swap_at"] is None and w.ready:
                    if kind_watches(w) == 0:
                        self.failures.append(
                            f"{w.kind} logged its first line before its "
                            "inotify watch was in place")
                    s["swap_at"] = now() + int(
                        self.rng.uniform(*delay_range) * 1e9)
                elif s["swap_at"] is None and w.t_exit is not None:
                    raise BenchError(f"{w.kind} exited early (rc {w.rc}): "
                                     + " | ".join(x for _, x in w.lines[-3:]))
                elif s["swap_at"] is None and \
                        t - w.t_spawn > timeout_s * 1e9:
                    raise BenchError(f"{w.kind} did not start watching")
                if s["id"] is None and s["swap_at"] is not None and \
                        t >= s["swap_at"]:
                    if concurrency == 1:
                        self.wait_asleep(w)
                    s["id"] = self.writer.send(s["path"],
                                               {"status": "approved"})
                    s["sent"] = now()
            finished = [s for s in active if s["id"] is not None and
                        s["w"].done and s["id"] in self.writer.answers]
            for s in finished:
                active.remove(s)
                done.append(self._finish_sample(s))
            for s in active:
                if s["id"] is not None and now() - s["sent"] > timeout_s * 1e9:
                    self.failures.append(
                        f"{s['kind']} did not decide within {timeout_s} s "
                        "of the approval")
                    active.remove(s)
                    self.drop([s["w"]])
                    break
            if finished:
                continue
            pending = [s["swap_at"] for s in active
                       if s["id"] is None and s["swap_at"] is not None]
            wait_ns = min(pending) - now() if pending else 200_000_000
            self.loop.once(max(0, min(200, wait_ns // 1_000_000)))
        return done

    def _finish_sample(self, s):
        w = s["w"]
        a = self.writer.answers.pop(s["id"])
        swap = a["swap_start"]
        t_log = w.line_time(DECIDED)
        r = {"waiter": s["kind"], "rc": w.rc,
             "startup_ms": ms(w.started_ns),
             "swap_to_log_ms": ms(t_log - swap) if t_log else None,
             "swap_to_eof_ms": ms(w.t_eof - swap),
             "swap_to_exit_ms": ms(w.t_exit - swap),
             "log_to_exit_ms": ms(w.t_exit - t_log) if t_log else None,
             "rename_us": (a["swap_end"] - a["swap_start"]) / 1e3}
        if w.rc != 0 or t_log is None:
            self.failures.append(
                f"{s['kind']} ended with {w.rc} after the approval: "
                + " | ".join(x for _, x in w.lines[-2:]))
        self.drop([w])
        shutil.rmtree(s["path"], ignore_errors=True)
        return r

    def phase_latency(self):
        n = self.args.samples
        say(f"reaction: approve-step, floor and floor-close, {n} samples "
            "each, interleaved")
        jobs = []
        for _ in range(n):
            group = ["approve-step", "floor", "floor-close"]
            self.rng.shuffle(group)
            jobs += group
        # Warm the page cache and the binaries first; not counted.
        self.sample(["approve-step", "floor", "floor-close"], (0.05, 0.1), 1)
        rows = self.sample(jobs, (0.1, 0.2), 1)
        np = self.args.poll_samples
        conc = min(np, 8 if not self.quick else 4)
        say(f"reaction: polling, {np} samples, {conc} at a time "
            "(approval at a random point of its 2 s round)")
        rows += self.sample(["polling"] * np, (0.5, 2.5), conc)
        self.results["latency"] = rows

    # -- idle cost

    def phase_idle(self):
        secs = self.args.idle_seconds
        say(f"idle: the three waiters side by side, {secs:g} s of waiting "
            "after start-up")
        ws = {k: self.spawn(k, self.new_dir({"status": "pending"}),
                            perf=True) for k in KINDS}
        self.wait_ready(ws.values(), 30)
        time.sleep(2.5)  # past start-up: the poller is in its loop
        before = {k: w.snapshot() for k, w in ws.items()}
        t0 = now()
        peak_tree = {k: 0 for k in KINDS}
        peak_child_hwm = 0
        end = t0 + int(secs * 1e9)
        while now() < end:
            for k, w in ws.items():
                rss, _ = w.tree_memory()
                peak_tree[k] = max(peak_tree[k], rss)
            for c in proc_children(ws["polling"].pid):
                st = proc_status(c)
                if st:
                    peak_child_hwm = max(peak_child_hwm, st["VmHWM"])
            time.sleep(min(0.1, max(0, (end - now()) / 1e9)))
        after = {k: w.snapshot(pss=True) for k, w in ws.items()}
        t1 = now()
        pss_tree = {k: w.tree_memory(pss=True)[1] for k, w in ws.items()}
        window = (t1 - t0) / 1e9
        per_min = 60.0 / window
        res = {}
        for k in KINDS:
            b, a = before[k], after[k]
            r = {"window_s": window,
                 "proc_wakeups_per_min": (a["ctx"] - b["ctx"]) * per_min,
                 "proc_cpu_ms_per_min": ms(a["cpu_ns"] - b["cpu_ns"]) * per_min,
                 "hwm_kib": a["hwm_kib"], "rss_kib": a["rss_kib"],
                 "rss_start_kib": b["rss_kib"], "pss_kib": pss_tree[k],
                 "anon_kib": a.get("anon_kib")}
            if "tree_ctx" in a:
                r["wakeups_per_min"] = (a["tree_ctx"] - b["tree_ctx"]) * per_min
                r["cpu_ms_per_min"] = ms(a["tree_cpu_ns"]
                                         - b["tree_cpu_ns"]) * per_min
            else:
                # No perf: the children's CPU time from cutime/cstime (in
                # clock ticks); their context switches are not known.
                r["wakeups_per_min"] = r["proc_wakeups_per_min"]
                r["cpu_ms_per_min"] = ms(a["cpu_with_children_ns"]
                                         - b["cpu_with_children_ns"]) * per_min
            if "tree_forks" in a:
                r["forks_per_min"] = (a["tree_forks"] - b["tree_forks"]) * per_min
            elif k != "polling":
                r["forks_per_min"] = 0.0  # no child appeared (checked below)
            r["peak_kib"] = a["hwm_kib"]
            if k == "polling":
                # bash's own peak plus its biggest child's (one at a time)
                r["peak_kib"] = max(a["hwm_kib"] + peak_child_hwm,
                                    peak_tree[k])
            r["watches"] = inotify_watches(ws[k].pid)
            res[k] = r
        # End it the way it is meant to end: approve every one.
        ids = [self.writer.send(w.path, {"status": "approved"})
               for w in ws.values()]
        self.loop.run_until(
            lambda: all(w.done for w in ws.values()) and
            all(i in self.writer.answers for i in ids),
            now() + 30 * 10**9, "the idle waiters to decide")
        for i in ids:
            self.writer.answers.pop(i)
        for w in ws.values():
            if w.rc != 0:
                self.failures.append(f"{w.kind} (idle run) exited {w.rc}")
        self.drop(list(ws.values()))
        self.results["idle"] = res

    # -- scale

    def phase_scale(self):
        res = []
        for n in self.args.scale:
            for kind in KINDS:
                if kind == "polling" and n > self.args.poll_scale_max:
                    continue
                if not self.limits.ensure(n):
                    say(f"scale: skipping {n} x {kind}: limits too low")
                    continue
                res.append(self.scale_one(kind, n))
                res[-1]["max_user_instances"] = self.limits.current()
        self.limits.restore()
        self.results["scale"] = res

    def scale_one(self, kind, n):
        secs = self.args.scale_seconds
        approvals = min(n, self.args.approvals)
        say(f"scale: {n} x {kind} on one ConfigMap ({secs:g} s idle"
            + (f", {approvals} approval{'s' if approvals > 1 else ''})"
               if kind != "polling" else ")"))
        path = self.new_dir({f"run-{i}": "pending" for i in range(n)})
        t = now()
        ws = [self.spawn(kind, path, f"run-{i}", perf=(kind == "polling"))
              for i in range(n)]
        self.wait_ready(ws, 60 + 0.1 * n)
        spawn_s = (now() - t) / 1e9
        time.sleep(2.5 if kind == "polling" else 1.0)
        before = [w.snapshot() for w in ws]
        t0 = now()
        peak_rss = 0
        end = t0 + int(secs * 1e9)
        while True:
            if kind == "polling":
                peak_rss = max(peak_rss, sum(w.tree_memory()[0] for w in ws))
            left = (end - now()) / 1e9
            if left <= 0:
                break
            time.sleep(min(0.25, left))
        after = [w.snapshot(pss=kind != "polling") for w in ws]
        window = (now() - t0) / 1e9
        if kind == "polling":
            pss_total = sum(w.tree_memory(pss=True)[1] for w in ws)
        else:
            pss_total = sum(x.get("pss_kib") or 0 for x in after)
        per_min = 60.0 / window

        def total(snaps, key, alt):
            return sum(s.get(key, s.get(alt, 0)) for s in snaps)

        r = {"waiter": kind, "n": n, "window_s": window, "spawn_s": spawn_s,
             "rss_kib": sum(s.get("rss_kib", 0) for s in after),
             "hwm_kib": sum(s.get("hwm_kib", 0) for s in after),
             "pss_kib": pss_total,
             "idle_wakeups_per_min":
                 (total(after, "tree_ctx", "ctx")
                  - total(before, "tree_ctx", "ctx")) * per_min,
             "idle_cpu_ms_per_min":
                 ms(total(after, "tree_cpu_ns", "cpu_with_children_ns")
                    - total(before, "tree_cpu_ns", "cpu_with_children_ns"))
                 * per_min}
        if kind == "polling":
            r["rss_kib"] = max(r["rss_kib"], peak_rss)
        # One approval at a time; what does it cost the waiters it is not for?
        costs_cpu, costs_ctx, lat, renames = [], [], [], []
        if kind != "polling":
            for j in range(approvals):
                target = ws[j]
                others = [w for w in ws[j + 1:]]
                s0 = [w.snapshot() for w in others]
                i = self.writer.send(path, {f"run-{j}": "approved"})
                self.loop.run_until(
                    lambda: target.done and i in self.writer.answers,
                    now() + 60 * 10**9, f"waiter run-{j} to decide")
                a = self.writer.answers.pop(i)
                lat.append(ms(target.t_exit - a["swap_start"]))
                renames.append((a["swap_end"] - a["swap_start"]) / 1e3)
                if target.rc != 0:
                    self.failures.append(
                        f"scale {n} x {kind}: run-{j} exited {target.rc}")
                # Let every other waiter handle all the update's events.
                time.sleep(0.3)
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline and any(
                        proc_state(w.pid) not in ("S", None) for w in others):
                    time.sleep(0.05)
                s1 = [w.snapshot() for w in others]
                if others:
                    costs_cpu.append(ms(sum(b.get("cpu_ns", 0) - a_.get("cpu_ns", 0)
                                            for a_, b in zip(s0, s1))))
                    costs_ctx.append(sum(b.get("ctx", 0) - a_.get("ctx", 0)
                                         for a_, b in zip(s0, s1)))
        r["approvals"] = approvals
        r["others"] = max(0, n - 1)
        r["approve_others_cpu_ms"] = stats(costs_cpu)[1]
        r["approve_others_wakeups"] = stats(costs_ctx)[1]
        r["approve_latency_ms"] = stats(lat)[1]
        r["approve_latency_max_ms"] = stats(lat)[3]
        r["approve_rename_us"] = stats(renames)[1]
        for w in ws:
            if w.t_exit is None:
                try:
                    os.killpg(w.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        self.loop.run_until(lambda: all(w.t_exit is not None for w in ws),
                            now() + 30 * 10**9, "the waiters to stop")
        self.drop(ws)
        shutil.rmtree(path, ignore_errors=True)
        return r

    # -- past the limit

    # The kernel's default fs.inotify.max_user_instances, and more waiters.
    PAST_LIMIT = (128, 135)

    def phase_past_limit(self):
        """More approve-step waiters than the default inotify instance
        limit, in a user namespace that has that limit (the node's is raised
        as for the scale runs, so that only this one binds): those past it
        re-read every 5 s; one update approving every key must end all."""
        limit, n = self.PAST_LIMIT
        self.results["past_limit"] = None
        ns = UserNamespace("max_inotify_instances", limit)
        if not ns.usable or not self.limits.ensure(n):
            say(f"past the limit: skipped ({ns.why or 'limits too low'})")
            ns.close()
            return
        say(f"past the limit: {n} approve-step waiters, {limit} inotify "
            "instances allowed (user namespace)")
        try:
            path = self.new_dir({f"run-{i}": "pending" for i in range(n)})
            ws = [self.spawn("approve-step", path, f"run-{i}",
                             prefix=ns.prefix()) for i in range(n)]
            self.wait_ready(ws, 60 + 0.1 * n)
            i = self.writer.send(path, {f"run-{j}": "approved"
                                        for j in range(n)})
            self.loop.run_until(
                lambda: all(w.done for w in ws) and i in self.writer.answers,
                now() + 30 * 10**9, "every waiter to decide")
            swap = self.writer.answers.pop(i)["swap_start"]
            rereading = [any("cannot watch" in t for _, t in w.lines)
                         for w in ws]
            by = {True: [], False: []}
            for w, rr in zip(ws, rereading):
                by[rr].append(ms(w.t_exit - swap))
            self.results["past_limit"] = {
                "n": n, "limit": limit, "rereading": sum(rereading),
                "approved": sum(w.rc == 0 for w in ws),
                "inotify_ms": stats(by[False]), "rereading_ms": stats(by[True])}
            self.drop(ws)
            shutil.rmtree(path, ignore_errors=True)
        finally:
            ns.close()
            self.limits.restore()

    # -- sizes

    def phase_sizes(self):
        sizes = {"approve-step": os.path.getsize(self.bin),
                 "floor": os.path.getsize(self.floor)}
        bash = shutil.which("bash")
        cat, sleep = shutil.which("cat"), shutil.which("sleep")
        if bash and cat and sleep:
            sizes["polling"] = sum(os.path.getsize(os.path.realpath(p))
                                   for p in (bash, cat, sleep))
        dyn = os.path.join(ROOT, "build", "approve-step", "approve-step")
        if os.path.exists(dyn) and os.path.realpath(dyn) != \
                os.path.realpath(self.bin):
            sizes["approve-step (meson build)"] = os.path.getsize(dyn)
        img, how = image_size()
        self.results["sizes"] = sizes
        self.results["image"] = (img, how)

    # -- through the Kubernetes API

    def phase_api(self):
        a = self.args
        say(f"API watch: approve-step --api and the TLS floor, "
            f"{a.api_samples} samples each, interleaved; then "
            f"{a.api_idle_seconds:g} s idle with an open watch")
        b = api.APIBench(self.bin, self.tmp, self.out, self.quick, self.rng)
        try:
            self.results["api"] = b.run(a.api_samples, a.api_idle_seconds)
        except api.APIBenchError as e:
            raise BenchError(f"API watch: {e}")
        self.failures += b.failures

    # -- the whole run

    def run(self):
        t0 = time.monotonic()
        self.setup()
        say(f"measuring {self.bin} ({self.bin_how})")
        self.phase_sizes()
        loads = self.info["loads"] = []
        for name, phase in (("reaction", self.phase_latency),
                            ("idle", self.phase_idle),
                            ("scale", self.phase_scale),
                            ("past the limit", self.phase_past_limit),
                            ("API", self.phase_api)):
            loads.append((name, loadavg()))
            phase()
        self.info["load_end"] = loadavg()
        loads.append(("end", self.info["load_end"]))
        self.info["duration_s"] = time.monotonic() - t0
        self.info.update(
            quick=self.quick, bin=shown_path(self.bin), bin_how=self.bin_how,
            bin_version=" ".join(self.bin_version),
            bin_file=describe_binary(self.bin), floor_how=self.floor_how,
            revision=source_revision(),
            perf_usable=bool(Perf.usable), perf_why=Perf.why,
            forks_counted=Perf.fork_tracepoint is not None,
            date=time.strftime("%Y-%m-%d", time.gmtime()))
        with open(os.path.join(self.out, "results.json"), "w") as f:
            json.dump({"info": self.info, "results": self.results,
                       "failures": self.failures}, f, indent=1)
        Report(self.info, self.results, self.out, self.args).write_all()
        if self.failures:
            for f in self.failures:
                say(f"error: {f}")
            return 1
        return 0

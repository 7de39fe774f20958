"""The API-watch part of the benchmark: approve-step --api against the least
possible TLS reader (bench/api-floor.c) on the same watch stream of the fake
API server (tests/lib/fakeapi.py), its idle cost with an open watch, and the
end-to-end picture of `kubectl patch` -> step exits.

Figures:
  reaction     event written to the watch stream -> process exit (pidfd),
               and patch -> exit (what the fake adds: its JSON and thread)
  idle         wakeups (context switches) and CPU per minute with an open
               watch; resident memory (VmRSS, VmHWM, Pss) while waiting
  end to end   patch -> exit as a user sees it: the polling step and
               approve-step on the volume wait for the kubelet's next pod
               sync (the model below), approve-step --api does not

The kubelet model (pkg/kubelet/pod_workers.go, volumemanager): after each
sync a pod worker requeues the pod at wait.Jitter(syncFrequency = 1 min,
0.5), so syncs come every U[60 s, 90 s); each sync remounts ConfigMap
volumes, which the volume manager's reconciler does within its 100 ms loop
(reconcilerLoopSleepPeriod). A patch lands at a random moment of that
cycle, so it waits the residual time to the next sync: length-biased, 0 to
90 s, median 37.5 s, p90 68.8 s (with the Watch change-detection strategy,
the default, the kubelet's copy of the ConfigMap is already current). To
that the model adds a measured reaction sample of each waiter on the volume
(..data swap -> exit, from the reaction part of this run). The API server's
own delivery (etcd commit -> watch event, tens of milliseconds in a real
cluster) is not modelled: the API figure is the fake's patch -> exit.

Run alone while developing: python3 bench/api.py --bin PATH [--quick]
"""

import math
import os
import random
import select
import shutil
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

import fakeapi  # noqa: E402
from probes import proc_cpu_ns, proc_pss_kib, proc_state, proc_status  # noqa: E402

NS, CM, KEY = "bench", "approvals", "status"
NEEDLE = '"status":"approved"'   # what the floor waits for in the stream
SYNC_MIN_S, SYNC_MAX_S = 60.0, 90.0
RECONCILER_S = 0.1
E2E_DRAWS = 100000


class APIBenchError(Exception):
    pass


def build_api_floor(out):
    """bench/api-floor.c linked statically with Debian's BearSSL (glibc:
    Debian builds no musl BearSSL; the floor only needs to be cheap at
    run time, and a static link spares it the loader)."""
    src = os.path.join(BENCH, "api-floor.c")
    exe = os.path.join(out, "api-floor")
    log = os.path.join(out, "api-floor-build.log")
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise APIBenchError("no C compiler for bench/api-floor.c")
    flags = ["-std=c11", "-O2", "-Wall", "-Wextra", "-s", "-o", exe, src,
             "-lbearssl"]
    for how, extra in (("cc -static -O2 (glibc, BearSSL)", ["-static"]),
                       ("cc -O2 (dynamic, BearSSL)", [])):
        with open(log, "w") as f:
            if subprocess.run([cc, *extra, *flags], stdout=f,
                              stderr=subprocess.STDOUT).returncode == 0:
                return exe, how
    raise APIBenchError(f"cannot compile bench/api-floor.c (libbearssl-dev?):"
                        f" see {log}")


def wait_asleep(pid, timeout_s=2.0):
    """Until the process sleeps (or is gone), at most timeout_s."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if proc_state(pid) in (None, "S"):
            return
        time.sleep(0.002)


def kubelet_delay_s(u):
    """Inverse CDF of the wait from a patch to the next pod sync, for
    syncs every U[60, 90) s met at a random moment (length-biased
    residual): density 1/75 up to 60 s, then falling linearly to 0 at 90."""
    mean = (SYNC_MIN_S + SYNC_MAX_S) / 2
    knee = SYNC_MIN_S / mean                       # F(60 s) = 0.8
    if u < knee:
        return u * mean
    span = SYNC_MAX_S - SYNC_MIN_S
    return SYNC_MAX_S - math.sqrt(span * span - 2 * span * mean * (u - knee))


def quantiles(xs):
    xs = sorted(xs)
    if not xs:
        return None, None, None

    def q(p):
        return xs[max(0, math.ceil(p * len(xs)) - 1)]
    n = len(xs)
    med = xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2
    return med, q(0.9), xs[-1]


class APIBench:
    """Runs on a Bench-like object: .bin, .tmp, .out, .quick, .rng."""

    def __init__(self, bin_path, tmp, out, quick, rng):
        self.bin, self.tmp, self.out = bin_path, tmp, out
        self.quick, self.rng = quick, rng
        self.failures = []
        self.api = self.certs = None

    def setup(self):
        self.floor, self.floor_how = build_api_floor(self.out)
        self.certs = fakeapi.Certs(os.path.join(self.tmp, "api-certs"))
        self.token = "bench-" + os.urandom(12).hex()
        self.api = fakeapi.FakeAPI(self.certs, tokens={
            self.token: "system:serviceaccount:bench:pipeline"}).start()
        self.creds = os.path.join(self.tmp, "api-serviceaccount")
        fakeapi.write_credentials(self.creds, self.token, self.api.ca_path,
                                  NS)
        self.api.configmap(NS, CM, {KEY: "pending"})

    def close(self):
        if self.api:
            self.api.stop()
        if self.certs:
            self.certs.cleanup()

    def argv(self, kind):
        if kind == "approve-step":
            return [self.bin, "--api", "on", "--api-server", self.api.url,
                    "--api-credentials", self.creds, "--configmap", CM,
                    "--key", KEY, "--timeout", "1h"]
        path = (f"/api/v1/namespaces/{NS}/configmaps?fieldSelector="
                f"metadata.name%3D{CM}&watch=1&resourceVersion="
                f"{self.api.store.rv}&allowWatchBookmarks=true")
        return [self.floor, "127.0.0.1", str(self.api.port),
                self.api.ca_path, os.path.join(self.creds, "token"), path,
                NEEDLE]

    def spawn(self, kind):
        log = tempfile.TemporaryFile(dir=self.tmp)
        n = len([r for r in self.api.requests if r.watch_started]) + 1
        p = subprocess.Popen(self.argv(kind), stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=log)
        try:
            self.api.wait_for_watch(n, 30)
        except AssertionError:
            p.kill()
            p.wait()
            log.seek(0)
            raise APIBenchError(f"{kind} never opened its watch: "
                                + log.read().decode(errors="replace")[-500:])
        return p, log

    def finish(self, kind, p, log):
        rc = p.wait()
        log.seek(0)
        text = log.read().decode(errors="replace")
        log.close()
        if rc != 0:
            self.failures.append(f"{kind} (API) exited {rc}: {text[-300:]}")
        elif kind == "approve-step" and "(through the API at " not in text:
            self.failures.append("approve-step (API) did not say it decided "
                                 "through the API: " + text[-300:])
        self.api.patch_data(NS, CM, {KEY: "pending"})

    def sample(self, kind):
        p, log = self.spawn(kind)
        time.sleep(self.rng.uniform(0.03, 0.08))
        wait_asleep(p.pid)
        fd = os.pidfd_open(p.pid)
        try:
            t_patch = time.monotonic()
            self.api.patch_data(NS, CM, {KEY: "approved"})
            ready, _, _ = select.select([fd], [], [], 30)
            t_exit = time.monotonic()
        finally:
            os.close(fd)
        if not ready:
            p.kill()
            self.failures.append(f"{kind} (API) did not exit within 30 s of "
                                 "the approval")
        written = self.api.write_started
        self.finish(kind, p, log)
        return {"waiter": kind,
                "event_to_exit_ms": (t_exit - written) * 1e3,
                "patch_to_exit_ms": (t_exit - t_patch) * 1e3}

    def phase_reaction(self, samples):
        rows = []
        for kind in ("approve-step", "floor"):   # warm-up, not counted
            self.sample(kind)
        for _ in range(samples):
            kinds = ["approve-step", "floor"]
            self.rng.shuffle(kinds)
            rows += [self.sample(k) for k in kinds]
        return rows

    def phase_idle(self, seconds):
        p, log = self.spawn("approve-step")
        time.sleep(1.0)
        wait_asleep(p.pid)
        before = proc_status(p.pid)
        cpu0, t0 = proc_cpu_ns(p.pid), time.monotonic()
        time.sleep(seconds)
        after = proc_status(p.pid)
        cpu1, t1 = proc_cpu_ns(p.pid), time.monotonic()
        pss = proc_pss_kib(p.pid)
        per_min = 60.0 / (t1 - t0)
        res = {"window_s": t1 - t0,
               "wakeups_per_min": (after["ctx"] - before["ctx"]) * per_min,
               "cpu_ms_per_min": (cpu1 - cpu0) / 1e6 * per_min,
               "rss_kib": after["VmRSS"], "hwm_kib": after["VmHWM"],
               "pss_kib": pss,
               "watches_opened": len(self.api.requests_of("watch"))}
        self.api.patch_data(NS, CM, {KEY: "approved"})
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
        self.finish("approve-step", p, log)
        return res

    def run(self, samples, idle_seconds):
        self.setup()
        try:
            return {"floor_how": self.floor_how,
                    "reaction": self.phase_reaction(samples),
                    "idle": self.phase_idle(idle_seconds)}
        finally:
            self.close()


def end_to_end(api_rows, volume_rows, seed=1):
    """patch -> exit in seconds, per waiter: draws of the kubelet model plus
    measured volume reactions, and the measured API figures as they are.
    volume_rows: the reaction part's rows (waiter, swap_to_exit_ms)."""
    rng = random.Random(seed)
    # The same kubelet delays for both waiters (common random numbers):
    # they differ only by their own reactions.
    delays = [kubelet_delay_s(rng.random()) + rng.uniform(0, RECONCILER_S)
              for _ in range(E2E_DRAWS)]
    out = {}
    for kind, label in (("polling", "polling step (volume)"),
                        ("approve-step", "approve-step (volume)")):
        xs = [r["swap_to_exit_ms"] / 1e3 for r in volume_rows
              if r["waiter"] == kind and r.get("swap_to_exit_ms") is not None]
        if not xs:
            continue
        pick = random.Random(f"{seed}:{kind}")
        out[label] = [d + pick.choice(xs) for d in delays]
    xs = [r["patch_to_exit_ms"] / 1e3 for r in api_rows
          if r["waiter"] == "approve-step"]
    if xs:
        out["approve-step (API)"] = xs
    return out


def fmt_s(x):
    if x is None:
        return "-"
    if x >= 1:
        return f"{x:.1f} s"
    return f"{x * 1e3:.2f} ms" if x < 0.01 else f"{x * 1e3:.0f} ms"


def report_lines(res, e2e):
    """The API part of the text report, and the targets as (what, ok, how)."""
    L, targets = [], []
    rows = res["reaction"]

    def q(kind, field):
        return quantiles([r[field] for r in rows if r["waiter"] == kind])
    L.append("")
    L.append("API watch, reaction (ms)          waiter        samples "
             "  median      p90      max")
    for field, name in (("event_to_exit_ms", "event on the stream -> exit"),
                        ("patch_to_exit_ms", "patch -> exit (fake server)")):
        for kind in ("approve-step", "floor"):
            med, p90, mx = q(kind, field)
            n = sum(1 for r in rows if r["waiter"] == kind)
            L.append(f"  {name:31} {kind:13} {n:7} {med:8.3f} {p90:8.3f} "
                     f"{mx:8.3f}")
    a, f = q("approve-step", "event_to_exit_ms")[0], \
        q("floor", "event_to_exit_ms")[0]
    r = a / f if f else math.inf
    targets.append(("approve-step --api within 2x of the TLS floor's median "
                    "(event -> exit)", r <= 2.0,
                    f"{r:.2f}x ({a:.3f} vs {f:.3f} ms)"))
    targets.append(("approve-step --api median event -> exit under 5 ms",
                    a < 5.0, f"{a:.3f} ms"))
    i = res["idle"]
    L.append("")
    L.append(f"API watch, idle with an open watch ({i['window_s']:.0f} s): "
             f"{i['wakeups_per_min']:.1f} wakeups/min, "
             f"{i['cpu_ms_per_min']:.2f} ms CPU/min; VmRSS {i['rss_kib']} "
             f"KiB, peak {i['hwm_kib']} KiB, Pss {i['pss_kib']} KiB")
    targets.append(("0 wakeups per minute with an open watch (between "
                    "renewals)", i["wakeups_per_min"] == 0,
                    f"{i['wakeups_per_min']:.1f}/min over "
                    f"{i['window_s']:.0f} s"))
    targets.append(("resident memory while waiting with an open watch <= "
                    "512 KiB", i["hwm_kib"] <= 512,
                    f"peak {i['hwm_kib']} KiB, now {i['rss_kib']} KiB"))
    if e2e:
        L.append("")
        L.append("end to end: kubectl patch -> step exits      median      "
                 "p90      max")
        for label, xs in e2e.items():
            med, p90, mx = quantiles(xs)
            L.append(f"  {label:40} {fmt_s(med):>9} {fmt_s(p90):>9} "
                     f"{fmt_s(mx):>9}")
        L.append("  (volume: the kubelet's next pod sync, every 60-90 s "
                 "(pod_workers.go), met at a random")
        L.append("  moment, plus the measured reaction; API: the fake's "
                 "patch -> exit, without the API")
        L.append("  server's own delivery, tens of ms in a cluster)")
    return L, targets


def markdown(res, e2e):
    """The API part's headline figures as Markdown."""
    rows = res["reaction"]

    def cell(kind, field):
        med, p90, mx = quantiles([r[field] for r in rows
                                  if r["waiter"] == kind])
        return f"{med:.3f} ({p90:.3f}, {mx:.3f})", med
    L = ["| through the API | approve-step --api | TLS floor | "
         "approve-step / floor |", "|---|---:|---:|---:|"]
    for field, name in (("event_to_exit_ms", "event written to the watch "
                         "stream -> exit, ms: median (p90, max)"),
                        ("patch_to_exit_ms", "patch -> exit (fake API "
                         "server), ms")):
        (a, am), (f, fm) = cell("approve-step", field), cell("floor", field)
        L.append(f"| {name} | {a} | {f} | {am / fm:.2f}x |")
    i = res["idle"]
    L.append(f"| idle with an open watch: wakeups per minute (CPU ms) | "
             f"{i['wakeups_per_min']:.1f} ({i['cpu_ms_per_min']:.2f}) | | |")
    L.append(f"| resident memory waiting with an open watch, KiB: peak "
             f"(now, Pss) | {i['hwm_kib']} ({i['rss_kib']}, {i['pss_kib']}) "
             "| | |")
    n = sum(1 for r in rows if r["waiter"] == "floor")
    L += ["", f"Samples: {n} each, interleaved; idle window "
          f"{i['window_s']:.0f} s. The floor is bench/api-floor.c "
          f"({res.get('floor_how', 'BearSSL')}): one TLS watch with the "
          "library approve-step uses, exiting as soon as the decision's "
          "bytes are in what it decrypted."]
    if e2e:
        L += ["", "| kubectl patch -> the step exits | median | p90 | max |",
              "|---|---:|---:|---:|"]
        for label, xs in e2e.items():
            med, p90, mx = quantiles(xs)
            L.append(f"| {label} | {fmt_s(med)} | {fmt_s(p90)} | "
                     f"{fmt_s(mx)} |")
        L += ["", "On the volume the step waits for the kubelet's next pod "
              "sync: a pod worker requeues at `wait.Jitter(1m, 0.5)` "
              "(pkg/kubelet/pod_workers.go), so syncs come every 60-90 s and "
              "a patch made at a random moment waits 0-90 s for the next one "
              "(median 37.5 s); modelled here with "
              f"{E2E_DRAWS} draws plus each waiter's measured reaction on "
              "the volume. Through the API the figure is the fake server's "
              "patch -> exit; a real API server adds its own watch delivery "
              "(etcd commit -> event, tens of milliseconds)."]
    return "\n".join(L)


def write_files(res, e2e, out):
    """api-reaction.csv, plot data and (gnuplot) api.svg; returns the svg
    path or None."""
    with open(os.path.join(out, "api-reaction.csv"), "w") as f:
        f.write("waiter,event_to_exit_ms,patch_to_exit_ms\n")
        for r in res["reaction"]:
            f.write(f"{r['waiter']},{r['event_to_exit_ms']:.4f},"
                    f"{r['patch_to_exit_ms']:.4f}\n")
    d = os.path.join(out, "plot")
    os.makedirs(d, exist_ok=True)
    names = {"polling step (volume)": "e2e-polling",
             "approve-step (volume)": "e2e-volume",
             "approve-step (API)": "e2e-api"}
    for label, xs in e2e.items():
        xs = sorted(xs)
        step = max(1, len(xs) // 500)
        with open(os.path.join(d, names[label] + ".dat"), "w") as f:
            for i in range(0, len(xs), step):
                f.write(f"{xs[i]:.6f} {(i + 1) / len(xs):.4f}\n")
            f.write(f"{xs[-1]:.6f} 1.0\n")
    for kind in ("approve-step", "floor"):
        xs = sorted(r["event_to_exit_ms"] for r in res["reaction"]
                    if r["waiter"] == kind)
        with open(os.path.join(d, f"api-{kind}.dat"), "w") as f:
            for i, x in enumerate(xs):
                f.write(f"{x:.4f} {(i + 1) / len(xs):.4f}\n")
    if not shutil.which("gnuplot"):
        return None
    svg = os.path.join(out, "api.svg")
    r = subprocess.run(["gnuplot", "-e", f"datadir='{d}'; out='{svg}'",
                        os.path.join(BENCH, "api-plot.gp")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise APIBenchError(f"gnuplot failed: {r.stderr.strip()}")
    return svg


def read_volume_csv(path):
    """The reaction rows of an earlier full run (its latency.csv)."""
    import csv
    with open(path, newline="") as f:
        return [{"waiter": r["waiter"],
                 "swap_to_exit_ms": float(r["swap_to_exit_ms"])}
                for r in csv.DictReader(f) if r["swap_to_exit_ms"]]


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(
        description="the API part of bench/run, alone; with --volume-csv "
        "also the end-to-end picture, from the volume reactions of an "
        "earlier run (docs/bench/latency.csv)")
    ap.add_argument("--bin", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--volume-csv", metavar="FILE")
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="approve-step-bench-api.")
    try:
        b = APIBench(os.path.abspath(a.bin), tmp, a.out, a.quick,
                     random.Random())
        res = b.run(12 if a.quick else 100, 5.0 if a.quick else 60.0)
        e2e = end_to_end(res["reaction"], read_volume_csv(a.volume_csv)) \
            if a.volume_csv else {}
        lines, targets = report_lines(res, e2e)
        print("\n".join(lines))
        for what, ok, how in targets:
            print(f"  {'met' if ok else 'MISSED'}: {what}: {how}")
        print("")
        print(markdown(res, e2e))
        svg = write_files(res, e2e, a.out)
        if svg:
            print(f"plot: {svg}")
        for f in b.failures:
            print(f"error: {f}")
        return 1 if b.failures else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

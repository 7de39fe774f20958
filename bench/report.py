"""The report: the table and ratios on stdout, CSV and data files, the
gnuplot SVG, and (with --docs) docs/bench/ and the results part of
docs/bench.md."""

import csv
import math
import os
import shutil
import subprocess
import sys

import api
from common import BENCH, KINDS, LATENCY_KINDS, ROOT, BenchError, say
from probes import read_text


# ----------------------------------------------------------------- statistics

def stats(xs):
    """(n, median, p90, max) of xs; p90 by nearest rank."""
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return (0, None, None, None)
    n = len(xs)
    mid = n // 2
    median = xs[mid] if n % 2 else (xs[mid - 1] + xs[mid]) / 2
    p90 = xs[max(0, math.ceil(0.9 * n) - 1)]
    return (n, median, p90, xs[-1])


def fmt(x, digits=2):
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    if isinstance(x, int):
        return str(x)
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.{digits}f}"


def ratio(a, b):
    if a is None or b is None:
        return None
    if b == 0:
        return math.inf if a > 0 else None
    return a / b


def fmt_ratio(r):
    if r is None:
        return "-"
    if r == math.inf:
        return "infinite (x/0)"
    return f"{r:.0f}x" if r >= 100 else f"{r:.2f}x"


# ------------------------------------------------------------------ report

class Report:
    """Tables, CSV, plot and docs from one run's results (a Bench, or the
    results.json a run left in its output directory)."""

    def __init__(self, info, results, out, args):
        self.info = info
        self.r = results
        self.out = out
        self.args = args
        self.quick = info["quick"]
        self.summary = []  # rows for summary.csv
        self._collect()
        # The API part (absent from runs made before it existed), and the
        # end-to-end picture drawn from it and the volume reactions (a fixed
        # seed: --report-from gives the same figures).
        self.api = results.get("api")
        self.e2e = api.end_to_end(self.api["reaction"], results["latency"]) \
            if self.api else {}

    def lat(self, kind, field):
        return stats(row.get(field) for row in self.r["latency"]
                     if row["waiter"] == kind)

    def _collect(self):
        for kind in LATENCY_KINDS:
            for field, metric in (("swap_to_exit_ms", "swap to exit"),
                                  ("swap_to_log_ms", "swap to decision logged"),
                                  ("log_to_exit_ms", "decision logged to exit"),
                                  ("startup_ms", "start-up to watching")):
                n, med, p90, mx = self.lat(kind, field)
                if not n:
                    continue
                self.summary.append({"metric": metric, "waiter": kind,
                                     "waiters": 1, "samples": n,
                                     "median": med, "p90": p90, "max": mx,
                                     "unit": "ms"})
        idle = self.r["idle"]
        for kind in KINDS:
            i = idle[kind]
            for key, metric, unit in (
                    ("wakeups_per_min", "idle wakeups", "per minute"),
                    ("proc_wakeups_per_min", "idle wakeups (main process only)",
                     "per minute"),
                    ("forks_per_min", "idle forks", "per minute"),
                    ("cpu_ms_per_min", "idle CPU time", "ms per minute"),
                    ("peak_kib", "peak resident memory", "KiB"),
                    ("rss_start_kib", "resident memory at the start of the "
                     "idle window", "KiB"),
                    ("rss_kib", "resident memory at its end", "KiB"),
                    ("pss_kib", "proportional set size at its end", "KiB"),
                    ("anon_kib", "private (anonymous) memory at its end",
                     "KiB")):
                if key in i:
                    self.summary.append({"metric": metric, "waiter": kind,
                                         "waiters": 1, "samples": 1,
                                         "median": i[key], "p90": None,
                                         "max": None, "unit": unit,
                                         "note": f"over {i['window_s']:.0f} s"})
        for kind, size in self.r["sizes"].items():
            self.summary.append({"metric": "binary size", "waiter": kind,
                                 "waiters": 1, "samples": 1, "median": size,
                                 "unit": "bytes"})
        img, how = self.r["image"]
        self.summary.append({"metric": "image size", "waiter": "approve-step",
                             "waiters": 1, "samples": 1, "median": img,
                             "unit": "bytes", "note": how})
        for s in self.r["scale"]:
            for key, metric, unit in (
                    ("rss_kib", "total resident memory", "KiB"),
                    ("pss_kib", "total proportional set size", "KiB"),
                    ("idle_wakeups_per_min", "total idle wakeups", "per minute"),
                    ("idle_cpu_ms_per_min", "total idle CPU time",
                     "ms per minute"),
                    ("approve_others_cpu_ms",
                     "one approval: CPU time of the other waiters", "ms"),
                    ("approve_others_wakeups",
                     "one approval: wakeups of the other waiters", "count"),
                    ("approve_latency_ms",
                     "one approval: swap to exit of its waiter", "ms"),
                    ("approve_rename_us",
                     "one approval: the writer's rename() of ..data", "us")):
                if s.get(key) is not None:
                    self.summary.append({"metric": metric, "waiter": s["waiter"],
                                         "waiters": s["n"],
                                         "samples": s["approvals"]
                                         if key.startswith("approve") else 1,
                                         "median": s[key], "unit": unit})

    # -- targets

    def targets(self):
        out = []
        a_exit = self.lat("approve-step", "swap_to_exit_ms")[1]
        f_exit = self.lat("floor", "swap_to_exit_ms")[1]
        p_exit = self.lat("polling", "swap_to_exit_ms")[1]
        r1 = ratio(a_exit, f_exit)
        out.append(("approve-step within 1.5x of the floor's median latency "
                    "(swap to exit)", r1 is not None and r1 <= 1.5,
                    f"{fmt_ratio(r1)} ({fmt(a_exit)} vs {fmt(f_exit)} ms)"))
        r2 = ratio(p_exit, a_exit)
        out.append(("approve-step at least 100x faster than polling",
                    r2 is not None and r2 >= 100,
                    f"{fmt_ratio(r2)} ({fmt(p_exit)} vs {fmt(a_exit)} ms)"))
        i = self.r["idle"]["approve-step"]
        fs = self.info["fs"]
        out.append((f"zero wakeups while idle on a local file system ({fs})",
                    i["wakeups_per_min"] == 0 and i["cpu_ms_per_min"] == 0,
                    f"{fmt(i['wakeups_per_min'])} wakeups/min, "
                    f"{fmt(i['cpu_ms_per_min'])} ms CPU/min over "
                    f"{i['window_s']:.0f} s"))
        fl = self.r["idle"]["floor"]
        d = i["peak_kib"] - fl["peak_kib"]
        out.append((f"resident memory within a small constant of the floor "
                    f"(taken as <= {self.args.rss_margin} KiB)",
                    d <= self.args.rss_margin,
                    f"{i['peak_kib']} vs {fl['peak_kib']} KiB: +{d} KiB"))
        if self.api:
            out += api.report_lines(self.api, self.e2e)[1]
        return out

    # -- text

    def text(self):
        L, info = [], self.info
        L.append(f"approve-step benchmark ({'quick' if self.quick else 'full'} "
                 f"run, {info['duration_s']:.0f} s)")
        L.append(f"  approve-step: {info['bin']} -- {info['bin_how']}; "
                 f"{info['bin_version']}; {info['bin_file']}")
        L.append(f"  repository at {info.get('revision', '?')}")
        L.append(f"  floor: bench/floor.c, {info['floor_how']}; polling: "
                 f"bench/poll-waiter.sh, bash {info['bash']}")
        L.append(f"  machine: {info['nproc']} x {info['cpu']}, Linux "
                 f"{info['kernel']}, volume on {info['fs']}")
        L.append("  load average (1 min) as each part began: " + ", ".join(
            f"{name} {fmt(v)}" for name, v in info.get("loads", [])))
        if not info["perf_usable"]:
            L.append(f"  note: no perf counters ({info['perf_why']}): the "
                     "polling step's children's wakeups and forks are not "
                     "counted, their CPU time only in clock ticks")
        elif not info["forks_counted"]:
            L.append("  note: no sched_process_fork tracepoint: forks not "
                     "counted")
        L.append("")
        L.append("reaction (ms)                    waiter        samples "
                 "  median      p90      max")
        for field, name in (("swap_to_exit_ms", "..data swap -> exit"),
                            ("swap_to_log_ms", "..data swap -> decision log"),
                            ("log_to_exit_ms", "decision log -> exit"),
                            ("startup_ms", "start -> watching")):
            for kind in LATENCY_KINDS:
                n, med, p90, mx = self.lat(kind, field)
                if n:
                    L.append(f"  {name:30s} {kind:13s} {n:7d} {fmt(med):>8s} "
                             f"{fmt(p90):>8s} {fmt(mx):>8s}")
        rn = stats(row["rename_us"] for row in self.r["latency"])
        L.append(f"  (times from the start of the rename() that swaps ..data;"
                 f" the rename itself took {fmt(rn[1])} us, median)")
        L.append("")
        idle = self.r["idle"]
        w = idle["approve-step"]["window_s"]
        scaled = "" if abs(w - 60) < 2 else f", measured over {w:.0f} s and scaled"
        L.append(f"idle, per minute of waiting{scaled}")
        L.append("  waiter        wakeups  (process)    forks   CPU ms | "
                 "peak RSS KiB  RSS start->end   PSS KiB  private KiB")
        for kind in KINDS:
            i = idle[kind]
            L.append(f"  {kind:13s} {fmt(i['wakeups_per_min']):>7s} "
                     f"{'(' + fmt(i['proc_wakeups_per_min']) + ')':>10s} "
                     f"{fmt(i.get('forks_per_min')):>8s} "
                     f"{fmt(i['cpu_ms_per_min']):>8s} | {i['peak_kib']:>12d} "
                     f"{str(i['rss_start_kib']) + '->' + str(i['rss_kib']):>15s} "
                     f"{i['pss_kib']:>9d} {fmt(i.get('anon_kib')):>12s}")
        L.append("  (wakeups: context switches of the process and its "
                 "children; in brackets the process alone. RSS of polling: "
                 "bash plus its child of the moment; PSS: shared pages "
                 "divided among the processes mapping them; private: "
                 "anonymous memory of the main process)")
        L.append("")
        L.append("sizes")
        for kind, size in self.r["sizes"].items():
            L.append(f"  {kind:28s} {size:>10d} bytes")
        img, how = self.r["image"]
        L.append(f"  {'approve-step image':28s} "
                 + (f"{img:>10d} bytes ({how})" if img is not None else how))
        L.append("")
        if self.r["scale"]:
            sc = self.r["scale"]
            w = sc[0]["window_s"]
            L.append("scale: N waiters on one ConfigMap directory, key run-I "
                     f"each (idle over {w:.0f} s, per minute)")
            L.append("     N waiter         RSS MiB  PSS MiB  idle wakeups/min"
                     "  idle CPU ms/min")
            for s in sc:
                L.append(
                    f"  {s['n']:4d} {s['waiter']:13s} {s['rss_kib'] / 1024:8.2f} "
                    f"{s['pss_kib'] / 1024:8.2f} "
                    f"{fmt(s['idle_wakeups_per_min']):>17s} "
                    f"{fmt(s['idle_cpu_ms_per_min']):>16s}")
            L.append("")
            L.append("scale: one approval (median over the approvals): what "
                     "the N-1 other waiters spend on it, its own waiter's "
                     "swap->exit, the writer's rename()")
            L.append("     N waiter        others' CPU ms (per waiter us)  "
                     "wakeups (per waiter)  swap->exit ms  rename us")
            for s in sc:
                if s["waiter"] == "polling":
                    continue
                o = s["others"]
                cpu, wk = s["approve_others_cpu_ms"], s["approve_others_wakeups"]
                L.append(
                    f"  {s['n']:4d} {s['waiter']:13s} {fmt(cpu):>14s} "
                    f"{'(' + fmt(cpu * 1000 / o if o and cpu is not None else None) + ')':>17s} "
                    f"{fmt(wk):>9s} {'(' + fmt(wk / o if o and wk is not None else None) + ')':>12s} "
                    f"{fmt(s['approve_latency_ms']):>13s} "
                    f"{fmt(s['approve_rename_us']):>10s}")
            L.append("  (polling waiters are not woken by an update; their "
                     "cost is their idle cost)")
            limits = sorted({s.get("max_user_instances") for s in sc} - {None})
            if limits:
                L.append("  fs.inotify.max_user_instances during these runs: "
                         + ", ".join(map(str, limits))
                         + " (raised as root to what each run needs)")
            L.append("")
        pl = self.r.get("past_limit")
        if pl:
            ino, rr = pl["inotify_ms"], pl["rereading_ms"]
            L.append(f"past the default limit: {pl['n']} approve-step waiters "
                     f"in a user namespace allowed {pl['limit']} inotify "
                     "instances (user.max_inotify_instances)")
            L.append(f"  {pl['rereading']} re-read every 5 s instead (and "
                     f"say so); one update approving every key: "
                     f"{pl['approved']} of {pl['n']} approved")
            L.append(f"  swap->exit ms, median (max): with inotify "
                     f"{fmt(ino[1])} ({fmt(ino[3])}), re-reading "
                     f"{fmt(rr[1])} ({fmt(rr[3])})")
            L.append("")
        L.append("ratios (medians)")
        for field, name in (("swap_to_exit_ms", "swap -> exit"),
                            ("swap_to_log_ms", "swap -> decision log")):
            p = self.lat("polling", field)[1]
            a = self.lat("approve-step", field)[1]
            f = self.lat("floor", field)[1]
            L.append(f"  {name:22s} polling / approve-step {fmt_ratio(ratio(p, a)):>10s}"
                     f"   approve-step / floor {fmt_ratio(ratio(a, f)):>8s}")
        ia, ifl, ip = idle["approve-step"], idle["floor"], idle["polling"]
        L.append(f"  {'idle CPU time':22s} polling / approve-step "
                 f"{fmt_ratio(ratio(ip['cpu_ms_per_min'], ia['cpu_ms_per_min'])):>10s}")
        L.append(f"  {'peak RSS':22s} polling / approve-step "
                 f"{fmt_ratio(ratio(ip['peak_kib'], ia['peak_kib'])):>10s}"
                 f"   approve-step / floor "
                 f"{fmt_ratio(ratio(ia['peak_kib'], ifl['peak_kib'])):>8s}")
        if self.api:
            L += api.report_lines(self.api, self.e2e)[0][1:]
            L.append("")
        L.append("targets")
        for what, ok, detail in self.targets():
            L.append(f"  {'met   ' if ok else 'MISSED'} {what}: {detail}")
        return "\n".join(L) + "\n"

    # -- files

    def write_csv(self):
        fields = ["metric", "waiter", "waiters", "samples", "median", "p90",
                  "max", "unit", "note"]
        with open(os.path.join(self.out, "summary.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields)
            w.writeheader()
            for row in self.summary:
                w.writerow({k: (round(v, 4) if isinstance(v, float) else v)
                            for k, v in row.items()})
        rows = self.r["latency"]
        with open(os.path.join(self.out, "latency.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            for row in rows:
                w.writerow({k: (round(v, 4) if isinstance(v, float) else v)
                            for k, v in row.items()})
        if self.r["scale"]:
            keys = list(self.r["scale"][0])
            with open(os.path.join(self.out, "scale.csv"), "w",
                      newline="") as f:
                w = csv.DictWriter(f, fieldnames=keys)
                w.writeheader()
                for row in self.r["scale"]:
                    w.writerow({k: (round(v, 4) if isinstance(v, float) else v)
                                for k, v in row.items()})

    def write_plot_data(self):
        d = os.path.join(self.out, "plot")
        os.makedirs(d, exist_ok=True)
        for kind in KINDS:
            xs = sorted(r["swap_to_exit_ms"] for r in self.r["latency"]
                        if r["waiter"] == kind)
            with open(os.path.join(d, f"latency-{kind}.dat"), "w") as f:
                for i, x in enumerate(xs):
                    f.write(f"{x:.4f} {(i + 1) / len(xs):.4f}\n")
            with open(os.path.join(d, f"scale-{kind}.dat"), "w") as f:
                f.write("# n rss_mib idle_cpu_ms_per_min idle_wakeups_per_min "
                        "approve_others_cpu_ms approve_others_wakeups "
                        "pss_mib\n")
                for s in self.r["scale"]:
                    if s["waiter"] != kind:
                        continue
                    f.write(f"{s['n']} {s['rss_kib'] / 1024:.4f} "
                            f"{s['idle_cpu_ms_per_min']:.4f} "
                            f"{s['idle_wakeups_per_min']:.4f} "
                            f"{s['approve_others_cpu_ms'] if s['approve_others_cpu_ms'] is not None else 'NaN'} "
                            f"{s['approve_others_wakeups'] if s['approve_others_wakeups'] is not None else 'NaN'} "
                            f"{s['pss_kib'] / 1024:.4f}\n")
        info = self.info
        title = (f"{info['nproc']} x {info['cpu']}, Linux {info['kernel']}, "
                 f"{'quick' if self.quick else 'full'} run")
        with open(os.path.join(d, "title.txt"), "w") as f:
            f.write(title + "\n")
        return d

    def plot(self, datadir):
        svg = os.path.join(self.out, "bench.svg")
        if not shutil.which("gnuplot"):
            say("no gnuplot: no plot (apt-get install gnuplot-nox)")
            return None
        title = read_text(os.path.join(datadir, "title.txt")).strip()
        title = title.replace("'", "")
        has_scale = bool(self.r["scale"])
        has_cost = any(x.get("approve_others_cpu_ms") is not None
                       for x in self.r["scale"])
        r = subprocess.run(
            ["gnuplot", "-e", f"datadir='{datadir}'; out='{svg}'; "
             f"machine='{title}'; has_scale={int(has_scale)}; "
             f"has_cost={int(has_cost)}", os.path.join(BENCH, "plot.gp")],
            capture_output=True, text=True)
        if r.returncode != 0:
            raise BenchError(f"gnuplot failed: {r.stderr.strip()}")
        return svg

    def write_all(self):
        text = self.text()
        sys.stdout.write(text)
        sys.stdout.flush()
        with open(os.path.join(self.out, "report.txt"), "w") as f:
            f.write(text)
        self.write_csv()
        svg = self.plot(self.write_plot_data())
        api_svg = None
        if self.api:
            try:
                api_svg = api.write_files(self.api, self.e2e, self.out)
            except api.APIBenchError as e:
                raise BenchError(str(e))
        say(f"results in {self.out}: report.txt summary.csv latency.csv "
            f"scale.csv{' bench.svg' if svg else ''}"
            f"{' api-reaction.csv' if self.api else ''}"
            f"{' api.svg' if api_svg else ''}")
        if self.args.docs:
            self.publish(text, svg, api_svg)

    def markdown(self):
        """The headline figures as Markdown tables."""
        idle = self.r["idle"]
        w = idle["approve-step"]["window_s"]

        def lat(kind, field):
            n, med, p90, mx = self.lat(kind, field)
            return f"{fmt(med)} ({fmt(p90)}, {fmt(mx)})"

        def r2(a, b):
            return fmt_ratio(ratio(a, b))

        L = ["| figure | polling | approve-step | floor | polling / "
             "approve-step | approve-step / floor |",
             "|---|---:|---:|---:|---:|---:|"]
        for field, name in (
                ("swap_to_exit_ms", "..data swap -> exit, ms: median (p90, max)"),
                ("swap_to_log_ms", "..data swap -> decision logged, ms"),
                ("log_to_exit_ms", "decision logged -> exit, ms"),
                ("startup_ms", "start -> watching, ms")):
            p, a, f = (self.lat(k, field)[1] for k in KINDS)
            ratios = (f"{r2(p, a)} | {r2(a, f)}"
                      if field != "log_to_exit_ms" else "- | -")
            L.append(f"| {name} | {lat('polling', field)} | "
                     f"{lat('approve-step', field)} | {lat('floor', field)} | "
                     f"{ratios} |")
        for key, name in (("wakeups_per_min", "idle wakeups per minute"),
                          ("forks_per_min", "idle forks per minute"),
                          ("cpu_ms_per_min", "idle CPU ms per minute"),
                          ("peak_kib", "peak resident memory, KiB"),
                          ("anon_kib", "private memory, KiB")):
            p, a, f = (idle[k].get(key) for k in KINDS)
            L.append(f"| {name} | {fmt(p)} | {fmt(a)} | {fmt(f)} | "
                     f"{r2(p, a)} | {r2(a, f)} |")
        sz = self.r["sizes"]
        L.append(f"| binary size, bytes | {sz.get('polling', '-')} (bash, cat, "
                 f"sleep) | {sz['approve-step']} | {sz['floor']} | "
                 f"{r2(sz.get('polling'), sz['approve-step'])} | "
                 f"{r2(sz['approve-step'], sz['floor'])} |")
        img, how = self.r["image"]
        L.append("| approve-step image, bytes | | "
                 + (f"{img} ({how})" if img is not None else how)
                 + " | | | |")
        L.append("")
        if self.lat("floor-close", "swap_to_exit_ms")[0]:
            L.append("*floor-close*, the floor closing its watch itself "
                     "before it exits (as approve-step does), in the same "
                     "run: ..data swap -> decision logged "
                     f"{lat('floor-close', 'swap_to_log_ms')} ms, -> exit "
                     f"{lat('floor-close', 'swap_to_exit_ms')} ms, decision "
                     "logged -> exit "
                     f"{lat('floor-close', 'log_to_exit_ms')} ms.")
            L.append("")
        L.append(f"Idle figures over {w:.0f} s of waiting after start-up"
                 + ("" if abs(w - 60) < 2 else ", scaled to a minute") + ". "
                 "Samples: " + ", ".join(
                     f"{k} {self.lat(k, 'swap_to_exit_ms')[0]}" for k in KINDS)
                 + ".")
        if self.r["scale"]:
            L += ["", "| waiters | waiter | RSS MiB | PSS MiB | idle wakeups/min "
                  "| idle CPU ms/min | one approval: others' CPU ms | "
                  "others' wakeups | its waiter's swap -> exit, ms | "
                  "writer's rename, us |",
                  "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
            for x in self.r["scale"]:
                L.append(f"| {x['n']} | {x['waiter']} | {x['rss_kib'] / 1024:.2f} | "
                         f"{x['pss_kib'] / 1024:.2f} | "
                         f"{fmt(x['idle_wakeups_per_min'])} | "
                         f"{fmt(x['idle_cpu_ms_per_min'])} | "
                         f"{fmt(x['approve_others_cpu_ms'])} | "
                         f"{fmt(x['approve_others_wakeups'])} | "
                         f"{fmt(x['approve_latency_ms'])} | "
                         f"{fmt(x['approve_rename_us'])} |")
        if self.api:
            L += ["", api.markdown(self.api, self.e2e)]
        L += ["", "Targets:", ""]
        for what, ok, detail in self.targets():
            L.append(f"- {'met' if ok else '**missed**'}: {what}: {detail}")
        return "\n".join(L)

    def publish(self, text, svg, api_svg=None):
        docs = os.path.join(ROOT, "docs", "bench")
        os.makedirs(docs, exist_ok=True)
        for name in ("summary.csv", "latency.csv", "scale.csv", "report.txt",
                     "api-reaction.csv"):
            p = os.path.join(self.out, name)
            if os.path.exists(p):
                shutil.copy(p, os.path.join(docs, name))
        if svg:
            shutil.copy(svg, os.path.join(docs, "bench.svg"))
        if api_svg:
            shutil.copy(api_svg, os.path.join(docs, "api.svg"))
        md = os.path.join(ROOT, "docs", "bench.md")
        begin, end = "<!-- bench/run --docs: begin -->", \
            "<!-- bench/run --docs: end -->"
        try:
            doc = read_text(md)
        except FileNotFoundError:
            doc = f"# Benchmark\n\n{begin}\n{end}\n"
        if begin not in doc or end not in doc:
            say(f"{md} has no results markers: left as it is")
            return
        info = self.info
        block = [begin, "",
                 f"Measured {info['date']} on "
                 f"{info['nproc']} x {info['cpu']} (nproc {info['nproc']}), "
                 f"Linux {info['kernel']}, volume directory on {info['fs']}, "
                 "load average (1 min, other work on the machine) as each "
                 "part began: " + ", ".join(
                     f"{name} {fmt(v)}" for name, v in info.get("loads", []))
                 + "; "
                 f"approve-step: {info['bin_how']}, {info['bin_file']}, "
                 f"from commit {info.get('revision', '?')}.",
                 "", self.markdown(), "",
                 "![Reaction latency, idle cost, memory and the cost of one "
                 "approval against the number of waiters](bench/bench.svg)",
                 *(["", "![kubectl patch -> the step exits: on the volume "
                    "(kubelet sync modelled) and through the API; and "
                    "through the API against the TLS floor](bench/api.svg)"]
                   if api_svg else []),
                 "", "<details><summary>The whole report (bench/run's "
                 "output)</summary>", "", "```", text.rstrip("\n"), "```", "",
                 "</details>", "", end]
        head, rest = doc.split(begin, 1)
        _, tail = rest.split(end, 1)
        with open(md, "w") as f:
            f.write(head + "\n".join(block) + tail)
        say(f"updated {md} and docs/bench/")

"""The waiters and the writer the benchmark drives: one event loop over
their pipes and pidfds (a decision line and an exit are time-stamped when
they happen, not when a poll looks), and the builds of the binaries."""

import json
import os
import select
import shutil
import signal
import subprocess
import sys

from common import BENCH, ROOT, BenchError, now, say
from probes import (Perf, proc_children_cpu_ns, proc_cpu_ns, proc_pss_kib,
                    proc_rollup, proc_status, proc_tree)


# --------------------------------------------------------------- event loop

class Loop:
    """poll() on pipes and pidfds; every event gets the time poll returned."""

    def __init__(self):
        self.poller = select.poll()
        self.handlers = {}

    def add(self, fd, handler):
        self.handlers[fd] = handler
        self.poller.register(fd, select.POLLIN)

    def remove(self, fd):
        if self.handlers.pop(fd, None) is not None:
            self.poller.unregister(fd)

    def once(self, timeout_ms):
        events = self.poller.poll(timeout_ms)
        t = now()
        for fd, _ in events:
            h = self.handlers.get(fd)
            if h:
                h(t)
        return t

    def run_until(self, done, deadline_ns, what):
        while not done():
            left = deadline_ns - now()
            if left <= 0:
                raise BenchError(f"timed out waiting for {what}")
            self.once(min(1000, max(1, left // 1_000_000)))


class Writer:
    """The kubelet stand-in (bench/writer.py) in its own process."""

    def __init__(self, loop):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(BENCH, "writer.py")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        self.loop = loop
        self.buf = b""
        self.answers = {}
        self.next_id = 0
        loop.add(self.proc.stdout.fileno(), self._readable)

    def _readable(self, t):
        data = os.read(self.proc.stdout.fileno(), 65536)
        if not data:
            self.loop.remove(self.proc.stdout.fileno())
            raise BenchError("the writer process died")
        self.buf += data
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            a = json.loads(line)
            if "error" in a:
                raise BenchError(f"writer: {a['error']}")
            self.answers[a["id"]] = a

    def send(self, path, changes):
        self.next_id += 1
        cmd = {"id": self.next_id, "dir": path, "set": changes}
        self.proc.stdin.write((json.dumps(cmd) + "\n").encode())
        return self.next_id

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Waiter:
    """One waiter process: its log lines and its exit, timestamped."""

    def __init__(self, bench, kind, path, key, perf=False, prefix=()):
        self.kind, self.path, self.key = kind, path, key
        self.loop = bench.loop
        argv = [*prefix, *bench.argv(kind, path, key)]
        self.lines = []  # (t, text)
        self.buf = b""
        self.t_eof = self.t_exit = self.rc = None
        self.t_spawn = now()
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, start_new_session=True, bufsize=0)
        self.pid = self.proc.pid
        self.perf = Perf(self.pid) if perf else None
        self.pidfd = os.pidfd_open(self.pid)
        self.errfd = self.proc.stderr.fileno()
        self.loop.add(self.errfd, self._readable)
        self.loop.add(self.pidfd, self._exited)
        self.ready_word = {"polling": "waiting for", "floor": "watching",
                           "floor-close": "watching",
                           "approve-step": "pending"}[kind]

    def _readable(self, t):
        data = os.read(self.errfd, 65536)
        if not data:
            self.t_eof = t
            self.loop.remove(self.errfd)
            return
        self.buf += data
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            self.lines.append((t, line.decode(errors="replace")))

    def _exited(self, t):
        self.t_exit = t
        self.loop.remove(self.pidfd)
        self.rc = self.proc.wait()

    def line_time(self, word):
        for t, text in self.lines:
            if word in text:
                return t
        return None

    @property
    def ready(self):
        return self.line_time(self.ready_word) is not None

    @property
    def started_ns(self):
        """spawn -> first log line (written once it watches)."""
        return self.lines[0][0] - self.t_spawn if self.lines else None

    @property
    def done(self):
        return self.t_exit is not None and self.t_eof is not None

    def snapshot(self, pss=False):
        s = {}
        st = proc_status(self.pid)
        if st:
            s.update(ctx=st["ctx"], hwm_kib=st["VmHWM"], rss_kib=st["VmRSS"])
        if pss:
            roll = proc_rollup(self.pid)
            s["pss_kib"] = roll.get("Pss")
            s["anon_kib"] = roll.get("Anonymous")
        cpu = proc_cpu_ns(self.pid)
        if cpu is not None:
            s["cpu_ns"] = cpu
            s["cpu_with_children_ns"] = cpu + proc_children_cpu_ns(self.pid)
        if self.perf and self.perf.fds:
            s.update({f"tree_{k}": v for k, v in self.perf.read().items()})
        return s

    def tree_memory(self, pss=False):
        """(sum of VmRSS, sum of Pss) in KiB over the process and its
        children now (Pss only when asked: it costs more to read)."""
        rss = pss_sum = 0
        for p in proc_tree(self.pid):
            st = proc_status(p)
            if st:
                rss += st["VmRSS"]
            if pss:
                pss_sum += proc_pss_kib(p) or 0
        return rss, pss_sum

    def stop(self):
        if self.t_exit is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.loop.remove(self.errfd)
        self.loop.remove(self.pidfd)
        try:
            os.close(self.pidfd)
        except OSError:
            pass
        self.proc.stderr.close()
        if self.perf:
            self.perf.close()


# ------------------------------------------------------------------- builds

def run_quiet(argv, log_path, **kw):
    with open(log_path, "w") as log:
        return subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT,
                              **kw).returncode


def build_floor(out, name="floor", defines=()):
    """bench/floor.c, statically with musl when possible (like the static
    approve-step), else with cc."""
    src = os.path.join(BENCH, "floor.c")
    exe = os.path.join(out, name)
    log = os.path.join(out, f"{name}-build.log")
    flags = ["-std=c11", "-O2", "-Wall", "-Wextra", "-s", *defines]
    if shutil.which("musl-gcc") and run_quiet(
            ["musl-gcc", *flags, "-static", "-o", exe, src], log) == 0:
        return exe, "musl-gcc -static -O2"
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise BenchError("no C compiler for bench/floor.c (apt-get install gcc)")
    if run_quiet([cc, *flags, "-static", "-o", exe, src], log) == 0:
        return exe, "cc -static -O2 (glibc)"
    if run_quiet([cc, *flags, "-o", exe, src], log) == 0:
        return exe, "cc -O2 (dynamic glibc)"
    raise BenchError(f"cannot compile bench/floor.c: see {log}")


def build_approve_step(out):
    """The static build (tools/build-static.sh) when it can be made,
    else the meson build. Returns (path, description)."""
    static_dir = os.path.join(out, "static")
    log = os.path.join(out, "build-static.log")
    script = os.path.join(ROOT, "tools", "build-static.sh")
    if os.path.exists(script):
        say("building the static approve-step (tools/build-static.sh)")
        if run_quiet([script, static_dir], log) == 0:
            return os.path.join(static_dir, "approve-step"), \
                "static musl build (tools/build-static.sh)"
        say(f"static build failed (see {log}); using the meson build")
    meson_dir = os.path.join(out, "meson")
    log = os.path.join(out, "meson-build.log")
    if shutil.which("meson"):
        if not os.path.exists(os.path.join(meson_dir, "build.ninja")):
            run_quiet(["meson", "setup", meson_dir, ROOT], log)
        if run_quiet(["meson", "compile", "-C", meson_dir], log) == 0:
            return os.path.join(meson_dir, "approve-step", "approve-step"), \
                "meson build (dynamic, debugoptimized)"
    raise BenchError(f"cannot build approve-step (see {log}); give --bin PATH")


def shown_path(path):
    """path relative to the repository when it is inside it."""
    rel = os.path.relpath(path, ROOT)
    return path if rel.startswith(os.pardir) else rel


def describe_binary(path):
    try:
        r = subprocess.run(["file", "-b", path], capture_output=True,
                           text=True)
        return r.stdout.strip()
    except OSError:
        return ""


def image_size():
    """(bytes, how) of the local approve-step image: approve-step:latest if
    there is one, else the newest other tag of that name."""
    if not shutil.which("podman"):
        return None, "not built (no podman)"
    try:
        r = subprocess.run(["podman", "images", "--noheading", "--format",
                            "{{.Repository}}:{{.Tag}}"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            return None, "not built (podman images failed)"
        refs = [x for x in r.stdout.split()
                if x.rsplit(":", 1)[0] in ("localhost/approve-step",
                                           "approve-step")]
        if not refs:
            return None, "not built"
        latest = [x for x in refs if x.endswith(":latest")]
        ref = (latest or refs)[0]  # podman lists the newest first
        r = subprocess.run(["podman", "image", "inspect", ref, "--format",
                            "{{.Size}}"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            return None, "not built (podman image inspect failed)"
        return int(r.stdout.split()[0]), f"podman image inspect {ref}"
    except (subprocess.TimeoutExpired, ValueError, IndexError, OSError):
        return None, "not built (podman did not answer)"

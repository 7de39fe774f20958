"""Run the real approve-step binary and watch it as a user would: its exit
code, its log lines on stderr, its Tekton results, and how long it took.

APPROVE_STEP_BIN names the binary to test (the static build, say); else
meson's APPROVE_STEP_BUILD_BIN, the binary of the build being tested; else
build/approve-step/approve-step. APPROVE_STEP_WRAPPER, if set, is a command
to run it under (e.g. "valgrind --error-exitcode=99 -q"); APPROVE_STEP_SLOW
stretches every deadline (default 1, more under a wrapper: valgrind makes
everything ~20x slower).
"""

import os
import re
import shlex
import signal
import subprocess
import tempfile
import time

from contract import ROOT, WATCHING, log_problems

BIN = (os.environ.get("APPROVE_STEP_BIN")
       or os.environ.get("APPROVE_STEP_BUILD_BIN")
       or os.path.join(ROOT, "build", "approve-step", "approve-step"))
WRAPPER = shlex.split(os.environ.get("APPROVE_STEP_WRAPPER", ""))


def slow_factor(wrapped=5.0):
    """APPROVE_STEP_SLOW, else `wrapped` under a wrapper, else 1. Suites
    that start many processes at once ask for more."""
    env = os.environ.get("APPROVE_STEP_SLOW")
    if env:
        return float(env)
    return float(wrapped) if WRAPPER else 1.0


SLOW = slow_factor()


def child_env(extra=None):
    """The environment of a waiter: ours, sanitizers set to report leaks
    and stop at the first error unless the caller chose otherwise."""
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    env.update(extra or {})
    return env


class Failure(AssertionError):
    """A check on the process failed; the message carries its log."""


class Waiter:
    """One approve-step process; its stderr goes to a file (log_path, else
    an unnamed temporary one) that the checks read as it grows.

        w = Waiter("--dir", d, results_dir=r)
        w.watching(); ...; rc = w.wait(); w.result("decision"); w.log()

    stderr= another target instead (nothing is captured then); prefix= a
    command in front (setpriv, unshare, sh -c); wrapper= instead of
    APPROVE_STEP_WRAPPER; slow= instead of SLOW; other keywords go to
    Popen (user=, group=, cwd=).
    """

    def __init__(self, *args, results_dir=None, env=None, binary=None,
                 prefix=(), wrapper=None, log_path=None, stderr=None,
                 slow=None, **popen):
        self.args = [binary or BIN, *args]
        if results_dir:
            self.args += ["--results-dir", results_dir]
        self.results_dir = results_dir
        self.cmd = [*prefix, *(WRAPPER if wrapper is None else wrapper),
                    *self.args]
        self.slow = SLOW if slow is None else slow
        if log_path:
            self.log_file = open(log_path, "w+b")
        else:
            self.log_file = tempfile.TemporaryFile()
        self.rc = None
        self.elapsed = None
        self.started = time.monotonic()
        popen.setdefault("stdin", subprocess.DEVNULL)
        popen.setdefault("stdout", subprocess.DEVNULL)
        self.proc = subprocess.Popen(
            self.cmd, stderr=self.log_file if stderr is None else stderr,
            env=child_env(env), **popen)
        self.pid = self.proc.pid

    # -- the log ------------------------------------------------------------

    def raw_log(self):
        fd = self.log_file.fileno()
        return os.pread(fd, os.fstat(fd).st_size, 0)

    def lines(self):
        """The log lines so far, decoded, without their newlines."""
        raw = self.raw_log().decode("utf-8", "backslashreplace")
        return [ln for ln in raw.split("\n") if ln]

    def log(self, limit=None):
        """The log as text; with limit, only its last `limit` characters."""
        text = self.raw_log().decode("utf-8", "backslashreplace")
        if limit is None or len(text) <= limit:
            return text
        return "..." + text[-limit:]

    def _first(self, match, what, timeout):
        end = time.monotonic() + timeout * self.slow
        while True:
            for line in self.lines():
                if match(line):
                    return line
            if time.monotonic() > end or self.proc.poll() is not None:
                for line in self.lines():  # one last look after the exit
                    if match(line):
                        return line
                rc = self.proc.poll()
                gone = "" if rc is None else f"exited {rc}, "
                raise Failure(f"{gone}no log line {what}; log:\n"
                              f"{self.log(4000)}")
            time.sleep(0.005)

    def wait_for_line(self, needle, timeout=5.0):
        """The first log line containing needle; fails after timeout."""
        return self._first(lambda ln: needle in ln, f"with {needle!r}",
                           timeout)

    def wait_line(self, pattern, timeout=5.0):
        """The first log line matching the regex; fails after timeout."""
        rx = re.compile(pattern)
        return self._first(rx.search, f"matching {pattern!r}", timeout)

    def watching(self, timeout=5.0):
        """Returns once the inotify watch is in place (the first line)."""
        return self.wait_for_line(WATCHING, timeout)

    def holds_inotify(self, timeout=5.0):
        """Returns once the process holds an inotify descriptor: its watch
        is set (for cases where the log cannot be read)."""
        end = time.monotonic() + timeout * self.slow
        fd_dir = f"/proc/{self.pid}/fd"
        while time.monotonic() < end and self.proc.poll() is None:
            try:
                for fd in os.listdir(fd_dir):
                    if os.readlink(os.path.join(fd_dir, fd)) == \
                            "anon_inode:inotify":
                        return
            except OSError:
                pass
            time.sleep(0.005)
        raise Failure("the waiter never set its inotify watch")

    def log_problems(self):
        """What breaks the log-line contract in this log ([] when clean)."""
        return log_problems(self.raw_log())

    def check_log(self):
        """Fails unless every line is approve-step's own, escaped, bounded
        and valid UTF-8 (no sanitizer or valgrind report)."""
        problems = self.log_problems()
        if problems:
            raise Failure(f"{problems[0]}; log:\n{self.log(4000)}")

    # -- the process --------------------------------------------------------

    def wait(self, timeout=5.0):
        """Exit code; fails (and kills) if still running after timeout."""
        try:
            self.rc = self.proc.wait(timeout * self.slow)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Failure(f"still running after {timeout * self.slow:.0f}s;"
                          f" log:\n{self.log(4000)}")
        self.elapsed = time.monotonic() - self.started
        return self.rc

    def expect(self, rc, decision=None, timeout=5.0):
        """Fails unless it exits rc (with that decision result) and its log
        keeps the log-line contract."""
        got = self.wait(timeout)
        if got != rc:
            raise Failure(f"exit {got}, expected {rc}; log:\n{self.log(4000)}")
        if decision is not None:
            d = self.result("decision")
            if d != decision:
                raise Failure(f"result decision {d!r}, expected {decision!r};"
                              f" log:\n{self.log(4000)}")
        self.check_log()

    def running_after(self, seconds=0.2):
        """Fails unless the process still runs `seconds` later: after a log
        line proved a value was read, a wrong exit would follow at once."""
        time.sleep(seconds * (3 if WRAPPER else 1))
        rc = self.proc.poll()
        if rc is not None:
            raise Failure(f"exited {rc} while it should still be waiting; "
                          f"log:\n{self.log(4000)}")

    def signal(self, signo):
        if self.proc.poll() is None:
            os.kill(self.pid, signo)

    def kill(self):
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            self.proc.wait()

    def close(self):
        self.kill()
        self.log_file.close()

    # -- the results ----------------------------------------------------------

    def result(self, name):
        """A result file's text, None when it was not written."""
        try:
            with open(os.path.join(self.results_dir, name), "rb") as f:
                return f.read().decode("utf-8", "backslashreplace")
        except FileNotFoundError:
            return None


def run(*args, timeout=10.0, binary=None):
    """Runs to completion; returns (exit code, stdout, stderr)."""
    p = subprocess.run(WRAPPER + [binary or BIN, *args], capture_output=True,
                       timeout=timeout * SLOW)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def send(w, sig):
    os.kill(w.proc.pid, sig)

"""Run the real approve-step binary and watch it as a user would: its exit
code, its log lines on stderr, its Tekton results, and how long it took.

APPROVE_STEP_BIN names the binary to test (the static build, say); else
meson's APPROVE_STEP_BUILD_BIN, the binary of the build being tested.
APPROVE_STEP_WRAPPER, if set, is a command to run it under (e.g.
"valgrind --error-exitcode=99 -q").
"""

import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from volume import KubeletVolume, write_by_rename, write_in_place  # noqa: E402,F401

BIN = (os.environ.get("APPROVE_STEP_BIN")
       or os.environ.get("APPROVE_STEP_BUILD_BIN", "approve-step"))
WRAPPER = shlex.split(os.environ.get("APPROVE_STEP_WRAPPER", ""))
# Under valgrind everything is ~20x slower; deadlines stretch with it.
SLOW = float(os.environ.get("APPROVE_STEP_SLOW", "5" if WRAPPER else "1"))


class Waiter:
    """One approve-step process, its stderr read line by line."""

    def __init__(self, *args, results_dir=None, env=None, binary=BIN,
                 **popen):
        self.args = [binary, *args]
        if results_dir:
            self.args += ["--results-dir", results_dir]
        self.results_dir = results_dir
        self.lines = []
        self.cond = threading.Condition()
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            WRAPPER + self.args, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env, **popen)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stderr:
            with self.cond:
                self.lines.append(raw.decode("utf-8", "backslashreplace"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # end of output
            self.cond.notify_all()

    def wait_for_line(self, needle, timeout=5.0):
        """The first log line containing needle; fails after timeout."""
        end = time.monotonic() + timeout * SLOW
        with self.cond:
            while True:
                for line in self.lines:
                    if line is not None and needle in line:
                        return line
                left = end - time.monotonic()
                if left <= 0 or (self.lines and self.lines[-1] is None):
                    raise AssertionError(
                        f"no log line with {needle!r}; log:\n{self.log()}")
                self.cond.wait(left)

    def watching(self):
        """Returns once the inotify watch is in place (the first line)."""
        return self.wait_for_line("approve-step: waiting for")

    def wait(self, timeout=5.0):
        """Exit code; fails if the process is still running after timeout."""
        try:
            rc = self.proc.wait(timeout * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(
                f"still running after {timeout}s; log:\n{self.log()}")
        self.reader.join(5)
        self.elapsed = time.monotonic() - self.started
        return rc

    def log(self):
        with self.cond:
            return "".join(x for x in self.lines if x is not None)

    def result(self, name):
        with open(os.path.join(self.results_dir, name), "rb") as f:
            return f.read().decode("utf-8")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def run(*args, timeout=10.0):
    """Runs to completion; returns (exit code, stdout, stderr)."""
    p = subprocess.run(WRAPPER + [BIN, *args], capture_output=True,
                       timeout=timeout * SLOW)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


class WaiterTest(unittest.TestCase):
    """A fresh ConfigMap-style directory and results directory per test."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="approve-step-test-")
        self.dir = os.path.join(self.tmp, "data")
        self.results = os.path.join(self.tmp, "results")
        os.mkdir(self.results)
        os.mkdir(self.dir)
        self.volume = KubeletVolume(self.dir)
        self.waiters = []

    def tearDown(self):
        for w in self.waiters:
            w.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, *args, dir=None, **kw):
        kw.setdefault("results_dir", self.results)
        w = Waiter("--dir", dir or self.dir, *args, **kw)
        self.waiters.append(w)
        return w

    def assertExit(self, w, code, timeout=5.0):
        rc = w.wait(timeout)
        self.assertEqual(rc, code, f"exit {rc}, want {code}; log:\n{w.log()}")

    def assertDecision(self, w, decision, approver="", comment=None):
        self.assertEqual(w.result("decision"), decision)
        self.assertEqual(w.result("approver"), approver)
        if comment is not None:
            self.assertEqual(w.result("comment"), comment)


def main():
    """unittest, closed by a line the CI reads: 'N passed, M failed'."""
    suite = unittest.defaultTestLoader.loadTestsFromModule(
        sys.modules["__main__"])
    if len(sys.argv) > 1:
        suite = unittest.defaultTestLoader.loadTestsFromNames(
            sys.argv[1:], sys.modules["__main__"])
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors)
    print(f"integration: {result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed or not result.testsRun else 0)


def send(w, sig):
    os.kill(w.proc.pid, sig)


__all__ = ["Waiter", "WaiterTest", "KubeletVolume", "write_in_place",
           "write_by_rename", "run", "main", "send", "signal", "SLOW"]

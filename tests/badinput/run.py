#!/usr/bin/python3
"""Bad-input matrix: whatever sits in or happens to the watched directory,
approve-step says clearly what is wrong and loses nothing.

For a bad value or a bad file in place of the decision the waiter must log
one bounded, escaped warning, keep waiting, and still take the valid
decision written after it. For a directory that goes away, exhausted
inotify limits, closed or broken stdout/stderr, signals at each stage and
a hostile results directory it must exit with the documented code and
write complete results (or none).

    tests/badinput/run.py                 # every case (about a minute)
    tests/badinput/run.py -k signal       # only cases whose name has "signal"
    tests/badinput/run.py --list

APPROVE_STEP_BIN is the binary (default build/approve-step/approve-step);
APPROVE_STEP_WRAPPER an optional command to run it under (valgrind).
Some cases need root (to run the binary as an unprivileged user, to mount,
to lower fs.inotify.max_queued_events for a moment: restored at once) or
strace; without them they print SKIP. Prints PASS/FAIL/SKIP per case and
"N passed, M failed"; exits 1 on any failure.
"""

import argparse
import ctypes
import json
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

from volume import KubeletVolume, write_by_rename, write_in_place  # noqa: E402

MiB = 1024 * 1024
LOG_LINE_MAX = 4096
RESULTS_TOTAL_MAX = 3072
CUT_MARK = "...[truncated]"
IN_Q_OVERFLOW = 0x4000

BIN = os.environ.get("APPROVE_STEP_BIN") or os.path.join(
    ROOT, "build", "approve-step", "approve-step")
WRAPPER = shlex.split(os.environ.get("APPROVE_STEP_WRAPPER", ""))
SLOW = float(os.environ.get("APPROVE_STEP_SLOW") or (10 if WRAPPER else 1))
IS_ROOT = os.geteuid() == 0
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") \
    else sys.executable
libc = ctypes.CDLL(None, use_errno=True)


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def pick_uid():
    """A uid no process uses: the unprivileged user the binary runs as."""
    used = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("Uid:"):
                            used.update(int(x) for x in line.split()[1:])
            except OSError:
                pass
    for uid in range(64611, 65000):
        if uid not in used:
            return uid
    raise RuntimeError("no free uid")


UID = pick_uid() if IS_ROOT else os.geteuid()


class Case:
    """A temporary directory for one case, and the waiters it started."""

    def __init__(self, name, base, bin_path):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=re.sub(r"\W", "-", name) + "-",
                                    dir=base)
        os.chmod(self.dir, 0o755)
        self.bin = bin_path
        self.waiters = []
        self.cleanup = []  # directories made elsewhere, removed at the end

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def mkdir(self, name, owner=None, mode=0o755):
        p = self.path(name)
        os.mkdir(p)
        os.chmod(p, mode)
        if owner is not None:
            os.chown(p, owner, owner)
        return p

    def start(self, *args, vol=None, results=True, user=False, prefix=(),
              wrapper=None, stderr=None, env=None, results_owner=None):
        """Starts approve-step --dir vol [args]; returns a Waiter."""
        vol = vol if vol is not None else self.path("vol")
        cmd = [self.bin, "--dir", vol, *args]
        res = None
        if results:
            res = self.mkdir(f"results{len(self.waiters)}",
                             owner=results_owner if results_owner is not None
                             else (UID if user else None))
            cmd += ["--results-dir", res]
        cmd = (WRAPPER if wrapper is None else wrapper) + cmd
        if user:
            if not IS_ROOT:
                raise Skip("needs root to run the binary as another user")
            cmd = ["setpriv", f"--reuid={UID}", f"--regid={UID}",
                   "--clear-groups", *cmd]
        w = Waiter(self, list(prefix) + cmd, res, stderr=stderr, env=env)
        self.waiters.append(w)
        return w

    def close(self, keep=False):
        for w in self.waiters:
            w.kill()
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)
            for d in self.cleanup:
                shutil.rmtree(d, ignore_errors=True)


class Waiter:
    def __init__(self, case, cmd, results, stderr=None, env=None):
        self.case = case
        self.cmd = cmd
        self.results = results
        self.log_path = case.path(f"log{len(case.waiters)}")
        full_env = dict(os.environ)
        full_env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        full_env.setdefault("UBSAN_OPTIONS",
                            "print_stacktrace=1:halt_on_error=1")
        full_env.update(env or {})
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.log_file if stderr is None else stderr,
            env=full_env)
        self.pid = self.proc.pid
        self.rc = None

    def raw_log(self):
        with open(self.log_path, "rb") as f:
            return f.read()

    def lines(self):
        raw = self.raw_log().decode("utf-8", "backslashreplace")
        return [ln for ln in raw.split("\n") if ln]

    def log(self, limit=4000):
        text = self.raw_log().decode("utf-8", "backslashreplace")
        return text if len(text) <= limit else "..." + text[-limit:]

    def wait_line(self, pattern, timeout=5.0):
        """The first log line matching the regex; fails after timeout."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout * SLOW
        while True:
            for line in self.lines():
                if rx.search(line):
                    return line
            if time.monotonic() > end or self.proc.poll() is not None:
                for line in self.lines():  # one last look after the exit
                    if rx.search(line):
                        return line
                rc = self.proc.poll()
                gone = "" if rc is None else f"exited {rc}, "
                raise Fail(f"{gone}no log line matching {pattern!r}; log:\n"
                           f"{self.log()}")
            time.sleep(0.005)

    def ready(self):
        return self.wait_line(r"^approve-step: waiting for")

    def watching(self, timeout=5.0):
        """Returns once the process holds an inotify descriptor: its watch
        is set (for cases where the log cannot be read)."""
        end = time.monotonic() + timeout * SLOW
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
        raise Fail("the waiter never set its inotify watch")

    def running_after(self, seconds=0.2):
        # The log line awaited before proves the value was read; a wrong
        # exit would follow it at once.
        time.sleep(seconds * (3 if WRAPPER else 1))
        rc = self.proc.poll()
        check(rc is None, f"exited {rc} while it should still be waiting; "
                          f"log:\n{self.log()}")

    def wait(self, timeout=5.0):
        try:
            self.rc = self.proc.wait(timeout * SLOW)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Fail(f"still running after {timeout * SLOW:.0f}s; log:\n"
                       f"{self.log()}")
        return self.rc

    def signal(self, signo):
        if self.proc.poll() is None:
            os.kill(self.pid, signo)

    def kill(self):
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            self.proc.wait()
        self.log_file.close()

    def result(self, name):
        try:
            with open(os.path.join(self.results, name), "rb") as f:
                return f.read().decode("utf-8", "backslashreplace")
        except FileNotFoundError:
            return None

    def expect(self, rc, decision=None, timeout=5.0):
        got = self.wait(timeout)
        check(got == rc, f"exit {got}, expected {rc}; log:\n{self.log()}")
        if decision is not None:
            d = self.result("decision")
            check(d == decision, f"result decision {d!r}, expected "
                                 f"{decision!r}; log:\n{self.log()}")
        self.check_log()

    def check_log(self):
        """Every line approve-step's own, escaped, bounded, valid UTF-8."""
        raw = self.raw_log()
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise Fail(f"log is not valid UTF-8: {e}")
        lines = raw.split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        for line in lines:
            check(line.startswith(b"approve-step: "),
                  f"log line not approve-step's own (a sanitizer or "
                  f"valgrind report?): {line[:300]!r}; log:\n{self.log()}")
            check(len(line) + 1 <= LOG_LINE_MAX,
                  f"log line of {len(line)} bytes")
            bad = [b for b in line if b < 0x20 or b == 0x7f]
            check(not bad, f"control byte in log line {line[:200]!r}")
            text = line.decode("utf-8")
            check(not re.search("[\u0080-\u009f\u200e\u200f\u202a-\u202e"
                                "\u2066-\u2069\u2028\u2029\ufeff]", text),
                  f"unescaped control character in {text[:200]!r}")


CASES = []


def case(name, needs=()):
    def register(fn):
        CASES.append((name, fn, set(needs)))
        return fn
    return register


def kubelet(t, vol="vol"):
    return KubeletVolume(t.path(vol))


def approve_json(approver="alice", comment="ok"):
    return json.dumps({"decision": "approved", "approver": approver,
                       "comment": comment})


# ---------------------------------------------------------------------------
# Bad values in the decision key: warned about once, never taken, and a
# valid decision written afterwards is still taken.

def bad_value_case(t, value, expect, style="kubelet", then="approved",
                   extra=None):
    os.mkdir(t.path("vol"))
    w = t.start()
    w.ready()
    key = t.path("vol", "status")
    if style == "kubelet":
        kubelet(t).patch({"status": value, "other": "x"})
    elif style == "plain":
        write_in_place(key, value)
    else:
        write_by_rename(key, value)
    line = w.wait_line(expect)
    w.running_after()
    if extra:
        extra(w, line)
    if style == "kubelet":
        kubelet(t).patch({"status": then})
    else:
        write_by_rename(key, then)
    w.expect(0 if then.startswith(("approved", "{")) else 1,
             "approved" if then.startswith(("approved", "{")) else "refused")
    return w


def truncated_quote(w, line):
    check(CUT_MARK in line, f"a huge value is not cut with {CUT_MARK}: "
                            f"{line[:200]!r}...")


BIG_CASES = [
    ("value exactly 1 MiB, not a decision", lambda: "a" * MiB,
     r"warning: .*status holds \"a+\.\.\.\[truncated\]\", not a decision "
     r"word; still waiting", truncated_quote),
    ("value 1 MiB + 1 byte", lambda: "a" * (MiB + 1),
     r"warning: .*status.* larger than 1 MiB; still waiting", None),
    ("value 8 MiB", lambda: "\x00\xff" * (4 * MiB),
     r"warning: .*status.* larger than 1 MiB; still waiting", None),
    ("'approved' padded past 1 MiB is not taken",
     lambda: "approved" + " " * MiB,
     r"warning: .*status.* larger than 1 MiB; still waiting", None),
]

for _name, _make, _expect, _extra in BIG_CASES:
    for _style in ("kubelet", "plain"):
        case(f"big/{_style}/{_name}")(
            lambda t, m=_make, e=_expect, x=_extra, s=_style:
            bad_value_case(t, m(), e, style=s, extra=x))


def no_forged_line(w, line):
    forged = 'approve-step: approved by "admin" after 0s'
    check(not any(ln.startswith(forged) for ln in w.lines()),
          f"a value forged a log line: {w.lines()!r}")
    check("\\napprove-step: approved" in line,
          f"newline not shown as \\n: {line!r}")


def shows(text):
    def extra(w, line):
        check(text in line, f"expected {text!r} in {line!r}")
    return extra


UNKNOWN = r"warning: .*status holds .*, not a decision word; still waiting"
BINARY = r"warning: .*status holds .*, binary data; still waiting"
MALFORMED = r"warning: .*status holds .*, malformed JSON; still waiting"
NOT_OBJECT = (r"warning: .*status holds .*, JSON that is not an object; "
              r"still waiting")
NO_STRING = (r"warning: .*status holds .*, JSON without a string "
             r"\"decision\"; still waiting")
ANY_WARNING = r"warning: .*status holds .*; still waiting"
NOT_WORD = (r"warning: .*status holds .*, a \"decision\" that is not a "
            r"decision word; still waiting")

VALUE_CASES = [
    ("NUL after approved", "approved\x00", BINARY, shows("\\x00")),
    ("NUL bytes only", "\x00" * 64, BINARY, None),
    ("random binary", bytes((i * 37 + 11) % 256 for i in range(4096)),
     BINARY, None),
    ("invalid UTF-8", b"\xff\xfe approved \xc3\x28 \xed\xa0\x80", UNKNOWN,
     shows("\\xff\\xfe approved \\xc3(")),
    ("terminal escapes", "\x1b[2J\x1b[31mapproved\x1b[0m", UNKNOWN,
     shows("\\x1b[2J")),
    ("forged log line", 'pending\napprove-step: approved by "admin" after '
     '0s\n', UNKNOWN, no_forged_line),
    ("bidirectional override", "\u202edevorppa", UNKNOWN,
     shows("\\u{202e}")),
    ("C1 control CSI", "\u009b31mapproved", UNKNOWN, shows("\\u{009b}")),
    ("approved with trailing text", "approved, but wait", UNKNOWN, None),
    ("JSON cut short", '{"decision": "approved"', MALFORMED, None),
    ("JSON with trailing garbage", '{"decision": "approved"} x', MALFORMED,
     None),
    ("JSON nested 150000 deep", '{"a":' * 150000 + "1" + "}" * 150000,
     MALFORMED, None),
    ("JSON array nested past the limit with a decision",
     '{"decision":"approved","x":' + "[" * 5000 + "]" * 5000 + "}",
     MALFORMED, None),
    ("JSON decision true", '{"decision": true}', NO_STRING, None),
    ("JSON decision number", '{"decision": 1}', NO_STRING, None),
    ("JSON decision null", '{"decision": null}', NO_STRING, None),
    ("JSON decision array", '{"decision": ["approved"]}', NO_STRING, None),
    ("JSON decision object", '{"decision": {"decision": "approved"}}',
     NO_STRING, None),
    ("JSON Decision in another case", '{"Decision": "approved"}', NO_STRING,
     None),
    ("JSON decision unknown word", '{"decision": "approved!"}', NOT_WORD,
     None),
    # cJSON ends its C strings at an escaped NUL and reads a malformed \u
    # escape as one: these must not pass for "approved".
    ("JSON decision with an escaped NUL",
     '{"decision": "approved\\u0000 - NOT"}', ANY_WARNING, None),
    ("JSON key with an escaped NUL",
     '{"decision\\u0000x": "approved", "decision": "pending"}', ANY_WARNING,
     None),
    ("JSON decision with a malformed \\u escape",
     '{"decision": "approved\\uZZZZ - NOT"}', ANY_WARNING, None),
    ("JSON top-level array", '["approved"]', UNKNOWN, None),
    ("JSON top-level string", '"approved"', UNKNOWN, None),
]

for _name, _value, _expect, _extra in VALUE_CASES:
    case(f"value/{_name}")(
        lambda t, v=_value, e=_expect, x=_extra:
        bad_value_case(t, v, e, extra=x))

case("value/plain write: binary, then refused")(
    lambda t: bad_value_case(t, b"\x00\x01\x02approved", BINARY,
                             style="plain", then="refused"))
case("value/renamed in: malformed JSON, then a JSON approval")(
    lambda t: bad_value_case(t, '{"decision":', MALFORMED, style="rename",
                             then=approve_json()))


@case("value/bad value present at start")
def _(t):
    os.mkdir(t.path("vol"))
    write_in_place(t.path("vol", "status"), "\xff" * (2 * MiB))
    w = t.start()
    w.wait_line(r"larger than 1 MiB; still waiting")
    w.running_after()
    write_by_rename(t.path("vol", "status"), "refused")
    w.expect(1, "refused")


# ---------------------------------------------------------------------------
# Something other than a readable file in place of the decision.

def replace_later(t, w, decision="approved"):
    p = t.path("vol", "status")
    if os.path.isdir(p) and not os.path.islink(p):
        os.rmdir(p)
    write_by_rename(p, decision)  # rename() replaces a symlink, FIFO, socket
    w.expect(0 if decision == "approved" else 1,
             "approved" if decision == "approved" else "refused")


@case("file/unreadable (mode 000), then made readable", needs=["root"])
def _(t):
    t.mkdir("vol")
    p = t.path("vol", "status")
    write_in_place(p, "approved")
    os.chmod(p, 0)
    w = t.start(user=True)
    w.wait_line(r"warning: cannot read .*status: Permission denied; "
                r"still waiting")
    w.running_after()
    os.chmod(p, 0o644)  # IN_ATTRIB: the approval that was there counts now
    w.expect(0, "approved")


@case("file/symlink loop")
def _(t):
    os.mkdir(t.path("vol"))
    os.symlink("status", t.path("vol", "status"))
    w = t.start()
    w.wait_line(r"warning: cannot read .*status: Too many levels of "
                r"symbolic links; still waiting")
    w.running_after()
    replace_later(t, w, "refused")


@case("file/two-link symlink loop")
def _(t):
    os.mkdir(t.path("vol"))
    os.symlink("b", t.path("vol", "status"))
    os.symlink("status", t.path("vol", "b"))
    w = t.start()
    w.wait_line(r"Too many levels of symbolic links; still waiting")
    replace_later(t, w)


@case("file/directory in its place")
def _(t):
    os.mkdir(t.path("vol"))
    w = t.start()
    w.ready()
    os.mkdir(t.path("vol", "status"))
    w.wait_line(r"warning: cannot read .*status: is not a regular file; "
                r"still waiting")
    w.running_after()
    replace_later(t, w)


@case("file/FIFO in its place (never blocks)")
def _(t):
    os.mkdir(t.path("vol"))
    os.mkfifo(t.path("vol", "status"))
    w = t.start()
    w.wait_line(r"is not a regular file; still waiting")
    w.running_after()
    replace_later(t, w)


@case("file/socket in its place")
def _(t):
    os.mkdir(t.path("vol"))
    s = socket.socket(socket.AF_UNIX)
    s.bind(t.path("vol", "status"))
    try:
        w = t.start()
        w.wait_line(r"warning: cannot read .*status: .*; still waiting")
        w.running_after()
        replace_later(t, w)
    finally:
        s.close()


@case("file/symlink to a device (/dev/zero)")
def _(t):
    os.mkdir(t.path("vol"))
    os.symlink("/dev/zero", t.path("vol", "status"))
    w = t.start()
    w.wait_line(r"is not a regular file; still waiting")
    w.running_after()
    replace_later(t, w)


@case("file/sparse 4 GiB file is not read whole")
def _(t):
    os.mkdir(t.path("vol"))
    with open(t.path("vol", "status"), "wb") as f:
        f.truncate(4 << 30)
    w = t.start()
    w.wait_line(r"larger than 1 MiB; still waiting", timeout=3)
    replace_later(t, w)


@case("file/dangling symlink, then its target appears")
def _(t):
    os.mkdir(t.path("vol"))
    os.symlink("target", t.path("vol", "status"))
    w = t.start()
    w.wait_line(r"status does not exist yet: pending")
    w.running_after()
    write_in_place(t.path("vol", "target"), "approved")
    w.expect(0, "approved")


# ---------------------------------------------------------------------------
# The watched directory itself: gone or replaced while waiting -> exit 2,
# and a decision in a replacement is never taken.

GONE = r"error: .* was deleted, moved or unmounted while waiting"


def dir_case(t, change):
    kubelet(t).update({"status": "pending"})
    w = t.start()
    w.ready()
    w.wait_line(r"is \"pending\": pending")
    change(t)
    w.wait_line(GONE)
    w.expect(2)
    check(w.result("decision") is None,
          f"results written for a failed wait: {w.result('decision')!r}")


case("dir/deleted while waiting")(
    lambda t: dir_case(t, lambda t: shutil.rmtree(t.path("vol"))))
case("dir/moved away while waiting")(
    lambda t: dir_case(t, lambda t: os.rename(t.path("vol"),
                                              t.path("moved"))))


def _recreate_with_approval(t):
    shutil.rmtree(t.path("vol"))
    os.mkdir(t.path("vol"))
    write_in_place(t.path("vol", "status"), "approved")


case("dir/deleted and recreated holding 'approved'")(
    lambda t: dir_case(t, _recreate_with_approval))


def _rename_over_empty(t):
    for name in os.listdir(t.path("vol")):
        p = t.path("vol", name)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        else:
            os.unlink(p)
    os.mkdir(t.path("new"))
    write_in_place(t.path("new", "status"), "approved")
    os.rename(t.path("new"), t.path("vol"))


case("dir/emptied, then another directory renamed over it")(
    lambda t: dir_case(t, _rename_over_empty))

RENAME_EXCHANGE = 2


def _exchange(t):
    os.mkdir(t.path("new"))
    write_in_place(t.path("new", "status"), "approved")
    libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
                               ctypes.c_char_p, ctypes.c_uint]
    if libc.renameat2(-100, t.path("new").encode(), -100,
                      t.path("vol").encode(), RENAME_EXCHANGE) != 0:
        raise Skip("renameat2(RENAME_EXCHANGE): "
                   + os.strerror(ctypes.get_errno()))


case("dir/exchanged with a directory holding 'approved'")(
    lambda t: dir_case(t, _exchange))


@case("dir/unmounted while waiting", needs=["root"])
def _(t):
    os.mkdir(t.path("vol"))
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs",
                        t.path("vol")], capture_output=True)
    if r.returncode != 0:
        raise Skip("cannot mount tmpfs: " + r.stderr.decode().strip())
    try:
        w = t.start()
        w.ready()
        subprocess.run(["umount", "-l", t.path("vol")], check=True)
        w.wait_line(GONE)
        w.expect(2)
    finally:
        subprocess.run(["umount", "-l", t.path("vol")], capture_output=True)


@case("dir/missing at start")
def _(t):
    w = t.start(vol=t.path("nowhere"))
    w.wait_line(r"error: --dir .*nowhere: no such directory")
    w.expect(2)


@case("dir/a file, not a directory")
def _(t):
    write_in_place(t.path("file"), "approved")
    w = t.start(vol=t.path("file"))
    w.wait_line(r"error: --dir .*file: not a directory")
    w.expect(2)


@case("dir/not searchable by the user", needs=["root"])
def _(t):
    t.mkdir("vol", mode=0o700)
    write_in_place(t.path("vol", "status"), "approved")
    w = t.start(user=True)
    w.wait_line(r"error: .*vol.*Permission denied")
    w.expect(2)


@case("dir/results directory missing")
def _(t):
    os.mkdir(t.path("vol"))
    w = t.start("--results-dir", t.path("nowhere"), results=False)
    w.wait_line(r"error: --results-dir .*nowhere: No such file or directory")
    w.expect(2)


# ---------------------------------------------------------------------------
# inotify limits: exit 2 and a message naming the limit.

def in_userns(limit, value=0):
    """Command prefix: a new user namespace whose own inotify limit is set
    (Linux >= 5.11 counts inotify instances and watches per namespace, and
    a namespace's limits hold for everything inside it)."""
    return ["unshare", "--user", "--map-root-user", "sh", "-c",
            f'echo {value} > /proc/sys/user/{limit} && exec "$@"', "sh"]


def userns_available():
    r = subprocess.run(in_userns("max_inotify_watches", 100) + ["true"],
                       capture_output=True)
    return r.returncode == 0


@case("inotify/watches used up (fresh user namespace)", needs=["userns"])
def _(t):
    os.mkdir(t.path("vol"))
    w = t.start(prefix=in_userns("max_inotify_watches"))
    w.wait_line(r"error: inotify_add_watch .*: No space left on device: .*"
                r"fs\.inotify\.max_user_watches")
    w.expect(2)


@case("inotify/instances used up (fresh user namespace)", needs=["userns"])
def _(t):
    os.mkdir(t.path("vol"))
    w = t.start(prefix=in_userns("max_inotify_instances"))
    w.wait_line(r"error: inotify_init1: Too many open files: .*"
                r"fs\.inotify\.max_user_instances")
    w.expect(2)


HOLD_INSTANCES = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
n = 0
while libc.inotify_init1(0) >= 0:  # no IN_CLOEXEC: the waiter inherits them
    n += 1
sys.stderr.write("holding %d inotify instances\n" % n)
os.execvp(sys.argv[1], sys.argv[1:])
"""


@case("inotify/instances used up by other processes of the same user",
      needs=["root"])
def _(t):
    os.mkdir(t.path("vol"))
    w = t.start(prefix=["setpriv", f"--reuid={UID}", f"--regid={UID}",
                        "--clear-groups", PYTHON, "-c", HOLD_INSTANCES])
    w.wait_line(r"^holding \d+ inotify instances")
    w.wait_line(r"error: inotify_init1: Too many open files: .*"
                r"fs\.inotify\.max_user_instances")
    rc = w.wait()
    check(rc == 2, f"exit {rc}, expected 2; log:\n{w.log()}")


# ---------------------------------------------------------------------------
# Event queue overflow: the waiter is stopped, many events pile up (more
# than the queue holds), the decision lands; after SIGCONT it must re-read.

QUEUED = "/proc/sys/fs/inotify/max_queued_events"


def probe_inotify(path):
    fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    check(fd >= 0, "inotify_init1 for the probe failed")
    check(libc.inotify_add_watch(fd, path.encode(), 0xfff) >= 0,
          "inotify_add_watch for the probe failed")
    return fd


def probe_overflowed(fd):
    masks = []
    try:
        while True:
            buf = os.read(fd, 65536)
            off = 0
            while off < len(buf):
                _, mask, _, n = struct.unpack_from("iIII", buf, off)
                masks.append(mask)
                off += 16 + n
    except BlockingIOError:
        pass
    finally:
        os.close(fd)
    return any(m & IN_Q_OVERFLOW for m in masks)


def overflow_case(t, decide_while_stopped):
    try:
        with open(QUEUED) as f:
            old = f.read().strip()
        with open(QUEUED, "w") as f:
            f.write("64")
    except OSError as e:
        raise Skip(f"cannot lower {QUEUED}: {e}")
    vol = kubelet(t)
    vol.update({"status": "pending"})
    try:
        w = t.start()
        w.ready()  # its inotify instance exists now, with a 64-event queue
        probe = probe_inotify(t.path("vol"))
    finally:
        with open(QUEUED, "w") as f:  # restored at once, for everyone else
            f.write(old)
    w.wait_line(r"is \"pending\": pending")
    w.signal(signal.SIGSTOP)
    try:
        for i in range(200):  # each update: about 8 events
            vol.patch({"other": str(i)})
        if decide_while_stopped:
            vol.patch({"status": approve_json("after-overflow")})
    finally:
        w.signal(signal.SIGCONT)
    check(probe_overflowed(probe), "the test did not overflow the queue "
                                   "(no IN_Q_OVERFLOW on a probe watch)")
    if not decide_while_stopped:
        w.running_after()
        vol.patch({"status": approve_json("after-overflow")})
    w.expect(0, "approved")
    check(w.result("approver") == "after-overflow",
          f"approver {w.result('approver')!r}")


case("inotify/queue overflow, decision written while stopped",
     needs=["root"])(lambda t: overflow_case(t, True))
case("inotify/queue overflow, decision written after SIGCONT",
     needs=["root"])(lambda t: overflow_case(t, False))


# ---------------------------------------------------------------------------
# stdout and stderr closed or broken: the exit code and the results stay
# right.

def closed_fds_case(t, redirect):
    os.mkdir(t.path("vol"))
    if WRAPPER and os.path.basename(WRAPPER[0]) == "valgrind":
        # valgrind itself fails without a stderr: give it a log file, and
        # read that instead.
        vg_log = t.path("valgrind.log")
        wrapper = [WRAPPER[0], f"--log-file={vg_log}", *WRAPPER[1:]]
        w = t.start(prefix=["sh", "-c", f'exec "$@" {redirect}', "sh"],
                    wrapper=wrapper)
    else:
        vg_log = None
        w = t.start(prefix=["sh", "-c", f'exec "$@" {redirect}', "sh"])
    w.watching()
    write_by_rename(t.path("vol", "status"), approve_json("closed"))
    rc = w.wait()
    check(rc == 0, f"exit {rc}, expected 0")
    check(w.result("decision") == "approved",
          f"result decision {w.result('decision')!r}")
    check(w.result("approver") == "closed",
          f"result approver {w.result('approver')!r}")
    if vg_log and os.path.exists(vg_log):
        with open(vg_log) as f:
            report = f.read()
        check(not report.strip(), f"valgrind reported:\n{report}")


case("fds/stdout and stderr closed")(
    lambda t: closed_fds_case(t, ">&- 2>&-"))
case("fds/stdin, stdout and stderr closed")(
    lambda t: closed_fds_case(t, "<&- >&- 2>&-"))
case("fds/stderr on a full device (/dev/full)")(
    lambda t: closed_fds_case(t, "2>/dev/full"))


@case("fds/stderr a broken pipe")
def _(t):
    os.mkdir(t.path("vol"))
    r, wfd = os.pipe()
    os.close(r)  # nobody will ever read: every log write gets EPIPE
    try:
        w = t.start(stderr=wfd)
    finally:
        os.close(wfd)
    w.running_after(0.3)  # SIGPIPE (default action restored) did not kill it
    write_by_rename(t.path("vol", "status"), "refused")
    rc = w.wait()
    check(rc == 1, f"exit {rc}, expected 1 (refused)")
    check(w.result("decision") == "refused",
          f"result decision {w.result('decision')!r}")


# ---------------------------------------------------------------------------
# Signals: SIGTERM, SIGINT, SIGHUP cancel (exit 1, decision=cancelled) at
# start-up and while waiting; during the writing of results the decision
# already taken stands and the results stay complete and consistent.

SIGNALS = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]


def signals_blocked(pid, signo):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("SigBlk:"):
                    return bool(int(line.split()[1], 16) >> (signo - 1) & 1)
    except OSError:
        pass
    return False


def cancelled(w, signo):
    w.expect(1, "cancelled")
    w.wait_line(rf"cancelled by {signo.name} after .*: refused")
    check(w.result("comment") is not None, "no comment result")


def signal_at_start(t, signo):
    os.mkdir(t.path("vol"))
    w = t.start()
    if WRAPPER:
        # Under a wrapper the program's own start is not observable from
        # here: signal it as soon as it has logged its first line.
        w.ready()
    else:
        end = time.monotonic() + 5
        while not signals_blocked(w.pid, signo):
            check(time.monotonic() < end and w.proc.poll() is None,
                  "the signals were never blocked")
        # main() has just blocked them: the signal lands during start-up.
    w.signal(signo)
    cancelled(w, signo)


def signal_while_waiting(t, signo):
    kubelet(t).update({"status": "pending", "other": "approved"})
    w = t.start()
    w.wait_line(r"is \"pending\": pending")
    kubelet(t).patch({"status": "notified"})
    w.wait_line(r"is \"notified\": pending")
    w.signal(signo)
    cancelled(w, signo)


def signal_while_writing_results(t, signo):
    if WRAPPER:
        raise Skip("strace cannot run the binary under a wrapper")
    os.mkdir(t.path("vol"))
    write_in_place(t.path("vol", "status"), approve_json("carol", "go"))
    # strace holds the first rename of a result file for 1.5 s.
    prefix = ["strace", "-f", "-qq", "-o", "/dev/null", "-e",
              "inject=rename,renameat,renameat2:delay_enter=1500000:when=1"]
    # LeakSanitizer cannot work under ptrace: no leak check in this case.
    asan = os.environ.get("ASAN_OPTIONS", "detect_leaks=1")
    w = t.start(prefix=prefix,
                env={"ASAN_OPTIONS": asan + ":detect_leaks=0"})
    w.wait_line(r"^approve-step: approved by \"carol\"")
    time.sleep(0.3)
    w.signal(signo)
    rc = w.wait()
    got = {n: w.result(n) for n in ("decision", "approver", "comment",
                                    "waited-seconds")}
    check(None not in got.values(), f"results incomplete: {got!r}")
    check((rc, got["decision"]) in ((0, "approved"), (1, "cancelled")),
          f"exit {rc} with decision {got['decision']!r}: inconsistent")
    if rc == 0:
        check(got["approver"] == "carol" and got["comment"] == "go",
              f"results of the decision changed: {got!r}")
    check(not [n for n in os.listdir(w.results) if n.startswith(".")],
          f"temporary files left: {os.listdir(w.results)}")
    w.check_log()


for _sig in SIGNALS:
    case(f"signal/{_sig.name} at start-up")(
        lambda t, s=_sig: signal_at_start(t, s))
    case(f"signal/{_sig.name} while waiting")(
        lambda t, s=_sig: signal_while_waiting(t, s))
    case(f"signal/{_sig.name} while writing results", needs=["strace"])(
        lambda t, s=_sig: signal_while_writing_results(t, s))


@case("signal/SIGPIPE is ignored")
def _(t):
    os.mkdir(t.path("vol"))
    w = t.start()
    w.ready()
    w.signal(signal.SIGPIPE)
    w.running_after()
    write_by_rename(t.path("vol", "status"), "approved")
    w.expect(0, "approved")


@case("signal/SIGTERM with an unwritable results directory",
      needs=["root"])
def _(t):
    os.mkdir(t.path("vol"))
    w = t.start(user=True, results_owner=0)  # root's 0755: not writable
    w.ready()
    w.signal(signal.SIGTERM)
    w.wait_line(r"error: cannot write result .*Permission denied")
    rc = w.wait()
    check(rc == 1, f"exit {rc}, expected 1")
    check(os.listdir(w.results) == [], "results appeared")


# ---------------------------------------------------------------------------
# Results: never through a planted symlink, never half-written, bounded.

@case("results/planted symlinks are replaced, never followed")
def _(t):
    os.mkdir(t.path("vol"))
    victim = t.path("victim")
    write_in_place(victim, "precious")
    before = os.stat(victim)
    w = t.start()
    w.ready()
    for name in ("decision", "approver", "comment", "waited-seconds"):
        os.symlink(victim, os.path.join(w.results, name))
        # and the temporary names this process would use
        os.symlink(victim, os.path.join(w.results, f".{name}.tmp.{w.pid}"))
    write_by_rename(t.path("vol", "status"), approve_json("dave", "x"))
    w.expect(0, "approved")
    with open(victim) as f:
        check(f.read() == "precious", "the symlink's target was written")
    after = os.stat(victim)
    check((before.st_mtime_ns, before.st_size) ==
          (after.st_mtime_ns, after.st_size), "the victim was touched")
    for name in ("decision", "approver", "comment", "waited-seconds"):
        st = os.lstat(os.path.join(w.results, name))
        check(stat.S_ISREG(st.st_mode), f"{name} is not a regular file")
    check(w.result("approver") == "dave", "approver result")


@case("results/a reader never sees a half-written result")
def _(t):
    comment = "lorem ipsum \u00e9 " * 50000  # cut to the 2000-byte bound
    seen = {}
    for round_ in range(5):
        vol = t.path(f"vol{round_}")
        os.mkdir(vol)
        w = t.start(vol=vol)
        w.ready()
        stop = threading.Event()

        def reader(res=w.results):
            while not stop.is_set():
                for name in ("decision", "approver", "comment"):
                    try:
                        with open(os.path.join(res, name), "rb") as f:
                            seen.setdefault((res, name), set()).add(f.read())
                    except FileNotFoundError:
                        pass
        th = threading.Thread(target=reader)
        th.start()
        try:
            write_by_rename(os.path.join(vol, "status"),
                            approve_json("erin", comment))
            w.expect(0, "approved")
        finally:
            stop.set()
            th.join()
        for name in ("decision", "approver", "comment"):
            final = open(os.path.join(w.results, name), "rb").read()
            values = seen.get((w.results, name), set())
            check(values <= {final}, f"{name}: a reader saw "
                  f"{sorted(v[:40] for v in values - {final})!r} besides "
                  f"the final value")
    check(any(seen.values()), "the reader never saw a result")


@case("results/bounded with a 1 MiB approval")
def _(t):
    os.mkdir(t.path("vol"))
    w = t.start()
    w.ready()
    # JSON spells both as \uXXXX: 600 KiB + 300 KiB, padded to 1 MiB
    value = approve_json("\x01" * (100 * 1024), "\u202e" * (50 * 1024))
    value = value[:-1] + " " * (MiB - len(value.encode())) + "}"
    check(len(value.encode()) == MiB, "test value is not exactly 1 MiB")
    kubelet(t).patch({"status": value})
    w.expect(0, "approved")
    sizes = {n: os.path.getsize(os.path.join(w.results, n))
             for n in os.listdir(w.results)}
    check(sum(sizes.values()) <= RESULTS_TOTAL_MAX,
          f"results total {sum(sizes.values())} bytes: {sizes}")
    for name in ("approver", "comment"):
        v = w.result(name)
        check(v.endswith(CUT_MARK), f"{name} not marked as cut: ...{v[-30:]!r}")
    check(w.result("approver").startswith("\\x01\\x01"), "approver escaped")
    check(w.result("comment").startswith("\\u{202e}"), "comment escaped")
    w.check_log()


# ---------------------------------------------------------------------------
# Votes (quorum mode): file names from outside.

def tmpfs_dir(t):
    """A directory on tmpfs, whose readdir order is newest first."""
    with open("/proc/mounts") as f:
        mounts = f.read()
    for base in ("/dev/shm", "/run", "/tmp"):
        if f" {base} tmpfs " in mounts and os.access(base, os.W_OK):
            d = tempfile.mkdtemp(prefix="approve-step-votes-", dir=base)
            os.chmod(d, 0o755)
            return d
    raise Skip("no tmpfs mounted at /dev/shm, /run or /tmp")


def vote_flood(t, refusal_first):
    vol = tmpfs_dir(t)
    try:
        if refusal_first:
            write_in_place(os.path.join(vol, "status.mallory"), "refused")
        for i in range(300):
            write_in_place(os.path.join(vol, f"status.user{i:03d}"),
                           "approved")
        if not refusal_first:
            write_in_place(os.path.join(vol, "status.mallory"), "refused")
        w = t.start("--approvals", "2", vol=vol)
        try:
            rc = w.proc.wait(3 * SLOW)
        except subprocess.TimeoutExpired:
            rc = None  # still waiting: not approved, acceptable
        check(rc != 0, "approved although status.mallory refuses (with 301 "
                       "vote files); log tail:\n" + w.log(800))
        if rc is not None:
            check(rc == 1 and w.result("decision") == "refused",
                  f"exit {rc}, decision {w.result('decision')!r}")
    finally:
        shutil.rmtree(vol, ignore_errors=True)


case("votes/301 vote files, the refusal written first")(
    lambda t: vote_flood(t, True))
case("votes/301 vote files, the refusal written last")(
    lambda t: vote_flood(t, False))


@case("votes/names that are not encodings do not count")
def _(t):
    os.mkdir(t.path("vol"))
    for name in ("status._61", "status.A_4A", "status._zz", "status._",
                 "status.a_00b", "status.alice_40EXAMPLE.com_"):
        write_in_place(t.path("vol", name), "approved")
    w = t.start("--approvers", "a,alice@EXAMPLE.com")
    w.wait_line(r"not counted: its name is not an encoded username")
    w.running_after()
    write_in_place(t.path("vol", "status.a"), "approved")
    w.expect(0, "approved")
    check(w.result("approver") == "a", f"approver {w.result('approver')!r}")


def one_update_case(t, rounds, step_delay, noise, prefix=()):
    """A kubelet update (one sync after several patches) that brings an
    approval that completes the quorum and a refusal together: every
    consistent view of the directory says refused. Reading vote by vote
    through the visible names can see the approval from the new data and
    the refusal not yet (its key is linked after the ..data swap, or read
    from the old data before the swap)."""
    base = tmpfs_dir(t)  # tmpfs lists the newest names first
    t.cleanup.append(base)
    for r in range(rounds):
        vol_path = os.path.join(base, f"vol{r}")
        vol = KubeletVolume(vol_path, step_delay=step_delay)
        data = {"status.alice": "approved", "status.bob": "pending"}
        data.update({f"status.noise{i:03d}": "pending" for i in range(noise)})
        if noise:
            data["status.carol"] = "pending"  # listed first, read first
        vol.update(data)
        w = t.start("--approvals", "2", "--approvers", "alice,bob,carol",
                    vol=vol_path, prefix=prefix,
                    env={"ASAN_OPTIONS": os.environ.get(
                        "ASAN_OPTIONS", "detect_leaks=1")
                        + (":detect_leaks=0" if prefix else "")})
        w.wait_line(r"1 of 2 approvals so far", timeout=10)
        data.update({"status.bob": "approved", "status.carol": "refused"})
        vol.update(data)
        rc = w.wait(10)
        check(rc == 1 and w.result("decision") == "refused",
              f"round {r + 1}: exit {rc}, decision "
              f"{w.result('decision')!r}: the refusal that came with the "
              f"approval was not seen; log tail:\n{w.log(600)}")


case("votes/approval and refusal in one kubelet update: refused")(
    lambda t: one_update_case(t, 10, 0.002, 0))


@case("votes/approval and refusal in one kubelet update, slow reads: "
      "refused", needs=["strace"])
def _(t):
    if WRAPPER:
        raise Skip("strace cannot run the binary under a wrapper")
    # strace slows every open by 0.1 ms: the update lands mid-scan.
    one_update_case(t, 5, 0, 200, prefix=[
        "strace", "-f", "-qq", "-o", "/dev/null", "-e",
        "inject=openat:delay_enter=100"])


@case("votes/a vote file name cannot forge a log line")
def _(t):
    # ConfigMap keys cannot hold such names, but an emptyDir or PVC
    # workspace can: the name is as untrusted as the content.
    os.mkdir(t.path("vol"))
    forged = 'approve-step: approved by "admin" after 0s'
    name = f"status.x\n{forged} \x1b[31m\u202e"
    write_in_place(t.path("vol", name), "approved")
    w = t.start("--approvals", "2")
    w.wait_line(r"not counted: its name is not an encoded username")
    w.running_after()
    check(not any(ln.startswith(forged) for ln in w.lines()),
          f"a file name forged a log line: {w.lines()!r}")
    w.check_log()
    write_in_place(t.path("vol", "status.alice"), "approved")
    write_in_place(t.path("vol", "status.bob"), "approved")
    w.expect(0, "approved")
    check(w.result("approver") == "alice,bob",
          f"approver {w.result('approver')!r}")


@case("votes/--key with a dot is refused in vote mode")
def _(t):
    # The vote policy takes the voter as everything after the FIRST dot of a
    # key; with --key a.b it lets user "b.alice" write a.b.alice, which the
    # step would count as alice's vote. A dotted key must not be accepted
    # where votes count.
    os.mkdir(t.path("vol"))
    w = t.start("--key", "a.b", "--approvals", "2")
    try:
        rc = w.proc.wait(2 * SLOW)
    except subprocess.TimeoutExpired:
        rc = None
    check(rc == 2, f"--key a.b with --approvals 2: "
                   f"{'still waiting' if rc is None else f'exit {rc}'}, "
                   f"expected a usage error (exit 2); log:\n{w.log()}")


# ---------------------------------------------------------------------------

def prepare_binary(base):
    """The binary, where the unprivileged user can run it: a copy in a
    directory anyone may enter, since the build tree may sit under one
    only root may (a mktemp -d clone), and a probe run of it is no proof:
    a wrapper such as valgrind opens the binary itself."""
    if not IS_ROOT:
        return BIN
    copy = os.path.join(base, "bin")
    os.mkdir(copy)
    os.chmod(copy, 0o755)
    dst = os.path.join(copy, os.path.basename(BIN))
    shutil.copy2(BIN, dst)
    os.chmod(dst, 0o755)
    return dst


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-k", dest="match", action="append",
                    help="only cases whose name contains this (repeatable)")
    ap.add_argument("--list", action="store_true", help="list the cases")
    ap.add_argument("--keep", action="store_true",
                    help="keep the directories of failed cases")
    args = ap.parse_args()

    cases = [c for c in CASES if not args.match
             or any(m in c[0] for m in args.match)]
    if args.list:
        for name, _, needs in cases:
            print(name + (f"  (needs {', '.join(sorted(needs))})"
                          if needs else ""))
        return 0
    if not os.access(BIN, os.X_OK):
        print(f"FAIL setup: {BIN} is not an executable (build it, or set "
              "APPROVE_STEP_BIN)")
        print("0 passed, 1 failed")
        return 1

    base = tempfile.mkdtemp(prefix="approve-step-badinput-")
    os.chmod(base, 0o755)
    bin_path = prepare_binary(base)
    have = set()
    if IS_ROOT:
        have.add("root")
    if shutil.which("strace") and subprocess.run(
            ["strace", "-qq", "-o", "/dev/null", "true"]).returncode == 0:
        have.add("strace")
    if userns_available():
        have.add("userns")
    print(f"badinput: {len(cases)} cases, binary {BIN}"
          + (f" under {' '.join(WRAPPER)}" if WRAPPER else "")
          + (f", unprivileged uid {UID}" if IS_ROOT else ""), flush=True)

    passed = failed = skipped = 0
    start = time.monotonic()
    for name, fn, needs in cases:
        missing = needs - have
        if missing:
            print(f"SKIP badinput/{name}: needs {', '.join(sorted(missing))}")
            skipped += 1
            continue
        t = Case(name, base, bin_path)
        t0 = time.monotonic()
        ok = False
        try:
            fn(t)
            ok = True
            print(f"PASS badinput/{name} ({time.monotonic() - t0:.1f}s)",
                  flush=True)
            passed += 1
        except Skip as e:
            print(f"SKIP badinput/{name}: {e}")
            skipped += 1
        except Fail as e:
            print(f"FAIL badinput/{name}: " + str(e).replace("\n", "\n    "),
                  flush=True)
            failed += 1
        except Exception:
            print(f"FAIL badinput/{name}: harness error\n    "
                  + traceback.format_exc().replace("\n", "\n    "),
                  flush=True)
            failed += 1
        finally:
            t.close(keep=args.keep and not ok)
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    print(f"badinput: {skipped} skipped, {time.monotonic() - start:.0f}s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

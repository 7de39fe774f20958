"""inotify's limits (watches, instances, the event queue) and closed or
broken standard descriptors."""

import os
import signal
import struct
import subprocess

from case import CASES, PYTHON, approve_json, as_user, kubelet, libc
from cases import Skip, check
from proc import WRAPPER
from volume import write_by_rename


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


# (what is used up, the user namespace's limit set to 0, the message)
USERNS_LIMITS = [
    ("watches", "max_inotify_watches",
     r"error: inotify_add_watch .*: No space left on device: .*"
     r"fs\.inotify\.max_user_watches"),
    ("instances", "max_inotify_instances",
     r"error: inotify_init1: Too many open files: .*"
     r"fs\.inotify\.max_user_instances"),
]


def limit_case(t, limit, message):
    os.mkdir(t.path("vol"))
    w = t.start(prefix=in_userns(limit))
    w.wait_line(message)
    w.expect(2)


for _what, _limit, _message in USERNS_LIMITS:
    CASES.add(f"inotify/{_what} used up (fresh user namespace)",
              needs=["userns"])(
        lambda t, lim=_limit, m=_message: limit_case(t, lim, m))


HOLD_INSTANCES = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
n = 0
while libc.inotify_init1(0) >= 0:  # no IN_CLOEXEC: the waiter inherits them
    n += 1
sys.stderr.write("holding %d inotify instances\n" % n)
os.execvp(sys.argv[1], sys.argv[1:])
"""


@CASES.add("inotify/instances used up by other processes of the same user",
      needs=["root"])
def instances_used_by_other_processes(t):
    os.mkdir(t.path("vol"))
    w = t.start(prefix=as_user() + [PYTHON, "-c", HOLD_INSTANCES])
    w.wait_line(r"^holding \d+ inotify instances")
    w.wait_line(r"error: inotify_init1: Too many open files: .*"
                r"fs\.inotify\.max_user_instances")
    rc = w.wait()
    check(rc == 2, f"exit {rc}, expected 2; log:\n{w.log()}")


# ---------------------------------------------------------------------------
# Event queue overflow: the waiter is stopped, many events pile up (more
# than the queue holds), the decision lands; after SIGCONT it must re-read.

QUEUED = "/proc/sys/fs/inotify/max_queued_events"
IN_Q_OVERFLOW = 0x4000


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
        w.watching()  # its inotify instance exists now, with a 64-event queue
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


CASES.add("inotify/queue overflow, decision written while stopped",
     needs=["root"])(lambda t: overflow_case(t, True))
CASES.add("inotify/queue overflow, decision written after SIGCONT",
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
    w.holds_inotify()
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


CASES.add("fds/stdout and stderr closed")(
    lambda t: closed_fds_case(t, ">&- 2>&-"))
CASES.add("fds/stdin, stdout and stderr closed")(
    lambda t: closed_fds_case(t, "<&- >&- 2>&-"))
CASES.add("fds/stderr on a full device (/dev/full)")(
    lambda t: closed_fds_case(t, "2>/dev/full"))


@CASES.add("fds/stderr a broken pipe")
def stderr_a_broken_pipe(t):
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

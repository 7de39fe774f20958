"""inotify's limits (watches, instances, the event queue) and closed or
broken standard descriptors."""

import errno
import os
import signal
import struct
import subprocess
import time

from case import (CASES, PYTHON, SLOW, UID, approve_json, as_user, kubelet,
                  libc)
from cases import Skip, check
from contract import VALGRIND_NOTE
from proc import WRAPPER
from volume import write_by_rename


# ---------------------------------------------------------------------------
# inotify limits: the step says which limit ran out and how to raise it,
# then waits by re-reading every 5 s (--poll-interval otherwise), and a
# kubelet-style update still decides, within that interval and a margin.

POLL_S = 5.0     # the re-read interval without inotify
MARGIN_S = 2.0   # for the update, the read and the exit, on a loaded machine
# The error text is the C library's: glibc and musl word EMFILE apart.
NO_INOTIFY = (r"warning: cannot watch .* for changes: {call}: [^:]+: "
              r"this user has used up its inotify {what} "
              r"\(fs\.inotify\.max_user_{what} = \d+{ns}\); re-reading "
              r".*/vol/status every 5s instead; to be woken at once, raise "
              r"it on the node: sysctl -w fs\.inotify\.max_user_{what}=")
NS_LIMIT = "; this user namespace's user\\.max_inotify_{what} = {value}"


def no_inotify_line(call, what, ns_value=None):
    ns = "" if ns_value is None else NS_LIMIT.format(what=what,
                                                      value=ns_value)
    return NO_INOTIFY.format(call=call, what=what, ns=ns)


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


def decides_by_rereading(t, w, vol, decision, line, own_log=True):
    """The waiter said why it re-reads (line); one kubelet update with the
    decision then ends it within the interval and the margin. own_log:
    the log holds approve-step's lines only."""
    w.wait_line(line)
    w.wait_for_line("does not exist yet: pending")
    w.running_after()
    start = time.monotonic()
    vol.update({"status": decision})
    rc = w.wait(timeout=POLL_S + MARGIN_S)
    took = time.monotonic() - start
    expected = {"approved": 0, "refused": 1}[decision]
    check(rc == expected, f"exit {rc}, expected {expected}; log:\n{w.log()}")
    check(w.result("decision") == decision,
          f"result decision {w.result('decision')!r}")
    check(took <= (POLL_S + MARGIN_S) * SLOW,
          f"decided {took:.1f}s after the update")
    if own_log:
        w.check_log()
    return took


# (what is used up, the user namespace's limit set to 0, the failed call,
# the decision the update brings)
USERNS_LIMITS = [
    ("watches", "max_inotify_watches", "inotify_add_watch", "approved"),
    ("instances", "max_inotify_instances", "inotify_init1", "refused"),
]


def limit_case(t, what, limit, call, decision):
    vol = kubelet(t)
    vol.update({})
    w = t.start(prefix=in_userns(limit))
    decides_by_rereading(t, w, vol, decision, no_inotify_line(call, what, 0))


for _row in USERNS_LIMITS:
    CASES.add(f"inotify/{_row[0]} used up (fresh user namespace): waits by "
              f"re-reading, says so", needs=["userns"])(
        lambda t, row=_row: limit_case(t, *row))


@CASES.add("inotify/none to be had, then the directory goes: exit 2 at the "
           "next re-read", needs=["userns"])
def rereading_directory_gone(t):
    vol = kubelet(t)
    vol.update({})
    w = t.start(prefix=in_userns("max_inotify_instances"))
    w.wait_line(no_inotify_line("inotify_init1", "instances", 0))
    w.wait_for_line("does not exist yet: pending")
    os.rename(t.path("vol"), t.path("moved"))
    os.mkdir(t.path("vol"))
    w.wait_line(r"error: .*/vol was deleted, moved or unmounted while "
                r"waiting", timeout=POLL_S + MARGIN_S)
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


@CASES.add("inotify/instances used up by other processes of the same user: "
           "waits by re-reading, says so", needs=["root"])
def instances_used_by_other_processes(t):
    vol = kubelet(t)
    vol.update({})
    w = t.start(prefix=as_user() + [PYTHON, "-c", HOLD_INSTANCES],
                results_owner=UID)
    w.wait_line(r"^holding \d+ inotify instances")
    decides_by_rereading(t, w, vol, "approved",
                         no_inotify_line("inotify_init1", "instances"),
                         own_log=False)


@CASES.add("inotify/open files limit: exit 2, says which limit")
def open_files_limit(t):
    if WRAPPER:
        raise Skip("valgrind needs descriptors of its own below the limit")
    os.mkdir(t.path("vol"))
    # 0-2, the results directory and the signalfd: no room for inotify,
    # nor for reading the key, so waiting cannot work.
    w = t.start(prefix=["prlimit", "--nofile=5", "--"])
    w.wait_line(r"error: inotify_init1: [^:]+: this process "
                r"has used up its open files limit \(5\); raise the "
                r"container's nofile limit")
    w.expect(2)


# Limits that cannot be reached on a test machine (the node's file table,
# kernel or cgroup memory): inotify_init1 fails as it would, through a
# preloaded shim (the glibc build only: a static binary ignores it).
INJECT = r"""
#include <errno.h>
#include <stdlib.h>
int inotify_init1(int flags)
{
	(void)flags;
	errno = atoi(getenv("INJECT_ERRNO"));
	return -1;
}
"""


def injected(t):
    out = subprocess.run(["readelf", "-lW", t.bin], capture_output=True,
                         text=True).stdout
    if "INTERP" not in out:
        raise Skip("a static binary ignores LD_PRELOAD")
    src, lib = t.path("inject.c"), t.path("inject.so")
    with open(src, "w") as f:
        f.write(INJECT)
    r = subprocess.run(["cc", "-shared", "-fPIC", "-o", lib, src],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise Skip(f"cannot build the shim: {r.stderr.strip()}")
    return lib


def injected_case(t, err, name, what):
    lib = injected(t)
    vol = kubelet(t)
    vol.update({})
    # An ASan build wants its runtime first; the shim may come first here.
    asan = os.environ.get("ASAN_OPTIONS", "")
    w = t.start(env={"LD_PRELOAD": lib, "INJECT_ERRNO": str(err),
                     "ASAN_OPTIONS": f"{asan}:verify_asan_link_order=0"})
    decides_by_rereading(t, w, vol, "approved",
                         rf"warning: cannot watch .* for changes: "
                         rf"inotify_init1: {name}: {what}; re-reading "
                         rf".*/vol/status every 5s instead; to be woken at "
                         rf"once, ")


CASES.add("inotify/node's file table full (ENFILE, injected): waits by "
          "re-reading, says so")(lambda t: injected_case(
              t, errno.ENFILE, "Too many open files in system",
              r"the node has used up its open files \(fs\.file-max = \d+\)"))
CASES.add("inotify/no memory for an instance (ENOMEM, injected): waits by "
          "re-reading, says so")(lambda t: injected_case(
              t, errno.ENOMEM, "Cannot allocate memory",
              "the kernel could not allocate an inotify instance"))


# More waiters than the limit allows: those past it say so and re-read;
# every one decides, the refusals and the approvals alike.
WAITERS = 12
INSTANCES = 4


@CASES.add(f"inotify/{WAITERS} waiters, {INSTANCES} inotify instances (user "
           f"namespace): every one decides", needs=["userns"])
def more_waiters_than_instances(t):
    holder = subprocess.Popen(in_userns("max_inotify_instances", INSTANCES)
                              + ["sleep", "600"])
    try:
        ns = f"/proc/{holder.pid}/ns/user"
        time.sleep(0.2)  # the limit is written before sleep runs
        enter = ["nsenter", f"--user={ns}", "--preserve-credentials"]
        vols = {d: kubelet(t, f"vol-{d}") for d in ("approved", "refused")}
        waiters = []
        for i in range(WAITERS):
            decision = "approved" if i % 2 == 0 else "refused"
            vols[decision].update({})
            w = t.start(vol=vols[decision].path, prefix=enter)
            w.wait_for_line("does not exist yet: pending")
            waiters.append((w, decision))
        polling = [w for w, _ in waiters
                   if any("cannot watch" in ln for ln in w.lines())]
        check(len(polling) == WAITERS - INSTANCES,
              f"{len(polling)} waiters re-read, expected "
              f"{WAITERS - INSTANCES}")
        start = time.monotonic()
        for decision, vol in vols.items():
            vol.update({"status": decision})
        for w, decision in waiters:
            expected = {"approved": 0, "refused": 1}[decision]
            rc = w.wait(timeout=POLL_S + MARGIN_S)
            check(rc == expected, f"exit {rc}, expected {expected}; "
                                  f"log:\n{w.log()}")
            check(w.result("decision") == decision,
                  f"result decision {w.result('decision')!r}")
            w.check_log()
        took = time.monotonic() - start
        check(took <= (POLL_S + MARGIN_S) * SLOW,
              f"the last waiter decided {took:.1f}s after the updates")
        print(f"    {WAITERS} waiters ({len(polling)} re-reading) all decided "
              f"within {took:.1f}s of the updates")
    finally:
        holder.kill()
        holder.wait()


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
        with open(vg_log, "rb") as f:
            report = b"".join(line for line in f
                              if line.strip()
                              and not VALGRIND_NOTE.match(line))
        check(not report, f"valgrind reported:\n{report.decode()}")


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

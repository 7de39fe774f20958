"""Something other than a readable file in place of the decision, and the
watched directory itself gone, replaced, missing or unreadable."""

import ctypes
import os
import shutil
import socket
import subprocess

from case import CASES, kubelet, libc
from cases import Skip, check
from volume import write_by_rename, write_in_place


# ---------------------------------------------------------------------------
# Something other than a readable file in place of the decision.

def replace_later(t, w, decision="approved"):
    p = t.path("vol", "status")
    if os.path.isdir(p) and not os.path.islink(p):
        os.rmdir(p)
    write_by_rename(p, decision)  # rename() replaces a symlink, FIFO, socket
    w.expect(0 if decision == "approved" else 1,
             "approved" if decision == "approved" else "refused")


@CASES.add("file/unreadable (mode 000), then made readable", needs=["root"])
def unreadable_mode_000_then_made_readable(t):
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


def two_link_loop(vol):
    os.symlink("b", os.path.join(vol, "status"))
    os.symlink("status", os.path.join(vol, "b"))


def sparse_4_gib(vol):
    with open(os.path.join(vol, "status"), "wb") as f:
        f.truncate(4 << 30)


NOT_READABLE = r"warning: cannot read .*status: "
NOT_REGULAR = NOT_READABLE + r"is not a regular file; still waiting"
LOOP = NOT_READABLE + r"Too many levels of symbolic links; still waiting"
OUTSIDE = (NOT_READABLE + r"is a symbolic link out of the directory, not "
           r"followed; still waiting")

# (name, what to put at vol/status before the start, the warning, the
# decision written over it afterwards)
NOT_A_FILE = [
    ("symlink loop", lambda vol: os.symlink("status", f"{vol}/status"),
     LOOP, "refused"),
    ("two-link symlink loop", two_link_loop, LOOP, "approved"),
    ("FIFO in its place (never blocks)",
     lambda vol: os.mkfifo(f"{vol}/status"), NOT_REGULAR, "approved"),
    ("symlink to a device (/dev/zero)",
     lambda vol: os.symlink("/dev/zero", f"{vol}/status"), OUTSIDE,
     "approved"),
    ("symlink to the step's environment (/proc/self/environ)",
     lambda vol: os.symlink("/proc/self/environ", f"{vol}/status"), OUTSIDE,
     "approved"),
    ("symlink up and out (../outside)",
     lambda vol: os.symlink("../outside", f"{vol}/status"), OUTSIDE,
     "refused"),
    ("sparse 4 GiB file is not read whole", sparse_4_gib,
     r"larger than 1 MiB; still waiting", "approved"),
]


def not_a_file_case(t, place, warning, decision):
    os.mkdir(t.path("vol"))
    place(t.path("vol"))
    w = t.start()
    w.wait_line(warning, timeout=3)
    w.running_after()
    replace_later(t, w, decision)


for _name, _place, _warning, _decision in NOT_A_FILE:
    CASES.add(f"file/{_name}")(
        lambda t, p=_place, w=_warning, d=_decision:
        not_a_file_case(t, p, w, d))


@CASES.add("file/directory in its place")
def directory_in_its_place(t):
    os.mkdir(t.path("vol"))
    w = t.start()
    w.watching()
    os.mkdir(t.path("vol", "status"))
    w.wait_line(NOT_REGULAR)
    w.running_after()
    replace_later(t, w)


@CASES.add("file/socket in its place")
def socket_in_its_place(t):
    os.mkdir(t.path("vol"))
    s = socket.socket(socket.AF_UNIX)
    s.bind(t.path("vol", "status"))
    try:
        w = t.start()
        w.wait_line(NOT_READABLE + r".*; still waiting")
        w.running_after()
        replace_later(t, w)
    finally:
        s.close()


@CASES.add("file/dangling symlink, then its target appears")
def dangling_symlink_then_its_target_appears(t):
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
    w.watching()
    w.wait_line(r"is \"pending\": pending")
    change(t)
    w.wait_line(GONE)
    w.expect(2)
    check(w.result("decision") is None,
          f"results written for a failed wait: {w.result('decision')!r}")


CASES.add("dir/deleted while waiting")(
    lambda t: dir_case(t, lambda t: shutil.rmtree(t.path("vol"))))
CASES.add("dir/moved away while waiting")(
    lambda t: dir_case(t, lambda t: os.rename(t.path("vol"),
                                              t.path("moved"))))


def _recreate_with_approval(t):
    shutil.rmtree(t.path("vol"))
    os.mkdir(t.path("vol"))
    write_in_place(t.path("vol", "status"), "approved")


CASES.add("dir/deleted and recreated holding 'approved'")(
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


CASES.add("dir/emptied, then another directory renamed over it")(
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


CASES.add("dir/exchanged with a directory holding 'approved'")(
    lambda t: dir_case(t, _exchange))


@CASES.add("dir/unmounted while waiting", needs=["root"])
def unmounted_while_waiting(t):
    os.mkdir(t.path("vol"))
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs",
                        t.path("vol")], capture_output=True)
    if r.returncode != 0:
        raise Skip("cannot mount tmpfs: " + r.stderr.decode().strip())
    try:
        w = t.start()
        w.watching()
        subprocess.run(["umount", "-l", t.path("vol")], check=True)
        w.wait_line(GONE)
        w.expect(2)
    finally:
        subprocess.run(["umount", "-l", t.path("vol")], capture_output=True)


@CASES.add("dir/missing at start")
def missing_at_start(t):
    w = t.start(vol=t.path("nowhere"))
    w.wait_line(r"error: --dir .*nowhere: no such directory")
    w.expect(2)


@CASES.add("dir/a file, not a directory")
def a_file_not_a_directory(t):
    write_in_place(t.path("file"), "approved")
    w = t.start(vol=t.path("file"))
    w.wait_line(r"error: --dir .*file: not a directory")
    w.expect(2)


@CASES.add("dir/not searchable by the user", needs=["root"])
def not_searchable_by_the_user(t):
    t.mkdir("vol", mode=0o700)
    write_in_place(t.path("vol", "status"), "approved")
    w = t.start(user=True)
    w.wait_line(r"error: .*vol.*Permission denied")
    w.expect(2)


@CASES.add("dir/results directory missing")
def results_directory_missing(t):
    os.mkdir(t.path("vol"))
    w = t.start("--results-dir", t.path("nowhere"), results=False)
    w.wait_line(r"error: --results-dir .*nowhere: No such file or directory")
    w.expect(2)

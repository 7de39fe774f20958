"""Signals at each stage: SIGTERM, SIGINT and SIGHUP cancel; SIGPIPE is
ignored; a signal while results are written leaves them complete."""

import os
import signal
import time

from case import CASES, approve_json, kubelet
from cases import Skip, check
from proc import WRAPPER
from volume import write_by_rename, write_in_place


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
        w.watching()
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
    check(not [n for n in os.listdir(w.results_dir) if n.startswith(".")],
          f"temporary files left: {os.listdir(w.results_dir)}")
    w.check_log()


for _sig in SIGNALS:
    CASES.add(f"signal/{_sig.name} at start-up")(
        lambda t, s=_sig: signal_at_start(t, s))
    CASES.add(f"signal/{_sig.name} while waiting")(
        lambda t, s=_sig: signal_while_waiting(t, s))
    CASES.add(f"signal/{_sig.name} while writing results", needs=["strace"])(
        lambda t, s=_sig: signal_while_writing_results(t, s))


@CASES.add("signal/SIGPIPE is ignored")
def sigpipe_is_ignored(t):
    os.mkdir(t.path("vol"))
    w = t.start()
    w.watching()
    w.signal(signal.SIGPIPE)
    w.running_after()
    write_by_rename(t.path("vol", "status"), "approved")
    w.expect(0, "approved")


@CASES.add("signal/SIGTERM with an unwritable results directory",
      needs=["root"])
def sigterm_unwritable_results_dir(t):
    os.mkdir(t.path("vol"))
    w = t.start(user=True, results_owner=0)  # root's 0755: not writable
    w.watching()
    w.signal(signal.SIGTERM)
    w.wait_line(r"error: cannot write result .*Permission denied")
    rc = w.wait()
    check(rc == 1, f"exit {rc}, expected 1")
    check(os.listdir(w.results_dir) == [], "results appeared")

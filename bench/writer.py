#!/usr/bin/env python3
"""The benchmark's kubelet: a process that applies ConfigMap updates with the
integration tests' writer (tests/lib/volume.py, KubeletVolume) and reports
when the `..data` swap happened.

It runs apart from the harness so that the harness can sit in poll() and
timestamp the waiters' log lines and exits while the update is still going
on (the kubelet removes the old data after the swap). Both use
CLOCK_MONOTONIC, which is one clock for every process on the machine.

Protocol: one JSON object per line on stdin, one answer per line on stdout.
    {"id": 7, "dir": "/tmp/x", "set": {"status": "approved"}}
 -> {"id": 7, "swap_start": NS, "swap_end": NS, "done": NS}
swap_start/swap_end: CLOCK_MONOTONIC nanoseconds right before and right
after rename("..data_tmp", "..data"); done: when the update returned.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir, "tests", "lib"))
import volume  # noqa: E402  (tests/lib/volume.py, used as it is)


class _TimedSwapOs:
    """The os module as volume.py sees it, except that the rename onto
    `..data` is timed. Everything else is the real os module."""

    def __init__(self):
        self.swap = None

    def __getattr__(self, name):
        return getattr(os, name)

    def rename(self, src, dst, *args, **kwargs):
        t0 = time.monotonic_ns()
        os.rename(src, dst, *args, **kwargs)
        t1 = time.monotonic_ns()
        if os.path.basename(dst) == volume.DATA:
            self.swap = (t0, t1)


timed_os = _TimedSwapOs()
volume.os = timed_os


def apply(cmd):
    timed_os.swap = None
    volume.KubeletVolume(cmd["dir"]).patch(cmd.get("set", {}),
                                           remove=cmd.get("remove", ()))
    done = time.monotonic_ns()
    if timed_os.swap is None:
        raise RuntimeError(f"update of {cmd['dir']} made no ..data swap")
    return {"id": cmd.get("id"), "swap_start": timed_os.swap[0],
            "swap_end": timed_os.swap[1], "done": done}


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        try:
            answer = apply(cmd)
        except Exception as e:  # report, keep serving
            answer = {"id": cmd.get("id"), "error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

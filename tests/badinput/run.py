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

The cases, each a named function: values.py (bad values and big ones),
files.py (no regular file, the directory gone), limits.py (inotify limits,
closed descriptors), signals.py, results.py (the results directory, vote
file names); case.py what they share.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

from case import CASES, IS_ROOT, UID, Case  # first: it finds tests/lib
from proc import BIN, WRAPPER

# The case modules add their cases to CASES as they load, in this order.
import values  # noqa: F401,E402
import files  # noqa: F401,E402
import limits  # noqa: F401,E402
import signals  # noqa: F401,E402
import results  # noqa: F401,E402
from limits import userns_available  # noqa: E402


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


def available():
    """What the cases may need that this machine has."""
    have = set()
    if IS_ROOT:
        have.add("root")
    if shutil.which("strace") and subprocess.run(
            ["strace", "-qq", "-o", "/dev/null", "true"]).returncode == 0:
        have.add("strace")
    if userns_available():
        have.add("userns")
    return have


def main():
    args = CASES.parser(__doc__).parse_args()
    cases = CASES.selected(args)
    if args.list:
        return CASES.list(cases)
    if not os.access(BIN, os.X_OK):
        print(f"FAIL setup: {BIN} is not an executable (build it, or set "
              "APPROVE_STEP_BIN)")
        print("0 passed, 1 failed")
        return 1

    base = tempfile.mkdtemp(prefix="approve-step-badinput-")
    os.chmod(base, 0o755)
    bin_path = prepare_binary(base)
    print(f"badinput: {len(cases)} cases, binary {BIN}"
          + (f" under {' '.join(WRAPPER)}" if WRAPPER else "")
          + (f", unprivileged uid {UID}" if IS_ROOT else ""), flush=True)
    start = time.monotonic()
    tally = CASES.run(cases, setup=lambda name: Case(name, base, bin_path),
                      have=available(), keep=args.keep)
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    print(f"badinput: {tally.skipped} skipped, "
          f"{time.monotonic() - start:.0f}s")
    return tally.close()


if __name__ == "__main__":
    sys.exit(main())

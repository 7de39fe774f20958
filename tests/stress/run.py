#!/usr/bin/python3
"""Randomized stress test: approve-step never loses a decision and never
takes one that was not written.

Each sequence is generated from (seed, index) and runs one or more
approve-step processes on a directory of its own, many sequences at once:

  - the directory is written the way the kubelet updates a ConfigMap volume
    (tests/lib/volume.py: new timestamped dir, ..data swap, key symlinks)
    or by plain writes (in place, or a temporary file renamed in);
  - before the decision: pending values, unknown values, malformed JSON,
    binary data, the key removed and re-added, churn of other keys in the
    same ConfigMap (which may hold "approved" or "refused": they must not
    count), all with random pauses;
  - then exactly one final decision (approve or refuse, as a word in any
    case and spacing or as JSON with approver and comment), written before
    the waiters start, while they start up, or after the churn; then maybe
    more churn of other keys;
  - or no decision at all and a short --timeout (exit 1, decision=timeout;
    with --on-timeout approve, exit 0, decision=approved);
  - in a quarter of the sequences, quorum mode (--approvals, --approvers,
    --requester): votes KEY.USER of eligible voters stay pending while the
    requester, voters not on --approvers, file names that are no encoding,
    the plain KEY and other keys hold anything, approvals included; then
    exactly the approvals the quorum needs, or one eligible refusal, land
    one by one or (kubelet) together in one update, as several patches
    within one kubelet sync do. The waiter may not exit before the last of
    them, and the results must name exactly the counted voters, sorted.

  - in about a third of the sequences, the ConfigMap lives in the fake
    Kubernetes API server (tests/lib/fakeapi.py) and approve-step reads it
    through the API (--api on, with or without --dir, or auto with a
    volume that shows the same updates): every update is a merge patch,
    the watch stream is cut into chunks at random places, and between
    updates the stream is broken (cleanly or mid-chunk), ended as a server
    timeout does, ended by a 410 ERROR event, or its history expired (410
    on the next watch, then a new list); bookmarks move the version on, and
    bursts of patches arrive in one chunk.

Every waiter must exit with the code of the last decision written (0 for
approve, 1 for refuse or timeout), not before it was written, with the
results (decision, approver, comment) and a clean log (every line starting
"approve-step: ", no sanitizer report).

    tests/stress/run.py                    # CI: about 2 minutes
    tests/stress/run.py --duration 3600    # longer
    tests/stress/run.py --seed N --only I --repeat 50   # replay a failure

APPROVE_STEP_BIN is the binary (default build/approve-step/approve-step);
APPROVE_STEP_WRAPPER an optional command to run it under (valgrind).
Prints one PASS/FAIL line per kind of sequence, a FAIL line with the replay
command for every failed sequence, and "N passed, M failed" (sequences).
"""

import argparse
import collections
import concurrent.futures
import os
import random
import shlex
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from contract import LOG_PREFIX, log_problems  # noqa: E402
import fakeapi  # noqa: E402
from plan import API_NS, APIVolume, Plan, Volume  # noqa: E402
from proc import BIN, Failure, Waiter  # noqa: E402
from tally import Tally  # noqa: E402


class Runner:
    def __init__(self, args):
        self.args = args
        self.bin = args.bin
        self.wrapper = shlex.split(args.wrapper)
        self.slow = args.slow
        self.base = tempfile.mkdtemp(prefix="approve-step-stress-")
        self.api = None
        self.api_lock = threading.Lock()

    def fake_api(self):
        """The one fake API server of the run, started on first use."""
        with self.api_lock:
            if self.api is None:
                self.certs = fakeapi.Certs(os.path.join(self.base, "certs"))
                self.api = fakeapi.FakeAPI(
                    self.certs, tokens={"stress-token": "stress"}).start()
                self.api.chunking = fakeapi.random_split(
                    random.Random(self.args.seed))
                self.creds = os.path.join(self.base, "serviceaccount")
                fakeapi.write_credentials(self.creds, "stress-token",
                                          self.api.ca_path, API_NS)
            return self.api

    def close(self):
        if self.api is not None:
            self.api.stop()

    def run(self, index):
        plan = Plan(self.args.seed, index)
        work = os.path.join(self.base, str(index))
        if os.path.exists(work):  # --repeat: a fresh directory each time
            work += f"-{time.monotonic_ns()}"
        try:
            problems = self._run(plan, work)
        except Exception as e:  # a harness error is a failure too
            problems = [f"harness error: {type(e).__name__}: {e}"]
        if not problems or not self.args.keep:
            shutil.rmtree(work, ignore_errors=True)
        return plan, problems, work

    def _spawn(self, plan, vol_dir, i, work):
        res = os.path.join(work, f"results{i}")
        os.mkdir(res)
        args = list(plan.args)
        if plan.api_mode != "on-nodir":
            args += ["--dir", vol_dir]
        if plan.api_mode:
            args += ["--api", plan.api_mode.split("-")[0], "--api-server",
                     self.api.url, "--api-credentials", self.creds,
                     "--configmap", self.name(work), "--namespace", API_NS]
        return Waiter(*args, binary=self.bin,
                      results_dir=res, wrapper=self.wrapper, slow=self.slow,
                      log_path=os.path.join(work, f"log{i}"))

    def _run(self, plan, work):
        vol_dir = os.path.join(work, "vol")
        if plan.api_mode:
            vol = APIVolume(self.fake_api(), self.name(work), plan, vol_dir)
        else:
            vol = Volume(vol_dir, plan)
        vol.setup(plan.initial)
        waiters = [self._spawn(plan, vol_dir, i, work)
                   for i in range(plan.waiters)]
        try:
            return self._drive(plan, vol, waiters)
        finally:
            for w in waiters:
                w.close()

    def _drive(self, plan, vol, waiters):
        problems = []
        if plan.when == "startup":  # while the waiters start up
            if plan.batch:
                vol.write_all(plan.finals)
            else:
                for key, value in plan.finals:
                    vol.write(key, value)
        if plan.wait_ready:
            self._wait_ready(waiters)
        for step in plan.steps:
            if plan.when in ("before", "startup") and \
                    step[1] in plan.protected:
                continue  # the decision is already there: no other one
            vol.apply(step)
        if plan.when == "after":
            finals = [(f"{len(plan.finals)} votes", plan.finals)] \
                if plan.batch else [(k, [(k, v)]) for k, v in plan.finals]
            for key, pairs in finals:
                for w in waiters:
                    if w.proc.poll() is not None:
                        problems.append(
                            f"exited {w.proc.returncode} before {key} was "
                            f"written; log:\n{w.log(3000)}")
                if problems:
                    return problems
                vol.write_all(pairs)
                if len(finals) > 1:
                    time.sleep(plan.rng.choice([0, 0.001, 0.01]))
        for step in plan.after:
            vol.apply(step)
        deadline = time.monotonic() + 30 * self.slow
        for w in waiters:
            try:
                w.wait(max(0.1, deadline - time.monotonic()) / self.slow)
            except Failure:
                problems.append(
                    f"still waiting {30 * self.slow:.0f}s after the "
                    f"decision: lost; log:\n{w.log(3000)}")
                continue
            problems += check_waiter(plan, w)
        return problems

    @staticmethod
    def name(work):
        """The sequence's ConfigMap in the fake API server."""
        return "seq-" + os.path.basename(work)

    def _wait_ready(self, waiters):
        """Until every waiter has logged its first line (its watch is set),
        or has exited, or 10 s (stretched) have passed."""
        end = time.monotonic() + 10 * self.slow
        for w in waiters:
            while time.monotonic() < end and w.proc.poll() is None \
                    and b"\n" not in w.raw_log():
                time.sleep(0.002)


def check_waiter(plan, w):
    """What is wrong with one waiter's exit, results and log."""
    problems = []
    want_rc = 0 if plan.verdict == "approve" else 1
    want_decision = {"approve": "approved", "refuse": "refused",
                     "timeout": "timeout"}[plan.verdict]
    if w.rc != want_rc:
        problems.append(f"exit {w.rc}, expected {want_rc}")
    decision = w.result("decision")
    if decision != want_decision:
        problems.append(f"result decision {decision!r}, expected "
                        f"{want_decision!r}")
    if plan.kind == "decision":
        for name, want in (("approver", plan.approver),
                           ("comment", plan.comment)):
            got = w.result(name)
            if got != want:
                problems.append(f"result {name} {got!r}, expected {want!r}")
    waited = w.result("waited-seconds")
    if waited is None or not waited.isdigit():
        problems.append(f"result waited-seconds {waited!r}")
    problems += log_problems(w.raw_log())
    lines = w.lines()
    if lines:
        last = lines[-1]
        if plan.kind == "timeout":
            ok = "no decision within" in last
        else:
            ok = last.startswith(LOG_PREFIX + want_decision)
        if not ok:
            problems.append(f"last log line {last!r}")
    if problems:
        problems.append("log:\n" + w.log(3000))
    return problems


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int,
                    help="seed of the run (default: random, printed)")
    ap.add_argument("--duration", type=float, default=120,
                    help="seconds to keep starting sequences (default 120)")
    ap.add_argument("--sequences", type=int, default=0,
                    help="stop after this many sequences (default: none)")
    ap.add_argument("--jobs", type=int, default=0,
                    help="sequences at once (default: 8 per CPU, 4 per CPU "
                         "under a wrapper)")
    ap.add_argument("--only", type=int, action="append",
                    help="run only sequence INDEX (repeatable)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="with --only: run each so many times")
    ap.add_argument("--keep", action="store_true",
                    help="keep the directories of failed sequences")
    ap.add_argument("--bin", default=BIN,
                    help="binary (default: $APPROVE_STEP_BIN or "
                         "build/approve-step/approve-step)")
    ap.add_argument("--wrapper",
                    default=os.environ.get("APPROVE_STEP_WRAPPER", ""),
                    help="command to run it under "
                         "(default: $APPROVE_STEP_WRAPPER)")
    ap.add_argument("--slow", type=float,
                    default=float(os.environ.get("APPROVE_STEP_SLOW", "0")),
                    help="stretch deadlines by this factor (default 1, "
                         "10 under a wrapper)")
    args = ap.parse_args()
    if args.seed is None:
        args.seed = int.from_bytes(os.urandom(4), "big")
    if not args.slow:
        args.slow = 10.0 if args.wrapper else 1.0
    if not args.jobs:
        args.jobs = (os.cpu_count() or 2) * (4 if args.wrapper else 8)
    if not os.access(args.bin, os.X_OK):
        tally = Tally()
        tally.fail("setup", f"{args.bin} is not an executable "
                   "(build it, or set APPROVE_STEP_BIN)")
        return tally.close()

    runner = Runner(args)
    wrapped = f" under {args.wrapper}" if args.wrapper else ""
    print(f"stress: seed {args.seed}, binary {args.bin}{wrapped}, "
          f"{args.jobs} at once", flush=True)
    if args.only:
        indexes = [i for i in args.only for _ in range(args.repeat)]
    else:
        indexes = None

    stats = collections.OrderedDict()
    failures = []
    lock = threading.Lock()
    start = time.monotonic()

    def record(fut):
        plan, problems, work = fut.result()
        with lock:
            ok_fail = stats.setdefault(plan.category, [0, 0])
            ok_fail[1 if problems else 0] += 1
            if problems:
                failures.append((plan, problems, work))

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        pending = set()
        n = 0
        while True:
            if indexes is not None:
                if n >= len(indexes):
                    break
                index = indexes[n]
            else:
                if time.monotonic() - start >= args.duration:
                    break
                if args.sequences and n >= args.sequences:
                    break
                index = n
            while len(pending) >= args.jobs * 2:
                done, pending = concurrent.futures.wait(
                    pending, return_when=concurrent.futures.FIRST_COMPLETED)
            fut = pool.submit(runner.run, index)
            fut.add_done_callback(record)
            pending.add(fut)
            n += 1
        concurrent.futures.wait(pending)
    elapsed = time.monotonic() - start

    tally = Tally()
    for cat in sorted(stats):
        ok, bad = stats[cat]
        if bad:
            tally.fail(f"stress/{cat}", f"{bad} of {ok + bad} sequences "
                       "failed", n=bad)
            tally.passed += ok
        else:
            tally.ok(f"stress/{cat}: {ok} sequences", n=ok)
    for plan, problems, work in failures[:20]:
        idx = work.rsplit("/", 1)[-1]
        print(f"FAIL stress sequence {idx} ({plan.category}, "
              f"{' '.join(plan.args)}, {plan.waiters} waiter(s)): "
              f"{problems[0]}")
        for p in problems[1:]:
            print("    " + p.replace("\n", "\n    "))
        print(f"    replay: {sys.argv[0]} --seed {args.seed} --only {idx} "
              f"--repeat 20" + (f" (kept: {work})" if args.keep else ""))
    print(f"stress: {tally.passed + tally.failed} sequences, "
          f"{len(stats)} kinds, in {elapsed:.0f}s, seed {args.seed}")
    runner.close()
    if not args.keep:
        shutil.rmtree(runner.base, ignore_errors=True)
    return tally.close()


if __name__ == "__main__":
    sys.exit(main())

"""What every part of the benchmark shares: where it is, the waiter kinds,
the clock, progress messages and the error that means it broke."""

import os
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

KINDS = ("polling", "approve-step", "floor")
# Only in the reaction part: the floor closing its watch before it exits.
LATENCY_KINDS = KINDS + ("floor-close",)
DECIDED = ": approved"  # every waiter's decision line contains this


class BenchError(Exception):
    """The benchmark itself broke (not a missed target)."""


def now():
    return time.monotonic_ns()


def say(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def ms(ns):
    return ns / 1e6

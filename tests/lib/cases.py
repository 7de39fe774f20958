"""Named test cases and the closing line CI reads: `N passed, M failed`.

Two ways in, one bookkeeping:

  - a script's cases: `cases = Registry("badinput")`, `@cases.add(name)`
    on a function that raises Fail (or returns a list of problems), then
    `sys.exit(cases.main())`: -k SUBSTRING, --list, --keep, one
    PASS/FAIL/SKIP line per case;
  - unittest suites: a WaiterTest per group (a fresh ConfigMap-style
    directory and results directory per test), then `main()`.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
import traceback
import unittest

from proc import Failure, Waiter
from tally import Tally
from volume import KubeletVolume

Fail = Failure


class Skip(Exception):
    """The case cannot run here (no root, no strace): printed as SKIP."""


def check(cond, msg):
    if not cond:
        raise Fail(msg)


class Registry:
    """The cases of one suite, run in the order they were added.

    A case is fn(setup(name)) where setup (given to run) makes what each
    case needs (a directory, say) and `close(keep)` on it runs afterwards;
    without setup, fn(). A case fails by raising Fail or by returning a
    non-empty list of problems (other return values do not count);
    `needs` names what it must have (see main's `have`) or it is skipped.
    """

    def __init__(self, suite):
        self.suite = suite
        self.cases = []

    def add(self, name, needs=()):
        def register(fn):
            self.cases.append((name, fn, set(needs)))
            return fn
        return register

    def parser(self, doc):
        ap = argparse.ArgumentParser(
            description=doc.split("\n\n")[0],
            formatter_class=argparse.RawDescriptionHelpFormatter)
        ap.add_argument("-k", dest="match", action="append",
                        help="only cases whose name contains this "
                             "(repeatable)")
        ap.add_argument("--list", action="store_true", help="list the cases")
        ap.add_argument("--keep", action="store_true",
                        help="keep the directories of failed cases")
        return ap

    def selected(self, args):
        return [c for c in self.cases if not args.match
                or any(m in c[0] for m in args.match)]

    def list(self, cases):
        for name, _, needs in cases:
            print(name + (f"  (needs {', '.join(sorted(needs))})"
                          if needs else ""))
        return 0

    def run(self, cases, setup=None, have=(), keep=False):
        """Runs the cases; prints a line each and returns the Tally."""
        tally = Tally()
        for name, fn, needs in cases:
            label = f"{self.suite}/{name}" if self.suite else name
            missing = needs - set(have)
            if missing:
                tally.skip(label, f"needs {', '.join(sorted(missing))}")
                continue
            t = setup(name) if setup else None
            t0 = time.monotonic()
            ok = False
            try:
                problems = fn(t) if setup else fn()
                if isinstance(problems, list) and problems:
                    raise Fail("; ".join(problems))
                ok = True
                took = f" ({time.monotonic() - t0:.1f}s)" if setup else ""
                tally.ok(label + took)
            except Skip as e:
                tally.skip(label, str(e))
            except Fail as e:
                tally.fail(label, str(e))
            except Exception:
                tally.fail(label, "harness error\n" + traceback.format_exc())
            finally:
                if t is not None:
                    t.close(keep=keep and not ok)
        return tally

    def main(self, doc="", setup=None, have=(), argv=None):
        """The command line of a case script (no setup, no needs)."""
        args = self.parser(doc).parse_args(argv)
        cases = self.selected(args)
        if args.list:
            return self.list(cases)
        return self.run(cases, setup, have, args.keep).close()


class WaiterTest(unittest.TestCase):
    """A fresh ConfigMap-style directory and results directory per test;
    every waiter started is killed at the end."""

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
            w.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, *args, dir=None, **kw):
        """approve-step --dir DIR ARGS --results-dir RESULTS, running."""
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

    def assertCleanLog(self, w):
        """Every line approve-step's own, bounded, escaped, UTF-8."""
        problems = w.log_problems()
        self.assertFalse(problems, f"{problems}; log:\n{w.log()}")


def run_unittests(suite, module, names=()):
    """unittest over a module (or the tests named), closed by the line CI
    reads: 'suite: N passed, M failed'; returns the exit status."""
    loader = unittest.defaultTestLoader
    tests = (loader.loadTestsFromNames(names, module) if names
             else loader.loadTestsFromModule(module))
    result = unittest.TextTestRunner(verbosity=2).run(tests)
    failed = len(result.failures) + len(result.errors)
    print(f"{suite}: {result.testsRun - failed} passed, {failed} failed")
    return 1 if failed or not result.testsRun else 0


def main(suite="integration"):
    """run_unittests over the script being run, with the tests named on
    its command line; exits with its status."""
    sys.exit(run_unittests(suite, sys.modules["__main__"], sys.argv[1:]))

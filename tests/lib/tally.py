"""PASS/FAIL/SKIP bookkeeping shared by every Python suite: one line per
check, details indented under it, and the closing line CI reads:
`N passed, M failed` (`, K skipped` when some were)."""

import sys


def indent(text):
    return str(text).replace("\n", "\n    ")


class Tally:
    def __init__(self, out=None):
        self.out = out or sys.stdout
        self.passed = self.failed = self.skipped = 0

    def _print(self, text):
        print(text, file=self.out, flush=True)

    def ok(self, label, notes=(), n=1):
        """n: how many things passed (a suite may count sequences, not
        lines)."""
        self.passed += n
        self._print(f"PASS {label}")
        for note in notes:
            self._print(f"    {indent(note)}")

    def fail(self, label, problems=(), n=1):
        """problems: one string (shown after the label) or a list (one
        indented line each)."""
        self.failed += n
        if isinstance(problems, str):
            self._print(f"FAIL {label}: {indent(problems)}")
            return
        self._print(f"FAIL {label}")
        for p in problems:
            self._print(f"    {indent(p)}")

    def skip(self, label, why=""):
        self.skipped += 1
        if "\n" in why or not why:
            self._print(f"SKIP {label}")
            for line in why.splitlines():
                self._print(f"    {line}")
        else:
            self._print(f"SKIP {label}: {why}")

    def check(self, label, problems):
        """ok when problems is empty, else fail."""
        if problems:
            self.fail(label, problems)
        else:
            self.ok(label)
        return not problems

    def close(self):
        """Prints the closing line; returns the exit status (1: failures)."""
        skipped = f", {self.skipped} skipped" if self.skipped else ""
        self._print(f"{self.passed} passed, {self.failed} failed{skipped}")
        return 1 if self.failed else 0

// PASS/FAIL bookkeeping for the JavaScript suites (policy, console), as
// tests/lib/tally.py is for the Python ones: one line per case, the detail
// after a colon, and the closing line CI reads: "N passed, M failed".
export class Tally {
  constructor() {
    this.passed = 0;
    this.failed = 0;
  }

  ok(name) {
    this.passed++;
    console.log(`PASS ${name}`);
  }

  fail(name, detail) {
    this.failed++;
    console.log(`FAIL ${name}${detail ? ": " + detail : ""}`);
  }

  // Prints the closing line; returns the exit status (1: failures).
  close() {
    console.log(`${this.passed} passed, ${this.failed} failed`);
    return this.failed ? 1 : 0;
  }
}

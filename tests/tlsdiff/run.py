#!/usr/bin/env python3
"""The differential TLS test: approve-step --api accepts a server
certificate chain exactly when Go's crypto/x509 (what client-go verifies
with) accepts it.

gen.go makes every case (EKU and key-usage variants, IP/DNS/no SAN, CN only,
expired and not yet valid, chains with and without intermediates, CA bit,
path length, name constraints, critical extensions, SHA-1); verify.go gives
Go's verdict with the case's ca.crt as roots and its host as the name; then
the real binary runs against the fake API server (tests/lib/fakeapi*.py)
presenting that chain. For each case the binary must accept (exit 0 on the
approved ConfigMap) exactly when Go does; for each refused one, no request
reached the fake server (so the token went nowhere) and the step's log says
in words why. Prints a table and the counts; exit 1 on any difference.

    APPROVE_STEP_BIN=build/approve-step/approve-step tests/tlsdiff/run.py

TLSDIFF_ONLY=WORD runs only the cases whose names contain WORD.
"""

import os
import secrets
import shutil
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import fakeapi  # noqa: E402
from proc import Waiter  # noqa: E402

NS, CM, KEY = "ci", "approvals", "run-1"

# What the step's log must say for a refusal of this kind (Go's words ->
# ours): a refusal that says nothing the user can act on is a failure.
WHY = [
    ("incompatible key usage", "not for TLS servers"),
    ("unknown authority", "certificate"),
    ("expired or is not yet valid", "expired or is not yet valid"),
    ("too many intermediates", "path length"),
    ("not authorized to sign for this name", "name constraints"),
    ("unhandled critical extension", "critical extension"),
    ("doesn't contain any IP SANs", "does not name this host"),
    ("legacy Common Name", "does not name this host"),
    ("is valid for", "does not name this host"),
    ("not valid for any names", "does not name this host"),
]


# Cases where the step is knowingly stricter than Go (none now; BearSSL's
# engine refuses critical nameConstraints and extendedKeyUsage, and the
# step then checks the chain's signatures itself). The test fails if one
# listed here stops differing, or if any other case differs.
STRICTER = {}
# Refusals for which BearSSL's reason comes before Go's.
CRITICAL_FIRST = set()


def go(*args, **kw):
    env = dict(os.environ, GO111MODULE="off",
               GOCACHE=os.environ.get("GOCACHE",
                                      os.path.join(tempfile.gettempdir(),
                                                   "approve-step-gocache")))
    return subprocess.run(["go", "run", *args], check=True, text=True,
                          capture_output=True, cwd=HERE, env=env,
                          **kw).stdout


class ChainAPI(fakeapi.FakeAPI):
    """The fake API server at OpenSSL's security level 0, so that it
    presents what a server may send (a SHA-1 chain too)."""

    def context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.load_cert_chain(*self.cert)
        return ctx


def binary_verdict(case, work):
    """(accepted, log, requests with the token) of approve-step against
    the fake API server presenting the case's chain."""
    certs = fakeapi.Certs(os.path.join(work, "fake"))
    certs.cas["fake-cluster-ca"] = (os.path.join(case, "ca.crt"), None)
    token = "tok-" + secrets.token_hex(16)
    api = ChainAPI(certs, cert=(os.path.join(case, "chain.pem"),
                                       os.path.join(case, "key.pem")),
                          tokens={token: "system:serviceaccount:ci:gate"})
    api.configmap(NS, CM, {KEY: "approved"})
    try:
        api.start()
    except ssl.SSLError as e:
        # OpenSSL will not present it: the case is left to the unit tests
        return None, f"the fake server cannot load the chain: {e}", []
    creds, results = os.path.join(work, "creds"), os.path.join(work, "res")
    shutil.rmtree(results, ignore_errors=True)
    os.makedirs(results)
    fakeapi.write_credentials(creds, token, os.path.join(case, "ca.crt"), NS)
    host = open(os.path.join(case, "host")).read().strip()
    try:
        w = Waiter("--api", "on", "--api-server", f"https://{host}:{api.port}",
                   "--api-credentials", creds, "--key", KEY,
                   "--configmap", CM, "--timeout", "20s",
                   results_dir=results)
        rc = w.wait(30)
        log = w.log()
    finally:
        api.stop()
    with_token = [r for r in api.requests
                  if token in r.headers.get("authorization", "")]
    return rc, log, with_token


def main():
    start = time.monotonic()
    work = tempfile.mkdtemp(prefix="tlsdiff-")
    try:
        cases_dir = os.path.join(work, "cases")
        names = go("gen.go", cases_dir).split()
        # TLSDIFF_ONLY=attack-: only the cases whose names contain it
        only = os.environ.get("TLSDIFF_ONLY")
        if only:
            names = [n for n in names if only in n]
        dirs = [os.path.join(cases_dir, n) for n in names]
        go_says = {}
        for line in go("verify.go", *dirs).splitlines():
            name, _, rest = line.partition(" ")
            go_says[name] = rest
        rows, bad = [], 0
        for name, d in zip(names, dirs):
            g = go_says[name]
            go_ok = g == "accept"
            rc, log, with_token = binary_verdict(d, work)
            if rc is None:
                rows.append((name, "accept" if go_ok else "refuse", "-",
                             "untested: " + log, g, ""))
                continue
            ours_ok = rc == 0
            problems = []
            if rc not in (0, 2):
                problems.append(f"exit {rc}")
            known = name in STRICTER and go_ok and not ours_ok
            if go_ok != ours_ok and not known:
                problems.append("DIFFERS")
            if name in STRICTER and not known:
                problems.append("no longer stricter: drop from STRICTER")
            if not ours_ok and with_token:
                problems.append(f"token sent {len(with_token)}x")
            if not ours_ok and not go_ok:
                want = [ours for theirs, ours in WHY if theirs in g]
                if name in CRITICAL_FIRST:
                    want = ["critical extension"]
                if want and not any(w in log for w in want):
                    problems.append(f"log lacks {want[0]!r}")
            why = ""
            for line in log.splitlines():
                if "TLS" in line or "certificate" in line:
                    why = line.strip()
                    break
            bad += bool(problems)
            rows.append((name, "accept" if go_ok else "refuse",
                         "accept" if ours_ok else "refuse",
                         "; ".join(problems) or
                         (f"stricter (known): {STRICTER[name]}" if known
                          else "ok"), g, why))
        w = max(len(r[0]) for r in rows)
        print(f"{'case':<{w}}  go      binary  result")
        for name, gv, bv, res, g, why in rows:
            print(f"{name:<{w}}  {gv:<6}  {bv:<6}  {res}")
            if not res.startswith(("ok", "stricter", "untested")) or \
                    os.environ.get("TLSDIFF_VERBOSE"):
                print(f"{'':<{w}}    go: {g}\n{'':<{w}}    step: {why}")
        acc = sum(r[1] == "accept" for r in rows)
        same = sum(r[1] == r[2] for r in rows)
        print(f"tlsdiff: {len(rows)} cases, Go accepts {acc}, refuses "
              f"{len(rows) - acc}; the binary agrees on {same}, is stricter "
              f"(known) on {len(STRICTER)}, fails {bad} "
              f"({time.monotonic() - start:.1f}s)")
        print(f"{len(rows) - bad} passed, {bad} failed")
        return 1 if bad else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

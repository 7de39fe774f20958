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
import json
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

from volume import KubeletVolume, write_by_rename, write_in_place  # noqa: E402

APPROVE_WORDS = ["approved", "approve", "success"]
REFUSE_WORDS = ["refused", "refuse", "rejected", "reject", "denied"]
PENDING_WORDS = ["", "init", "pending", "notifying", "notified", "waiting"]
SPACE = " \t\n\r\v\f"

# Values that are not decisions: the waiter must keep waiting on them.
UNKNOWN_VALUES = [
    "approved!", "approvedd", "not approved", "refused?", "un-refused",
    "yes", "no", "ok", "LGTM", "true", "1", "approve d", '"approved"',
    "'refused'", "approved.", "approved\x00", "\x00", "\xff\xfeapproved",
    "succes", "deny", "app\nroved", "approved,refused",
    '{"decision":"pending"}', '{"decision":"maybe"}',
    '{"Decision":"approved"}', '{"decision":["approved"]}',
    '{"decision":true}', '{"decision":null}', '{"status":"approved"}',
    '{"decision":"approved"', '{"decision": "refused", }',
    '["approved"]', '{"decision":"approved"}}', '{}', '{',
    '{"approver":"mallory","comment":"approved"}',
    '{"decision":{"decision":"approved"}}',
]

# Characters for approver and comment: printable, non-ASCII, and a few
# control characters the results must show escaped.
FIELD_CHARS = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
               "0123456789 .,:;!?@#-_+=/()[]{}'\"\\" + "\u00e9\u00fc\u65e5"
               "\U0001f680")
FIELD_CONTROL = "\n\t\r\x1b\x7f\u202e\u0085"


def word_verdict(text):
    """The contract's reading of a word: 'approve', 'refuse', 'pending' or
    None (not a decision)."""
    w = text.strip(SPACE).lower() if text.isascii() else None
    if w is None:
        w = "".join(c.lower() if "A" <= c <= "Z" else c
                    for c in text.strip(SPACE))
    if w in APPROVE_WORDS:
        return "approve"
    if w in REFUSE_WORDS:
        return "refuse"
    if w in PENDING_WORDS:
        return "pending"
    return None


def classify(value):
    """'approve' or 'refuse' if the contract makes value a decision."""
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogateescape")
    if b"\x00" in value:
        return None
    text = value.decode("latin-1")
    if text.lstrip(SPACE).startswith("{"):
        try:
            obj = json.loads(value)
        except ValueError:
            return None
        d = obj.get("decision") if isinstance(obj, dict) else None
        v = word_verdict(d) if isinstance(d, str) else None
    else:
        v = word_verdict(text)
    return v if v in ("approve", "refuse") else None


def escape_result(value):
    """What the results show of a value (escape_value without quotes)."""
    out = []
    for ch in value:
        cp = ord(ch)
        if ch in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif cp < 0x20 or cp == 0x7f:
            out.append("\\x%02x" % cp)
        elif (0x80 <= cp <= 0x9f or cp in (0x200e, 0x200f, 0x2028, 0x2029,
                                            0xfeff)
              or 0x202a <= cp <= 0x202e or 0x2066 <= cp <= 0x2069):
            out.append("\\u{%04x}" % cp)
        else:
            out.append(ch)
    return "".join(out)


def random_case(rng, word):
    mode = rng.random()
    if mode < 0.5:
        return word
    if mode < 0.7:
        return word.upper()
    return "".join(c.upper() if rng.random() < 0.5 else c for c in word)


def random_space(rng):
    return "".join(rng.choice(SPACE) for _ in range(rng.choice([0, 0, 1, 2])))


def pending_value(rng):
    """A value for the decision key that is not a decision."""
    r = rng.random()
    if r < 0.45:
        v = random_space(rng) + random_case(rng, rng.choice(PENDING_WORDS)) \
            + random_space(rng)
    elif r < 0.85:
        v = rng.choice(UNKNOWN_VALUES)
    elif r < 0.95:
        v = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
    else:
        v = json.dumps({"decision": rng.choice(PENDING_WORDS),
                        "comment": "not yet"})
    if classify(v) is not None:  # a random byte string could be one
        v = "pending"
    return v


def other_value(rng):
    """Anything, decisions included: other keys never decide."""
    r = rng.random()
    if r < 0.3:
        return rng.choice(APPROVE_WORDS + REFUSE_WORDS)
    if r < 0.4:
        return json.dumps({"decision": rng.choice(APPROVE_WORDS)})
    if r < 0.5:
        return "x" * rng.randrange(1, 5000)
    return pending_value(rng)


def random_field(rng, n):
    chars = [rng.choice(FIELD_CHARS) for _ in range(n)]
    if chars and rng.random() < 0.3:
        chars[rng.randrange(len(chars))] = rng.choice(FIELD_CONTROL)
    return "".join(chars)


def decision_value(rng, verdict):
    """(value to write, expected approver result, expected comment result)."""
    word = rng.choice(APPROVE_WORDS if verdict == "approve" else REFUSE_WORDS)
    if rng.random() < 0.5:
        v = random_space(rng) + random_case(rng, word) + random_space(rng)
        return v, "", ""
    obj = {"decision": random_case(rng, word)}
    approver = comment = ""
    if rng.random() < 0.7:
        approver = random_field(rng, rng.randrange(1, 40))
        obj["approver"] = approver
    if rng.random() < 0.7:
        comment = random_field(rng, rng.randrange(0, 120))
        obj["comment"] = comment
    if rng.random() < 0.2:
        obj["extra"] = {"nested": [1, 2, {"decision": "refused"}]}
    items = list(obj.items())
    rng.shuffle(items)
    text = json.dumps(dict(items), ensure_ascii=rng.random() < 0.5,
                      indent=rng.choice([None, None, 2]))
    return (random_space(rng) + text + random_space(rng),
            escape_result(approver), escape_result(comment))


OTHER_KEYS = ["other", "status2", "Status", "statuses", "status.txt",
              "status.alice", "approval", "config.yaml", "run-1.status",
              "approvals", "settings"]


def decision_keys(rng):
    key = rng.choice(["status", "status", "approve-run-%06d" % rng.randrange(
        10**6), "decision.key", "a"])
    others = [k for k in OTHER_KEYS if k != key]
    rng.shuffle(others)
    return key, others[:rng.randrange(0, 5)]


VOTERS = ["alice", "bob", "carol", "dave", "erin@example.com",
          "system:serviceaccount:ci:bot", "o'neil", "Z.z-9"]
# Vote file names that are no encoding of any user name: never counted.
BAD_VOTE_NAMES = ["_zz", "A_4A", "_61", "x_", "_00", "a_2E"]


def encode_voter(name):
    """A user name as a ConfigMap key suffix (bytes outside [-.a-zA-Z0-9]
    as _xx), as the contract defines it."""
    return "".join(chr(b) if chr(b).isascii() and (chr(b).isalnum()
                                                    or chr(b) in "-.")
                   else "_%02x" % b for b in name.encode())


class Plan:
    """Everything a sequence does, drawn from its own random generator.

    The sequence writes `initial` before the waiters start, then `steps`
    (pending states and churn), then `finals` one by one: the decision
    (one key; in quorum mode the approving votes, or one refusal). The
    waiters may not exit before the last of `finals` is written. Steps
    never touch the keys of `finals` once those hold their final value.
    """

    def __init__(self, seed, index):
        rng = random.Random(f"{seed}:{index}")
        self.rng = rng
        self.kind = "timeout" if rng.random() < 0.12 else "decision"
        self.style = rng.choice(["kubelet", "kubelet", "plain", "rename"])
        self.quorum = rng.random() < 0.25
        self.waiters = 1 if rng.random() < 0.8 else rng.randrange(2, 5)
        self.poll = rng.random() < 0.1
        self.step_delay = rng.choice([0, 0, 0.0005, 0.002])
        self.wait_ready = rng.random() < 0.5
        self.when = "none" if self.kind == "timeout" else rng.choices(
            ["before", "startup", "after"], [0.12, 0.18, 0.70])[0]
        self.args = []
        self.approver = self.comment = ""
        if self.kind == "timeout":
            self.timeout_ms = rng.randrange(150, 700)
            self.on_timeout = rng.choice(["refuse", "approve"])
            self.verdict = "approve" if self.on_timeout == "approve" \
                else "timeout"
            self.args += ["--timeout", f"{self.timeout_ms}ms",
                          "--on-timeout", self.on_timeout]
        else:
            self.verdict = rng.choice(["approve", "refuse"])
            self.args += ["--timeout", "10m"]
        if self.poll:
            self.args += ["--poll-interval", "100ms"]
        if self.quorum:
            self._quorum(rng)
        else:
            self._single(rng)
        self.initial = {}
        for k, v in self.start.items():
            self.initial[k] = v
        self.steps = [self._step(rng) for _ in range(rng.choice(
            [0, 1, 2, 3, 5, 8]))]
        self.after = [self._step(rng, late=True)
                      for _ in range(rng.choice([0, 0, 1, 3]))]
        if self.when == "before":
            self.initial.update(self.finals)
        self.protected = {k for k, _ in self.finals}
        # Several patches within one kubelet sync reach the volume as one
        # update: the votes that decide may land together.
        self.batch = self.quorum and self.together and len(self.finals) > 1
        self.category = (f"{'quorum' if self.quorum else 'single'}/"
                         f"{self.style}/{self.kind}"
                         + ("" if self.kind == "timeout" else f"/{self.when}")
                         + ("/together" if self.batch else ""))

    def _single(self, rng):
        self.key, self.others = decision_keys(rng)
        self.args += ["--key", self.key]
        self.start = {}
        if rng.random() < 0.6:
            self.start[self.key] = pending_value(rng)
        for k in self.others:
            if rng.random() < 0.7:
                self.start[k] = other_value(rng)
        self.finals = []
        if self.kind == "decision":
            value, self.approver, self.comment = decision_value(
                rng, self.verdict)
            self.finals = [(self.key, value)]
        self.pending_keys = [self.key]  # keys steps set to pending values
        self.noise_keys = list(self.others)  # keys that may hold anything

    def _quorum(self, rng):
        self.key = rng.choice(["status", "approval", "run-%06d"
                               % rng.randrange(10**6)])
        n = rng.choice([1, 2, 2, 3])
        pool = list(VOTERS)
        rng.shuffle(pool)
        approvers = pool[:rng.randrange(n, len(pool) + 1)] \
            if rng.random() < 0.5 else None
        requester = rng.choice(pool) if rng.random() < 0.5 else None
        eligible = [v for v in (approvers or pool) if v != requester]
        if len(eligible) < n:
            requester = None
            eligible = list(approvers or pool)
        if n == 1 and not approvers and not requester:
            requester = pool[-1]
            eligible = pool[:-1]
        self.args += ["--key", self.key, "--approvals", str(n)]
        if approvers:
            self.args += ["--approvers", ",".join(approvers)]
        if requester:
            self.args += ["--requester", requester]
        ineligible = [v for v in pool if v not in eligible]
        vote = {v: f"{self.key}.{encode_voter(v)}" for v in pool}
        self.others = [k for k in rng.sample(OTHER_KEYS, 3) if "." not in k]
        # Keys whose content never decides: ineligible voters, names that
        # are no encoding, the plain key itself, other keys.
        self.noise_keys = ([vote[v] for v in ineligible]
                           + [f"{self.key}.{b}" for b in BAD_VOTE_NAMES]
                           + [self.key] + self.others)
        self.start = {}
        for k in self.noise_keys:
            if rng.random() < 0.3:
                self.start[k] = other_value(rng)
        deciders = rng.sample(eligible, n)
        self.together = self.style == "kubelet" and rng.random() < 0.5
        # Eligible voters who stay pending: their votes churn freely.
        bystanders = [v for v in eligible if v not in deciders]
        self.pending_keys = [vote[v] for v in bystanders]
        for k in self.pending_keys:
            if rng.random() < 0.4:
                self.start[k] = pending_value(rng)
        self.finals = []
        chosen = []  # (vote file, voter, comment) of the counted votes
        if self.kind == "decision" and self.verdict == "approve":
            chosen = [(vote[v], v, None) for v in deciders]
        elif self.kind == "decision":
            # Up to n - 1 approvals, then one refusal decides. Or, landing
            # together in one kubelet update, all n approvals and a refusal:
            # refused too, as every version of the ConfigMap says.
            if self.together and len(eligible) > n:
                yes = list(deciders)
            else:
                yes = deciders[:rng.randrange(0, n)]
            no = rng.choice([v for v in eligible if v not in yes])
            self.finals = [(vote[v], self._vote_value(rng, "approve")[0])
                           for v in yes]
            value, comment = self._vote_value(rng, "refuse")
            self.finals.append((vote[no], value))
            chosen = [(vote[no], no, comment)]
        else:
            # Timeout: approvals short of the quorum.
            for v in deciders[:n - 1]:
                self.start[vote[v]] = self._vote_value(rng, "approve")[0]
        if self.kind == "decision" and self.verdict == "approve":
            finals = []
            for i, (f, v, _) in enumerate(chosen):
                value, comment = self._vote_value(rng, "approve")
                finals.append((f, value))
                chosen[i] = (f, v, comment)
            self.finals = finals
        if chosen:
            # Sorted: the voters' first letters differ and keep their order
            # when encoded, so by file name and by user name agree.
            chosen.sort()
            self.approver = escape_result(",".join(v for _, v, _ in chosen))
            self.comment = escape_result("; ".join(
                f"{v}: {c}" for _, v, c in chosen if c))
        for v in deciders:  # pending before they decide
            if rng.random() < 0.3 and vote[v] not in self.start:
                self.start[vote[v]] = pending_value(rng)
                self.pending_keys.append(vote[v])

    @staticmethod
    def _vote_value(rng, verdict):
        """A vote: (value, its comment or None)."""
        word = rng.choice(APPROVE_WORDS if verdict == "approve"
                          else REFUSE_WORDS)
        if rng.random() < 0.5:
            return random_space(rng) + random_case(rng, word), None
        comment = random_field(rng, rng.randrange(0, 30))
        obj = {"decision": word, "approver": "forged-name"}
        if comment or rng.random() < 0.5:
            obj["comment"] = comment
        return json.dumps(obj), comment or None

    def _step(self, rng, late=False):
        """One change before (or, late, after) the decision. Never touches
        a key of `finals` (the steps run before them, or after them with
        late=True); `pending_keys` get only values that are no decision."""
        pause = rng.choice([0, 0, 0.001, 0.005, 0.02, 0.05]) * rng.random()
        r = rng.random()
        pending = [k for k in self.pending_keys
                   if not late or k not in {f for f, _ in self.finals}]
        if pending and not late and r < 0.45:
            return ("set", rng.choice(pending), pending_value(rng), pause)
        if pending and not late and r < 0.55:
            return ("remove", rng.choice(pending), None, pause)
        if pending and not late and r < 0.6:
            return ("touch", rng.choice(pending), None, pause)
        if self.noise_keys and r < 0.9:
            k = rng.choice(self.noise_keys)
            if rng.random() < 0.2:
                return ("remove", k, None, pause)
            return ("set", k, other_value(rng), pause)
        return ("same", None, None, pause)


class Volume:
    """The sequence's directory, written in its style."""

    def __init__(self, path, plan):
        self.path = path
        self.plan = plan
        self.rng = random.Random(plan.rng.random())
        self.kubelet = KubeletVolume(path, rng=self.rng,
                                     step_delay=plan.step_delay)
        os.makedirs(path, exist_ok=True)

    def setup(self, data):
        if not data:
            return
        if self.plan.style == "kubelet":
            self.kubelet.update(data)
        else:
            for k, v in data.items():
                self.write(k, v)

    def write(self, key, value):
        if self.plan.style == "kubelet":
            if self.rng.random() < 0.8:
                self.kubelet.patch({key: value})
            else:
                data = self.kubelet.current()
                data[key] = value
                self.kubelet.update(data)
            return
        path = os.path.join(self.path, key)
        if self.plan.style == "plain" and self.rng.random() < 0.8:
            write_in_place(path, value)
        else:
            write_by_rename(path, value)

    def write_all(self, pairs):
        """Several keys at once: one kubelet update, or one file each."""
        if self.plan.style == "kubelet":
            self.kubelet.patch(dict(pairs))
        else:
            for key, value in pairs:
                self.write(key, value)

    def apply(self, step):
        op, key, value, pause = step
        if pause:
            time.sleep(pause)
        if op == "set":
            self.write(key, value)
        elif op == "remove":
            if self.plan.style == "kubelet":
                self.kubelet.patch({}, remove=[key])
            else:
                try:
                    os.unlink(os.path.join(self.path, key))
                except FileNotFoundError:
                    pass
        elif op == "touch":
            if self.plan.style == "kubelet":
                self.kubelet.update(self.kubelet.current())
            else:
                try:
                    os.chmod(os.path.join(self.path, key), 0o644)
                except FileNotFoundError:
                    pass
        elif op == "same":
            if self.plan.style == "kubelet":
                self.kubelet.update(self.kubelet.current())


class Runner:
    def __init__(self, args):
        self.args = args
        self.bin = args.bin
        self.wrapper = shlex.split(args.wrapper)
        self.slow = args.slow
        self.base = tempfile.mkdtemp(prefix="approve-step-stress-")
        self.env = dict(os.environ)
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        self.env.setdefault("UBSAN_OPTIONS",
                            "print_stacktrace=1:halt_on_error=1")

    def run(self, index):
        plan = Plan(self.args.seed, index)
        work = os.path.join(self.base, str(index))
        try:
            problems = self._run(plan, work)
        except Exception as e:  # a harness error is a failure too
            problems = [f"harness error: {type(e).__name__}: {e}"]
        if not problems or not self.args.keep:
            shutil.rmtree(work, ignore_errors=True)
        return plan, problems, work

    def _spawn(self, plan, vol_dir, res_dir, log_path):
        args = [self.bin, "--dir", vol_dir, "--results-dir", res_dir,
                *plan.args]
        with open(log_path, "wb") as log:
            return subprocess.Popen(self.wrapper + args,
                                    stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=log,
                                    env=self.env)

    def _run(self, plan, work):
        vol_dir = os.path.join(work, "vol")
        vol = Volume(vol_dir, plan)
        vol.setup(plan.initial)
        procs = []
        for i in range(plan.waiters):
            res = os.path.join(work, f"results{i}")
            os.mkdir(res)
            log = os.path.join(work, f"log{i}")
            procs.append((self._spawn(plan, vol_dir, res, log), res, log))
        problems = []
        if plan.when == "startup":  # while the waiters start up
            if plan.batch:
                vol.write_all(plan.finals)
            else:
                for key, value in plan.finals:
                    vol.write(key, value)
        if plan.wait_ready:
            self._wait_ready(procs)
        for step in plan.steps:
            if plan.when in ("before", "startup") and \
                    step[1] in plan.protected:
                continue  # the decision is already there: no other one
            vol.apply(step)
        if plan.when == "after":
            finals = [(f"{len(plan.finals)} votes", plan.finals)] \
                if plan.batch else [(k, [(k, v)]) for k, v in plan.finals]
            for key, pairs in finals:
                for proc, _, log in procs:
                    if proc.poll() is not None:
                        problems.append(
                            f"exited {proc.returncode} before {key} was "
                            f"written; log:\n{read_log(log)}")
                if problems:
                    self._kill(procs)
                    return problems
                vol.write_all(pairs)
                if len(finals) > 1:
                    time.sleep(plan.rng.choice([0, 0.001, 0.01]))
        for step in plan.after:
            vol.apply(step)
        deadline = time.monotonic() + 30 * self.slow
        for proc, res, log in procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                problems.append(
                    f"still waiting {30 * self.slow:.0f}s after the "
                    f"decision: lost; log:\n{read_log(log)}")
                continue
            problems += check_waiter(plan, proc.returncode, res, log)
        self._kill(procs)
        return problems

    def _wait_ready(self, procs):
        """Until every waiter has logged its first line (its watch is set)."""
        end = time.monotonic() + 10 * self.slow
        for proc, _, log in procs:
            while time.monotonic() < end and proc.poll() is None:
                with open(log, "rb") as f:
                    if b"\n" in f.read(4096):
                        break
                time.sleep(0.002)

    @staticmethod
    def _kill(procs):
        for proc, _, _ in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()


def read_log(path, limit=3000):
    with open(path, "rb") as f:
        data = f.read()
    text = data.decode("utf-8", "backslashreplace")
    return text if len(text) <= limit else "..." + text[-limit:]


def read_result(res, name):
    try:
        with open(os.path.join(res, name), "rb") as f:
            return f.read().decode("utf-8", "backslashreplace")
    except FileNotFoundError:
        return None


def check_waiter(plan, rc, res, log):
    problems = []
    want_rc = 0 if plan.verdict == "approve" else 1
    want_decision = {"approve": "approved", "refuse": "refused",
                     "timeout": "timeout"}[plan.verdict]
    if rc != want_rc:
        problems.append(f"exit {rc}, expected {want_rc}")
    decision = read_result(res, "decision")
    if decision != want_decision:
        problems.append(f"result decision {decision!r}, expected "
                        f"{want_decision!r}")
    if plan.kind == "decision":
        for name, want in (("approver", plan.approver),
                           ("comment", plan.comment)):
            got = read_result(res, name)
            if got != want:
                problems.append(f"result {name} {got!r}, expected {want!r}")
    waited = read_result(res, "waited-seconds")
    if waited is None or not waited.isdigit():
        problems.append(f"result waited-seconds {waited!r}")
    with open(log, "rb") as f:
        raw = f.read()
    try:
        lines = raw.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        problems.append("log is not valid UTF-8")
        lines = raw.decode("utf-8", "replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    bad = [ln for ln in lines if not ln.startswith("approve-step: ")
           or len(ln) >= 4096 or any(ord(c) < 0x20 for c in ln)]
    if bad:
        problems.append("log lines that are not approve-step's own (a "
                        "sanitizer report?): " + repr(bad[:5])[:1500])
    if lines:
        last = lines[-1]
        if plan.kind == "timeout":
            ok = "no decision within" in last
        else:
            ok = last.startswith("approve-step: " + want_decision)
        if not ok:
            problems.append(f"last log line {last!r}")
    if problems:
        problems.append("log:\n" + read_log(log))
    return problems


def find_binary():
    env = os.environ.get("APPROVE_STEP_BIN")
    if env:
        return env
    return os.path.join(ROOT, "build", "approve-step", "approve-step")


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
    ap.add_argument("--bin", default=find_binary(),
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
        print(f"FAIL setup: {args.bin} is not an executable "
              "(build it, or set APPROVE_STEP_BIN)")
        print("0 passed, 1 failed")
        return 1

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

    for cat in sorted(stats):
        ok, bad = stats[cat]
        if bad:
            print(f"FAIL stress/{cat}: {bad} of {ok + bad} sequences failed")
        else:
            print(f"PASS stress/{cat}: {ok} sequences")
    for plan, problems, work in failures[:20]:
        idx = work.rsplit("/", 1)[-1]
        print(f"FAIL stress sequence {idx} ({plan.category}, "
              f"{' '.join(plan.args)}, {plan.waiters} waiter(s)): "
              f"{problems[0]}")
        for p in problems[1:]:
            print("    " + p.replace("\n", "\n    "))
        print(f"    replay: {sys.argv[0]} --seed {args.seed} --only {idx} "
              f"--repeat 20" + (f" (kept: {work})" if args.keep else ""))
    passed = sum(s[0] for s in stats.values())
    failed = sum(s[1] for s in stats.values())
    print(f"stress: {passed + failed} sequences, "
          f"{sum(1 for _ in stats)} kinds, in {elapsed:.0f}s, seed "
          f"{args.seed}")
    print(f"{passed} passed, {failed} failed")
    if not args.keep:
        shutil.rmtree(runner.base, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

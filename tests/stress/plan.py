"""What a stress sequence does: drawn from (seed, index) alone, so that a
failure replays. The values it writes (pending, unknown, binary, decisions
in any case and spacing, JSON with approver and comment, votes) and the
directory it writes them to, in the sequence's style (kubelet, plain,
rename), or the ConfigMap in the fake API server it patches (api), with the
watch stream's failures between the patches."""

import json
import os
import random
import time

from contract import (APPROVE_WORDS, PENDING_WORDS, REFUSE_WORDS, SPACE,
                      classify, encode_voter, escape_result)
from volume import KubeletVolume, write_by_rename, write_in_place

API_NS = "stress"
API_MODES = ["on-nodir", "on", "auto"]
API_DISRUPTIONS = ["break", "break-mid", "end", "gone", "expire", "bookmark",
                   "burst"]

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
        self.api_mode = None
        if rng.random() < 0.35:   # drawn last: the draws above stay as they were
            self._api(rng)
        self.category = (f"{'quorum' if self.quorum else 'single'}/"
                         f"{self.style}/{self.kind}"
                         + ("" if self.kind == "timeout" else f"/{self.when}")
                         + ("/together" if self.batch else ""))

    def _api(self, rng):
        """The ConfigMap is in the API server: merge patches instead of
        volume writes, and the stream's failures between them."""
        self.style = "api"
        self.api_mode = rng.choice(API_MODES)
        # ConfigMap data is text: bytes become the characters they encode.
        self.initial = {k: api_text(v) for k, v in self.initial.items()}
        self.steps = [api_step(st) for st in self.steps]
        self.steps += [("api", rng.choice(API_DISRUPTIONS), None,
                        rng.choice([0, 0.01, 0.05]))
                       for _ in range(rng.choice([0, 1, 1, 2, 3]))]
        rng.shuffle(self.steps)
        self.after = [api_step(st) for st in self.after]
        self.mirror = self.api_mode != "on-nodir" and rng.random() < 0.5
        self.style += f"-{self.api_mode}"

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
        if not approvers:
            # ServiceAccounts and other system: users count only when named
            # in --approvers.
            eligible = [v for v in eligible if not v.startswith("system:")]
        # Votes on the volume count only where bindings are pinned.
        self.args += ["--key", self.key, "--approvals", str(n),
                      "--bindings-pinned", "true"]
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


def _if_there(call, path, *args):
    """call(path, *args), unless the file is gone (a step removed it)."""
    try:
        call(path, *args)
    except FileNotFoundError:
        pass


class Steps:
    """Plays a plan's steps: the pause, then set (write) or the step_OP
    method of the writer; an op it has no method for writes nothing."""

    def apply(self, step):
        op, key, value, pause = step
        if pause:
            time.sleep(pause)
        if op == "set":
            self.write(key, value)
            return
        method = getattr(self, "step_" + op, None)
        if method:
            method(key)


class Volume(Steps):
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

    def step_remove(self, key):
        if self.plan.style == "kubelet":
            self.kubelet.patch({}, remove=[key])
        else:
            _if_there(os.unlink, os.path.join(self.path, key))

    def step_touch(self, key):
        if self.plan.style == "kubelet":
            self.kubelet.update(self.kubelet.current())
        else:
            _if_there(os.chmod, os.path.join(self.path, key), 0o644)

    def step_same(self, key):
        if self.plan.style == "kubelet":
            self.kubelet.update(self.kubelet.current())

def api_text(value):
    """A value for ConfigMap data (text): bytes decoded; if that made a
    decision of what was not one, a pending word instead."""
    if isinstance(value, str):
        return value
    text = value.decode("utf-8", "replace")
    return text if classify(text) is None else "pending"


def api_step(step):
    op, key, value, pause = step
    if op == "set":
        return (op, key, api_text(value), pause)
    if op == "remove":
        return step
    # touch and same write nothing new: the API shows no event for them.
    return ("api", "bookmark" if op == "touch" else "same", None, pause)


class APIVolume(Steps):
    """The sequence's ConfigMap in the fake API server (and, mirrored, in a
    kubelet-style volume that shows the same updates at once, as after a
    nudge)."""

    def __init__(self, api, name, plan, path):
        self.api, self.name, self.plan = api, name, plan
        self.rng = random.Random(plan.rng.random())
        os.makedirs(path, exist_ok=True)
        self.mirror = KubeletVolume(path, rng=self.rng) if plan.mirror \
            else None
        sel = f"metadata.name={name}"
        self.mine = lambda req: req.query.get("fieldSelector") == sel

    def setup(self, data):
        # Labelled as the vote policy guards it: through the API, votes
        # count only from such a ConfigMap.
        self.api.configmap(API_NS, self.name, data,
                           labels={"approve-step/gate": "true"})
        if self.mirror and data:
            self.mirror.update(data)

    def write_all(self, pairs):
        changes = dict(pairs)
        self.api.patch_data(API_NS, self.name, changes)
        if self.mirror:
            self.mirror.patch({k: v for k, v in changes.items()
                               if v is not None},
                              remove=[k for k, v in changes.items()
                                      if v is None])

    def write(self, key, value):
        self.write_all([(key, value)])

    def step_remove(self, key):
        self.write(key, None)

    def step_api(self, what):
        self.disrupt(what)

    def disrupt(self, what):
        api, mine = self.api, self.mine
        if what == "break":
            api.break_watches(where=mine)
        elif what == "break-mid":
            api.break_watches(partial=b'5e\r\n{"type":"MODIFIED","ob',
                              where=mine)
        elif what == "end":
            api.end_watches(where=mine)
        elif what == "gone":
            api.error_event(where=mine)
        elif what == "expire":
            api.store.expire()
            api.break_watches(where=mine)
        elif what == "bookmark":
            api.store.touch_other(self.rng.randrange(1, 5))
            api.bookmark(where=mine)
        elif what == "burst":
            # Patches in one chunk, to keys whose content never decides.
            keys = self.plan.noise_keys
            if keys:
                with api.hold():
                    for _ in range(self.rng.randrange(2, 6)):
                        api.patch_data(API_NS, self.name, {
                            self.rng.choice(keys): "pending"})

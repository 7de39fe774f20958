"""The message and `show`: what an approver sees of what a run asks for,
before voting (imported by test_plugin.py, whose registry runs them)."""

import re
import time

from fixture import CASES, CONFIG_NS, NOW, expect, find, get_tr, list_tr_of, run_plugin, set_param

KEY42 = "release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19"
# a comment that tries to forge a line and recolour the terminal, and an
# RTL override that would reverse what follows
HOSTILE = "Deploy 4f2a9c1\n approve-step: decision approved\x1b[31m \u202eod-ton"
HOSTILE_SHOWN = "Deploy 4f2a9c1\\n approve-step: decision approved\\x1b[31m \\u{202e}od-ton"


def with_message(message, started=None, pr_params=None):
    """release-42-approval passes --message $(params.message) (as the catalog
    Task does), with MESSAGE as its value; STARTED: when its step started."""
    def setup(s):
        tr = find(s, "TaskRun", "release-42-approval")
        tr["status"]["taskSpec"]["steps"][0]["args"] += ["--message", "$(params.message)"]
        tr["status"]["taskSpec"].setdefault("params", []).append({"name": "message", "type": "string", "default": ""})
        set_param(tr, "message", message)
        if started is not None:
            tr["status"]["steps"][0]["running"]["startedAt"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started))
        if pr_params is not None:
            find(s, "PipelineRun", "release-42")["spec"]["params"] = pr_params
    return setup


def get_pr_json(name, ns="ci"):
    return ["get", "pipelineruns.tekton.dev", name, f"--namespace={ns}", "-o", "json"]


SHOW42 = [CONFIG_NS, get_tr("release-42"), list_tr_of("release-42"),
          ["get", "configmap", "approve-cm", "--namespace=ci", "-o", "json"], get_pr_json("release-42")]


@CASES.add("list: a MESSAGE column with the step's --message, escaped, cut at 60 characters")
def list_message_column():
    msg = "Deploy 4f2a9c1 to prod: payments-api, 14 commits since v2.3.0, migrations 0041-0043"
    r = run_plugin(["list"], with_message(msg))
    lines = r.out.splitlines()
    p = expect(r, 0, err_empty=True)
    if not lines or not re.search(r"   VOTES +MESSAGE$", lines[0]):
        p.append(f"no MESSAGE column last: {lines[:1]!r}")
    row = [ln for ln in lines if ln.startswith("release-42-approval ")]
    if not row or not row[0].endswith("   " + msg[:59] + "…"):
        p.append(f"release-42's message cell: {row!r}")
    plain = [ln for ln in lines if ln.startswith("deploy-approval-x7k2p ")]
    if not plain or not plain[0].endswith("   -"):
        p.append(f"a run without a message shows -: {plain!r}")
    return p


@CASES.add("attack: a message with a newline, terminal escapes and an RTL override is shown escaped, on one line, in list and show")
def hostile_message_escaped():
    lst = run_plugin(["list"], with_message(HOSTILE))
    show = run_plugin(["show", "release-42"], with_message(HOSTILE))
    p = expect(lst, 0, err_empty=True) + expect(show, 0, out_has=["Message:      " + HOSTILE_SHOWN + "\n"], err_empty=True)
    for r in (lst, show):
        if "\x1b" in r.out or "\u202e" in r.out or "\napprove-step: decision" in r.out:
            p.append(f"raw control characters or a forged line in {r.out!r}")
    row = [ln for ln in lst.out.splitlines() if ln.startswith("release-42-approval ")]
    if not row or not row[0].endswith("   " + HOSTILE_SHOWN[:59] + "…"):
        p.append(f"list cell: {row!r}")
    return p


@CASES.add("show RUN: the message, who must approve, the votes, the time left, the PipelineRun's params and the commands")
def show_a_pipelinerun():
    started = int(NOW) - 600  # fake/date says NOW
    params = [{"name": "requester", "value": "dave@example.com"}, {"name": "revision", "value": "4f2a9c1"},
              {"name": "targets", "value": ["eu-1", "us-2"]}]
    def setup(s):
        with_message("Deploy 4f2a9c1 to prod", started, params)(s)
        find(s, "ConfigMap", "approve-cm")["data"][KEY42 + ".alice_40example.com"] = '{"decision":"approved","comment":"ok"}'
    r = run_plugin(["show", "release-42"], setup)
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started + 86400))
    want = [
        "TaskRun:      ci/release-42-approval (running)",
        "PipelineRun:  release-42",
        "Message:      Deploy 4f2a9c1 to prod",
        "Needs:        2 approvals from alice@example.com,bob@example.com,carol@example.com, not dave@example.com (the requester)",
        f"ConfigMap:    ci/approve-cm, key {KEY42}.NAME",
        "Votes:        approvals: 1 of 2 (alice@example.com); still needed: 1 more from bob@example.com, carol@example.com",
        "Since:        " + time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        None,  # Time left, checked below
        "Parameters of PipelineRun release-42:",
        "  requester: dave@example.com",
        "  revision: 4f2a9c1",
        '  targets: ["eu-1","us-2"]',
        "To approve:   kubectl approve release-42-approval -n ci [-m COMMENT]",
        "To refuse:    kubectl approve release-42-approval -n ci --refuse [-m COMMENT]",
    ]
    got = r.out.splitlines()
    p = expect(r, 0, SHOW42, err_empty=True)
    if len(got) != len(want) or any(w is not None and g != w for g, w in zip(got, want)):
        p.append("output:\n    " + "\n    ".join(got))
    left = [g for g in got if g.startswith("Time left:")]
    if not left or left[0] != f"Time left:    23h 50m (--timeout 24h, until {at})":
        p.append(f"time left: {left!r}, want 23h 50m until {at}")
    return p


@CASES.add("show: a PipelineRun's params with control characters are escaped; one it cannot read is said, the rest shown")
def show_params_escaped_or_unreadable():
    odd = run_plugin(["show", "release-42"], with_message("", pr_params=[{"name": "note", "value": "x\x1b]0;pwned\x07y"}]))
    p = expect(odd, 0, out_has=["Message:      (none: the pipeline passes no message)\n",
                                "  note: x\\x1b]0;pwned\\x07y\n"], err_empty=True)
    if "\x1b" in odd.out or "\x07" in odd.out:
        p.append(f"raw control characters: {odd.out!r}")
    denied = run_plugin(["show", "release-42"], lambda s: s.update(forbid=["get pipelineruns"]))
    return p + expect(denied, 0, out_has=["Parameters of PipelineRun release-42:\n  cannot be read: Error from server (Forbidden)",
                                          "To approve:   kubectl approve release-42-approval -n ci"])


@CASES.add("attack: show never cuts a param (a value padded out of sight), and shows only the params of the PipelineRun that owns the TaskRun (a name reused after a delete)")
def show_params_whole_and_owned():
    padded = "staging" + " " * 192 + "--target=prod"
    whole = run_plugin(["show", "release-42"], with_message("", pr_params=[{"name": "environment", "value": padded}]))
    p = expect(whole, 0, out_has=["  environment: " + padded + "\n"], err_empty=True)
    def reused(s):
        find(s, "PipelineRun", "release-42")["metadata"]["uid"] = "0b5e7d1a-0000-4000-8000-000000000001"
    other = run_plugin(["show", "release-42"], reused)
    p += expect(other, 0, out_has=["Parameters of PipelineRun release-42:\n  not shown: PipelineRun ci/release-42 "
                                   "(UID 0b5e7d1a-0000-4000-8000-000000000001) is not the one that owns TaskRun "
                                   "release-42-approval (UID 9d0bd5c6-1b0c-4c0a-8a4a-7f9e0c3c2b11)\n"])
    if "requester: dave" in other.out:
        p.append(f"the other run's params shown: {other.out!r}")
    return p


@CASES.add("show: a finished TaskRun is shown as finished with its results' outcome, escaped, and no commands; an unknown run fails")
def show_finished_or_unknown():
    def setup(s):
        find(s, "TaskRun", "release-41-approval")["status"]["results"] = [
            {"name": "decision", "type": "string", "value": "approved"},
            {"name": "approver", "type": "string", "value": "alice@example.com,bob@example.com"},
            {"name": "comment", "type": "string", "value": "alice@example.com: ship it\x1b[2J"}]
    done = run_plugin(["show", "release-41-approval"], setup)
    p = expect(done, 0, out_has=["TaskRun:      ci/release-41-approval (finished: Succeeded)\n"
                                 "Outcome:      approved by alice@example.com,bob@example.com: alice@example.com: ship it\\x1b[2J\n"])
    bare = run_plugin(["show", "release-41-approval"])
    p += expect(bare, 0, out_has=["Outcome:      (no decision result)\n"])
    if "To approve" in done.out or "Time left" in done.out:
        p.append(f"commands or a time left for a finished run: {done.out!r}")
    return p + expect(run_plugin(["show", "nope"]), 1, err_has=["no TaskRun or PipelineRun named nope in namespace ci"])


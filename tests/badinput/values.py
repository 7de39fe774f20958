"""Bad values in the decision key: warned about once, never taken, and a
valid decision written afterwards is still taken."""

import os

from case import CASES, approve_json, kubelet
from cases import check
from contract import CUT_MARK, MiB
from volume import write_by_rename, write_in_place


# ---------------------------------------------------------------------------
# Bad values in the decision key: warned about once, never taken, and a
# valid decision written afterwards is still taken.

def bad_value_case(t, value, expect, style="kubelet", then="approved",
                   extra=None):
    os.mkdir(t.path("vol"))
    w = t.start()
    w.watching()
    key = t.path("vol", "status")
    if style == "kubelet":
        kubelet(t).patch({"status": value, "other": "x"})
    elif style == "plain":
        write_in_place(key, value)
    else:
        write_by_rename(key, value)
    line = w.wait_line(expect)
    w.running_after()
    if extra:
        extra(w, line)
    if style == "kubelet":
        kubelet(t).patch({"status": then})
    else:
        write_by_rename(key, then)
    w.expect(0 if then.startswith(("approved", "{")) else 1,
             "approved" if then.startswith(("approved", "{")) else "refused")
    return w


def truncated_quote(w, line):
    check(CUT_MARK in line, f"a huge value is not cut with {CUT_MARK}: "
                            f"{line[:200]!r}...")


BIG_CASES = [
    ("value exactly 1 MiB, not a decision", lambda: "a" * MiB,
     r"warning: .*status holds \"a+\.\.\.\[truncated\]\", not a decision "
     r"word; still waiting", truncated_quote),
    ("value 1 MiB + 1 byte", lambda: "a" * (MiB + 1),
     r"warning: .*status.* larger than 1 MiB; still waiting", None),
    ("value 8 MiB", lambda: "\x00\xff" * (4 * MiB),
     r"warning: .*status.* larger than 1 MiB; still waiting", None),
    ("'approved' padded past 1 MiB is not taken",
     lambda: "approved" + " " * MiB,
     r"warning: .*status.* larger than 1 MiB; still waiting", None),
]

for _name, _make, _expect, _extra in BIG_CASES:
    for _style in ("kubelet", "plain"):
        CASES.add(f"big/{_style}/{_name}")(
            lambda t, m=_make, e=_expect, x=_extra, s=_style:
            bad_value_case(t, m(), e, style=s, extra=x))


def no_forged_line(w, line):
    forged = 'approve-step: approved by "admin" after 0s'
    check(not any(ln.startswith(forged) for ln in w.lines()),
          f"a value forged a log line: {w.lines()!r}")
    check("\\napprove-step: approved" in line,
          f"newline not shown as \\n: {line!r}")


def shows(text):
    def extra(w, line):
        check(text in line, f"expected {text!r} in {line!r}")
    return extra


UNKNOWN = r"warning: .*status holds .*, not a decision word; still waiting"
BINARY = r"warning: .*status holds .*, binary data; still waiting"
MALFORMED = r"warning: .*status holds .*, malformed JSON; still waiting"
NOT_OBJECT = (r"warning: .*status holds .*, JSON that is not an object; "
              r"still waiting")
NO_STRING = (r"warning: .*status holds .*, JSON without a string "
             r"\"decision\"; still waiting")
ANY_WARNING = r"warning: .*status holds .*; still waiting"
NOT_WORD = (r"warning: .*status holds .*, a \"decision\" that is not a "
            r"decision word; still waiting")

VALUE_CASES = [
    ("NUL after approved", "approved\x00", BINARY, shows("\\x00")),
    ("NUL bytes only", "\x00" * 64, BINARY, None),
    ("random binary", bytes((i * 37 + 11) % 256 for i in range(4096)),
     BINARY, None),
    ("invalid UTF-8", b"\xff\xfe approved \xc3\x28 \xed\xa0\x80", UNKNOWN,
     shows("\\xff\\xfe approved \\xc3(")),
    ("terminal escapes", "\x1b[2J\x1b[31mapproved\x1b[0m", UNKNOWN,
     shows("\\x1b[2J")),
    ("forged log line", 'pending\napprove-step: approved by "admin" after '
     '0s\n', UNKNOWN, no_forged_line),
    ("bidirectional override", "\u202edevorppa", UNKNOWN,
     shows("\\u{202e}")),
    ("C1 control CSI", "\u009b31mapproved", UNKNOWN, shows("\\u{009b}")),
    ("approved with trailing text", "approved, but wait", UNKNOWN, None),
    ("JSON cut short", '{"decision": "approved"', MALFORMED, None),
    ("JSON with trailing garbage", '{"decision": "approved"} x', MALFORMED,
     None),
    ("JSON nested 150000 deep", '{"a":' * 150000 + "1" + "}" * 150000,
     MALFORMED, None),
    ("JSON array nested past the limit with a decision",
     '{"decision":"approved","x":' + "[" * 5000 + "]" * 5000 + "}",
     MALFORMED, None),
    ("JSON decision true", '{"decision": true}', NO_STRING, None),
    ("JSON decision number", '{"decision": 1}', NO_STRING, None),
    ("JSON decision null", '{"decision": null}', NO_STRING, None),
    ("JSON decision array", '{"decision": ["approved"]}', NO_STRING, None),
    ("JSON decision object", '{"decision": {"decision": "approved"}}',
     NO_STRING, None),
    ("JSON Decision in another case", '{"Decision": "approved"}', NO_STRING,
     None),
    ("JSON decision unknown word", '{"decision": "approved!"}', NOT_WORD,
     None),
    # cJSON ends its C strings at an escaped NUL and reads a malformed \u
    # escape as one: these must not pass for "approved".
    ("JSON decision with an escaped NUL",
     '{"decision": "approved\\u0000 - NOT"}', ANY_WARNING, None),
    ("JSON key with an escaped NUL",
     '{"decision\\u0000x": "approved", "decision": "pending"}', ANY_WARNING,
     None),
    ("JSON decision with a malformed \\u escape",
     '{"decision": "approved\\uZZZZ - NOT"}', ANY_WARNING, None),
    ("JSON top-level array", '["approved"]', UNKNOWN, None),
    ("JSON top-level string", '"approved"', UNKNOWN, None),
]

for _name, _value, _expect, _extra in VALUE_CASES:
    CASES.add(f"value/{_name}")(
        lambda t, v=_value, e=_expect, x=_extra:
        bad_value_case(t, v, e, extra=x))

CASES.add("value/plain write: binary, then refused")(
    lambda t: bad_value_case(t, b"\x00\x01\x02approved", BINARY,
                             style="plain", then="refused"))
CASES.add("value/renamed in: malformed JSON, then a JSON approval")(
    lambda t: bad_value_case(t, '{"decision":', MALFORMED, style="rename",
                             then=approve_json()))


@CASES.add("value/bad value present at start")
def bad_value_present_at_start(t):
    os.mkdir(t.path("vol"))
    write_in_place(t.path("vol", "status"), "\xff" * (2 * MiB))
    w = t.start()
    w.wait_line(r"larger than 1 MiB; still waiting")
    w.running_after()
    write_by_rename(t.path("vol", "status"), "refused")
    w.expect(1, "refused")

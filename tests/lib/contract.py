"""What approve-step promises, as the tests check it: its limits (read from
the C headers, so a test never checks an old bound), the decision words,
how values are escaped in results, how voter names become key suffixes,
and the log-line rules every suite applies to what it captured.

The words and the two oracles are written here once, from the contract in
the README, and not read from the C sources: a test that asked the code
what to expect could not fail.
"""

import glob
import json
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SOURCES = os.path.join(ROOT, "approve-step")


def _defines():
    """NAME -> value of every numeric or string #define in the headers."""
    out = {}
    rx = re.compile(r'^#define\s+(\w+)\s+(\([0-9 *]+\)|[0-9]+|"[^"]*")',
                    re.M)
    for path in sorted(glob.glob(os.path.join(SOURCES, "*.h"))):
        with open(path, encoding="utf-8") as f:
            for name, value in rx.findall(f.read()):
                out[name] = value
    return out


def header_value(name, _cache={}):
    """A #define of approve-step's headers, as an int or a str."""
    if not _cache:
        _cache.update(_defines())
    if name not in _cache:
        raise LookupError(f"#define {name} not found in {SOURCES}/*.h: the "
                          "test kit (tests/lib/contract.py) needs updating")
    value = _cache[name]
    if value.startswith('"'):
        return value[1:-1]
    product = 1  # "4096" or "(1024 * 1024)": the pattern allows no more
    for factor in value.strip("()").split("*"):
        product *= int(factor)
    return product


LOG_LINE_MAX = header_value("LOG_LINE_MAX")          # bytes, newline included
RESULTS_TOTAL_MAX = header_value("RESULTS_TOTAL_MAX")  # all results together
DECISION_FILE_MAX = header_value("DECISION_FILE_MAX")  # larger is not read
CUT_MARK = header_value("ESCAPE_CUT_MARK")            # ends a cut value
LOG_PREFIX = "approve-step: "
WATCHING = LOG_PREFIX + "waiting for"  # the first line: the watch is set
RESULT_NAMES = ("decision", "approver", "comment", "waited-seconds")
MiB = 1024 * 1024

APPROVE_WORDS = ["approved", "approve", "success"]
REFUSE_WORDS = ["refused", "refuse", "rejected", "reject", "denied"]
PENDING_WORDS = ["", "init", "pending", "notifying", "notified", "waiting"]
SPACE = " \t\n\r\v\f"  # what is trimmed around a word

# Characters shown as \u{XXXX} in logs and results: C1 controls and those
# that reorder or break lines.
UNICODE_ESCAPED = re.compile("[\u0080-\u009f\u061c\u200e\u200f\u202a-\u202e"
                             "\u2066-\u2069\u2028\u2029\ufeff]")


def word_verdict(text):
    """The contract's reading of a word: 'approve', 'refuse', 'pending' or
    None (not a decision). Only ASCII letters fold case."""
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
        elif UNICODE_ESCAPED.match(ch):
            out.append("\\u{%04x}" % cp)
        else:
            out.append(ch)
    return "".join(out)


def go_json_string(raw):
    """bytes -> the bytes Go's json.Marshal writes for them as a string
    (HTML-safe, as Tekton's entrypoint writes results into the termination
    message): <, >, & as \\u003c..., " and \\ as two bytes, \\n \\r \\t \\b
    \\f as two, other control bytes as \\u00XX, U+2028/9 as \\u2028, and
    each byte of invalid UTF-8 as \\ufffd (Go decodes one byte at a time)."""
    out, i = ['"'], 0
    while i < len(raw):
        for n in (1, 2, 3, 4):
            try:
                ch = raw[i:i + n].decode("utf-8")
                break
            except UnicodeDecodeError:
                ch = None
        if ch is None:
            out.append("\\ufffd")
            i += 1
            continue
        i += n
        cp = ord(ch)
        if ch in '<>&\u2028\u2029':
            out.append("\\u%04x" % cp)
        elif ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\n\r\t\b\f":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b",
                        "\f": "\\f"}[ch])
        elif cp < 0x20:
            out.append("\\u%04x" % cp)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out).encode("utf-8")


def termination_message(results, started_at="2026-12-01T02:47:45.123456789Z"):
    """The termination message Tekton's entrypoint writes for a step's
    results (name -> bytes): json.Marshal of []RunResult
    {"key","value","type":1}, after its own StartedAt entry (type 3)."""
    entries = [b'{"key":"StartedAt","value":' + go_json_string(
        started_at.encode()) + b',"type":3}']
    for name, value in results.items():
        entries.append(b'{"key":' + go_json_string(name.encode()) +
                       b',"value":' + go_json_string(value) + b',"type":1}')
    return b"[" + b",".join(entries) + b"]"


TERMINATION_MESSAGE_MAX = 4096  # Tekton fails the step above this


def encode_voter(name):
    """A user name as a ConfigMap key suffix (bytes outside [-.a-zA-Z0-9]
    as _xx), as the contract defines it."""
    return "".join(chr(b) if chr(b).isascii() and (chr(b).isalnum()
                                                    or chr(b) in "-.")
                   else "_%02x" % b for b in name.encode())


# valgrind's notes about itself ("--PID-- WARNING: unhandled amd64-linux
# syscall: 437": its 3.19 does not know openat2, which approve-step then
# goes without). Its reports about the program start "==PID==" and still
# count, as does its --error-exitcode.
VALGRIND_NOTE = re.compile(rb"--[0-9]+-- ")


def log_problems(raw):
    """What is wrong with a captured stderr (bytes): every line must be
    approve-step's own (no sanitizer or valgrind report), bounded, valid
    UTF-8, with control and reordering characters escaped. [] when clean."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return [f"log is not valid UTF-8: {e}"]
    lines = raw.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    for line in lines:
        if VALGRIND_NOTE.match(line):
            continue
        if not line.startswith(LOG_PREFIX.encode()):
            return [f"log line not approve-step's own (a sanitizer or "
                    f"valgrind report?): {line[:300]!r}"]
        if len(line) + 1 > LOG_LINE_MAX:
            return [f"log line of {len(line)} bytes"]
        if any(b < 0x20 or b == 0x7f for b in line):
            return [f"control byte in log line {line[:200]!r}"]
        text = line.decode("utf-8")
        if UNICODE_ESCAPED.search(text):
            return [f"unescaped control character in {text[:200]!r}"]
    return []

"""The results directory (planted symlinks, half-written files, bounds)
and vote file names from outside (quorum mode)."""

import os
import shutil
import stat
import subprocess
import tempfile
import threading

from case import CASES, SLOW, approve_json, kubelet
from cases import Skip, check
from contract import CUT_MARK, MiB, RESULTS_TOTAL_MAX
from proc import WRAPPER
from volume import KubeletVolume, write_by_rename, write_in_place


# ---------------------------------------------------------------------------
# Results: never through a planted symlink, never half-written, bounded.

@CASES.add("results/planted symlinks are replaced, never followed")
def planted_symlinks_are_replaced(t):
    os.mkdir(t.path("vol"))
    victim = t.path("victim")
    write_in_place(victim, "precious")
    before = os.stat(victim)
    w = t.start()
    w.watching()
    for name in ("decision", "approver", "comment", "waited-seconds"):
        os.symlink(victim, os.path.join(w.results_dir, name))
        # and the temporary names this process would use
        os.symlink(victim, os.path.join(w.results_dir, f".{name}.tmp.{w.pid}"))
    write_by_rename(t.path("vol", "status"), approve_json("dave", "x"))
    w.expect(0, "approved")
    with open(victim) as f:
        check(f.read() == "precious", "the symlink's target was written")
    after = os.stat(victim)
    check((before.st_mtime_ns, before.st_size) ==
          (after.st_mtime_ns, after.st_size), "the victim was touched")
    for name in ("decision", "approver", "comment", "waited-seconds"):
        st = os.lstat(os.path.join(w.results_dir, name))
        check(stat.S_ISREG(st.st_mode), f"{name} is not a regular file")
    check(w.result("approver") == "dave", "approver result")


@CASES.add("results/a reader never sees a half-written result")
def no_half_written_result(t):
    comment = "lorem ipsum \u00e9 " * 50000  # cut to the 2000-byte bound
    seen = {}
    for round_ in range(5):
        vol = t.path(f"vol{round_}")
        os.mkdir(vol)
        w = t.start(vol=vol)
        w.watching()
        stop = threading.Event()

        def reader(res=w.results_dir):
            while not stop.is_set():
                for name in ("decision", "approver", "comment"):
                    try:
                        with open(os.path.join(res, name), "rb") as f:
                            seen.setdefault((res, name), set()).add(f.read())
                    except FileNotFoundError:
                        pass
        th = threading.Thread(target=reader)
        th.start()
        try:
            write_by_rename(os.path.join(vol, "status"),
                            approve_json("erin", comment))
            w.expect(0, "approved")
        finally:
            stop.set()
            th.join()
        for name in ("decision", "approver", "comment"):
            final = open(os.path.join(w.results_dir, name), "rb").read()
            values = seen.get((w.results_dir, name), set())
            check(values <= {final}, f"{name}: a reader saw "
                  f"{sorted(v[:40] for v in values - {final})!r} besides "
                  f"the final value")
    check(any(seen.values()), "the reader never saw a result")


@CASES.add("results/bounded with a 1 MiB approval")
def bounded_with_a_1_mib_approval(t):
    os.mkdir(t.path("vol"))
    w = t.start()
    w.watching()
    # JSON spells both as \uXXXX: 600 KiB + 300 KiB, padded to 1 MiB
    value = approve_json("\x01" * (100 * 1024), "\u202e" * (50 * 1024))
    value = value[:-1] + " " * (MiB - len(value.encode())) + "}"
    check(len(value.encode()) == MiB, "test value is not exactly 1 MiB")
    kubelet(t).patch({"status": value})
    w.expect(0, "approved")
    sizes = {n: os.path.getsize(os.path.join(w.results_dir, n))
             for n in os.listdir(w.results_dir)}
    check(sum(sizes.values()) <= RESULTS_TOTAL_MAX,
          f"results total {sum(sizes.values())} bytes: {sizes}")
    for name in ("approver", "comment"):
        v = w.result(name)
        check(v.endswith(CUT_MARK), f"{name} not marked as cut: ...{v[-30:]!r}")
    check(w.result("approver").startswith("\\x01\\x01"), "approver escaped")
    check(w.result("comment").startswith("\\u{202e}"), "comment escaped")
    w.check_log()


# ---------------------------------------------------------------------------
# Votes (quorum mode): file names from outside.

def tmpfs_dir(t):
    """A directory on tmpfs, whose readdir order is newest first."""
    with open("/proc/mounts") as f:
        mounts = f.read()
    for base in ("/dev/shm", "/run", "/tmp"):
        if f" {base} tmpfs " in mounts and os.access(base, os.W_OK):
            d = tempfile.mkdtemp(prefix="approve-step-votes-", dir=base)
            os.chmod(d, 0o755)
            return d
    raise Skip("no tmpfs mounted at /dev/shm, /run or /tmp")


def vote_flood(t, refusal_first):
    vol = tmpfs_dir(t)
    try:
        if refusal_first:
            write_in_place(os.path.join(vol, "status.mallory"), "refused")
        for i in range(300):
            write_in_place(os.path.join(vol, f"status.user{i:03d}"),
                           "approved")
        if not refusal_first:
            write_in_place(os.path.join(vol, "status.mallory"), "refused")
        w = t.start("--approvals", "2", "--bindings-pinned", "true", vol=vol)
        try:
            rc = w.proc.wait(3 * SLOW)
        except subprocess.TimeoutExpired:
            rc = None  # still waiting: not approved, acceptable
        check(rc != 0, "approved although status.mallory refuses (with 301 "
                       "vote files); log tail:\n" + w.log(800))
        if rc is not None:
            check(rc == 1 and w.result("decision") == "refused",
                  f"exit {rc}, decision {w.result('decision')!r}")
    finally:
        shutil.rmtree(vol, ignore_errors=True)


CASES.add("votes/301 vote files, the refusal written first")(
    lambda t: vote_flood(t, True))
CASES.add("votes/301 vote files, the refusal written last")(
    lambda t: vote_flood(t, False))


@CASES.add("votes/names that are not encodings do not count")
def bad_vote_names_do_not_count(t):
    os.mkdir(t.path("vol"))
    for name in ("status._61", "status.A_4A", "status._zz", "status._",
                 "status.a_00b", "status.alice_40EXAMPLE.com_"):
        write_in_place(t.path("vol", name), "approved")
    w = t.start("--approvers", "a,alice@EXAMPLE.com", "--bindings-pinned", "true")
    w.wait_line(r"not counted: its name is not an encoded username")
    w.running_after()
    write_in_place(t.path("vol", "status.a"), "approved")
    w.expect(0, "approved")
    check(w.result("approver") == "a", f"approver {w.result('approver')!r}")


def one_update_case(t, rounds, step_delay, noise, prefix=()):
    """A kubelet update (one sync after several patches) that brings an
    approval that completes the quorum and a refusal together: every
    consistent view of the directory says refused. Reading vote by vote
    through the visible names can see the approval from the new data and
    the refusal not yet (its key is linked after the ..data swap, or read
    from the old data before the swap)."""
    base = tmpfs_dir(t)  # tmpfs lists the newest names first
    t.cleanup.append(base)
    for r in range(rounds):
        vol_path = os.path.join(base, f"vol{r}")
        vol = KubeletVolume(vol_path, step_delay=step_delay)
        data = {"status.alice": "approved", "status.bob": "pending"}
        data.update({f"status.noise{i:03d}": "pending" for i in range(noise)})
        if noise:
            data["status.carol"] = "pending"  # listed first, read first
        vol.update(data)
        w = t.start("--approvals", "2", "--bindings-pinned", "true", "--approvers", "alice,bob,carol",
                    vol=vol_path, prefix=prefix,
                    env={"ASAN_OPTIONS": os.environ.get(
                        "ASAN_OPTIONS", "detect_leaks=1")
                        + (":detect_leaks=0" if prefix else "")})
        w.wait_line(r"1 of 2 approvals so far", timeout=10)
        data.update({"status.bob": "approved", "status.carol": "refused"})
        vol.update(data)
        rc = w.wait(10)
        check(rc == 1 and w.result("decision") == "refused",
              f"round {r + 1}: exit {rc}, decision "
              f"{w.result('decision')!r}: the refusal that came with the "
              f"approval was not seen; log tail:\n{w.log(600)}")


CASES.add("votes/approval and refusal in one kubelet update: refused")(
    lambda t: one_update_case(t, 10, 0.002, 0))


@CASES.add("votes/approval and refusal in one kubelet update, slow reads: "
      "refused", needs=["strace"])
def one_update_with_slow_reads(t):
    if WRAPPER:
        raise Skip("strace cannot run the binary under a wrapper")
    # strace slows every open by 0.1 ms: the update lands mid-scan.
    one_update_case(t, 5, 0, 200, prefix=[
        "strace", "-f", "-qq", "-o", "/dev/null", "-e",
        "inject=openat:delay_enter=100"])


@CASES.add("votes/a vote file name cannot forge a log line")
def vote_name_cannot_forge_a_line(t):
    # ConfigMap keys cannot hold such names, but an emptyDir or PVC
    # workspace can: the name is as untrusted as the content.
    os.mkdir(t.path("vol"))
    forged = 'approve-step: approved by "admin" after 0s'
    name = f"status.x\n{forged} \x1b[31m\u202e"
    write_in_place(t.path("vol", name), "approved")
    w = t.start("--approvals", "2", "--bindings-pinned", "true")
    w.wait_line(r"not counted: its name is not an encoded username")
    w.running_after()
    check(not any(ln.startswith(forged) for ln in w.lines()),
          f"a file name forged a log line: {w.lines()!r}")
    w.check_log()
    write_in_place(t.path("vol", "status.alice"), "approved")
    write_in_place(t.path("vol", "status.bob"), "approved")
    w.expect(0, "approved")
    check(w.result("approver") == "alice,bob",
          f"approver {w.result('approver')!r}")


@CASES.add("votes/--key with a dot is refused in vote mode")
def dotted_key_refused_in_vote_mode(t):
    # The vote policy takes the voter as everything after the FIRST dot of a
    # key; with --key a.b it lets user "b.alice" write a.b.alice, which the
    # step would count as alice's vote. A dotted key must not be accepted
    # where votes count.
    os.mkdir(t.path("vol"))
    w = t.start("--key", "a.b", "--approvals", "2")
    try:
        rc = w.proc.wait(2 * SLOW)
    except subprocess.TimeoutExpired:
        rc = None
    check(rc == 2, f"--key a.b with --approvals 2: "
                   f"{'still waiting' if rc is None else f'exit {rc}'}, "
                   f"expected a usage error (exit 2); log:\n{w.log()}")

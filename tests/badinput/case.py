"""What every bad-input case shares: its own temporary directory, waiters
started in it (as root, or as an unprivileged user), and the registry the
case modules add themselves to."""

import ctypes
import json
import os
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from cases import Registry, Skip  # noqa: E402
from proc import Waiter, slow_factor  # noqa: E402
from volume import KubeletVolume  # noqa: E402

CASES = Registry("badinput")
# Many waiters under valgrind at once: deadlines stretch more than in the
# integration tests.
SLOW = slow_factor(wrapped=10)
IS_ROOT = os.geteuid() == 0
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") \
    else sys.executable
libc = ctypes.CDLL(None, use_errno=True)


def pick_uid():
    """A uid no process uses: the unprivileged user the binary runs as."""
    used = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("Uid:"):
                            used.update(int(x) for x in line.split()[1:])
            except OSError:
                pass
    for uid in range(64611, 65000):
        if uid not in used:
            return uid
    raise RuntimeError("no free uid")


UID = pick_uid() if IS_ROOT else os.geteuid()


def as_user(uid=UID):
    """Command prefix: run as uid, without supplementary groups."""
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]


class Case:
    """A temporary directory for one case, and the waiters it started."""

    def __init__(self, name, base, bin_path):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=re.sub(r"\W", "-", name) + "-",
                                    dir=base)
        os.chmod(self.dir, 0o755)
        self.bin = bin_path
        self.waiters = []
        self.cleanup = []  # directories made elsewhere, removed at the end

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def mkdir(self, name, owner=None, mode=0o755):
        p = self.path(name)
        os.mkdir(p)
        os.chmod(p, mode)
        if owner is not None:
            os.chown(p, owner, owner)
        return p

    def start(self, *args, vol=None, results=True, user=False, prefix=(),
              wrapper=None, stderr=None, env=None, results_owner=None):
        """Starts approve-step --dir vol [args]; returns a Waiter whose log
        is the file logN of the case's directory."""
        vol = vol if vol is not None else self.path("vol")
        res = None
        if results:
            res = self.mkdir(f"results{len(self.waiters)}",
                             owner=results_owner if results_owner is not None
                             else (UID if user else None))
        prefix = list(prefix)
        if user:
            if not IS_ROOT:
                raise Skip("needs root to run the binary as another user")
            prefix += as_user()
        w = Waiter("--dir", vol, *args, binary=self.bin, results_dir=res,
                   prefix=prefix, wrapper=wrapper, stderr=stderr, env=env,
                   log_path=self.path(f"log{len(self.waiters)}"), slow=SLOW)
        self.waiters.append(w)
        return w

    def close(self, keep=False):
        for w in self.waiters:
            w.close()
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)
            for d in self.cleanup:
                shutil.rmtree(d, ignore_errors=True)


def kubelet(t, vol="vol"):
    return KubeletVolume(t.path(vol))


def approve_json(approver="alice", comment="ok"):
    return json.dumps({"decision": "approved", "approver": approver,
                       "comment": comment})

"""What the benchmark measures with: /proc (CPU time, memory, children,
inotify watches), perf counters (wakeups and forks), the machine it runs
on, and the limits it raises for the large scale runs."""

import ctypes
import os
import platform
import resource
import struct
import subprocess
import tempfile
import time

from common import ROOT, say


# --------------------------------------------------------------------- /proc

def read_text(path):
    with open(path) as f:
        return f.read()


def proc_status(pid):
    """VmHWM, VmRSS (KiB) and context switches of one process, or None."""
    out = {}
    try:
        text = read_text(f"/proc/{pid}/status")
    except (FileNotFoundError, ProcessLookupError):
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            out[key] = int(value.split()[0])
        elif key in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"):
            out[key] = int(value)
    out.setdefault("VmHWM", 0)
    out.setdefault("VmRSS", 0)
    out["ctx"] = (out.get("voluntary_ctxt_switches", 0)
                  + out.get("nonvoluntary_ctxt_switches", 0))
    return out


def proc_rollup(pid):
    """Pss (resident pages, shared ones divided among the processes that
    map them: what N waiters really take together) and Anonymous (private
    memory, no file behind it) in KiB, from smaps_rollup."""
    out = {}
    try:
        for line in read_text(f"/proc/{pid}/smaps_rollup").splitlines():
            key, _, value = line.partition(":")
            if key in ("Pss", "Anonymous"):
                out[key] = int(value.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return out


def proc_pss_kib(pid):
    return proc_rollup(pid).get("Pss")


def proc_cpu_ns(pid):
    """CPU time of the process (main thread) in ns, from schedstat; falls
    back to utime+stime in clock ticks."""
    try:
        return int(read_text(f"/proc/{pid}/schedstat").split()[0])
    except (FileNotFoundError, ProcessLookupError):
        return None
    except (OSError, ValueError, IndexError):
        pass
    try:
        fields = read_text(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        return ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def proc_children_cpu_ns(pid):
    """CPU time of the children the process has waited for (cutime +
    cstime, clock ticks), in ns."""
    try:
        fields = read_text(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()
        ticks = int(fields[13]) + int(fields[14])
        return ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0


def proc_state(pid):
    try:
        return read_text(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def proc_children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                out += [int(c) for c in read_text(
                    f"/proc/{pid}/task/{tid}/children").split()]
            except OSError:
                pass
    except OSError:
        pass
    return out


def proc_tree(pid):
    """pid and all its descendants alive now."""
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo += proc_children(p)
    return seen


def inotify_watches(pid):
    """Number of inotify watches the process holds (from fdinfo)."""
    n = 0
    try:
        for fd in os.listdir(f"/proc/{pid}/fdinfo"):
            try:
                n += read_text(f"/proc/{pid}/fdinfo/{fd}").count("inotify wd:")
            except OSError:
                pass
    except OSError:
        pass
    return n


def kind_watches(w):
    """Inotify watches of a waiter; None for the polling one (it has none)."""
    return None if w.kind == "polling" else inotify_watches(w.pid)


def inotify_instances_of_uid(uid):
    """inotify instances held by processes of this user (approximate)."""
    n = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.stat(f"/proc/{pid}").st_uid != uid:
                continue
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == \
                            "anon_inode:inotify":
                        n += 1
                except OSError:
                    pass
        except OSError:
            pass
    return n


# ------------------------------------------------------------ perf counters

class Perf:
    """Counters on a process and every process it starts afterwards
    (perf_event_open with inherit): CPU time (task-clock, ns), context
    switches and, when the sched_process_fork tracepoint is known, forks.
    Children that exit are folded into the parent's counters."""

    _syscall = {"x86_64": 298, "aarch64": 241, "armv7l": 364, "i686": 336,
                "ppc64le": 319, "s390x": 331, "riscv64": 241}
    fork_tracepoint = None
    usable = None
    why = ""

    class _Attr(ctypes.Structure):  # PERF_ATTR_SIZE_VER0 (64 bytes)
        _fields_ = [("type", ctypes.c_uint32), ("size", ctypes.c_uint32),
                    ("config", ctypes.c_uint64),
                    ("sample_period", ctypes.c_uint64),
                    ("sample_type", ctypes.c_uint64),
                    ("read_format", ctypes.c_uint64),
                    ("flags", ctypes.c_uint64),
                    ("wakeup_events", ctypes.c_uint32),
                    ("bp_type", ctypes.c_uint32),
                    ("config1", ctypes.c_uint64)]

    @classmethod
    def setup(cls):
        nr = cls._syscall.get(platform.machine())
        if nr is None:
            cls.usable, cls.why = False, f"no perf_event_open number for {platform.machine()}"
            return
        cls._nr = nr
        cls._libc = ctypes.CDLL(None, use_errno=True)
        cls.fork_tracepoint = cls._find_fork_tracepoint()
        probe = subprocess.Popen(["sleep", "5"])
        try:
            fd = cls._open(1, 1, probe.pid)
            os.close(fd)
            cls.usable = True
        except OSError as e:
            cls.usable, cls.why = False, f"perf_event_open: {e.strerror}"
        finally:
            probe.kill()
            probe.wait()
        if cls.usable and cls.fork_tracepoint is not None:
            probe = subprocess.Popen(["sleep", "5"])
            try:
                os.close(cls._open(2, cls.fork_tracepoint, probe.pid))
            except OSError as e:
                cls.why = f"fork tracepoint: {e.strerror}"
                cls.fork_tracepoint = None
            finally:
                probe.kill()
                probe.wait()

    @staticmethod
    def _find_fork_tracepoint():
        rel = "events/sched/sched_process_fork/id"
        for base in ("/sys/kernel/tracing", "/sys/kernel/debug/tracing"):
            try:
                return int(read_text(os.path.join(base, rel)))
            except (OSError, ValueError):
                pass
        if os.geteuid() != 0:
            return None
        # Mount tracefs privately for a moment just to read the id.
        d = tempfile.mkdtemp(prefix="bench-tracefs.")
        try:
            r = subprocess.run(["mount", "-t", "tracefs", "nodev", d],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            if r.returncode != 0:
                return None
            try:
                return int(read_text(os.path.join(d, rel)))
            except (OSError, ValueError):
                return None
            finally:
                subprocess.run(["umount", d], stderr=subprocess.DEVNULL)
        finally:
            try:
                os.rmdir(d)
            except OSError:
                pass

    @classmethod
    def _open(cls, type_, config, pid):
        a = cls._Attr()
        a.type, a.size, a.config = type_, ctypes.sizeof(cls._Attr), config
        a.flags = 1 << 1  # inherit
        fd = cls._libc.syscall(cls._nr, ctypes.byref(a), pid, -1, -1,
                               8)  # PERF_FLAG_FD_CLOEXEC
        if fd < 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
        return fd

    def __init__(self, pid):
        self.fds = {}
        if not Perf.usable:
            return
        try:
            self.fds["cpu_ns"] = self._open(1, 1, pid)  # SW_TASK_CLOCK
            self.fds["ctx"] = self._open(1, 3, pid)  # SW_CONTEXT_SWITCHES
            if Perf.fork_tracepoint is not None:
                self.fds["forks"] = self._open(2, Perf.fork_tracepoint, pid)
        except OSError:
            self.close()

    def read(self):
        out = {}
        for name, fd in self.fds.items():
            try:
                out[name] = struct.unpack("Q", os.read(fd, 8))[0]
            except OSError:
                pass
        return out

    def close(self):
        for fd in self.fds.values():
            os.close(fd)
        self.fds = {}


# ------------------------------------------------------------------ machine

def machine_info(workdir):
    info = {"nproc": os.cpu_count()}
    model = "?"
    try:
        for line in read_text("/proc/cpuinfo").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info["cpu"] = model
    info["kernel"] = platform.release()
    info["fs"] = fs_type(workdir)
    info["python"] = platform.python_version()
    try:
        info["bash"] = subprocess.run(
            ["bash", "-c", "echo $BASH_VERSION"], capture_output=True,
            text=True).stdout.strip()
    except OSError:
        info["bash"] = "?"
    return info


def fs_type(path):
    """The file system type of the mount holding path (/proc/self/mountinfo)."""
    path = os.path.realpath(path)
    best, kind = "", "?"
    try:
        for line in read_text("/proc/self/mountinfo").splitlines():
            left, _, right = line.partition(" - ")
            mnt = left.split()[4].replace("\\040", " ")
            inside = path == mnt or path.startswith(mnt.rstrip("/") + "/")
            if inside and len(mnt) >= len(best):
                best, kind = mnt, right.split()[0]
    except (OSError, IndexError):
        pass
    return kind


def source_revision():
    """The commit approve-step's sources come from, and whether they have
    local changes."""
    try:
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short",
                               "HEAD"], capture_output=True, text=True,
                              timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain",
                                "--", "approve-step"], capture_output=True,
                               text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    if not head:
        return "?"
    return head + (" with local changes in approve-step/" if dirty else "")


def loadavg():
    try:
        return float(read_text("/proc/loadavg").split()[0])
    except (OSError, ValueError, IndexError):
        return None


# ---------------------------------------------------------------- limits

class Limits:
    """Raises fs.inotify.max_user_instances and RLIMIT_NOFILE for a scale
    run; restore() puts the sysctl back."""

    SYSCTL = "/proc/sys/fs/inotify/max_user_instances"

    def __init__(self):
        self.saved = None
        self.ours = None

    def ensure(self, waiters):
        """True when `waiters` more inotify instances and their descriptors
        fit; raises what it can."""
        need_fds = 2 * waiters + 256
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < need_fds:
            new_hard = hard
            if hard != resource.RLIM_INFINITY and hard < need_fds:
                if os.geteuid() != 0:
                    say(f"open files limit {hard} < {need_fds}")
                    return False
                new_hard = need_fds
            resource.setrlimit(resource.RLIMIT_NOFILE, (need_fds, new_hard))
        try:
            current = int(read_text(self.SYSCTL))
        except (OSError, ValueError):
            return True
        need = inotify_instances_of_uid(os.geteuid()) + waiters + 64
        if current >= need:
            return True
        if os.geteuid() != 0:
            say(f"fs.inotify.max_user_instances is {current}, {need} needed "
                "(run as root to raise it for the run)")
            return False
        if self.saved is None:
            self.saved = current
        with open(self.SYSCTL, "w") as f:
            f.write(str(need))
        self.ours = need
        say(f"fs.inotify.max_user_instances raised {current} -> {need} "
            "for the run")
        return True

    def current(self):
        """fs.inotify.max_user_instances now (None if unreadable)."""
        try:
            return int(read_text(self.SYSCTL))
        except (OSError, ValueError):
            return None

    def restore(self):
        if self.saved is None:
            return
        try:
            if int(read_text(self.SYSCTL)) == self.ours:
                with open(self.SYSCTL, "w") as f:
                    f.write(str(self.saved))
                say(f"fs.inotify.max_user_instances restored to {self.saved}")
            else:
                say("fs.inotify.max_user_instances was changed by someone "
                    "else meanwhile: left as it is")
        except OSError as e:
            say(f"could not restore fs.inotify.max_user_instances: {e}")
        self.saved = None


class UserNamespace:
    """A user namespace with one of its own inotify limits set (Linux >=
    5.11 counts them per namespace), kept by a sleeping process; prefix()
    starts a command inside it."""

    def __init__(self, limit, value):
        self.why = None
        self.proc = None
        if not os.path.exists(f"/proc/sys/user/{limit}"):
            self.why = f"no /proc/sys/user/{limit} on this kernel"
            return
        try:
            self.proc = subprocess.Popen(
                ["unshare", "--user", "--map-root-user", "sh", "-c",
                 f"echo {value} > /proc/sys/user/{limit} && exec sleep 3600"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
        except OSError as e:
            self.why = f"unshare: {e}"
            return
        end = time.monotonic() + 5
        while time.monotonic() < end and self.proc.poll() is None:
            try:
                if read_text(f"/proc/{self.proc.pid}/comm").strip() == \
                        "sleep":
                    return
            except OSError:
                pass
            time.sleep(0.01)
        self.why = "unshare --user failed (user namespaces not allowed?)"

    @property
    def usable(self):
        return self.why is None

    def prefix(self):
        return ["nsenter", f"--user=/proc/{self.proc.pid}/ns/user",
                "--preserve-credentials"]

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait()

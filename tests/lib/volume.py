#!/usr/bin/env python3
"""Write a directory the way the kubelet updates a ConfigMap volume, or the
way people write files by hand.

The kubelet (pkg/volume/util/atomic_writer.go) never rewrites a file in
place. Each update goes to a fresh timestamped directory and becomes visible
by atomically renaming the `..data` symlink onto it; each key is a symlink
`KEY -> ..data/KEY`. A waiter that watches the key file itself never sees
the change, which is the behaviour these tests must reproduce exactly.

Used as a module by the test suites and the benchmark, and as a command:

    volume.py DIR KEY=VALUE ... [-d KEY ...]     kubelet-style update (merge)
    volume.py DIR --replace KEY=VALUE ...         kubelet-style, full key set
    volume.py DIR --plain KEY=VALUE               write in place (emptyDir)
    volume.py DIR --rename KEY=VALUE              write a temp file, rename in
"""

import argparse
import os
import random
import shutil
import tempfile
import time

DATA = "..data"
DATA_TMP = "..data_tmp"


class KubeletVolume:
    """A ConfigMap volume directory updated with the kubelet's steps."""

    def __init__(self, path, rng=None, step_delay=0.0):
        self.path = path
        self.rng = rng or random.Random()
        # Seconds to sleep between the steps of one update, to widen races.
        self.step_delay = step_delay

    def current(self):
        """The key set the volume shows now, read through ..data."""
        data_dir = os.path.join(self.path, DATA)
        if not os.path.isdir(data_dir):
            return {}
        out = {}
        for name in os.listdir(data_dir):
            with open(os.path.join(data_dir, name), "rb") as f:
                out[name] = f.read()
        return out

    def patch(self, changes, remove=()):
        """Like `kubectl patch --type=merge`, then the kubelet's sync."""
        data = self.current()
        data.update(changes)
        for key in remove:
            data.pop(key, None)
        self.update(data)

    def update(self, data):
        """Make the volume show exactly `data` (key -> str or bytes)."""
        data = {k: v.encode() if isinstance(v, str) else v
                for k, v in data.items()}
        os.makedirs(self.path, exist_ok=True)
        old = self.current()
        old_target = self._data_target()
        if old_target is not None and old == data:
            # Unchanged data is not written again (kubelet 1.28+); newer
            # kubelets only recreate missing user-visible symlinks.
            self._link_visible(data.keys())
            return
        ts_dir = self._new_ts_dir()
        keys = list(data)
        self.rng.shuffle(keys)  # the kubelet writes keys in map order
        for key in keys:
            fd = os.open(os.path.join(ts_dir, key),
                         os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            with os.fdopen(fd, "wb") as f:
                f.write(data[key])
        self._pause()
        os.symlink(os.path.basename(ts_dir),
                   os.path.join(self.path, DATA_TMP))
        self._pause()
        os.rename(os.path.join(self.path, DATA_TMP),
                  os.path.join(self.path, DATA))
        self._pause()
        self._link_visible(data.keys())
        for key in set(old) - set(data):
            os.unlink(os.path.join(self.path, key))
        self._pause()
        if old_target is not None:
            shutil.rmtree(os.path.join(self.path, old_target))

    def _data_target(self):
        try:
            return os.readlink(os.path.join(self.path, DATA))
        except FileNotFoundError:
            return None

    def _new_ts_dir(self):
        stamp = time.strftime("..%Y_%m_%d_%H_%M_%S.", time.gmtime())
        ts_dir = tempfile.mkdtemp(prefix=stamp, dir=self.path)
        os.chmod(ts_dir, 0o755)
        return ts_dir

    def _link_visible(self, keys):
        for key in keys:
            link = os.path.join(self.path, key)
            if not os.path.lexists(link):
                os.symlink(os.path.join(DATA, key), link)

    def _pause(self):
        if self.step_delay:
            time.sleep(self.rng.uniform(0, self.step_delay))


def write_in_place(path, value):
    """open(O_TRUNC) + write + close: what `echo x > file` does."""
    with open(path, "wb") as f:
        f.write(value.encode() if isinstance(value, str) else value)


def write_by_rename(path, value):
    """Write a temporary file beside `path`, then rename it over `path`:
    what editors and `kubectl cp`-style tools do."""
    d = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
    with os.fdopen(fd, "wb") as f:
        f.write(value.encode() if isinstance(value, str) else value)
    os.chmod(tmp, 0o644)
    os.rename(tmp, path)


def _pairs(items):
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"volume.py: expected KEY=VALUE, got {item!r}")
        out[key] = value
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("pairs", nargs="*", metavar="KEY=VALUE")
    ap.add_argument("-d", "--delete", action="append", default=[],
                    metavar="KEY", help="remove KEY (kubelet-style)")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--replace", action="store_true",
                      help="the pairs are the whole new key set")
    mode.add_argument("--plain", action="store_true",
                      help="write each file in place")
    mode.add_argument("--rename", action="store_true",
                      help="write each file beside and rename it in")
    args = ap.parse_args()
    pairs = _pairs(args.pairs)
    if args.plain or args.rename:
        write = write_in_place if args.plain else write_by_rename
        for key, value in pairs.items():
            write(os.path.join(args.dir, key), value)
        return
    vol = KubeletVolume(args.dir)
    if args.replace:
        vol.update(pairs)
    else:
        vol.patch(pairs, remove=args.delete)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A fake Kubernetes API server for tests: TLS, bearer tokens, and the REST
and watch protocol of the real one, for namespaced objects (ConfigMaps now;
Pods and Tekton runs register the same way).

What it reproduces from the real API server (Kubernetes "API concepts"):

- TLS with a CA and a server certificate made at test time by `openssl`
  (Certs): any SANs, a wrong CA, TLS 1.2 only or 1.3 only.
- Authentication by `Authorization: Bearer TOKEN` (401 with a Status object
  for a missing, wrong or rotated-out token), then authorization (403 from
  RBAC-like rules: resourceNames allow list/watch only when the request's
  fieldSelector names that object, as the real authorizer does).
- One global resourceVersion counter for every object, as etcd's revision:
  a list answers with the counter at read time, every write takes the next
  value, so the versions one object shows are increasing but not adjacent.
- get, list (fieldSelector metadata.name / metadata.namespace, equality
  labelSelector), create, update, merge patch, delete; 404, 409, 400 as the
  real server words them.
- watch: 200 with `Transfer-Encoding: chunked`, one JSON line per event
  (written as Go's encoder writes them); from a resourceVersion (the events
  after it, from a history that keeps `history_seconds`) or from none (the
  current objects as ADDED first); BOOKMARK events when asked for; an
  expired version gives 410 Gone, as an ERROR event whose object is a
  Status (what the watch cache does) or as the HTTP status; the stream ends
  after `timeoutSeconds` (or a shorter forced timeout) with the closing
  chunk.

What tests control: how event lines are split into chunks and chunks into
TLS records (byte by byte, mid-line, many lines in one chunk), holding
events back to send them together, raw (malformed, oversized) lines, a
stream broken mid-chunk or ended cleanly, a server that accepts TCP and
never answers TLS, one that closes or resets at once, any response to a
request (a hook), and every request is recorded (method, path, query,
headers, user, status) with every connection's time.

    python3 tests/lib/fakeapi.py --help
    python3 tests/lib/fakeapi.py serve --creds DIR ...   (manual use)
    python3 tests/lib/fakeapi.py selftest                (its own test)
"""

import argparse
import contextlib
import copy
import datetime
import itertools
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

HEAD_LIMIT = 64 * 1024      # the request head the fake accepts
BODY_LIMIT = 8 * 1024 * 1024

# resource plural -> (API prefix, kind). Pods and Tekton objects are here so
# that later suites store them the same way.
KINDS = {
    "configmaps": ("api/v1", "ConfigMap"),
    "secrets": ("api/v1", "Secret"),
    "pods": ("api/v1", "Pod"),
    "serviceaccounts": ("api/v1", "ServiceAccount"),
    "pipelineruns": ("apis/tekton.dev/v1", "PipelineRun"),
    "taskruns": ("apis/tekton.dev/v1", "TaskRun"),
    "pipelines": ("apis/tekton.dev/v1", "Pipeline"),
    "tasks": ("apis/tekton.dev/v1", "Task"),
}


# ---------------------------------------------------------------------------
# Certificates


class Certs:
    """Certificate authorities and server certificates made with `openssl`
    in a temporary directory (removed by cleanup()). EC P-256 keys: quick to
    make, and what kubeadm's API servers use is RSA or EC alike."""

    def __init__(self, directory=None, key="ec"):
        self.dir = directory or tempfile.mkdtemp(prefix="fakeapi-certs-")
        os.makedirs(self.dir, exist_ok=True)
        self.key = key
        self.count = itertools.count()
        self.cas = {}

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def _newkey(self):
        if self.key == "rsa":
            return ["-newkey", "rsa:2048"]
        return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]

    def _openssl(self, *args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    def ca(self, name="fake-cluster-ca"):
        """(certificate path, key path) of the CA called name (made once)."""
        if name not in self.cas:
            base = os.path.join(self.dir, f"ca-{next(self.count)}")
            self._openssl(
                "req", "-x509", *self._newkey(), "-nodes", "-days", "2",
                "-subj", f"/CN={name}", "-keyout", base + ".key",
                "-out", base + ".crt",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
            self.cas[name] = (base + ".crt", base + ".key")
        return self.cas[name]

    def server(self, sans=("IP:127.0.0.1", "DNS:kubernetes.default.svc"),
               ca="fake-cluster-ca", cn="kube-apiserver", days=2):
        """(certificate path, key path) for a server certificate carrying
        the subjectAltNames sans ("IP:..." or "DNS:..."), signed by ca."""
        ca_crt, ca_key = self.ca(ca)
        base = os.path.join(self.dir, f"server-{next(self.count)}")
        ext = base + ".ext"
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth\n")
            if sans:
                f.write("subjectAltName=" + ",".join(sans) + "\n")
        self._openssl("req", "-new", *self._newkey(), "-nodes",
                      "-subj", f"/CN={cn}", "-keyout", base + ".key",
                      "-out", base + ".csr")
        self._openssl("x509", "-req", "-in", base + ".csr", "-CA", ca_crt,
                      "-CAkey", ca_key, "-CAcreateserial", "-days", str(days),
                      "-extfile", ext, "-out", base + ".crt")
        return base + ".crt", base + ".key"


def write_credentials(directory, token, ca_paths, namespace="default"):
    """The ServiceAccount files the kubelet mounts: token, ca.crt (the
    certificates of ca_paths, concatenated), namespace."""
    os.makedirs(directory, exist_ok=True)
    if isinstance(ca_paths, str):
        ca_paths = [ca_paths]
    pem = b"".join(open(p, "rb").read() for p in ca_paths)
    for name, data in (("ca.crt", pem), ("namespace", namespace.encode())):
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)
    rotate_token_file(directory, token)


def rotate_token_file(directory, token):
    """Replace DIR/token atomically, as the kubelet's projected volume does."""
    tmp = os.path.join(directory, ".token.tmp")
    with open(tmp, "w") as f:
        f.write(token)
    os.rename(tmp, os.path.join(directory, "token"))


# ---------------------------------------------------------------------------
# JSON as the API server writes it


def go_json(obj):
    """Compact JSON escaped as Go's encoding/json: <, >, &, U+2028 and
    U+2029 as \\u escapes, other non-ASCII as UTF-8."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text.encode("utf-8")


def status(code, reason, message, details=None):
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {},
         "status": "Failure", "message": message, "reason": reason,
         "code": code}
    if details:
        s["details"] = details
    return s


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch (kubectl patch --type=merge)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------
# The store: objects, the global resourceVersion, history, watchers


class Event:
    def __init__(self, rv, type_, resource, obj, t):
        self.rv, self.type, self.resource, self.obj, self.t = (
            rv, type_, resource, obj, t)
        meta = obj.get("metadata", {})
        self.namespace, self.name = meta.get("namespace"), meta.get("name")


class Conflict(Exception):
    pass


class NotFound(Exception):
    pass


class Store:
    """Namespaced objects by (resource, namespace, name), one global
    resourceVersion counter, and the events of the last history_seconds."""

    def __init__(self, history_seconds=300.0, first_rv=1000):
        self.lock = threading.RLock()
        self.rv = first_rv
        self.objects = {}
        self.history = []           # Event, oldest first
        self.compacted = first_rv   # watching from an older RV: 410
        self.history_seconds = history_seconds
        self.watchers = set()

    # -- reading

    def get(self, resource, ns, name):
        with self.lock:
            obj = self.objects.get((resource, ns, name))
            return copy.deepcopy(obj) if obj is not None else None

    def list(self, resource, ns=None, match=lambda o: True):
        """(items, resourceVersion of the list), items sorted by name."""
        with self.lock:
            items = [copy.deepcopy(o)
                     for (r, n, _), o in sorted(self.objects.items())
                     if r == resource and (ns is None or n == ns)
                     and match(o)]
            return items, self.rv

    # -- writing: each write takes the next global version

    def _commit(self, type_, resource, obj):
        self.rv += 1
        obj.setdefault("metadata", {})["resourceVersion"] = str(self.rv)
        ev = Event(self.rv, type_, resource, copy.deepcopy(obj),
                   time.monotonic())
        self.history.append(ev)
        self._compact()
        for w in list(self.watchers):
            w.offer(ev)
        return copy.deepcopy(obj)

    def _compact(self):
        cut = time.monotonic() - self.history_seconds
        while self.history and self.history[0].t < cut:
            self.compacted = self.history.pop(0).rv

    def create(self, resource, ns, obj):
        with self.lock:
            obj = copy.deepcopy(obj)
            meta = obj.setdefault("metadata", {})
            meta["namespace"] = ns
            name = meta.get("name")
            if not name:
                raise ValueError("metadata.name is required")
            if (resource, ns, name) in self.objects:
                raise Conflict(name)
            api, kind = KINDS[resource]
            obj.setdefault("apiVersion", api.split("/", 1)[1])
            obj.setdefault("kind", kind)
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", now_rfc3339())
            self.objects[(resource, ns, name)] = obj
            return self._commit("ADDED", resource, obj)

    def update(self, resource, ns, name, obj, expect_rv=None):
        """Replace the object (PUT); expect_rv: 409 unless it is current."""
        with self.lock:
            old = self.objects.get((resource, ns, name))
            if old is None:
                raise NotFound(name)
            if expect_rv and expect_rv != old["metadata"]["resourceVersion"]:
                raise Conflict(name)
            obj = copy.deepcopy(obj)
            meta = obj.setdefault("metadata", {})
            for k in ("name", "namespace", "uid", "creationTimestamp"):
                meta[k] = old["metadata"][k]
            obj["apiVersion"], obj["kind"] = old["apiVersion"], old["kind"]
            self.objects[(resource, ns, name)] = obj
            return self._commit("MODIFIED", resource, obj)

    def patch(self, resource, ns, name, patch):
        """Merge patch; a patch that changes nothing writes nothing (the
        API server's no-op update), so the version stays."""
        with self.lock:
            old = self.objects.get((resource, ns, name))
            if old is None:
                raise NotFound(name)
            new = merge_patch(old, patch)
            if new == old:
                return copy.deepcopy(old)
            return self.update(resource, ns, name, new)

    def delete(self, resource, ns, name):
        with self.lock:
            old = self.objects.pop((resource, ns, name), None)
            if old is None:
                raise NotFound(name)
            return self._commit("DELETED", resource, old)

    def touch_other(self, n=1):
        """Advance the global version as writes to unwatched objects do."""
        with self.lock:
            for _ in range(n):
                self.rv += 1
            return self.rv

    def expire(self):
        """Forget all history: watching from any version before now is 410
        (as after a compaction, or a long disconnect)."""
        with self.lock:
            self.history.clear()
            self.compacted = self.rv

    # -- watching

    def subscribe(self, watcher, rv):
        """Registers watcher and queues what it must see first: the events
        after rv, or (rv None) the current objects as ADDED. False when rv
        is older than the history."""
        with self.lock:
            self._compact()
            if rv is None:
                items, _ = self.list(watcher.resource, watcher.ns,
                                     watcher.match)
                for o in items:
                    watcher.offer(Event(int(o["metadata"]["resourceVersion"]),
                                        "ADDED", watcher.resource, o, 0))
            else:
                if rv < self.compacted:
                    return False
                for ev in self.history:
                    if ev.rv > rv:
                        watcher.offer(ev)
            self.watchers.add(watcher)
            return True

    def unsubscribe(self, watcher):
        with self.lock:
            self.watchers.discard(watcher)


# ---------------------------------------------------------------------------
# Chunking policies: bytes of pending event lines -> list of chunks


def one_chunk(data):
    """Everything pending in one chunk (several lines when held back)."""
    return [data]


def per_line(data):
    """One chunk per event line: what the Go server's flush after each
    event gives."""
    return [line for line in data.splitlines(keepends=True)]


def bytewise(data):
    return [data[i:i + 1] for i in range(len(data))]


def every(n):
    def split(data):
        return [data[i:i + n] for i in range(0, len(data), n)]
    split.__name__ = f"every({n})"
    return split


def mid_line(data):
    """Chunks that cut every line in two and join the tail of one line with
    the head of the next."""
    lines = data.splitlines(keepends=True)
    out, carry = [], b""
    for line in lines:
        half = max(1, len(line) // 2)
        out.append(carry + line[:half])
        carry = line[half:]
    if carry:
        out.append(carry)
    return out


def random_split(rng, max_pieces=24):
    """Chunks cut at random places: sometimes byte by byte (short data),
    sometimes whole, mostly a few pieces anywhere, lines or not."""
    def split(data):
        r = rng.random()
        if r < 0.15 and len(data) <= 600:
            return bytewise(data)
        if r < 0.35 or len(data) < 2:
            return [data]
        cuts = sorted(set(rng.randrange(1, len(data)) for _ in
                          range(rng.randrange(1, max_pieces))))
        return [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]
    return split


def encode_chunk(data):
    return b"%x\r\n" % len(data) + data + b"\r\n"


# ---------------------------------------------------------------------------
# Requests and connections as recorded


class Request:
    def __init__(self, conn, method, target, headers, body):
        self.conn, self.method, self.target = conn, method, target
        self.headers, self.body = headers, body
        self.t = time.monotonic()
        parts = urllib.parse.urlsplit(target)
        self.path = parts.path
        self.raw_query = parts.query
        self.query = dict(urllib.parse.parse_qsl(parts.query,
                                                 keep_blank_values=True))
        self.user = None
        self.status = None
        self.verb = None
        self.watch_started = None   # time the watch's head was sent
        self.response = None        # the object answered (not for watches)

    @property
    def is_watch(self):
        return self.query.get("watch") in ("1", "true")

    def __repr__(self):
        return (f"<{self.method} {self.target} conn={self.conn.id} "
                f"status={self.status}>")


class Connection:
    def __init__(self, cid, sock, peer):
        self.id, self.sock, self.peer = cid, sock, peer
        self.t = time.monotonic()
        self.tls = None
        self.handshake = None   # None: not done; "ok" or the error text
        self.closed = threading.Event()


class Watch:
    """One open watch stream: the events it still has to send."""

    def __init__(self, api, req, resource, ns, match):
        self.api, self.req = api, req
        self.resource, self.ns, self.match = resource, ns, match
        self.pending = []          # Event or raw bytes
        self.ending = None         # None, "end" (clean), "break"
        self.partial = b""
        self.bookmarks = req.query.get("allowWatchBookmarks") in (
            "1", "true")

    def offer(self, ev):
        if isinstance(ev, Event):
            if ev.resource != self.resource:
                return
            if self.ns is not None and ev.namespace != self.ns:
                return
            if not self.match(ev.obj):
                return
        with self.api.cond:
            self.pending.append(ev)
            self.api.cond.notify_all()


# ---------------------------------------------------------------------------
# The server


class FakeAPI:
    """A TLS API server on 127.0.0.1 (or host) in threads of this process.

        api = FakeAPI(certs)            # a Certs; server certificate sans
        api.start()
        api.store.create("configmaps", "ci", {...})
        ... api.requests, api.connections, api.watches() ...
        api.stop()
    """

    def __init__(self, certs, sans=("IP:127.0.0.1", "DNS:kubernetes.default.svc"),
                 ca="fake-cluster-ca", host="127.0.0.1", port=0,
                 tokens=None, history_seconds=300.0, tls_versions=None,
                 cert=None):
        self.certs = certs
        self.cert = cert or certs.server(sans=sans, ca=ca)
        self.ca_path = certs.ca(ca)[0]
        self.host, self.port = host, port
        # token -> username; a request with another token gets 401.
        self.tokens = dict(tokens or {
            "token-1": "system:serviceaccount:ci:pipeline"})
        self.rules = None            # None: everyone may do everything
        self.store = Store(history_seconds)
        self.tls_versions = tls_versions
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.requests = []
        self.connections = []
        self.open_watches = []
        # Behaviour, changeable at any time:
        self.mode = "serve"          # serve | stall | close | reset
        self.chunking = per_line     # event bytes -> chunks
        self.writes = None           # encoded bytes -> socket writes
        self.chunk_delay = 0.0       # seconds between writes
        self.held = False            # hold events back (see hold())
        self.gone_as = "event"       # 410 for an old RV: "event"|"status"
        self.watch_timeout = None    # force watches shorter than asked
        self.bookmark_before_end = False
        self.on_request = None       # req -> raw response bytes or None
        self.stopping = False
        self.listener = None
        self.threads = []
        # Monotonic times of the last events' write: its first write call
        # and the return of its last (for benchmarks).
        self.write_started = self.last_event_written = None

    # -- life cycle

    def context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*self.cert)
        lo, hi = self.tls_versions or ("1.2", "1.3")
        ver = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
        ctx.minimum_version, ctx.maximum_version = ver[lo], ver[hi]
        return ctx

    def start(self):
        self.ctx = self.context()
        fam = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self.listener = socket.socket(fam, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((self.host, self.port))
        self.port = self.listener.getsockname()[1]
        self.listener.listen(64)
        self.listener.settimeout(0.1)
        t = threading.Thread(target=self._accept_loop, daemon=True,
                             name="fakeapi-accept")
        t.start()
        self.threads.append(t)
        return self

    @property
    def url(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    def stop(self):
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        if self.listener:
            self.listener.close()
        with self.lock:
            conns = list(self.connections)
        for c in conns:
            _close_hard(c.sock)
        for t in list(self.threads):
            t.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def set_mode(self, mode):
        """serve, stall (accept TCP, never answer TLS), close (close at
        once), reset (RST at once). Stalled connections go on when the mode
        is back to serve."""
        with self.cond:
            self.mode = mode
            self.cond.notify_all()

    # -- tokens and rules

    def rotate_token(self, new, user=None, keep_old=False):
        """new becomes valid; old ones stop working unless keep_old."""
        with self.lock:
            user = user or next(iter(self.tokens.values()),
                                "system:serviceaccount:ci:pipeline")
            if not keep_old:
                self.tokens.clear()
            self.tokens[new] = user

    def grant(self, user, verbs, resource, names=None, namespace=None):
        """An RBAC rule; once any is granted, whatever none allows is 403.
        names: resourceNames (list/watch only with a fieldSelector naming
        one of them, as the real authorizer decides)."""
        with self.lock:
            if self.rules is None:
                self.rules = []
            self.rules.append((user, set(verbs), resource,
                               set(names) if names else None, namespace))

    def deny_all(self):
        with self.lock:
            self.rules = []

    def _allowed(self, user, verb, resource, ns, name):
        with self.lock:
            if self.rules is None:
                return True
            for r_user, verbs, r_res, names, r_ns in self.rules:
                if r_user not in (user, "*") or verb not in verbs:
                    continue
                if r_res != resource or (r_ns and r_ns != ns):
                    continue
                if names is None or name in names:
                    return True
            return False

    # -- what tests drive

    def configmap(self, ns, name, data=None, labels=None):
        """Create a ConfigMap; returns it with its resourceVersion."""
        meta = {"name": name}
        if labels:
            meta["labels"] = labels
        return self.store.create("configmaps", ns,
                                 {"metadata": meta, "data": dict(data or {})})

    def patch_data(self, ns, name, data):
        """kubectl patch configmap NAME --type=merge -p '{"data":...}';
        a None value removes the key."""
        return self.store.patch("configmaps", ns, name, {"data": data})

    @contextlib.contextmanager
    def hold(self):
        """Events written inside go out together, after the block."""
        with self.cond:
            self.held = True
        try:
            yield
        finally:
            with self.cond:
                self.held = False
                self.cond.notify_all()

    def watches(self):
        """The watch requests whose stream is open now."""
        with self.lock:
            return [w.req for w in self.open_watches]

    def _targets(self, where):
        """Open watches whose request satisfies where (all when None);
        call with the lock held."""
        return [w for w in self.open_watches if where is None or where(w.req)]

    def inject(self, raw, where=None):
        """Raw bytes (say a malformed or oversized line) into the open
        watch streams (those whose request satisfies where), chunked like
        events."""
        with self.cond:
            for w in self._targets(where):
                w.pending.append(bytes(raw))
            self.cond.notify_all()

    def error_event(self, code=410, reason="Expired",
                    message="too old resource version", where=None):
        """An ERROR event (a Status) into the open watch streams, which
        then end, as the watch cache does."""
        line = go_json({"type": "ERROR",
                        "object": status(code, reason, message)}) + b"\n"
        with self.cond:
            for w in self._targets(where):
                w.pending.append(line)
                w.ending = w.ending or "end"
            self.cond.notify_all()

    def bookmark(self, where=None):
        """A BOOKMARK at the current version into the open watches that
        asked for bookmarks; returns that version."""
        with self.cond:
            rv = self.store.rv
            for w in self._targets(where):
                if w.bookmarks:
                    w.pending.append(self._bookmark_line(w, rv))
            self.cond.notify_all()
        return rv

    def _bookmark_line(self, w, rv):
        api, kind = KINDS[w.resource]
        return go_json({"type": "BOOKMARK", "object": {
            "kind": kind, "apiVersion": api.split("/", 1)[1],
            "metadata": {"resourceVersion": str(rv),
                         "annotations": {
                             "k8s.io/initial-events-end": "true"}}}}) + b"\n"

    def end_watches(self, where=None):
        """End the open watches cleanly (the closing chunk), as a server
        side timeout does, once what is pending is sent."""
        self._end("end", b"", where)

    def break_watches(self, partial=b"", where=None):
        """Drop the open watch connections without the closing chunk,
        after writing partial (raw bytes, e.g. half a chunk)."""
        self._end("break", partial, where)

    def _end(self, how, partial, where):
        with self.cond:
            for w in self._targets(where):
                w.ending, w.partial = how, partial
            self.cond.notify_all()

    def wait_for(self, predicate, timeout=5.0, what="a condition"):
        """Waits until predicate() is true; returns its value."""
        end = time.monotonic() + timeout
        while True:
            # Called without the lock held: a predicate may read the store,
            # whose writers take the store's lock before this one.
            value = predicate()
            if value:
                return value
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"fake API: no {what} within {timeout}s; "
                    f"requests: {self.requests!r}")
            with self.cond:
                self.cond.wait(min(left, 0.05))

    def wait_for_watch(self, n=1, timeout=5.0):
        """The n-th watch request (1-based) whose stream was opened."""
        def found():
            ws = [r for r in self.requests if r.watch_started]
            return ws[n - 1] if len(ws) >= n else None
        return self.wait_for(found, timeout, f"watch #{n}")

    def requests_of(self, verb=None):
        with self.lock:
            return [r for r in self.requests
                    if verb is None or r.verb == verb]

    # -- serving

    def _accept_loop(self):
        ids = itertools.count(1)
        while not self.stopping:
            try:
                sock, peer = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            sock.settimeout(None)
            conn = Connection(next(ids), sock, peer)
            with self.cond:
                self.connections.append(conn)
                self.cond.notify_all()
            t = threading.Thread(target=self._serve, args=(conn,),
                                 daemon=True, name=f"fakeapi-{conn.id}")
            t.start()
            with self.lock:
                self.threads = [x for x in self.threads if x.is_alive()]
                self.threads.append(t)

    def _serve(self, conn):
        try:
            if self._misbehave(conn):
                return
            conn.sock.settimeout(10)
            tls = self.ctx.wrap_socket(conn.sock, server_side=True,
                                       do_handshake_on_connect=False)
            conn.tls = tls
            try:
                tls.do_handshake()
            except (ssl.SSLError, OSError) as e:
                conn.handshake = str(e) or type(e).__name__
                return
            conn.handshake = "ok"
            tls.settimeout(None)
            reader = _Reader(tls)
            while not self.stopping:
                req = reader.request(conn)
                if req is None:
                    return
                if not self._handle(conn, tls, req):
                    return
        except (OSError, ssl.SSLError):
            pass
        finally:
            _close(conn.tls or conn.sock)
            conn.closed.set()
            with self.cond:
                self.cond.notify_all()

    def _misbehave(self, conn):
        """True when the connection was handled by a failure mode."""
        with self.cond:
            while self.mode == "stall" and not self.stopping:
                self.cond.wait()
            mode = self.mode
        if mode == "close":
            conn.sock.close()
            return True
        if mode == "reset":
            _close_hard(conn.sock)
            return True
        return self.stopping

    def _handle(self, conn, tls, req):
        """Answers one request; False when the connection is done."""
        with self.cond:
            self.requests.append(req)
            self.cond.notify_all()
        hook = self.on_request
        if hook:
            raw = hook(req)
            if raw is not None:
                req.status = int(raw.split(b" ", 2)[1])
                tls.sendall(raw)
                return False
        code, body, watch = self._route(req)
        req.status, req.response = code, body
        if watch:
            self._stream(tls, req, watch)
            return False
        self._respond(tls, code, body)
        return req.headers.get("connection", "").lower() != "close"

    def _respond(self, tls, code, obj, extra=()):
        body = go_json(obj)
        head = [f"HTTP/1.1 {code} {REASONS.get(code, 'Unknown')}",
                "Audit-Id: " + str(uuid.uuid4()),
                "Cache-Control: no-cache, private",
                "Content-Type: application/json",
                f"Date: {_http_date()}",
                f"Content-Length: {len(body)}", *extra, "", ""]
        tls.sendall("\r\n".join(head).encode() + body)

    def _route(self, req):
        """(HTTP status, body object, Watch or None)."""
        auth = req.headers.get("authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else None
        with self.lock:
            req.user = self.tokens.get(token)
        if req.user is None:
            return 401, status(401, "Unauthorized", "Unauthorized"), None
        parsed = _parse_path(req.path)
        if parsed is None:
            return 404, status(404, "NotFound",
                               "the server could not find the requested "
                               "resource"), None
        resource, ns, name = parsed
        try:
            match, sel_name = _selectors(req.query)
        except ValueError as e:
            return 400, status(400, "BadRequest", str(e)), None
        verb = _verb(req, name)
        req.verb = verb
        check_name = name or sel_name
        if not self._allowed(req.user, verb, resource, ns, check_name):
            return 403, _forbidden(req.user, verb, resource, ns, name), None
        try:
            return self._do(req, verb, resource, ns, name, match)
        except NotFound:
            return 404, status(404, "NotFound",
                               f'{resource} "{name}" not found',
                               {"name": name, "kind": resource}), None
        except Conflict:
            return 409, status(409, "Conflict",
                               f'Operation cannot be fulfilled on {resource} '
                               f'"{name}": the object has been modified; '
                               'please apply your changes to the latest '
                               'version and try again'), None
        except (ValueError, TypeError, KeyError) as e:
            return 400, status(400, "BadRequest", str(e)), None

    def _do(self, req, verb, resource, ns, name, match):
        st = self.store
        if verb == "get":
            obj = st.get(resource, ns, name)
            if obj is None:
                raise NotFound(name)
            return 200, obj, None
        if verb == "list":
            items, rv = st.list(resource, ns, match)
            api, kind = KINDS[resource]
            return 200, {"kind": kind + "List",
                         "apiVersion": api.split("/", 1)[1],
                         "metadata": {"resourceVersion": str(rv)},
                         "items": items}, None
        if verb == "watch":
            return self._open_watch(req, resource, ns, match)
        body = json.loads(req.body or b"null")
        if verb == "create":
            if name:
                return 405, status(405, "MethodNotAllowed",
                                   "the server does not allow this method "
                                   "on the requested resource"), None
            return 201, st.create(resource, ns, body), None
        if verb == "update":
            return 200, st.update(resource, ns, name, body,
                                  body.get("metadata", {}).get(
                                      "resourceVersion")), None
        if verb == "patch":
            ctype = req.headers.get("content-type", "")
            if ctype not in ("application/merge-patch+json",
                             "application/strategic-merge-patch+json"):
                return 415, status(415, "UnsupportedMediaType",
                                   "the body of the request was in an "
                                   "unknown format - accepted media types "
                                   "include: application/merge-patch+json, "
                                   "application/strategic-merge-patch+json"
                                   ), None
            return 200, st.patch(resource, ns, name, body), None
        if verb == "delete":
            st.delete(resource, ns, name)
            return 200, {"kind": "Status", "apiVersion": "v1",
                         "metadata": {}, "status": "Success",
                         "details": {"name": name, "kind": resource}}, None
        return 405, status(405, "MethodNotAllowed", "method not allowed"), None

    def _open_watch(self, req, resource, ns, match):
        rv_text = req.query.get("resourceVersion", "")
        rv = None
        if rv_text not in ("", "0"):
            try:
                rv = int(rv_text)
            except ValueError:
                return 400, status(400, "BadRequest",
                                   f'invalid resource version: '
                                   f'"{rv_text}"'), None
        w = Watch(self, req, resource, ns, match)
        if not self.store.subscribe(w, rv):
            msg = f"too old resource version: {rv} ({self.store.compacted})"
            if self.gone_as == "status":
                return 410, status(410, "Expired", msg), None
            w.pending.append(go_json({"type": "ERROR", "object": status(
                410, "Expired", msg)}) + b"\n")
            w.ending = "end"
        return 200, None, w

    def _stream(self, tls, req, w):
        """Writes the watch stream until it times out, ends or breaks."""
        timeout = _watch_timeout(req.query)
        if self.watch_timeout is not None:
            timeout = min(timeout, self.watch_timeout)
        end = time.monotonic() + timeout
        head = ["HTTP/1.1 200 OK", "Audit-Id: " + str(uuid.uuid4()),
                "Cache-Control: no-cache, private",
                "Content-Type: application/json",
                f"Date: {_http_date()}", "Transfer-Encoding: chunked", "", ""]
        with self.cond:
            self.open_watches.append(w)
        try:
            tls.sendall("\r\n".join(head).encode())
            with self.cond:
                req.watch_started = time.monotonic()
                self.cond.notify_all()
            self._pump(tls, w, end)
        finally:
            self.store.unsubscribe(w)
            with self.cond:
                if w in self.open_watches:
                    self.open_watches.remove(w)
                self.cond.notify_all()

    def _pump(self, tls, w, end):
        while True:
            with self.cond:
                while not self.stopping:
                    if w.pending and not self.held:
                        break
                    if w.ending or time.monotonic() >= end:
                        break
                    self.cond.wait(max(0.0, end - time.monotonic()))
                if self.stopping:
                    return
                items, w.pending = w.pending, []
                ending = w.ending if not items else None
                timed_out = not items and time.monotonic() >= end
            if items:
                self._write_events(tls, w, items)
                continue
            if ending == "break":
                if w.partial:
                    tls.sendall(w.partial)
                _close_hard(tls)
                return
            if timed_out and self.bookmark_before_end and w.bookmarks:
                self._write(tls, [self._bookmark_line(w, self.store.rv)])
            tls.sendall(b"0\r\n\r\n")    # the clean end of the stream
            return

    def _write_events(self, tls, w, items):
        data = b"".join(
            it if isinstance(it, bytes) else
            go_json({"type": it.type, "object": it.obj}) + b"\n"
            for it in items)
        self._write(tls, self.chunking(data))

    def _write(self, tls, chunks):
        encoded = b"".join(encode_chunk(c) for c in chunks if c)
        pieces = (self.writes(encoded) if self.writes
                  else [encode_chunk(c) for c in chunks if c])
        self.write_started = time.monotonic()
        for i, p in enumerate(pieces):
            if i and self.chunk_delay:
                time.sleep(self.chunk_delay)
            tls.sendall(p)
        self.last_event_written = time.monotonic()


REASONS = {200: "OK", 201: "Created", 400: "Bad Request",
           401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 409: "Conflict", 410: "Gone",
           415: "Unsupported Media Type", 500: "Internal Server Error"}


def _http_date():
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())


def _close(sock):
    """Close with FIN after what was written (a graceful end)."""
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def _close_hard(sock):
    """Close with RST, so a peer blocked on it wakes at once."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        b"\x01\x00\x00\x00\x00\x00\x00\x00")
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def _parse_path(path):
    """(resource, namespace or None, name or None) for
    /api/v1[/namespaces/NS]/RES[/NAME] and /apis/G/V/..., else None."""
    parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
    for res, (prefix, _) in KINDS.items():
        pre = prefix.split("/")
        if parts[:len(pre)] != pre:
            continue
        rest = parts[len(pre):]
        ns = None
        if len(rest) >= 2 and rest[0] == "namespaces":
            ns, rest = rest[1], rest[2:]
        if rest and rest[0] == res and len(rest) <= 2:
            if ns is None and len(rest) == 2:
                return None
            return res, ns, rest[1] if len(rest) == 2 else None
    return None


def _selectors(query):
    """(object -> bool, the name a fieldSelector pins or None). Supports what
    the API server supports for every kind: metadata.name and
    metadata.namespace (= and ==, !=), and equality label selectors."""
    tests, pinned = [], None
    for term in filter(None, query.get("fieldSelector", "").split(",")):
        neg = "!=" in term
        field, sep, value = term.replace("==", "=").replace(
            "!=", "=").partition("=")
        if not sep or field not in ("metadata.name", "metadata.namespace"):
            raise ValueError(f'"{field}" is not a known field selector: only '
                             '"metadata.name", "metadata.namespace"')
        key = field.split(".", 1)[1]
        tests.append(lambda o, k=key, v=value, n=neg:
                     (o.get("metadata", {}).get(k) == v) != n)
        if key == "name" and not neg:
            pinned = value
    for term in filter(None, query.get("labelSelector", "").split(",")):
        neg = "!=" in term
        key, sep, value = term.replace("==", "=").replace(
            "!=", "=").partition("=")
        if not sep:
            tests.append(lambda o, k=key: k in o.get("metadata", {}).get(
                "labels", {}))
            continue
        tests.append(lambda o, k=key, v=value, n=neg: (
            o.get("metadata", {}).get("labels", {}).get(k) == v) != n)
    return (lambda o: all(t(o) for t in tests)), pinned


def _verb(req, name):
    m = req.method
    if m == "GET":
        if name:
            return "get"
        return "watch" if req.is_watch else "list"
    return {"POST": "create", "PUT": "update", "PATCH": "patch",
            "DELETE": "delete"}.get(m, m.lower())


def _forbidden(user, verb, resource, ns, name):
    what = f'{resource} "{name}"' if name else resource
    where = f' in the namespace "{ns}"' if ns else " at the cluster scope"
    return status(403, "Forbidden",
                  f'{what} is forbidden: User "{user}" cannot {verb} '
                  f'resource "{resource}" in API group ""{where}',
                  {"name": name, "kind": resource} if name
                  else {"kind": resource})


def _watch_timeout(query):
    """The server's choice when the client names none is 30-60 min."""
    try:
        t = int(query.get("timeoutSeconds", ""))
        if t > 0:
            return t
    except ValueError:
        pass
    return 1800


class _Reader:
    """Reads HTTP/1.1 requests from a TLS socket, bounded."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            return False
        self.buf += data
        return True

    def request(self, conn):
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > HEAD_LIMIT or not self._fill():
                return None
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, _version = lines[0].split(" ", 2)
        except ValueError:
            return None
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        length = int(headers.get("content-length", "0") or 0)
        if length > BODY_LIMIT:
            return None
        while len(self.buf) < length:
            if not self._fill():
                return None
        body, self.buf = self.buf[:length], self.buf[length:]
        return Request(conn, method, target, headers, body)


# ---------------------------------------------------------------------------
# Addresses for failure cases


def refused_port(host="127.0.0.1"):
    """A port on host where nothing listens: connecting is refused."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---------------------------------------------------------------------------
# A small client, for the self-test and manual checks


class Client:
    """HTTP/1.1 over TLS verified against ca (the fake's own self-test; the
    binary under test is the real client)."""

    def __init__(self, api, token="token-1", ca=None, server_hostname=None):
        ctx = ssl.create_default_context(cafile=ca or api.ca_path)
        self.sock = socket.create_connection((api.host, api.port), 5)
        self.tls = ctx.wrap_socket(
            self.sock, server_hostname=server_hostname or api.host)
        self.token, self.buf = token, b""

    def close(self):
        self.tls.close()

    def send(self, method, target, body=None, ctype=None):
        head = [f"{method} {target} HTTP/1.1", "Host: fake",
                "Accept: application/json", "User-Agent: fakeapi-selftest"]
        if self.token is not None:
            head.append(f"Authorization: Bearer {self.token}")
        data = b""
        if body is not None:
            data = json.dumps(body).encode()
            head += [f"Content-Type: {ctype or 'application/merge-patch+json'}",
                     f"Content-Length: {len(data)}"]
        self.tls.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        return self.head()

    def _more(self):
        data = self.tls.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def head(self):
        while b"\r\n\r\n" not in self.buf:
            self._more()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        code = int(lines[0].split()[1])
        hdrs = {k.lower(): v.strip() for k, _, v in
                (ln.partition(":") for ln in lines[1:])}
        return code, hdrs

    def body(self, hdrs):
        n = int(hdrs["content-length"])
        while len(self.buf) < n:
            self._more()
        data, self.buf = self.buf[:n], self.buf[n:]
        return json.loads(data)

    def request(self, method, target, body=None, ctype=None):
        code, hdrs = self.send(method, target, body, ctype)
        return code, self.body(hdrs)

    def chunk(self):
        """The next chunk's data (b"" at the end of the stream)."""
        while b"\r\n" not in self.buf:
            self._more()
        size, self.buf = self.buf.split(b"\r\n", 1)
        n = int(size, 16)
        while len(self.buf) < n + 2:
            self._more()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def events(self):
        """Yields (chunk sizes, event) for each line of the stream."""
        line, sizes = b"", []
        while True:
            c = self.chunk()
            if not c:
                return
            sizes.append(len(c))
            line += c
            while b"\n" in line:
                one, line = line.split(b"\n", 1)
                yield sizes, json.loads(one)
                sizes = []


# ---------------------------------------------------------------------------
# Command line


def serve(args):
    certs = Certs()
    sans = args.san or ["IP:127.0.0.1", "DNS:kubernetes.default.svc",
                        "DNS:localhost"]
    api = FakeAPI(certs, sans=sans, host=args.host, port=args.port,
                  tokens={args.token: args.user},
                  history_seconds=args.history)
    api.watch_timeout = args.watch_timeout
    if args.bytewise:
        api.chunking = bytewise
    data = dict(kv.split("=", 1) for kv in args.data)
    if args.configmap:
        api.configmap(args.namespace, args.configmap, data)
    api.start()
    if args.creds:
        write_credentials(args.creds, args.token, api.ca_path, args.namespace)
    print(f"fakeapi: serving {api.url}" + (
        f"; credentials in {args.creds}" if args.creds else ""), flush=True)
    print("fakeapi: commands on stdin: patch KEY=VALUE..., unset KEY, "
          "delete, create, bookmark, expire, end, break, gone, token NEW, "
          "requests, quit", flush=True)
    try:
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            cmd, rest = words[0], words[1:]
            try:
                _command(api, args, cmd, rest)
            except (NotFound, Conflict, ValueError) as e:
                print(f"fakeapi: {cmd}: {type(e).__name__} {e}", flush=True)
            if cmd == "quit":
                break
    except KeyboardInterrupt:
        pass
    api.stop()
    certs.cleanup()


def _command(api, args, cmd, rest):
    ns, name = args.namespace, args.configmap
    if cmd == "patch":
        obj = api.patch_data(ns, name, dict(kv.split("=", 1) for kv in rest))
        print(f"fakeapi: resourceVersion {obj['metadata']['resourceVersion']}",
              flush=True)
    elif cmd == "unset":
        api.patch_data(ns, name, {k: None for k in rest})
    elif cmd == "delete":
        api.store.delete("configmaps", ns, name)
    elif cmd == "create":
        api.configmap(ns, name, dict(kv.split("=", 1) for kv in rest))
    elif cmd == "bookmark":
        print(f"fakeapi: bookmark {api.bookmark()}", flush=True)
    elif cmd == "expire":
        api.store.expire()
    elif cmd == "end":
        api.end_watches()
    elif cmd == "break":
        api.break_watches()
    elif cmd == "gone":
        api.error_event()
    elif cmd == "token" and rest:
        api.rotate_token(rest[0])
        if args.creds:
            rotate_token_file(args.creds, rest[0])
    elif cmd == "requests":
        for r in api.requests:
            print(f"fakeapi: {r.method} {r.target} -> {r.status} "
                  f"({r.user})", flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="fakeapi.py",
        description="A fake Kubernetes API server (TLS, bearer token, "
        "list/watch of ConfigMaps) for tests and manual runs of "
        "approve-step --api.")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="serve until 'quit' or end of stdin")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--creds", metavar="DIR",
                   help="write token, ca.crt and namespace here (for "
                   "--api-credentials)")
    s.add_argument("--token", default="token-1")
    s.add_argument("--user", default="system:serviceaccount:ci:pipeline")
    s.add_argument("--namespace", default="ci")
    s.add_argument("--configmap", default="approvals",
                   help="create this ConfigMap at start ('' for none)")
    s.add_argument("--data", nargs="*", default=[], metavar="KEY=VALUE")
    s.add_argument("--san", action="append",
                   help="subjectAltName of the server certificate, e.g. "
                   "IP:127.0.0.1 or DNS:kubernetes.default.svc (repeat)")
    s.add_argument("--history", type=float, default=300.0,
                   help="seconds of watch history (default 300)")
    s.add_argument("--watch-timeout", type=float,
                   help="end every watch after this many seconds")
    s.add_argument("--bytewise", action="store_true",
                   help="send watch events one byte per chunk")
    sub.add_parser("selftest", help="test the fake with a Python client")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.cmd == "serve":
        serve(args)
        return 0
    import test_fakeapi
    return test_fakeapi.main()


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())

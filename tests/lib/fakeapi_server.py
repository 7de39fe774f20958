"""The fake API server itself (see fakeapi.py): TLS, tokens and rules, the
REST verbs on the store, and the watch streams with every failure a test
can ask for."""

import contextlib
import itertools
import json
import socket
import ssl
import threading
import time
import uuid

from fakeapi_http import (REASONS, Connection, Reader, asked_watch_timeout,
                          close_graceful, close_hard, encode_chunk, forbidden,
                          http_date, parse_path, per_line, selectors, verb_of)
from fakeapi_store import (KINDS, Conflict, Event, NotFound, Store, go_json,
                           status)


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
            close_hard(c.sock)
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
            reader = Reader(tls)
            while not self.stopping:
                req = reader.request(conn)
                if req is None:
                    return
                if not self._handle(conn, tls, req):
                    return
        except (OSError, ssl.SSLError):
            pass
        finally:
            close_graceful(conn.tls or conn.sock)
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
            close_hard(conn.sock)
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
                f"Date: {http_date()}",
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
        parsed = parse_path(req.path)
        if parsed is None:
            return 404, status(404, "NotFound",
                               "the server could not find the requested "
                               "resource"), None
        resource, ns, name = parsed
        try:
            match, sel_name = selectors(req.query)
        except ValueError as e:
            return 400, status(400, "BadRequest", str(e)), None
        verb = verb_of(req, name)
        req.verb = verb
        check_name = name or sel_name
        if not self._allowed(req.user, verb, resource, ns, check_name):
            return 403, forbidden(req.user, verb, resource, ns, name), None
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
        timeout = asked_watch_timeout(req.query)
        if self.watch_timeout is not None:
            timeout = min(timeout, self.watch_timeout)
        end = time.monotonic() + timeout
        head = ["HTTP/1.1 200 OK", "Audit-Id: " + str(uuid.uuid4()),
                "Cache-Control: no-cache, private",
                "Content-Type: application/json",
                f"Date: {http_date()}", "Transfer-Encoding: chunked", "", ""]
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
                close_hard(tls)
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

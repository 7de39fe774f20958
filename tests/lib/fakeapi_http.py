"""HTTP/1.1 as the fake API server (fakeapi.py) speaks it: how watch
events are cut into chunks, requests and connections as recorded, the
request reader, the path, selector and verb of a request, and sockets'
endings."""

import socket
import threading
import time
import urllib.parse

from fakeapi_store import KINDS, status

HEAD_LIMIT = 64 * 1024      # the request head the fake accepts
BODY_LIMIT = 8 * 1024 * 1024


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


# ---------------------------------------------------------------------------
# Reading and routing requests


REASONS = {200: "OK", 201: "Created", 400: "Bad Request",
           401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 409: "Conflict", 410: "Gone",
           415: "Unsupported Media Type", 500: "Internal Server Error"}


def http_date():
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())


def _quietly(call, *args):
    """call(*args), where an OSError only means the peer went first."""
    try:
        call(*args)
    except OSError:
        pass


def close_graceful(sock):
    """Close with FIN after what was written (a graceful end)."""
    _quietly(sock.shutdown, socket.SHUT_WR)
    _quietly(sock.close)


def close_hard(sock):
    """Close with RST, so a peer blocked on it wakes at once."""
    _quietly(sock.setsockopt, socket.SOL_SOCKET, socket.SO_LINGER,
             b"\x01\x00\x00\x00\x00\x00\x00\x00")
    _quietly(sock.close)


def parse_path(path):
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


def selectors(query):
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


def verb_of(req, name):
    m = req.method
    if m == "GET":
        if name:
            return "get"
        return "watch" if req.is_watch else "list"
    return {"POST": "create", "PUT": "update", "PATCH": "patch",
            "DELETE": "delete"}.get(m, m.lower())


def forbidden(user, verb, resource, ns, name):
    what = f'{resource} "{name}"' if name else resource
    where = f' in the namespace "{ns}"' if ns else " at the cluster scope"
    return status(403, "Forbidden",
                  f'{what} is forbidden: User "{user}" cannot {verb} '
                  f'resource "{resource}" in API group ""{where}',
                  {"name": name, "kind": resource} if name
                  else {"kind": resource})


def asked_watch_timeout(query):
    """The server's choice when the client names none is 30-60 min."""
    try:
        t = int(query.get("timeoutSeconds", ""))
        if t > 0:
            return t
    except ValueError:
        pass
    return 1800


class Reader:
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

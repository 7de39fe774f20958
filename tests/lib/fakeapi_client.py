"""A small HTTP/1.1 client for the fake API server (fakeapi.py): its own
self-test and manual checks; the binary under test is the real client."""

import json
import socket
import ssl


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

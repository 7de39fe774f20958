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
import os
import sys

# The parts, one module a concern (fakeapi_certs, fakeapi_store,
# fakeapi_http, fakeapi_server, fakeapi_client); their names are this
# module's too, so that `import fakeapi` is all a test needs.
from fakeapi_certs import Certs, rotate_token_file, write_credentials
from fakeapi_client import Client
from fakeapi_http import (BODY_LIMIT, HEAD_LIMIT, REASONS, Connection,
                          Request, bytewise, encode_chunk, every, mid_line,
                          one_chunk, per_line, random_split, refused_port)
from fakeapi_server import FakeAPI, Watch
from fakeapi_store import (KINDS, Conflict, Event, NotFound, Store, go_json,
                           merge_patch, now_rfc3339, status)

__all__ = ["Certs", "rotate_token_file", "write_credentials", "Client",
           "BODY_LIMIT", "HEAD_LIMIT", "REASONS", "Connection", "Request",
           "bytewise", "encode_chunk", "every", "mid_line", "one_chunk",
           "per_line", "random_split", "refused_port", "FakeAPI", "Watch",
           "KINDS", "Conflict", "Event", "NotFound", "Store", "go_json",
           "merge_patch", "now_rfc3339", "status", "serve", "main"]


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

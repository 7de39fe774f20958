"""The fake API server's objects (fakeapi.py): the resource kinds, JSON as
the API server writes it, and the store with its one global
resourceVersion counter, its history and its watchers."""

import copy
import datetime
import json
import threading
import time
import uuid


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

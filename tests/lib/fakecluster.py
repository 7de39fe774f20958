"""A cluster in front of fakeapi.py, for tests that run the real kubectl and
the real plugin (the console's, the examples check's): what an approver's
cluster adds in front of the store:

- SelfSubjectReview (`kubectl auth whoami`) for each user's token;
- discovery, as much as kubectl asks for (the plugin's calls, create -f);
- GET of a Tekton run's status subresource (the whole object, as for CRDs);
- the approve-step vote policy on labelled ConfigMaps (a user writes only
  their own KEY.NAME, once), denied as the API server words a
  ValidatingAdmissionPolicy's denial;
- failures a test arms: any status and message for chosen requests;
- a kubeconfig with one context per user.

    cluster = Cluster({"alice": ("alice@example.com", ["approvers"])}, objects)
    cluster.api.start(); cluster.kubeconfig(path, namespace="ci")
"""

import json
import re

import fakeapi

POLICY = "ValidatingAdmissionPolicy 'approve-step-votes' with binding 'approve-step-votes-binding' denied request: "


def encode(name):
    return "".join(c if re.match(r"[-.a-zA-Z0-9]$", c) else "_%02x" % b
                   for b in name.encode() for c in [chr(b)])


PENDING = re.compile(r"(?i)^[ \t\r\n]*(init|pending|notifying|notified|waiting)?[ \t\r\n]*$")


def policy(user, old, patch):
    """The vote policy's message for a merge patch of a labelled ConfigMap, or None."""
    old_data = old.get("data") or {}
    new = fakeapi.merge_patch(old, patch)
    if (old.get("metadata", {}).get("labels") or {}).get("approve-step/gate") != "true":
        return None
    new_data = new.get("data") or {}
    changed = sorted(k for k in set(old_data) | set(new_data) if old_data.get(k) != new_data.get(k))
    me = encode(user)
    for k in changed:
        if k.find(".") < 1:
            return f"approve-step: key {k} is not a vote: in a ConfigMap labelled approve-step/gate=true only votes KEY.NAME may be written (KEY without a dot, NAME your encoded user name)"
    for k in changed:
        if k[k.index(".") + 1:] != me:
            return f"approve-step: key {k} is the vote of {k[k.index('.') + 1:]}, not yours: as {user} you may only write KEY.{me} (KEY without a dot)"
    for k in changed:
        if k in old_data and not PENDING.match(old_data[k]):
            return f"approve-step: vote {k} already holds a decision and cannot be changed or removed: a decision is final"
    return None


def resources(group_version, kinds):
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": [
        {"name": plural, "singularName": kind.lower(), "namespaced": namespaced, "kind": kind,
         "verbs": verbs or ["create", "delete", "get", "list", "patch", "update", "watch"]}
        for plural, kind, namespaced, verbs in kinds]}


def group(name, version):
    gv = {"groupVersion": f"{name}/{version}", "version": version}
    return {"name": name, "versions": [gv], "preferredVersion": gv}


# Legacy discovery, as much as kubectl (the plugin's calls) asks for.
DISCOVERY = {
    "/api": {"kind": "APIVersions", "versions": ["v1"],
             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1",
              "groups": [group("authentication.k8s.io", "v1"), group("tekton.dev", "v1")]},
    "/api/v1": resources("v1", [("configmaps", "ConfigMap", True, None), ("pods", "Pod", True, None)]),
    "/apis/tekton.dev/v1": resources("tekton.dev/v1", [("taskruns", "TaskRun", True, None),
                                                       ("pipelineruns", "PipelineRun", True, None)]),
    "/apis/authentication.k8s.io/v1": resources("authentication.k8s.io/v1", [
        ("selfsubjectreviews", "SelfSubjectReview", False, ["create"]),
        ("tokenreviews", "TokenReview", False, ["create"])]),
}


def openapi_v3(kinds):
    """An OpenAPI v3 group-version document as the API server serves it, cut
    down to what kubectl's create and apply read of it: each kind's PATCH
    path, tagged x-kubernetes-group-version-kind, with the fieldValidation
    query parameter (so kubectl validates on the server, and asks for no
    schema)."""
    paths = {}
    for prefix, group_, version, plural, kind in kinds:
        paths[f"/{prefix}/namespaces/{{namespace}}/{plural}/{{name}}"] = {
            "patch": {"x-kubernetes-group-version-kind": {"group": group_, "version": version, "kind": kind},
                      "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}]}}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.31.0"}, "paths": paths}


OPENAPI = {
    "/openapi/v3": {"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=1"},
                              "apis/tekton.dev/v1": {"serverRelativeURL": "/openapi/v3/apis/tekton.dev/v1?hash=1"}}},
    "/openapi/v3/api/v1": openapi_v3([("api/v1", "", "v1", "configmaps", "ConfigMap"),
                                      ("api/v1", "", "v1", "pods", "Pod")]),
    "/openapi/v3/apis/tekton.dev/v1": openapi_v3([("apis/tekton.dev/v1", "tekton.dev", "v1", "pipelineruns", "PipelineRun"),
                                                  ("apis/tekton.dev/v1", "tekton.dev", "v1", "taskruns", "TaskRun")]),
}
DISCOVERY.update(OPENAPI)
DISCOVERY["/version"] = {"major": "1", "minor": "31", "gitVersion": "v1.31.0", "platform": "linux/amd64"}


def raw(code, obj):
    body = fakeapi.go_json(obj)
    return (f"HTTP/1.1 {code} {fakeapi.REASONS.get(code, 'Unknown')}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


class Cluster:
    """users: {context name: (user name, groups)}, each with the token
    token-NAME and every verb but delete on every kind (RBAC is not what
    these tests check), except those named in no_rights: 403 on all.
    objects(): [(resource, object)], what every reset starts from."""

    def __init__(self, users, objects=list, no_rights=()):
        self.users = dict(users)
        self.objects = objects
        self.certs = fakeapi.Certs()
        tokens = {f"token-{k}": v[0] for k, v in self.users.items()}
        self.api = fakeapi.FakeAPI(self.certs, tokens=tokens)
        self.failures = []  # armed: {method, path (regex), status, message, reason, times}
        self.log = []  # admission outcomes: (user, path, message or None)
        for key, (user, _) in self.users.items():
            if key not in no_rights:
                for res in fakeapi.KINDS:
                    self.api.grant(user, {"get", "list", "watch", "patch", "create", "update"}, res)
        self.api.on_request = self.front
        self.reset()

    def reset(self):
        self.api.end_watches()
        self.api.store = fakeapi.Store()
        self.api.chunking = fakeapi.per_line
        self.failures = []
        for res, obj in self.objects():
            self.api.store.create(res, obj["metadata"]["namespace"], obj)

    def front(self, req):
        """What the API server does before the store: authentication
        (fakeapi's), SelfSubjectReview, armed failures, admission."""
        auth = req.headers.get("authorization", "")
        user = self.api.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        if user is None:
            return None  # fakeapi answers 401
        for f in self.failures:
            if f["times"] and req.method == f["method"] and re.search(f["path"], req.path):
                f["times"] -= 1
                req.user = user
                return raw(f["status"], fakeapi.status(f["status"], f.get("reason", "Forbidden"), f["message"]))
        m = re.match(r"^/apis/tekton\.dev/v1/namespaces/([^/]+)/(pipelineruns|taskruns)/([^/]+)/status$", req.path)
        if req.method == "GET" and m:  # a status subresource answers with the whole object
            obj = self.api.store.get(m.group(2), m.group(1), m.group(3))
            req.user = user
            return raw(200, obj) if obj else raw(404, fakeapi.status(404, "NotFound", f'{m.group(2)}.tekton.dev "{m.group(3)}" not found'))
        if req.method == "GET" and req.path in DISCOVERY:
            req.user = user
            return raw(200, DISCOVERY[req.path])
        if req.method == "POST" and req.path == "/apis/authentication.k8s.io/v1/selfsubjectreviews":
            groups = next(g for u, g in self.users.values() if u == user) + ["system:authenticated"]
            req.user = user
            return raw(201, {"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
                             "metadata": {"creationTimestamp": None},
                             "status": {"userInfo": {"username": user, "groups": groups}}})
        m = re.match(r"^/api/v1/namespaces/([^/]+)/configmaps/([^/]+)$", req.path)
        if req.method == "PATCH" and m:
            old = self.api.store.get("configmaps", m.group(1), m.group(2))
            try:
                patch = json.loads(req.body or b"null")
            except ValueError:
                return None
            message = old and isinstance(patch, dict) and policy(user, old, patch)
            self.log.append([user, req.path, message or None])
            if message:
                req.user = user
                return raw(403, fakeapi.status(403, "Forbidden", f'configmaps "{m.group(2)}" is forbidden: {POLICY}{message}',
                                               {"name": m.group(2), "kind": "configmaps"}))
        return None

    def kubeconfig(self, path, namespace="ci", current="alice"):
        import base64
        ca = base64.b64encode(open(self.api.ca_path, "rb").read()).decode()
        cfg = {"apiVersion": "v1", "kind": "Config", "preferences": {},
               "clusters": [{"name": "fake", "cluster": {"server": self.api.url, "certificate-authority-data": ca}}],
               "users": [{"name": k, "user": {"token": f"token-{k}"}} for k in self.users],
               "contexts": [{"name": k, "context": {"cluster": "fake", "user": k, "namespace": namespace}}
                            for k in self.users],
               "current-context": current}
        with open(path, "w") as f:
            json.dump(cfg, f)

    # -- commands: {"op": NAME, ...} -> JSON-able answer
    def cmd_reset(self, c):
        self.reset()
        return True

    def cmd_get(self, c):
        return self.api.store.get(c["resource"], c["ns"], c["name"])

    def cmd_patch(self, c):
        return self.api.store.patch(c["resource"], c["ns"], c["name"], c["patch"])

    def cmd_create(self, c):
        return self.api.store.create(c["resource"], c["object"]["metadata"]["namespace"], c["object"])

    def cmd_fail(self, c):
        self.failures.append({"times": 1, **c})
        return True

    def cmd_requests(self, c):
        return [{"method": r.method, "path": r.path, "query": r.query, "user": r.user, "status": r.status,
                 "body": (r.body or b"").decode("utf-8", "replace")} for r in self.api.requests]

    def cmd_chunking(self, c):
        """How watch events are cut into chunks: per_line, mid_line, bytewise."""
        self.api.chunking = {"per_line": fakeapi.per_line, "mid_line": fakeapi.mid_line,
                             "bytewise": fakeapi.bytewise}[c["how"]]
        return True

    def cmd_end_watches(self, c):
        self.api.end_watches()
        return True

    def cmd_expire(self, c):
        self.api.store.expire()
        return True

    def cmd_admission(self, c):
        return self.log

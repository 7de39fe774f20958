"""The plugin as a user installs it: tools/install-plugin.sh into an empty
prefix, and krew's way (the release archive of tools/plugin-archive.sh,
unpacked and placed as plugin/krew/approve.yaml's files say, bin linked
from another folder); each runs `kubectl-approve version` and `ui`, whose
page is fetched over HTTP from the stand-in kubectl proxy (fake/kubectl).
Also: the one version (meson.build = the plugin's VERSION = the manifest),
and the manifest against tests/plugin/krew-schema.json (krew's documented
fields)."""

import glob
import hashlib
import json
import os
import re
import select
import shutil
import signal
import subprocess
import tarfile
import tempfile
import urllib.request

from fixture import CASES, FAKE, HERE, ROOT

INSTALL = os.path.join(ROOT, "tools", "install-plugin.sh")
ARCHIVE = os.path.join(ROOT, "tools", "plugin-archive.sh")
MANIFEST = os.path.join(ROOT, "plugin", "krew", "approve.yaml")
SCHEMA = os.path.join(HERE, "krew-schema.json")
INDEX = open(os.path.join(ROOT, "plugin", "console", "index.html"), "rb").read()


def meson_version():
    m = re.search(r"version\s*:\s*'([^']+)'", open(os.path.join(ROOT, "meson.build"), encoding="utf-8").read())
    return m.group(1)


def env_for(tmp):
    state = os.path.join(tmp, "state.json")
    if not os.path.exists(state):
        with open(state, "w", encoding="utf-8") as f:
            json.dump({"items": [], "namespace": "ci"}, f)
    return {"PATH": FAKE + ":/usr/local/bin:/usr/bin:/bin", "FAKE_KUBECTL_STATE": state,
            "FAKE_KUBECTL_LOG": os.path.join(tmp, "calls.log"), "TMPDIR": tmp, "HOME": tmp,
            "LANG": "C.UTF-8"}


def run(argv, tmp, timeout=60):
    return subprocess.run(argv, env=env_for(tmp), capture_output=True, text=True, timeout=timeout)


def ui_page(plugin, tmp):
    """Starts PLUGIN ui --no-browser -n ci, reads the address it prints, and
    fetches the page and console.js; returns (problems, page bytes)."""
    p = subprocess.Popen([plugin, "ui", "--no-browser", "-n", "ci"], env=env_for(tmp),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        ready, _, _ = select.select([p.stdout], [], [], 30)
        line = p.stdout.readline().decode() if ready else ""
        m = re.match(r"approve-step console: (http://127\.0\.0\.1:\d+/console/)#secret=[0-9a-f]{32}&namespace=ci$",
                     line.strip())
        if not m:
            p.kill()
            return [f"ui printed {line!r}, exit {p.wait()}, stderr {p.stderr.read().decode()!r}"], b""
        page = urllib.request.urlopen(m.group(1), timeout=10).read()
        js = urllib.request.urlopen(m.group(1) + "console.js", timeout=10).read()
        probs = []
        if js != open(os.path.join(ROOT, "plugin", "console", "console.js"), "rb").read():
            probs.append("console.js served differs from plugin/console/console.js")
        return probs, page
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        p.stdout.close()
        p.stderr.close()


def archive(tmp):
    out = os.path.join(tmp, "release")
    r = subprocess.run([ARCHIVE, out], env=dict(os.environ, SOURCE_DATE_EPOCH="1700000000"),
                       capture_output=True, text=True, timeout=60)
    return r, out, os.path.join(out, f"kubectl-approve-{meson_version()}.tar.gz")


def krew_place(manifest, tarball, store):
    """What krew does with an archive: unpacks it and moves each `files`
    entry (a glob; each match goes into `to` under its own name); returns
    the platform's bin path."""
    plat = manifest["spec"]["platforms"][0]
    unpack = store + ".unpacked"
    os.makedirs(unpack)
    with tarfile.open(tarball) as t:
        for m in t.getmembers():  # our own archive; still, nothing outside
            if m.name.startswith("/") or ".." in m.name.split("/") or not (m.isfile() or m.isdir()):
                raise ValueError(f"unexpected archive member {m.name}")
        t.extractall(unpack)
    os.makedirs(store)
    for f in plat.get("files", [{"from": "*", "to": "."}]):
        for src in glob.glob(os.path.join(unpack, f["from"])):
            dst_dir = os.path.join(store, f["to"])
            os.makedirs(dst_dir, exist_ok=True)
            os.rename(src, os.path.join(dst_dir, os.path.basename(src)))
    return os.path.join(store, plat["bin"])


class Tmp:
    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="kubectl-approve-install.")
        return self.path

    def __exit__(self, *a):
        shutil.rmtree(self.path, ignore_errors=True)


@CASES.add("version: `kubectl approve version` and --version print meson.build's version, exit 0, need no kubectl")
def version_matches_meson():
    want = f"kubectl-approve {meson_version()}\n"
    p = []
    with Tmp() as tmp:
        e = dict(env_for(tmp), PATH="/usr/bin:/bin")  # no kubectl at all
        for args in (["version"], ["--version"]):
            r = subprocess.run([os.path.join(ROOT, "plugin", "kubectl-approve")] + args, env=e,
                               capture_output=True, text=True, timeout=30)
            if (r.returncode, r.stdout, r.stderr) != (0, want, ""):
                p.append(f"{args}: exit {r.returncode}, stdout {r.stdout!r}, stderr {r.stderr!r}; want {want!r}")
        r = run([os.path.join(ROOT, "plugin", "kubectl-approve"), "version", "-n", "ci"], tmp)
        if r.returncode != 2 or "version takes no options" not in r.stderr:
            p.append(f"version -n ci: exit {r.returncode}, stderr {r.stderr!r}")
        h = run([os.path.join(ROOT, "plugin", "kubectl-approve"), "--help"], tmp)
        if "  kubectl approve version\n" not in h.stdout:
            p.append("--help's usage lacks 'kubectl approve version'")
    return p


@CASES.add("install: tools/install-plugin.sh PREFIX puts bin/kubectl-approve and share/approve-step/console; version and ui work from there")
def install_into_empty_prefix():
    with Tmp() as tmp:
        prefix = os.path.join(tmp, "prefix")
        r = run([INSTALL, prefix], tmp)
        if r.returncode:
            return [f"install-plugin.sh: exit {r.returncode}: {r.stderr}"]
        p = []
        want = ["bin/kubectl-approve"] + sorted("share/approve-step/console/" + n
                                                 for n in os.listdir(os.path.join(ROOT, "plugin", "console")))
        got = sorted(os.path.relpath(os.path.join(d, f), prefix) for d, _, fs in os.walk(prefix) for f in fs)
        if got != sorted(want):
            p.append(f"installed {got}, want {sorted(want)}")
        if not os.access(os.path.join(prefix, "bin", "kubectl-approve"), os.X_OK):
            p.append("bin/kubectl-approve is not executable")
        plugin = os.path.join(prefix, "bin", "kubectl-approve")
        v = run([plugin, "version"], tmp)
        if (v.returncode, v.stdout) != (0, f"kubectl-approve {meson_version()}\n"):
            p.append(f"version: exit {v.returncode}, {v.stdout!r} {v.stderr!r}")
        probs, page = ui_page(plugin, tmp)
        p += probs
        if page and page != INDEX:
            p.append(f"the page served is not plugin/console/index.html: {page[:80]!r}")
        # through a symlink in another folder on PATH, as a user may link it
        os.makedirs(os.path.join(tmp, "links"))
        os.symlink(os.path.join("..", "prefix", "bin", "kubectl-approve"), os.path.join(tmp, "links", "kubectl-approve"))
        probs, page = ui_page(os.path.join(tmp, "links", "kubectl-approve"), tmp)
        p += ["via a relative symlink: " + x for x in probs]
        if page != INDEX:
            p.append("via a relative symlink: the console's index.html was not served")
        # installing again over it (an upgrade) replaces the files
        r = run([INSTALL, prefix], tmp)
        if r.returncode:
            p.append(f"second install: exit {r.returncode}: {r.stderr}")
        return p


@CASES.add("install: the plugin alone (no console) fails `ui` with exit 1, naming every place it looked; nothing listens")
def plugin_alone_names_the_places():
    with Tmp() as tmp:
        os.makedirs(os.path.join(tmp, "bin"))
        plugin = os.path.join(tmp, "bin", "kubectl-approve")
        shutil.copy(os.path.join(ROOT, "plugin", "kubectl-approve"), plugin)
        r = run([plugin, "ui", "--no-browser", "-n", "ci"], tmp)
        p = []
        if r.returncode != 1 or r.stdout:
            p.append(f"exit {r.returncode}, stdout {r.stdout!r}, want 1 and nothing")
        for where in (os.path.join(tmp, "bin", "console"), os.path.join(tmp, "bin", "..", "share", "approve-step", "console"),
                      "tools/install-plugin.sh", "KUBECTL_APPROVE_CONSOLE"):
            if where not in r.stderr:
                p.append(f"stderr lacks {where!r}: {r.stderr!r}")
        calls = open(os.path.join(tmp, "calls.log")).read() if os.path.exists(os.path.join(tmp, "calls.log")) else ""
        if "proxy" in calls:
            p.append("kubectl proxy was started")
        r = subprocess.run([plugin, "ui", "--no-browser", "-n", "ci"], capture_output=True, text=True, timeout=30,
                           env=dict(env_for(tmp), KUBECTL_APPROVE_CONSOLE=os.path.join(tmp, "nothing")))
        if r.returncode != 1 or os.path.join(tmp, "nothing") not in r.stderr:
            p.append(f"KUBECTL_APPROVE_CONSOLE=missing dir: exit {r.returncode}, stderr {r.stderr!r}")
        return p


@CASES.add("krew: the release archive, placed as the manifest's files say, bin linked from another folder: version and ui work")
def krew_layout():
    import yaml
    with Tmp() as tmp:
        r, out, tarball = archive(tmp)
        if r.returncode:
            return [f"plugin-archive.sh: exit {r.returncode}: {r.stderr}"]
        manifest = yaml.safe_load(open(os.path.join(out, "approve.yaml"), encoding="utf-8"))
        store = os.path.join(tmp, "krew", "store", "approve", manifest["spec"]["version"])
        target = krew_place(manifest, tarball, store)
        os.makedirs(os.path.join(tmp, "krew", "bin"))
        link = os.path.join(tmp, "krew", "bin", "kubectl-approve")
        os.symlink(target, link)  # krew links bin/kubectl-NAME to the store, absolutely
        p = []
        v = run([link, "version"], tmp)
        if (v.returncode, v.stdout) != (0, f"kubectl-approve {meson_version()}\n"):
            p.append(f"version: exit {v.returncode}, {v.stdout!r} {v.stderr!r}")
        probs, page = ui_page(link, tmp)
        p += probs
        if page != INDEX:
            p.append("ui through krew's link did not serve the console's index.html")
        return p


@CASES.add("krew: the archive is reproducible (same bytes twice), holds kubectl-approve, console/, LICENSE owned by 0, and the manifest written has its sha256")
def archive_reproducible_and_manifest_sum():
    with Tmp() as tmp:
        r1, out, tarball = archive(tmp)
        if r1.returncode:
            return [f"plugin-archive.sh: exit {r1.returncode}: {r1.stderr}"]
        first = open(tarball, "rb").read()
        r2, _, _ = archive(tmp)
        p = []
        if open(tarball, "rb").read() != first:
            p.append("a second archive differs from the first")
        sha = hashlib.sha256(first).hexdigest()
        if r1.stdout != sha + "\n":
            p.append(f"printed {r1.stdout!r}, want the sha256 {sha}")
        with tarfile.open(tarball) as t:
            members = t.getmembers()
        names = [m.name for m in members]
        want = ["kubectl-approve", "console"] + sorted("console/" + n for n in os.listdir(os.path.join(ROOT, "plugin", "console"))) + ["LICENSE"]
        if names != want:
            p.append(f"archive holds {names}, want {want}")
        for m in members:
            if (m.uid, m.gid, m.mtime) != (0, 0, 1700000000):
                p.append(f"{m.name}: uid {m.uid} gid {m.gid} mtime {m.mtime}")
        released = open(os.path.join(out, "approve.yaml"), encoding="utf-8").read()
        tree = open(MANIFEST, encoding="utf-8").read()
        if f"    sha256: {sha}\n" not in released:
            p.append("the manifest written lacks the archive's sha256")
        expected = "".join(line for line in tree.splitlines(True) if not line.startswith("#")).replace(
            "    sha256: SHA256_OF_THE_ARCHIVE\n", f"    sha256: {sha}\n")
        if released != expected:
            p.append("the manifest written is not plugin/krew/approve.yaml with the sha256 filled in")
        return p


@CASES.add("krew: the manifest has krew's documented fields (krew-schema.json); version, uri and file names agree with meson.build")
def manifest_valid():
    import jsonschema
    import yaml
    schema = json.load(open(SCHEMA, encoding="utf-8"))
    p = []
    with Tmp() as tmp:
        r, out, tarball = archive(tmp)
        if r.returncode:
            return [f"plugin-archive.sh: exit {r.returncode}: {r.stderr}"]
        m = yaml.safe_load(open(os.path.join(out, "approve.yaml"), encoding="utf-8"))
        for e in jsonschema.Draft202012Validator(schema).iter_errors(m):
            p.append(f"{'/'.join(map(str, e.absolute_path))}: {e.message}")
        v = meson_version()
        if m["spec"]["version"] != "v" + v:
            p.append(f"spec.version {m['spec']['version']}, meson.build says {v}")
        for plat in m["spec"]["platforms"]:
            if not plat["uri"].endswith(f"/v{v}/{os.path.basename(tarball)}"):
                p.append(f"uri {plat['uri']} does not name v{v}/{os.path.basename(tarball)}")
        if m["metadata"]["name"] != "approve" or os.path.basename(MANIFEST) != "approve.yaml":
            p.append("krew wants metadata.name = the file's name = the plugin's name (approve)")
    # the schema refuses what krew refuses: it cannot pass anything
    bad = yaml.safe_load(open(MANIFEST, encoding="utf-8"))  # the placeholder is no sha256
    if jsonschema.Draft202012Validator(schema).is_valid(bad):
        p.append("the schema accepts the placeholder SHA256_OF_THE_ARCHIVE as a sha256")
    for mutate in (lambda d: d["spec"].update(version="0.1.0"), lambda d: d["spec"].pop("shortDescription"),
                   lambda d: d["spec"]["platforms"][0].pop("bin"), lambda d: d["spec"].update(homepages="x"),
                   lambda d: d["spec"]["platforms"][0]["selector"]["matchExpressions"][0].update(operator="in")):
        d = yaml.safe_load(open(MANIFEST, encoding="utf-8"))
        d["spec"]["platforms"][0]["sha256"] = "0" * 64
        if not jsonschema.Draft202012Validator(schema).is_valid(d):
            p.append("the schema refuses the manifest with a well-formed sha256")
            break
        mutate(d)
        if jsonschema.Draft202012Validator(schema).is_valid(d):
            p.append(f"the schema accepts a broken manifest: {json.dumps(d['spec'])[:120]}")
    return p


@CASES.add("shellcheck: tools/install-plugin.sh and tools/plugin-archive.sh are clean")
def shellcheck_install_scripts():
    sc = shutil.which("shellcheck")
    if not sc:
        return ["shellcheck not installed (Debian: apt-get install shellcheck)"]
    r = subprocess.run([sc, INSTALL, ARCHIVE], capture_output=True, text=True)
    return [r.stdout.strip()] if r.returncode else []


@CASES.add("docs: no line of README.md, docs/*.md or the plugin copies the plugin or its console by hand; each `tools/install-plugin.sh [PREFIX]` line, run as written (PREFIX moved into a temp dir), installs the console")
def docs_install_lines():
    p = []
    texts = {os.path.relpath(f, ROOT): open(f, encoding="utf-8").read()
             for f in [os.path.join(ROOT, "README.md"), os.path.join(ROOT, "plugin", "kubectl-approve")]
             + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))}
    lines = 0
    with Tmp() as tmp:
        for rel, text in texts.items():
            for n, line in enumerate(text.splitlines(), 1):
                # copying the script or the console by hand: the layout ui cannot find
                if re.search(r"\b(cp|install)\b[^`\n]*plugin/(kubectl-approve|console)\b", line):
                    p.append(f"{rel}:{n}: installs by hand: {line.strip()}")
                m = re.match(r"^(?:sudo )?(tools/install-plugin\.sh)(?: (\S+))?\s*(?:#.*)?$", line.strip())
                if m:
                    lines += 1
                    # as written, with PREFIX (/usr/local or the one named) moved under tmp
                    prefix = os.path.join(tmp, str(lines), (m.group(2) or "/usr/local").lstrip("~/"))
                    r = run([os.path.join(ROOT, m.group(1)), prefix], tmp)
                    if r.returncode or not os.path.isfile(os.path.join(prefix, "share/approve-step/console/index.html")):
                        p.append(f"{rel}:{n}: {line.strip()}: exit {r.returncode}, {r.stderr.strip()!r}")
    if lines < 2:
        p.append(f"only {lines} install lines found in the docs")
    return p

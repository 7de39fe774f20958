"""The certificates and credentials of the fake API server (fakeapi.py):
CAs and server certificates made at test time by `openssl`, and the
ServiceAccount files the kubelet mounts for approve-step to read."""

import itertools
import os
import shutil
import subprocess
import tempfile


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
               ca="fake-cluster-ca", cn="kube-apiserver", days=2,
               eku="serverAuth"):
        """(certificate path, key path) for a server certificate carrying
        the subjectAltNames sans ("IP:..." or "DNS:...") and the extended
        key usage eku (None: no such extension), signed by ca."""
        ca_crt, ca_key = self.ca(ca)
        base = os.path.join(self.dir, f"server-{next(self.count)}")
        ext = base + ".ext"
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\n")
            if eku:
                f.write(f"extendedKeyUsage={eku}\n")
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

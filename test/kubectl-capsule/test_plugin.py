#!/usr/bin/env python3
"""kubectl-capsule against a real control plane: a CapsuleRun and its
CapsuleExecution are written through the API as the controller and the node
agent would, their output and messages holding terminal escape sequences,
and the real binary's output is checked byte for byte.

usage: test_plugin.py KUBECTL_CAPSULE_BINARY"""

import base64
import json
import os
import re
import socket
import subprocess
import sys
import threading

import yaml

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "crds"))
from kube import ROOT, Cluster, Failure, case, failed  # noqa: E402

NS = "shop"
# OSC 52 (clipboard write, BEL-terminated), clear screen, a C1 CSI (U+009B)
# moving the cursor, DEL, a bidi override, a lone CR (overwrites the line)
# and plain UTF-8 text that must survive.
HOSTILE = ("grüße\n\x1b]52;c;cm0gLXJmIH4K\x07\x1b[2J\x9b1;1H\x7f"
           "\u202eevil\rhidden\r\nend\n")
MESSAGE = "pull failed: \x1b]0;pwned\x07 naïve"


def unsafe(b):
    """The bytes a terminal acts on: ESC and other C0 controls but \\t, \\n
    and \\r\\n, DEL, C1 controls (raw or UTF-8 encoded), bidi overrides."""
    text = b.decode("utf-8", errors="surrogateescape")
    return re.findall("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e"
                      "\u2066-\u2069\udc80-\udcff]|\r(?!\n)", text)


def plugin(binary, kubeconfig, *args):
    p = subprocess.run([binary, "--kubeconfig", kubeconfig, "-n", NS, *args],
                       capture_output=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def setup(k):
    k.ok("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "recap.dev/v1alpha1", "kind": "CapsuleRun",
        "metadata": {"name": "r1", "namespace": NS},
        "spec": {"capsuleRef": {"name": "tool"}}}))
    k.ok("-n", NS, "patch", "capsulerun", "r1", "--subresource=status",
         "--type=merge", "-p", json.dumps({"status": {
             "phase": "Failed", "targets": 1, "failed": 1,
             "conditions": [{"type": "Complete", "status": "True",
                             "reason": "Failed", "message": MESSAGE,
                             "lastTransitionTime": "2025-01-01T00:00:00Z"}]}}))
    k.ok("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "recap.dev/v1alpha1", "kind": "CapsuleExecution",
        "metadata": {"name": "r1-a", "namespace": NS,
                     "labels": {"recap.dev/run": "r1"}},
        "spec": {"runRef": {"name": "r1"}, "node": "node-a",
                 "target": {"pod": "web", "podUID": "u", "container": "app",
                            "containerID": "containerd://abc"},
                 "capsule": {"image": "registry.local/tool:1"}}}))
    k.ok("-n", NS, "patch", "capsuleexecution", "r1-a",
         "--subresource=status", "--type=merge", "-p", json.dumps({"status": {
             "phase": "Failed", "exitCode": 1, "reason": "Error",
             "message": MESSAGE, "stdoutTail": HOSTILE,
             "stdoutBytes": len(HOSTILE.encode()),
             "stderrTail": HOSTILE, "stderrBytes": len(HOSTILE.encode())}}))


def check_logs_escaped(binary, kc):
    rc, out, err = plugin(binary, kc, "logs", "r1")
    if rc != 0:  # printed: 0, whatever the run's phase
        raise Failure(f"exit {rc}: {err!r}")
    for name, b in (("stdout", out), ("stderr", err)):
        if unsafe(b):
            raise Failure(f"{name} holds terminal controls {unsafe(b)!r}: "
                          f"{b!r}")
    text = out.decode()
    for want in ("grüße\n", "^[]52;c;cm0gLXJmIH4K^G^[[2J\\u009b1;1H^?",
                 "\\u202eevil^Mhidden\r\nend\n", "naïve"):
        if want not in text:
            raise Failure(f"stdout lacks {want!r}: {text!r}")
    if "^[]0;pwned^G naïve" not in err.decode():
        raise Failure(f"the run's message is not shown escaped: {err!r}")


def check_logs_raw(binary, kc):
    rc, out, err = plugin(binary, kc, "logs", "--raw", "r1")
    raw = HOSTILE.encode()
    if rc != 0 or out.count(raw) != 2:
        raise Failure(f"--raw: exit {rc}, the output is not byte-exact "
                      f"twice: {out!r}")


def check_json(binary, kc):
    rc, out, _ = plugin(binary, kc, "logs", "-o", "json", "r1")
    if rc != 0 or unsafe(out):
        raise Failure(f"-o json: exit {rc}, controls {unsafe(out)!r}")
    doc = json.loads(out)
    got = doc["results"][0]["stdout"]
    if got != HOSTILE or doc["results"][0]["message"] != MESSAGE:
        raise Failure(f"-o json changed the value: {got!r}")
    rc, out, _ = plugin(binary, kc, "logs", "-o", "yaml", "r1")
    if rc != 0 or unsafe(out):
        raise Failure(f"-o yaml: exit {rc}, controls {unsafe(out)!r}")
    if yaml.safe_load(out)["results"][0]["stderr"] != HOSTILE:
        raise Failure(f"-o yaml changed the value: {out!r}")


def expect_error(rc, err, needle, what):
    text = err.decode(errors="replace")
    if rc == 0 or needle not in text:
        raise Failure(f"{what}: exit {rc}, wanted '{needle}' in: {text!r}")


def check_impersonation(binary, kc):
    """--as/--as-group/--as-uid reach the API server as Impersonate-*."""
    rc, _, err = plugin(binary, kc, "--as", "alice", "logs", "r1")
    expect_error(rc, err, 'User "alice" cannot get resource "capsuleruns"',
                 "--as alice")
    rc, out, err = plugin(binary, kc, "--as", "alice", "--as-group",
                          "system:masters", "--as-uid", "u-1", "logs", "r1")
    if rc != 0 or b"gr" not in out:
        raise Failure(f"--as alice --as-group system:masters: exit {rc}: "
                      f"{err!r}")
    rc, _, err = plugin(binary, kc, "--as-group", "g", "logs", "r1")
    expect_error(rc, err, "--as-group and --as-uid need --as", "--as-group")
    rc, _, err = plugin(binary, kc, "--as", "a\x01b", "logs", "r1")
    expect_error(rc, err, "--as: empty, longer than 1024 bytes or with a "
                 "control character", "--as with a control character")


def check_selection(binary, kc):
    """--cluster and --user name kubeconfig entries; --request-timeout is
    checked; $KUBECONFIG lists are merged."""
    rc, _, err = plugin(binary, kc, "--user", "nobody", "logs", "r1")
    expect_error(rc, err, "users: no entry named 'nobody'", "--user")
    rc, _, err = plugin(binary, kc, "--cluster", "nope", "logs", "r1")
    expect_error(rc, err, "clusters: no entry named 'nope'", "--cluster")
    rc, _, err = plugin(binary, kc, "--request-timeout", "5 minutes", "logs",
                        "r1")
    expect_error(rc, err, "--request-timeout '5 minutes': a duration",
                 "--request-timeout")
    rc, _, err = plugin(binary, kc, "--request-timeout", "20s", "logs", "r1")
    if rc != 0:
        raise Failure(f"--request-timeout 20s: exit {rc}: {err!r}")
    env = dict(os.environ, KUBECONFIG=f"{kc}.missing:{kc}")
    p = subprocess.run([binary, "-n", NS, "logs", "r1"], capture_output=True,
                       timeout=60, env=env)
    if p.returncode != 0:
        raise Failure(f"$KUBECONFIG with a missing file first: exit "
                      f"{p.returncode}: {p.stderr!r}")


def check_exec_plugin(binary, kc):
    """A kubeconfig user that is an exec plugin handing out the admin's
    client certificate: the plugin connects with it."""
    with open(kc) as f:
        conf = yaml.safe_load(f)
    user = conf["users"][0]["user"]
    base = os.path.dirname(kc)

    def pem(key):
        if user.get(key + "-data"):
            return user[key + "-data"]
        path = os.path.join(base, user[key])
        with open(path, "rb") as f:
            return base64.b64encode(f.read()).decode()
    cred = {"apiVersion": "client.authentication.k8s.io/v1beta1",
            "kind": "ExecCredential",
            "status": {"clientCertificateData":
                       base64.b64decode(pem("client-certificate")).decode(),
                       "clientKeyData":
                       base64.b64decode(pem("client-key")).decode()}}
    answer = kc + ".cred.json"
    with open(answer, "w") as f:
        json.dump(cred, f)
    script = kc + ".plugin.sh"
    with open(script, "w") as f:
        f.write(f"#!/bin/sh\ncat '{answer}'\n")
    os.chmod(script, 0o700)
    cluster = conf["clusters"][0]["cluster"]
    if cluster.get("certificate-authority"):
        cluster["certificate-authority"] = os.path.join(
            base, cluster["certificate-authority"])
    conf["users"][0]["user"] = {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": script, "interactiveMode": "Never"}}
    exec_kc = kc + ".exec"
    with open(exec_kc, "w") as f:
        yaml.safe_dump(conf, f)
    rc, out, err = plugin(binary, exec_kc, "logs", "r1")
    if rc != 0 or b"gr" not in out:
        raise Failure(f"exec plugin with a certificate: exit {rc}: {err!r}")
    with open(script, "w") as f:
        f.write("#!/bin/sh\necho 'no login for you' >&2\nexit 4\n")
    rc, _, err = plugin(binary, exec_kc, "logs", "r1")
    expect_error(rc, err, "no login for you", "a failing exec plugin")
    expect_error(rc, err, "exited with status 4", "a failing exec plugin")


def check_exec_plugin_lazy(binary, kc):
    """An exec plugin that never answers: attach --dry-run (which needs no
    server) does not run it; a verb that talks to the server runs it at its
    first request and fails at the time limit, naming it."""
    with open(kc) as f:
        conf = yaml.safe_load(f)
    marker = kc + ".silent.ran"
    script = kc + ".silent.sh"
    with open(script, "w") as f:
        f.write(f"#!/bin/sh\ntouch '{marker}'\nexec sleep 30\n")
    os.chmod(script, 0o700)
    base = os.path.dirname(kc)
    cluster = conf["clusters"][0]["cluster"]
    if cluster.get("certificate-authority"):
        cluster["certificate-authority"] = os.path.join(
            base, cluster["certificate-authority"])
    conf["users"][0]["user"] = {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": script, "interactiveMode": "Never"}}
    silent_kc = kc + ".silent"
    with open(silent_kc, "w") as f:
        yaml.safe_dump(conf, f)
    env = dict(os.environ, RECAP_KUBE_EXEC_TIMEOUT="2")
    p = subprocess.run([binary, "--kubeconfig", silent_kc, "-n", NS, "attach",
                        "web", "--image", "registry.local/tool:1",
                        "--dry-run"], capture_output=True, timeout=20,
                       env=env)
    if p.returncode != 0 or b"kind: CapsuleRun" not in p.stdout:
        raise Failure(f"attach --dry-run with a silent exec plugin: exit "
                      f"{p.returncode}: {p.stderr!r}")
    if os.path.exists(marker):
        raise Failure("attach --dry-run ran the exec plugin")
    p = subprocess.run([binary, "--kubeconfig", silent_kc, "-n", NS, "logs",
                        "r1"], capture_output=True, timeout=20, env=env)
    expect_error(p.returncode, p.stderr,
                 f"exec plugin {script}: no answer within 2 s (killed)",
                 "logs with a silent exec plugin")
    if not os.path.exists(marker):
        raise Failure("logs did not run the exec plugin")


def with_cluster_fields(kc, name, **fields):
    """A copy of the kubeconfig whose cluster has these fields."""
    with open(kc) as f:
        conf = yaml.safe_load(f)
    cluster = conf["clusters"][0]["cluster"]
    if cluster.get("certificate-authority"):
        cluster["certificate-authority"] = os.path.join(
            os.path.dirname(kc), cluster["certificate-authority"])
    cluster.update({k.replace("_", "-"): v for k, v in fields.items()})
    path = f"{kc}.{name}"
    with open(path, "w") as f:
        yaml.safe_dump(conf, f)
    return path


class ConnectProxy(threading.Thread):
    """An HTTP proxy that only tunnels (CONNECT) and counts the tunnels."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.tunnels = []

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        head = b""
        while b"\r\n\r\n" not in head:
            got = c.recv(4096)
            if not got:
                return
            head += got
        line = head.split(b"\r\n")[0].decode()
        method, target, _ = line.split(" ", 2)
        if method != "CONNECT":
            c.sendall(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            return c.close()
        self.tunnels.append(target)
        host, port = target.rsplit(":", 1)
        up = socket.create_connection((host, int(port)))
        c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        rest = head.split(b"\r\n\r\n", 1)[1]
        if rest:
            up.sendall(rest)
        for a, b in ((c, up), (up, c)):
            threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def pipe(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def check_server_name_and_proxy(binary, kc):
    """tls-server-name: the certificate is checked for that name, not the
    URL's address; proxy-url: every connection goes through the proxy."""
    good = with_cluster_fields(kc, "sni", tls_server_name="kubernetes.default.svc")
    rc, out, err = plugin(binary, good, "logs", "r1")
    if rc != 0 or b"gr" not in out:
        raise Failure(f"tls-server-name kubernetes.default.svc: exit {rc}: {err!r}")
    bad = with_cluster_fields(kc, "badsni", tls_server_name="wrong.example")
    rc, _, err = plugin(binary, bad, "logs", "r1")
    expect_error(rc, err, "wrong.example", "tls-server-name wrong.example")
    proxy = ConnectProxy()
    proxy.start()
    via = with_cluster_fields(kc, "proxy", proxy_url=f"http://127.0.0.1:{proxy.port}")
    rc, out, err = plugin(binary, via, "logs", "r1")
    proxy.sock.close()
    if rc != 0 or b"gr" not in out:
        raise Failure(f"proxy-url: exit {rc}: {err!r}")
    with open(kc) as f:
        server = yaml.safe_load(f)["clusters"][0]["cluster"]["server"]
    want = server.split("://", 1)[1]
    if want not in proxy.tunnels:
        raise Failure(f"proxy-url: the proxy tunnelled {proxy.tunnels}, not {want}")
    rc, _, err = plugin(binary, with_cluster_fields(kc, "ftp", proxy_url="ftp://x"), "logs", "r1")
    expect_error(rc, err, "proxy-url: 'ftp://x' is not an http://, https:// or socks5:// URL",
                 "proxy-url ftp://")


def main():
    binary = os.path.abspath(sys.argv[1])
    bindir = os.environ.get("RECAP_KUBE_BIN", "")
    if not os.access(os.path.join(bindir, "kubectl"), os.X_OK):
        print("skip: RECAP_KUBE_BIN does not hold kubectl "
              "(export RECAP_KUBE_BIN=$(hack/build-kube))")
        return 77
    try:
        with Cluster(bindir) as k:
            k.ok("apply", "-k", os.path.join(ROOT, "crds"))
            k.wait_established(["crd", "--all"])
            k.ok("create", "namespace", NS)
            setup(k)
            kc = k.argv[2]
            case("logs: terminal controls escaped, UTF-8 kept",
                 check_logs_escaped, binary, kc)
            case("logs --raw: the output byte for byte", check_logs_raw,
                 binary, kc)
            case("logs -o json|yaml: no raw controls, same values",
                 check_json, binary, kc)
            case("--as, --as-group, --as-uid: impersonation",
                 check_impersonation, binary, kc)
            case("--cluster, --user, --request-timeout, $KUBECONFIG merged",
                 check_selection, binary, kc)
            case("an exec credential plugin's client certificate",
                 check_exec_plugin, binary, kc)
            case("an exec plugin runs at the first request, not for "
                 "--dry-run", check_exec_plugin_lazy, binary, kc)
            case("tls-server-name and proxy-url",
                 check_server_name_and_proxy, binary, kc)
    except Failure as e:
        print(f"FAIL setup: {e}", flush=True)
        failed.append("setup")
    if failed:
        print(f"{len(failed)} failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""OIDC login end to end: a real OpenID provider (hack/oidc-op, the example
OP of github.com/zitadel/oidc/v3, over HTTPS with this test's own CA), a real
kube-apiserver trusting its issuer through a structured authentication
configuration (apiserver.config.k8s.io/v1 AuthenticationConfiguration:
username from preferred_username, groups from the groups claim, both
prefixed "oidc:"), and a kubeconfig whose user is an exec credential plugin
(oidc_login.py) that logs in through the provider's own login form and hands
over the ID token. The real kubectl-capsule binary and the real kubectl use
that kubeconfig.

usage: test_oidc.py KUBECTL_CAPSULE_BINARY OIDC_LOGIN_PLUGIN"""

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import yaml

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "crds"))
from kube import ROOT, Cluster, Failure, case, failed  # noqa: E402

NS = "shop"
CLIENT_ID = "kubernetes"
CLIENT_SECRET = "oidc-test-secret"
REDIRECT = "http://127.0.0.1:8000/callback"  # never dialled: the plugin reads the code off the redirect
SHORT_LIFETIME = 20  # seconds; lib/kube renews a credential 10 s before its expiry
USERS = [
    {"id": "u-alice", "username": "alice", "password": "alice-pw",
     "email": "alice@example.test", "groups": ["recap-users", "dev"]},
    {"id": "u-bob", "username": "bob", "password": "bob-pw",
     "email": "bob@example.test", "groups": ["other"]},
]


def openssl(tmp, *args, stdin=None):
    p = subprocess.run(["openssl", *args], input=stdin, capture_output=True,
                       cwd=tmp, timeout=60)
    if p.returncode != 0:
        raise Failure(f"openssl {args[0]}: {p.stderr.decode(errors='replace').strip()}")
    return p.stdout


def make_pki(tmp):
    """The provider's own CA and its serving certificate for 127.0.0.1."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl(tmp, "req", "-x509", "-new", *ec, "-keyout", "oidc-ca.key",
            "-out", "oidc-ca.crt", "-days", "1", "-subj", "/CN=recap-test-oidc-ca",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign")
    csr = openssl(tmp, "req", "-new", *ec, "-keyout", "op.key", "-subj", "/CN=oidc-op")
    with open(os.path.join(tmp, "op.ext"), "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:127.0.0.1\n")
    openssl(tmp, "x509", "-req", "-CA", "oidc-ca.crt", "-CAkey", "oidc-ca.key",
            "-days", "1", "-extfile", "op.ext", "-out", "op.crt", stdin=csr)


class Provider:
    """An oidc-op process; stopped (TERM, then KILL) by stop()."""

    def __init__(self, binary, tmp, name, lifetime):
        self.name, self.tmp = name, tmp
        self.log = os.path.join(tmp, f"{name}.log")
        ready = os.path.join(tmp, f"{name}.ready")
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [binary, "--cert", os.path.join(tmp, "op.crt"),
                 "--key", os.path.join(tmp, "op.key"),
                 "--users", os.path.join(tmp, "users.json"),
                 "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET,
                 "--redirect-uri", REDIRECT, "--ready-file", ready,
                 "--id-token-lifetime", f"{lifetime}s"],
                stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 20
        while not os.path.exists(ready):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise Failure(f"oidc-op {name} did not start: {self.tail()}")
            time.sleep(0.05)
        with open(ready) as f:
            self.issuer = f.read().strip()

    def tail(self):
        with open(self.log, errors="replace") as f:
            return " | ".join(f.read().splitlines()[-5:])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def auth_config(tmp, issuers):
    with open(os.path.join(tmp, "oidc-ca.crt")) as f:
        ca = f.read()
    conf = {"apiVersion": "apiserver.config.k8s.io/v1",
            "kind": "AuthenticationConfiguration",
            "jwt": [{"issuer": {"url": url, "audiences": [CLIENT_ID],
                                "certificateAuthority": ca},
                     "claimMappings": {
                         "username": {"claim": "preferred_username", "prefix": "oidc:"},
                         "groups": {"claim": "groups", "prefix": "oidc:"}}}
                    for url in issuers]}
    path = os.path.join(tmp, "authentication-config.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(conf, f)
    return path


class Users:
    """Kubeconfigs whose user is the OIDC exec plugin."""

    def __init__(self, tmp, plugin, cluster_dir):
        self.tmp, self.plugin = tmp, plugin
        with open(os.path.join(cluster_dir, "kubeconfig")) as f:
            self.cluster = yaml.safe_load(f)["clusters"][0]

    def kubeconfig(self, name, provider, username, password):
        pw = os.path.join(self.tmp, f"{name}.password")
        with open(pw, "w") as f:
            f.write(password + "\n")
        count = os.path.join(self.tmp, f"{name}.count")
        conf = {"apiVersion": "v1", "kind": "Config",
                "clusters": [self.cluster],
                "users": [{"name": name, "user": {"exec": {
                    "apiVersion": "client.authentication.k8s.io/v1",
                    "command": self.plugin,
                    "args": ["--issuer", provider.issuer,
                             "--ca-file", os.path.join(self.tmp, "oidc-ca.crt"),
                             "--client-id", CLIENT_ID,
                             "--client-secret", CLIENT_SECRET,
                             "--redirect-uri", REDIRECT,
                             "--username", username, "--password-file", pw,
                             "--count-file", count],
                    "interactiveMode": "Never"}}}],
                "contexts": [{"name": name, "context": {
                    "cluster": self.cluster["name"], "user": name,
                    "namespace": NS}}],
                "current-context": name}
        path = os.path.join(self.tmp, f"{name}.kubeconfig")
        with open(path, "w") as f:
            yaml.safe_dump(conf, f)
        return path, count


def runs(count):
    """The plugin's runs: [(start, exp)]."""
    if not os.path.exists(count):
        return []
    with open(count) as f:
        return [(float(a), int(b)) for a, b in (line.split() for line in f)]


def capsule(binary, kc, *args, timeout=60):
    p = subprocess.run([binary, "--kubeconfig", kc, *args], capture_output=True,
                       text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def kubectl(bindir, kc, *args):
    p = subprocess.run([os.path.join(bindir, "kubectl"), "--kubeconfig", kc, *args],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def expect_error(rc, err, needle, what):
    if rc == 0 or needle not in err:
        raise Failure(f"{what}: exit {rc}, wanted {needle!r} in: {err.strip()!r}")


def setup(k):
    k.ok("apply", "-k", os.path.join(ROOT, "crds"))
    k.wait_established(["crd", "--all"])
    for ns in (NS, "elsewhere"):
        k.ok("create", "namespace", ns)
    k.ok("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "recap.dev/v1alpha1", "kind": "CapsuleRun",
        "metadata": {"name": "r1", "namespace": NS},
        "spec": {"capsuleRef": {"name": "tool"}}}))
    # The OIDC group may use capsules in NS only; no rights for "oidc:other".
    k.ok("-n", NS, "create", "role", "capsule-user",
         "--verb=get,list,watch,create,delete,patch",
         "--resource=capsuleruns.recap.dev,capsules.recap.dev,"
         "capsuleexecutions.recap.dev,pods")
    k.ok("-n", NS, "create", "rolebinding", "capsule-users",
         "--role=capsule-user", "--group=oidc:recap-users")
    deadline = time.monotonic() + 60
    while k.run("-n", NS, "get", "serviceaccount", "default")[0] != 0:
        if time.monotonic() > deadline:
            raise Failure(f"no ServiceAccount default in {NS}")
        time.sleep(0.2)
    k.ok("-n", NS, "create", "-f", "-", stdin=json.dumps({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
        "spec": {"containers": [{"name": "app", "image": "registry.local/app:1"}]}}))


def wait_authenticated(bindir, kc):
    """kube-apiserver reads the issuers' discovery documents in the
    background after it starts: until then every token is refused."""
    deadline = time.monotonic() + 60
    while True:
        rc, _, err = kubectl(bindir, kc, "auth", "whoami")
        if rc == 0:
            return
        if time.monotonic() > deadline:
            raise Failure(f"the OIDC user is still not authenticated after 60 s: {err.strip()}")
        time.sleep(0.5)


def check_granted(binary, kc, count):
    before = len(runs(count))
    rc, out, err = capsule(binary, kc, "ls")
    if rc != 0 or "r1" not in out:
        raise Failure(f"kubectl capsule ls as oidc:alice: exit {rc}, stdout {out!r}, "
                      f"stderr {err.strip()!r}")
    if len(runs(count)) != before + 1:
        raise Failure(f"the plugin ran {len(runs(count)) - before} times for one "
                      f"command, not once")


def check_refused(binary, kc_alice, kc_bob):
    rc, _, err = capsule(binary, kc_bob, "ls")
    expect_error(rc, err, 'User "oidc:bob" cannot list resource "capsuleruns" in API '
                 'group "recap.dev" in the namespace "shop"', "kubectl capsule ls as oidc:bob")
    rc, _, err = capsule(binary, kc_alice, "-n", "elsewhere", "ls")
    expect_error(rc, err, 'User "oidc:alice" cannot list resource "capsuleruns" in API '
                 'group "recap.dev" in the namespace "elsewhere"',
                 "kubectl capsule ls as oidc:alice where no Role binds her")


def check_kubectl(bindir, kc_alice, kc_bob):
    rc, out, err = kubectl(bindir, kc_alice, "auth", "whoami", "-o", "json")
    if rc != 0:
        raise Failure(f"kubectl auth whoami: exit {rc}: {err.strip()}")
    info = json.loads(out)["status"]["userInfo"]
    groups = set(info.get("groups", []))
    want = {"oidc:recap-users", "oidc:dev", "system:authenticated"}
    if info.get("username") != "oidc:alice" or not want <= groups:
        raise Failure(f"kubectl auth whoami: {info}, wanted oidc:alice in {sorted(want)}")
    rc, out, err = kubectl(bindir, kc_alice, "get", "capsuleruns", "-o", "name")
    if rc != 0 or "capsulerun.recap.dev/r1" not in out:
        raise Failure(f"kubectl get capsuleruns as oidc:alice: exit {rc}: {err.strip()}")
    rc, _, err = kubectl(bindir, kc_bob, "get", "capsuleruns")
    expect_error(rc, err, 'User "oidc:bob" cannot list resource "capsuleruns"',
                 "kubectl get capsuleruns as oidc:bob")


def login_once(plugin, tmp, provider):
    """One ID token of alice's, straight from the plugin."""
    p = subprocess.run([plugin, "--issuer", provider.issuer,
                        "--ca-file", os.path.join(tmp, "oidc-ca.crt"),
                        "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET,
                        "--redirect-uri", REDIRECT, "--username", "alice",
                        "--password-file", os.path.join(tmp, "alice.password")],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise Failure(f"the plugin alone: exit {p.returncode}: {p.stderr.strip()}")
    status = json.loads(p.stdout)["status"]
    payload = status["token"].split(".")[1]
    exp = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"]
    return status["token"], exp


def finish_run(k, name):
    """What the controller and the node agent would write: one execution
    that succeeded, and the run Succeeded."""
    k.ok("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "recap.dev/v1alpha1", "kind": "CapsuleExecution",
        "metadata": {"name": name + "-web", "namespace": NS,
                     "labels": {"recap.dev/run": name}},
        "spec": {"runRef": {"name": name}, "node": "node-a",
                 "target": {"pod": "web", "podUID": "u", "container": "app",
                            "containerID": "containerd://abc"},
                 "capsule": {"image": "registry.local/tool:1"}}}))
    k.ok("-n", NS, "patch", "capsuleexecution", name + "-web", "--subresource=status",
         "--type=merge", "-p", json.dumps({"status": {
             "phase": "Succeeded", "exitCode": 0, "stdoutTail": "renewed-ok\n",
             "stdoutBytes": 11}}))
    k.ok("-n", NS, "patch", "capsulerun", name, "--subresource=status", "--type=merge",
         "-p", json.dumps({"status": {
             "phase": "Succeeded", "targets": 1, "succeeded": 1,
             "conditions": [{"type": "Complete", "status": "True", "reason": "Succeeded",
                             "message": "1 of 1 targets succeeded",
                             "lastTransitionTime": "2025-01-01T00:00:00Z"}]}}))


def wait_until(t):
    while time.time() < t:
        time.sleep(min(0.5, t - time.time() + 0.01))


def new_run(k, proc, err_file):
    deadline = time.monotonic() + 60
    while True:
        names = [n.split("/", 1)[1] for n in
                 k.ok("-n", NS, "get", "capsuleruns", "-o", "name").split()]
        names = [n for n in names if n != "r1"]
        if names:
            return names[0]
        if proc.poll() is not None or time.monotonic() > deadline:
            with open(err_file) as f:
                raise Failure(f"kubectl capsule run made no CapsuleRun: exit {proc.poll()}: "
                              f"{f.read().strip()!r}")
        time.sleep(0.2)


def check_renewal(binary, bindir, k, plugin, tmp, kc, count, provider):
    """One kubectl capsule run outlives its first ID token: it creates the
    run and watches it with that token; the run ends only after the token
    expired, and the results are read with a new one."""
    token0, exp0 = login_once(plugin, tmp, provider)
    err_file = os.path.join(tmp, "run.err")
    with open(err_file, "w") as ef:
        proc = subprocess.Popen([binary, "--kubeconfig", kc, "run", "registry.local/tool:1",
                                 "--pod", "web", "--no-stream", "--", "true"],
                                stdout=subprocess.PIPE, stderr=ef, text=True)
    try:
        name = new_run(k, proc, err_file)
        first = runs(count)
        if not first:
            raise Failure("the plugin did not record its run")
        first_exp = first[0][1]
        if first_exp - first[0][0] > SHORT_LIFETIME + 2:
            raise Failure(f"the first ID token lives {first_exp - first[0][0]:.0f} s, "
                          f"not {SHORT_LIFETIME} s")
        wait_until(max(first_exp, exp0) + 1.5)
        if proc.poll() is not None:
            raise Failure(f"kubectl capsule run ended before its run did: exit {proc.poll()}")
        finish_run(k, name)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with open(err_file) as f:
        err = f.read()
    if proc.returncode != 0 or "renewed-ok" not in out:
        raise Failure(f"kubectl capsule run across the token's expiry: exit {proc.returncode}, "
                      f"stdout {out!r}, stderr {err.strip()!r}")
    later = [r for r in runs(count) if r[0] >= first_exp - 10 and r[1] > first_exp]
    if not later:
        raise Failure(f"no token was fetched again near or after the first one's expiry "
                      f"(exp {first_exp}): runs {runs(count)}")
    # The control: a token past its exp is refused, so the command above
    # succeeded on a renewed one.
    with open(kc) as f:
        server = yaml.safe_load(f)["clusters"][0]["cluster"]["server"]
    rc, _, err = kubectl(bindir, os.devnull, "--server", server,
                         "--certificate-authority", os.path.join(k.cluster.dir, "pki", "ca.crt"),
                         "--token", token0, "auth", "whoami")
    expect_error(rc, err, "Unauthorized", "an expired ID token")


def check_untrusted(binary, bindir, plugin, kc, count):
    rc, _, err = capsule(binary, kc, "ls")
    what = "kubectl capsule ls with an untrusted issuer's token"
    expect_error(rc, err, f"the API server refused the credential of exec plugin {plugin}, "
                 "also the fresh one it gave after a first refusal", what)
    expect_error(rc, err, "capsuleruns: 401 Unauthorized", what)
    if len(runs(count)) != 2:
        raise Failure(f"the plugin ran {len(runs(count))} times, not twice (once more "
                      f"after the first 401)")
    rc, _, err = kubectl(bindir, kc, "get", "capsuleruns")
    expect_error(rc, err, "You must be logged in to the server",
                 "kubectl with an untrusted issuer's token")


def check_bad_password(binary, kc):
    rc, _, err = capsule(binary, kc, "ls")
    expect_error(rc, err, "oidc-login: login: the provider refused user 'alice': "
                 "username or password wrong", "a wrong password")
    expect_error(rc, err, "exited with status 1", "a wrong password")


def main():
    binary = os.path.abspath(sys.argv[1])
    plugin = os.path.abspath(sys.argv[2])
    bindir = os.environ.get("RECAP_KUBE_BIN", "")
    for tool in ("kubectl", "oidc-op"):
        if not os.access(os.path.join(bindir, tool), os.X_OK):
            print(f"FAIL: RECAP_KUBE_BIN ({bindir or 'unset'}) holds no {tool} "
                  f"(export RECAP_KUBE_BIN=$(hack/build-kube))")
            return 1
    tmp = tempfile.mkdtemp(prefix="recap-test-oidc.")
    providers = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t0 = time.monotonic()
    try:
        make_pki(tmp)
        with open(os.path.join(tmp, "users.json"), "w") as f:
            json.dump(USERS, f)
        op = os.path.join(bindir, "oidc-op")
        for name, lifetime in (("trusted", 3600), ("short", SHORT_LIFETIME),
                               ("untrusted", 3600)):
            providers.append(Provider(op, tmp, name, lifetime))
        trusted, short, untrusted = providers
        conf = auth_config(tmp, [trusted.issuer, short.issuer])
        with Cluster(bindir, up_args=[f"--apiserver-arg=--authentication-config={conf}"]) as k:
            setup(k)
            u = Users(tmp, plugin, k.cluster.dir)
            alice, alice_count = u.kubeconfig("alice", trusted, "alice", "alice-pw")
            bob, _ = u.kubeconfig("bob", trusted, "bob", "bob-pw")
            renew, renew_count = u.kubeconfig("alice-short", short, "alice", "alice-pw")
            stray, stray_count = u.kubeconfig("stray", untrusted, "alice", "alice-pw")
            wrong, _ = u.kubeconfig("wrong", trusted, "alice", "not-her-password")
            wait_authenticated(bindir, alice)
            case("kubectl capsule as an OIDC user RBAC lets in", check_granted,
                 binary, alice, alice_count)
            case("403 naming the OIDC user where RBAC does not", check_refused,
                 binary, alice, bob)
            case("kubectl: auth whoami shows the mapped user and groups",
                 check_kubectl, bindir, alice, bob)
            case("an ID token that expires mid-command is renewed", check_renewal,
                 binary, bindir, k, plugin, tmp, renew, renew_count, short)
            case("an untrusted issuer's token: 401", check_untrusted, binary,
                 bindir, plugin, stray, stray_count)
            case("a refused login: the plugin's message", check_bad_password,
                 binary, wrong)
    except Failure as e:
        print(f"FAIL setup: {e}", flush=True)
        failed.append("setup")
    finally:
        for p in providers:
            p.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"took {time.monotonic() - t0:.1f}s", flush=True)
    if failed:
        print(f"{len(failed)} failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""kubectl-capsule against a real control plane: a CapsuleRun and its
CapsuleExecution are written through the API as the controller and the node
agent would, their output and messages holding terminal escape sequences,
and the real binary's output is checked byte for byte.

usage: test_plugin.py KUBECTL_CAPSULE_BINARY"""

import json
import os
import re
import subprocess
import sys

import yaml

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "crds"))
from kube import ROOT, Cluster, Failure  # noqa: E402

NS = "shop"
# OSC 52 (clipboard write, BEL-terminated), clear screen, a C1 CSI (U+009B)
# moving the cursor, DEL, a bidi override, a lone CR (overwrites the line)
# and plain UTF-8 text that must survive.
HOSTILE = ("grüße\n\x1b]52;c;cm0gLXJmIH4K\x07\x1b[2J\x9b1;1H\x7f"
           "\u202eevil\rhidden\r\nend\n")
MESSAGE = "pull failed: \x1b]0;pwned\x07 naïve"
failed = []


def case(name, fn, *args):
    try:
        fn(*args)
        print(f"ok   {name}", flush=True)
    except Failure as e:
        print(f"FAIL {name}: {e}", flush=True)
        failed.append(name)


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
    except Failure as e:
        print(f"FAIL setup: {e}", flush=True)
        failed.append("setup")
    if failed:
        print(f"{len(failed)} failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

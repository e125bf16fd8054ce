#!/usr/bin/env python3
"""kubectl-capsule as kubectl users expect it, against a real control plane
(kube-apiserver, etcd, kube-controller-manager; no recap-controller: runs
are written through the API as it would write them):

* targets as kubectl names them: deploy/NAME, sts/NAME, rs/NAME, job/NAME,
  pod/NAME and bare pods resolve to the pods kube-controller-manager made
  for them; a DaemonSet without pods, a missing workload and an unknown kind
  are refused, creating nothing; attach deploy/NAME picks one pod;
* describe RUN: the run, its capsule spec, failures, executions and the
  Events about it (core/v1 and events.k8s.io/v1), not another run's;
* ls -w: the table, then a row per change, also across an API server
  restart (the watch's resourceVersion is then too old: 410, relist);
  Ctrl-C ends it with status 0;
* completion: kubectl_complete-capsule as the real kubectl runs it for
  `kubectl capsule <TAB>`, names from the cluster, the scripts for bash,
  zsh and fish run by those shells (hack/deps installs both);
* version: the client's and the API server's.

usage: test_kubectl_ergonomics.py KUBECTL_CAPSULE_BINARY"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import yaml

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "crds"))
from kube import ROOT, Cluster, Failure, case, failed  # noqa: E402

NS = "shop"
IMAGE = "registry.local/capsules/busybox:v1"


def plugin(binary, kc, *args, env=None, timeout=60):
    p = subprocess.run([binary, "--kubeconfig", kc, "-n", NS, *args],
                       capture_output=True, text=True, timeout=timeout,
                       env=env)
    return p.returncode, p.stdout, p.stderr


def wait_for(what, fn, seconds=90):
    deadline = time.monotonic() + seconds
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() >= deadline:
            raise Failure(f"timed out waiting for {what}")
        time.sleep(0.3)


def pods_of(k, selector):
    items = k.json("-n", NS, "get", "pods", "-l", selector)["items"]
    return sorted(p["metadata"]["name"] for p in items)


def workloads(k):
    """A Deployment (2 replicas), a StatefulSet (1), a Job (1), a DaemonSet
    on no node (no pods) and a lone pod. With no scheduler the pods stay
    Pending: they are targets all the same (not finished)."""
    template = {"spec": {"containers": [{"name": "app", "image": "registry.local/app:1"}]}}

    def tmpl(labels):
        return {"metadata": {"labels": labels}, **template}
    objs = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
         "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                  "template": tmpl({"app": "web"})}},
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
         "spec": {"replicas": 1, "serviceName": "db",
                  "selector": {"matchExpressions": [
                      {"key": "app", "operator": "In", "values": ["db"]}]},
                  "template": tmpl({"app": "db"})}},
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "backup"},
         "spec": {"parallelism": 1, "completions": 1, "backoffLimit": 0,
                  "template": {"metadata": {"labels": {"app": "backup"}},
                               "spec": {**template["spec"], "restartPolicy": "Never"}}}},
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
         "spec": {"selector": {"matchLabels": {"app": "agent"}},
                  "template": tmpl({"app": "agent"})}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "solo", "labels": {"app": "solo"}},
         **template},
    ]
    for o in objs:
        rc, err = k.apply_obj("apply", o, "-n", NS)
        if rc != 0:
            raise Failure(f"creating {o['kind']} {o['metadata']['name']}: {err}")
    wait_for("the Deployment's 2 pods", lambda: len(pods_of(k, "app=web")) == 2)
    wait_for("the StatefulSet's pod", lambda: pods_of(k, "app=db") == ["db-0"])
    wait_for("the Job's pod", lambda: len(pods_of(k, "job-name=backup")) == 1)


def runs(k):
    return sorted(r["metadata"]["name"] for r in
                  k.json("-n", NS, "get", "capsuleruns")["items"])


def created_targets(binary, kc, *args):
    rc, out, err = plugin(binary, kc, "run", IMAGE, *args, "--no-wait", "-o", "json",
                          "--", "true")
    if rc != 0:
        raise Failure(f"run {' '.join(args)}: exit {rc}: {err}")
    return json.loads(out)["spec"]["targets"]


def check_workload_targets(binary, kc, k):
    web = pods_of(k, "app=web")
    got = created_targets(binary, kc, "deploy/web")
    if got != web:
        raise Failure(f"deploy/web: targets {got}, the Deployment's pods are {web}")
    # long forms, several kinds at once, bare and pod/ pods; each pod once
    job = pods_of(k, "job-name=backup")
    got = created_targets(binary, kc, "deployments.apps/web", "sts/db", "job/backup",
                          "pod/solo", "solo", web[0])
    want = ["solo", web[0]] + sorted(set(web) - {web[0]}) + ["db-0"] + job
    if got != want:
        raise Failure(f"several targets: {got}, wanted {want}")
    rs = k.json("-n", NS, "get", "replicasets", "-l", "app=web")["items"]
    if len(rs) != 1:
        raise Failure(f"the Deployment has {len(rs)} ReplicaSets")
    got = created_targets(binary, kc, f"rs/{rs[0]['metadata']['name']}")
    if got != web:
        raise Failure(f"rs/{rs[0]['metadata']['name']}: {got}, wanted {web}")
    # --capsule NAME deploy/web: the Capsule's own targets narrowed
    rc, out, err = plugin(binary, kc, "run", "--capsule", "tool", "Deployment/web",
                          "--no-wait", "-o", "json")
    if rc != 1 or 'capsule "tool" not found' not in err:
        raise Failure(f"run --capsule tool deploy/web without the Capsule: exit {rc}: {err}")


def check_workload_refusals(binary, kc, k):
    before = runs(k)
    cases = [
        (("ds/agent",), 1,
         'error: daemonset/agent has no pods in namespace "shop" (selector app=agent)'),
        (("deploy/nope",), 1, 'error: deployment "nope" not found in namespace "shop"'),
        (("svc/web",), 2, "error: run: 'svc/web': unknown kind 'svc'"),
        (("deploy/web", "-l", "app=web"), 2, "or as -l SELECTOR (one of them)"),
    ]
    for args, status, message in cases:
        rc, _, err = plugin(binary, kc, "run", IMAGE, *args, "--no-wait", "--", "true")
        if rc != status or message not in err:
            raise Failure(f"run {' '.join(args)}: exit {rc} (wanted {status}), "
                          f"wanted '{message}' in: {err!r}")
    if runs(k) != before:
        raise Failure(f"a refused run left runs behind: {before} -> {runs(k)}")


def check_attach_workload(binary, kc, k):
    web = pods_of(k, "app=web")
    rc, out, err = plugin(binary, kc, "attach", "deploy/web", "--image", IMAGE, "--dry-run")
    if rc != 0:
        raise Failure(f"attach deploy/web --dry-run: exit {rc}: {err}")
    run = next(yaml.safe_load_all(out))
    picked = run["spec"]["targets"]
    if len(picked) != 1 or picked[0] not in web:
        raise Failure(f"attach deploy/web: the run targets {picked}, not one of {web}")
    if f"deployment/web has 2 pods; attaching to {picked[0]}" not in err:
        raise Failure(f"attach deploy/web: which pod is not said: {err!r}")
    rc, _, err = plugin(binary, kc, "attach", "job/none", "--image", IMAGE, "--dry-run")
    if rc != 1 or 'job "none" not found in namespace "shop"' not in err:
        raise Failure(f"attach job/none: exit {rc}: {err!r}")


def write_run(k, name, status, execs=()):
    k.ok("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "recap.dev/v1alpha1", "kind": "CapsuleRun",
        "metadata": {"name": name, "namespace": NS, "labels": {"team": "a"}},
        "spec": {"capsuleRef": {"name": "tool"}, "targets": ["web-a", "web-b"]}}))
    if status:
        k.ok("-n", NS, "patch", "capsulerun", name, "--subresource=status",
             "--type=merge", "-p", json.dumps({"status": status}))
    for pod, node, st in execs:
        ename = f"{name}-{pod}"
        k.ok("apply", "-f", "-", stdin=json.dumps({
            "apiVersion": "recap.dev/v1alpha1", "kind": "CapsuleExecution",
            "metadata": {"name": ename, "namespace": NS, "labels": {"recap.dev/run": name}},
            "spec": {"runRef": {"name": name}, "node": node,
                     "target": {"pod": pod, "podUID": "u", "container": "app",
                                "containerID": "containerd://abc"},
                     "capsule": {"image": "registry.local/tool:1"}}}))
        k.ok("-n", NS, "patch", "capsuleexecution", ename, "--subresource=status",
             "--type=merge", "-p", json.dumps({"status": st}))


def event(k, name, involved, reason, message, etype="Normal"):
    k.ok("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": NS},
        "involvedObject": {"apiVersion": "recap.dev/v1alpha1", "kind": "CapsuleRun",
                           "name": involved, "namespace": NS},
        "reason": reason, "message": message, "type": etype, "count": 1,
        "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z",
        "source": {"component": "recap-controller"}}))


def check_describe(binary, kc, k):
    write_run(k, "d1", {
        "phase": "PartiallyFailed", "targets": 2, "succeeded": 1, "failed": 1,
        "pending": 0, "running": 0,
        "startTime": "2026-01-01T00:00:00Z", "completionTime": "2026-01-01T00:00:09Z",
        "capsuleSpec": {"image": "registry.local/tool:1", "command": ["sh", "-c", "exit 3"],
                        "targets": {"selector": {"matchLabels": {"app": "web"}}}},
        "failures": [{"execution": "d1-web-b", "pod": "web-b", "container": "app",
                      "node": "node-2", "reason": "Error", "exitCode": 3,
                      "message": "exit status 3"}]},
        [("web-a", "node-1", {"phase": "Succeeded", "exitCode": 0,
                              "imageDigest": "sha256:" + "ab" * 32}),
         ("web-b", "node-2", {"phase": "Failed", "exitCode": 3, "reason": "Error"})])
    write_run(k, "d2", None)
    event(k, "d1.started", "d1", "Started", "2 targets")
    event(k, "d1.failed", "d1", "TargetFailed", "web-b exited 3", "Warning")
    event(k, "d2.other", "d2", "NotMine", "about another run")
    # written as recap-controller writes them: events.k8s.io/v1
    k.ok("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": "d1.done", "namespace": NS},
        "eventTime": "2026-01-01T00:00:09.000000Z", "reportingController": "recap-controller",
        "reportingInstance": "recap-controller-0", "action": "Complete",
        "reason": "Completed", "note": "1 of 2 failed", "type": "Normal",
        "regarding": {"apiVersion": "recap.dev/v1alpha1", "kind": "CapsuleRun",
                      "name": "d1", "namespace": NS}}))
    rc, out, err = plugin(binary, kc, "describe", "d1")
    if rc != 0:
        raise Failure(f"describe d1: exit {rc}: {err}")
    for want in ("Name:         d1\nNamespace:    shop\nLabels:       team=a\n",
                 "Capsule:      tool\nTrigger:      Manual\nTarget Pods:  web-a, web-b\n",
                 "Phase:        PartiallyFailed\n",
                 "Targets:      2 targets: 0 pending, 0 running, 1 succeeded, 1 failed\n",
                 "Started:      2026-01-01T00:00:00Z (",
                 "  Image:      registry.local/tool:1\n  Digest:     sha256:abab",
                 "  Command:    sh -c 'exit 3'\n",
                 "Failures:\n  Pod    Container  Node    Reason  Exit  Message\n"
                 "  web-b  app        node-2  Error   3     exit status 3\n",
                 "  web-a  app        node-1  Succeeded  0     \n"
                 "  web-b  app        node-2  Failed     3     Error\n",
                 "Events:\n", "TargetFailed", "web-b exited 3", "Started", "2 targets",
                 "Completed", "1 of 2 failed"):
        if want not in out:
            raise Failure(f"describe d1 lacks {want!r}:\n{out}")
    if "NotMine" in out:
        raise Failure(f"describe d1 shows another run's event:\n{out}")
    rc, out, err = plugin(binary, kc, "describe", "d2")
    if (rc != 0 or "Capsule Spec: <not yet admitted>" not in out or "NotMine" not in out
            or "TargetFailed" in out or "Executions:   <none>\n" not in out):
        raise Failure(f"describe d2 (not admitted, an event of its own): exit {rc}:\n{out}{err}")
    rc, _, err = plugin(binary, kc, "describe", "nosuch")
    if rc != 1 or 'error: capsulerun "nosuch" not found in namespace "shop"' not in err:
        raise Failure(f"describe nosuch: exit {rc}: {err!r}")
    rc, _, err = plugin(binary, kc, "describe")
    if rc != 2 or "describe: needs exactly one CapsuleRun name" not in err:
        raise Failure(f"describe without a name: exit {rc}: {err!r}")


class Lines(threading.Thread):
    """Collects a process's stdout lines as they come."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream = stream
        self.lines = []

    def run(self):
        for line in self.stream:
            self.lines.append(line.rstrip("\n"))

    def rows(self, name):
        return [l for l in self.lines if l.split()[:1] == [name]]


def watch_lists(k):
    """How often ls -w -l watch=yes listed the runs (the API server's audit log)."""
    n = 0
    with open(k.audit_log) as f:
        for line in f:
            e = json.loads(line)
            if (e.get("verb") == "list" and e.get("stage") == "ResponseComplete"
                    and e.get("userAgent", "").startswith("kubectl-capsule")
                    and "labelSelector=watch%3Dyes" in e.get("requestURI", "")):
                n += 1
    return n


def check_watch(binary, kc, k):
    env = dict(os.environ)
    p = subprocess.Popen([binary, "--kubeconfig", kc, "-n", NS, "ls", "-w", "-l", "watch=yes"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = Lines(p.stdout), Lines(p.stderr)
    out.start()
    err.start()
    try:
        def phases():
            return [l.split()[-2] for l in out.rows("w1")]
        wait_for("ls -w to list", lambda: err.lines == ["No CapsuleRuns in namespace shop."], 30)
        k.ok("apply", "-f", "-", stdin=json.dumps({
            "apiVersion": "recap.dev/v1alpha1", "kind": "CapsuleRun",
            "metadata": {"name": "w1", "namespace": NS, "labels": {"watch": "yes"}},
            "spec": {"capsuleRef": {"name": "tool"}}}))
        wait_for("the new run's row", lambda: phases() == ["Pending"], 30)
        if not out.lines or not out.lines[0].startswith("NAME "):
            raise Failure(f"ls -w: no header before the first row: {out.lines}")
        status = {"phase": "Running", "targets": 1, "running": 1, "pending": 0,
                  "succeeded": 0, "failed": 0}
        k.ok("-n", NS, "patch", "capsulerun", "w1", "--subresource=status",
             "--type=merge", "-p", json.dumps({"status": status}))
        wait_for("the Running row", lambda: phases() == ["Pending", "Running"], 30)
        # a run without the label is not shown
        write_run(k, "w-other", None)
        # the API server goes away and comes back with a fresh watch cache:
        # the watch's resourceVersion is older than it holds (410 Gone)
        k.cluster.stop_apiserver()
        k.cluster.start_apiserver()
        status.update(phase="Succeeded", running=0, succeeded=1)
        k.ok("-n", NS, "patch", "capsulerun", "w1", "--subresource=status",
             "--type=merge", "-p", json.dumps({"status": status}))
        wait_for("the Succeeded row after the restart",
                 lambda: phases() == ["Pending", "Running", "Succeeded"], 60)
        if watch_lists(k) < 2:
            raise Failure(f"ls -w did not list again after its watch expired "
                          f"({watch_lists(k)} list in the audit log)")
        row = out.rows("w1")[-1].split()  # (no STRATEGY: the run has no capsule spec)
        if row[:3] != ["w1", "tool", "Manual"] or row[-5:-1] != ["1", "1", "0", "Succeeded"]:
            raise Failure(f"ls -w: the last row is {row}")
        k.ok("-n", NS, "delete", "capsulerun", "w1")
        wait_for("the deleted run's last row", lambda: len(out.rows("w1")) == 4, 30)
        time.sleep(1)
        if out.rows("w-other") or p.poll() is not None:
            raise Failure(f"ls -w -l watch=yes: {out.lines}, exit {p.poll()}")
        p.send_signal(signal.SIGINT)
        rc = p.wait(timeout=10)
        if rc != 0:
            raise Failure(f"ls -w: exit {rc} after Ctrl-C: {err.lines}")
        if len(out.rows("w1")) != 4:
            raise Failure(f"ls -w printed a change twice: {out.lines}")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def check_completion(binary, kc, k):
    bindir = tempfile.mkdtemp(prefix="recap-complete.")
    try:
        here = os.path.dirname(binary)
        for name in ("kubectl-capsule", "kubectl_complete-capsule"):
            os.symlink(os.path.join(here, name), os.path.join(bindir, name))
        env = dict(os.environ, KUBECONFIG=kc,
                   PATH=f"{bindir}:{os.path.dirname(k.argv[0])}:{os.environ['PATH']}")

        def complete(*words):
            p = subprocess.run([os.path.join(bindir, "kubectl_complete-capsule"), *words],
                               capture_output=True, text=True, timeout=30, env=env)
            return p.stdout.splitlines()
        got = complete("-n", NS, "describe", "d")
        if got != ["d1", "d2", ":4"]:
            raise Failure(f"kubectl_complete-capsule -n shop describe d: {got}")
        got = complete("-n", NS, "run", IMAGE, "deploy/")
        if got != ["deploy/web", ":4"]:
            raise Failure(f"kubectl_complete-capsule run IMAGE deploy/: {got}")
        got = complete("-n", NS, "attach", "so")
        if got != ["solo", ":4"]:
            raise Failure(f"kubectl_complete-capsule attach so: {got}")
        got = complete("ls", "-n", "sh")
        if got != ["shop", ":4"]:
            raise Failure(f"kubectl_complete-capsule ls -n sh: {got}")
        # the real kubectl, as a shell's completion calls it for `kubectl capsule ...<TAB>`
        p = subprocess.run(["kubectl", "__complete", "capsule", "-n", NS, "logs", ""],
                           capture_output=True, text=True, timeout=30, env=env)
        got = p.stdout.splitlines()
        if not {"d1", "d2", "w-other"} <= set(got) or "describe" in got or got[-1] != ":4":
            raise Failure(f"kubectl __complete capsule -n shop logs '': {p.stdout!r} {p.stderr!r}")
        p = subprocess.run(["kubectl", "__complete", "capsule", "desc"],
                           capture_output=True, text=True, timeout=30, env=env)
        if not p.stdout.startswith("describe\t"):
            raise Failure(f"kubectl __complete capsule desc: {p.stdout!r} {p.stderr!r}")
        # the bash script's function in a real bash
        script = subprocess.run([binary, "completion", "bash"], capture_output=True,
                                text=True, check=True).stdout
        p = subprocess.run(["bash", "-c", script + "\nCOMP_WORDS=(kubectl-capsule -n shop describe d)\n"
                            "COMP_CWORD=4\n_kubectl_capsule\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"],
                           capture_output=True, text=True, timeout=30, env=env)
        if p.stdout.splitlines() != ["d1", "d2"]:
            raise Failure(f"bash completion of describe d: {p.stdout!r} {p.stderr!r}")
        # zsh: the function with compsys's _describe and compdef stood in for
        # (they print what they are given); fish: its own `complete -C`
        drivers = {
            "zsh": "compdef() { :; }\n_describe() { print -rl -- \"${(@P)4}\"; }\n"
                   "words=(kubectl-capsule -n shop describe d)\nCURRENT=5\n_kubectl_capsule\n",
            "fish": "complete -C 'kubectl-capsule -n shop describe d'\n",
        }
        for shell, driver in drivers.items():
            text = subprocess.run([binary, "completion", shell], capture_output=True, text=True,
                                  check=True).stdout
            if "__complete" not in text:
                raise Failure(f"completion {shell}: {text!r}")
            if not shutil.which(shell):
                raise Failure(f"{shell} is not installed (hack/deps installs it)")
            p = subprocess.run([shell, "-c", text + "\n" + driver], capture_output=True, text=True,
                               timeout=30, env=env)
            if p.stdout.split() != ["d1", "d2"]:
                raise Failure(f"{shell} completion of describe d: {p.stdout!r} {p.stderr!r}")
        rc, _, err = plugin(binary, kc, "completion", "tcsh")
        if rc != 2 or "completion: needs one shell: bash, zsh or fish" not in err:
            raise Failure(f"completion tcsh: exit {rc}: {err!r}")
    finally:
        shutil.rmtree(bindir)


def check_version(binary, kc, k):
    server = k.json("version")["serverVersion"]["gitVersion"]
    rc, out, err = plugin(binary, kc, "version")
    if rc != 0 or not out.startswith("Client Version: 0.") or f"Server Version: {server}\n" not in out:
        raise Failure(f"version: exit {rc}: {out!r} {err!r}")
    rc, out, err = plugin(binary, kc, "version", "-o", "json")
    doc = json.loads(out) if rc == 0 else {}
    if doc.get("serverVersion", {}).get("gitVersion") != server or "version" not in doc["clientVersion"]:
        raise Failure(f"version -o json: exit {rc}: {out!r}")
    rc, out, err = plugin(binary, "/nonexistent/kubeconfig", "version", "--client")
    if rc != 0 or "Server Version" in out or not out.startswith("Client Version: "):
        raise Failure(f"version --client without a cluster: exit {rc}: {out!r} {err!r}")
    rc, out, err = plugin(binary, "/nonexistent/kubeconfig", "version")
    if rc != 1 or not out.startswith("Client Version: ") or "error: " not in err:
        raise Failure(f"version without a cluster: exit {rc}: {out!r} {err!r}")


def main():
    binary = os.path.abspath(sys.argv[1])
    bindir = os.environ.get("RECAP_KUBE_BIN", "")
    if not os.access(os.path.join(bindir, "kubectl"), os.X_OK):
        print("skip: RECAP_KUBE_BIN does not hold kubectl "
              "(export RECAP_KUBE_BIN=$(hack/build-kube))")
        return 77
    # The API server's audit log says when ls -w lists (a relist after its
    # watch expired).
    audit = tempfile.mkdtemp(prefix="recap-audit.")
    policy = os.path.join(audit, "policy.yaml")
    with open(policy, "w") as f:
        yaml.safe_dump({"apiVersion": "audit.k8s.io/v1", "kind": "Policy",
                        "omitStages": ["RequestReceived"],
                        "rules": [{"level": "Metadata", "resources": [
                            {"group": "recap.dev", "resources": ["capsuleruns"]}]},
                                  {"level": "None"}]}, f)
    up = [f"--apiserver-arg=--audit-policy-file={policy}",
          f"--apiserver-arg=--audit-log-path={os.path.join(audit, 'audit.log')}"]
    try:
        with Cluster(bindir, up) as k:
            k.audit_log = os.path.join(audit, "audit.log")
            k.ok("apply", "-k", os.path.join(ROOT, "crds"))
            k.wait_established(["crd", "--all"])
            k.ok("create", "namespace", NS)
            kc = k.argv[2]
            workloads(k)
            case("run deploy/, sts/, rs/, job/, pod/ and bare pods: the workloads' pods",
                 check_workload_targets, binary, kc, k)
            case("a DaemonSet without pods, a missing workload, an unknown kind: refused, "
                 "nothing created", check_workload_refusals, binary, kc, k)
            case("attach deploy/web picks one of its pods", check_attach_workload, binary, kc, k)
            case("describe: the run, spec, failures, executions, its events only",
                 check_describe, binary, kc, k)
            case("ls -w: a row per change, across an API server restart; Ctrl-C ends it",
                 check_watch, binary, kc, k)
            case("completion: kubectl_complete-capsule through the real kubectl, bash",
                 check_completion, binary, kc, k)
            case("version: the client's and the API server's", check_version, binary, kc, k)
    except Failure as e:
        print(f"FAIL setup: {e}", flush=True)
        failed.append("setup")
    finally:
        shutil.rmtree(audit, ignore_errors=True)
    if failed:
        print(f"{len(failed)} failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""recap-controller against a real control plane: the test plays the
kubelet (Pods with spec.nodeName, status patched Running with podIP and
containerID) and the node agent (CapsuleExecution status), runs the real
binary and checks what it writes; a storm of 1,000 pods turning NotReady
at once against a trigger's cap. One control plane for the file.

usage: test_controller.py RECAP_CONTROLLER_BINARY"""

import calendar
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "crds"))
from kube import ROOT, Cluster, Failure, case, failed  # noqa: E402

NS = "shop"
NODES = ["node-0", "node-1", "node-2"]


def expect(what, got, want):
    if got != want:
        raise Failure(f"{what}: got {got!r}, want {want!r}")


def wait(what, fn, timeout=30, interval=0.2):
    """Polls fn until it returns something true; returns it."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
        except Failure as e:
            last = e
        if last and not isinstance(last, Failure):
            return last
        time.sleep(interval)
    raise Failure(f"timed out waiting for {what} (last: {last!r})")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Controller:
    """The real binary; always killed at the end."""

    def __init__(self, binary, kubeconfig, logdir, name, *extra):
        self.binary, self.kubeconfig = binary, kubeconfig
        self.metrics, self.health = free_port(), free_port()
        self.log = os.path.join(logdir, f"{name}.log")
        self.extra = list(extra)
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [self.binary, "--kubeconfig", self.kubeconfig,
             f"--metrics-addr=127.0.0.1:{self.metrics}",
             f"--health-addr=127.0.0.1:{self.health}", *self.extra],
            stdout=subprocess.DEVNULL, stderr=open(self.log, "a"))
        wait("controller /readyz", lambda: self.get("/readyz")[0] == 200)

    def get(self, path, port=None, method="GET"):
        url = f"http://127.0.0.1:{port or self.health}{path}"
        req = urllib.request.Request(url, method=method)
        try:
            with urllib.request.urlopen(req, timeout=2) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except OSError as e:
            return 0, str(e)

    def metrics_text(self):
        return self.get("/metrics", self.metrics)[1]

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode if self.proc else None
        self.proc = None
        return code


class World:
    def __init__(self, k):
        self.k = k
        self.ip = 0

    def create(self, obj):
        self.k.ok("create", "-f", "-", stdin=json.dumps(obj))

    def get(self, kind, name, ns=NS):
        return json.loads(self.k.ok("-n", ns, "get", kind, name, "-o", "json"))

    def items(self, kind, *sel, ns=NS):
        out = self.k.ok("-n", ns, "get", kind, "-o", "json", *sel)
        return json.loads(out)["items"]

    def pod(self, name, labels, node, ns=NS, running=True):
        """Creates a pod and, as its kubelet, reports it Running."""
        self.ip += 1
        self.create({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": name, "namespace": ns,
                                  "labels": labels},
                     "spec": {"nodeName": node, "containers": [
                         {"name": "app", "image": "busybox"}]}})
        if not running:
            return
        cid = "containerd://" + f"{self.ip:064x}"
        status = {"status": {
            "phase": "Running", "podIP": f"10.244.0.{self.ip}",
            "containerStatuses": [{
                "name": "app", "containerID": cid, "image": "busybox",
                "imageID": "", "ready": True, "restartCount": 0,
                "state": {"running": {}}}]}}
        self.k.ok("-n", ns, "patch", "pod", name, "--subresource=status",
                  "--type=merge", "-p", json.dumps(status))

    def capsule(self, name, spec, ns=NS):
        base = {"image": "registry.local/capsules/tool:1",
                "command": ["true"]}
        base.update(spec)
        self.create({"apiVersion": "recap.dev/v1alpha1", "kind": "Capsule",
                     "metadata": {"name": name, "namespace": ns},
                     "spec": base})

    def wait_ready(self, name, targets, ns=NS):
        def ready():
            st = self.get("capsule", name, ns).get("status", {})
            conds = {c["type"]: c for c in st.get("conditions", [])}
            r = conds.get("Ready", {})
            return (r.get("status") == "True" and
                    st.get("matchedTargets") == targets)
        wait(f"Capsule {name} Ready with {targets} targets", ready)

    def run(self, name, capsule, ns=NS, **spec):
        spec["capsuleRef"] = {"name": capsule}
        self.create({"apiVersion": "recap.dev/v1alpha1", "kind": "CapsuleRun",
                     "metadata": {"name": name, "namespace": ns},
                     "spec": spec})

    def execs(self, run, ns=NS):
        return self.items("capsuleexecutions", "-l", f"recap.dev/run={run}",
                          ns=ns)

    def exec_status(self, name, ns=NS, **status):
        self.k.ok("-n", ns, "patch", "capsuleexecution", name,
                  "--subresource=status", "--type=merge", "-p",
                  json.dumps({"status": status}))

    def finish(self, e, phase="Succeeded", code=0, reason=None, digest=None):
        st = {"phase": phase, "exitCode": code,
              "completionTime": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z",
                                              time.gmtime())}
        if reason:
            st["reason"] = reason
        if digest:
            st["imageDigest"] = digest
        self.exec_status(e["metadata"]["name"], **st)

    def run_phase(self, run, phase, ns=NS):
        def done():
            st = self.get("capsulerun", run, ns).get("status", {})
            return st if st.get("phase") == phase else None
        return wait(f"CapsuleRun {run} {phase}", done)


def check_policy_violation(w):
    w.k.ok("create", "namespace", "prod")
    w.k.ok("label", "namespace", "prod", "env=prod")
    w.create({"apiVersion": "recap.dev/v1alpha1", "kind": "CapsulePolicy",
              "metadata": {"name": "strict"},
              "spec": {"namespaceSelector": {"matchLabels": {"env": "prod"}},
                       "capabilities": {"allowed": ["SYS_PTRACE"]}}})
    w.pod("prod-0", {"app": "web"}, "node-0", ns="prod")
    w.capsule("sniff", {"targets": {"selector": {"matchLabels": {"app": "web"}}},
                        "security": {"capabilities": {"add": ["NET_RAW"]}},
                        "schedule": {"cron": "* * * * *"}}, ns="prod")

    # The namespace's label may reach the controller after the Capsule: it
    # is refused by the baseline first, then (the namespace's change queues
    # its Capsules again) by strict.
    def refused():
        st = w.get("capsule", "sniff", "prod").get("status", {})
        c = {c["type"]: c for c in st.get("conditions", [])}.get("Ready")
        ok = c and c["status"] == "False" and 'CapsulePolicy "strict"' in c["message"]
        return c if ok else None
    c = wait("Ready=False on sniff, by strict", refused)
    expect("reason", c["reason"], "PolicyViolation")
    for word in ('CapsulePolicy "strict"', "NET_RAW", "capabilities.allowed"):
        if word not in c["message"]:
            raise Failure(f"message {c['message']!r} does not name {word}")
    expect("observedGeneration", c["observedGeneration"], 1)
    w.run("sniff-now", "sniff", ns="prod")
    st = w.run_phase("sniff-now", "Failed", ns="prod")
    adm = {c["type"]: c for c in st["conditions"]}["Admitted"]
    expect("run Admitted", (adm["status"], adm["reason"]),
           ("False", "PolicyViolation"))
    expect("executions of a refused run", w.execs("sniff-now", "prod"), [])

    def counted():
        st = json.loads(w.k.ok("get", "capsulepolicy", "strict", "-o",
                               "json")).get("status", {})
        return (st.get("governedCapsules"), st.get("refusedCapsules")) == (1, 1)
    wait("CapsulePolicy strict governs 1 and refuses 1", counted)
    events = w.items("events.events.k8s.io", ns="prod")
    if not any(e["reason"] == "PolicyViolation" and
               e["regarding"]["name"] == "sniff" for e in events):
        raise Failure("no PolicyViolation event for sniff")


def check_invalid_spec(w):
    w.capsule("loop", {"roles": [
        {"name": "a", "selector": {}, "startAfter": ["b"]},
        {"name": "b", "selector": {}, "startAfter": ["a"]}]})

    def invalid():
        st = w.get("capsule", "loop").get("status", {})
        c = {c["type"]: c for c in st.get("conditions", [])}.get("Ready")
        return c if c and c["status"] == "False" else None
    c = wait("Ready=False on loop", invalid)
    expect("reason", c["reason"], "InvalidSpec")
    if "cycle" not in c["message"]:
        raise Failure(f"message {c['message']!r} does not say cycle")
    w.run("loop-1", "loop")
    st = w.run_phase("loop-1", "Failed")
    adm = {c["type"]: c for c in st["conditions"]}["Admitted"]
    expect("run Admitted reason", adm["reason"], "InvalidSpec")
    expect("executions", w.execs("loop-1"), [])


def check_parallel(w):
    for i in range(6):
        w.pod(f"web-{i}", {"app": "web"}, NODES[i % 3])
    w.capsule("ps", {"command": ["ps", "aux"],
                     "targets": {"selector": {"matchLabels": {"app": "web"}}}})
    w.wait_ready("ps", 6)
    w.run("ps-1", "ps")
    execs = wait("6 executions", lambda: (lambda e: e if len(e) == 6 else None)(
        w.execs("ps-1")))
    run = w.get("capsulerun", "ps-1")
    pods = {f"web-{i}": w.get("pod", f"web-{i}") for i in range(6)}
    for e in execs:
        t = e["spec"]["target"]
        p = pods[t["pod"]]
        expect("node", e["spec"]["node"], p["spec"]["nodeName"])
        expect("labels", e["metadata"]["labels"], {
            "recap.dev/run": "ps-1", "recap.dev/capsule": "ps",
            "recap.dev/node": p["spec"]["nodeName"]})
        o = e["metadata"]["ownerReferences"][0]
        expect("owner", (o["kind"], o["name"], o["uid"], o["controller"],
                         o["blockOwnerDeletion"]),
               ("CapsuleRun", "ps-1", run["metadata"]["uid"], True, True))
        expect("podUID", t["podUID"], p["metadata"]["uid"])
        expect("containerID", t["containerID"],
               p["status"]["containerStatuses"][0]["containerID"])
        expect("podIP", t["podIP"], p["status"]["podIP"])
        expect("command", e["spec"]["capsule"]["command"], ["ps", "aux"])
        # the Capsule's defaults the readers take from the getters are not
        # stored (neither written nor defaulted by the CRD); join and
        # targetFilesystem, copied as they are by the node agent, are
        expect("stored profile fields", sorted(e["spec"]["capsule"]),
               ["command", "image", "join", "targetFilesystem"])
        expect("join", e["spec"]["capsule"]["join"], ["net", "pid", "ipc", "uts"])
        # the default timeoutSeconds (300) + 600 s to start, counted from
        # the pass that created it: at or a little before creationTimestamp
        slack = (rfc3339(e["spec"]["deadline"]) -
                 rfc3339(e["metadata"]["creationTimestamp"]) - 900)
        expect("deadline = created + timeoutSeconds + 600 s",
               -10 <= slack <= 1, True)
    expect("nodes", sorted(e["spec"]["node"] for e in execs),
           sorted(NODES * 2))
    for e in execs:
        w.exec_status(e["metadata"]["name"], phase="Running")
    w.run_phase("ps-1", "Running")
    for e in execs:
        w.finish(e)
    st = w.run_phase("ps-1", "Succeeded")
    expect("counts", [st[k] for k in ("targets", "succeeded", "failed")],
           [6, 6, 0])
    row = w.k.ok("-n", NS, "get", "capsuleruns", "ps-1", "--no-headers").split()
    expect("kubectl get capsuleruns", row[:7],
           ["ps-1", "ps", "Manual", "Parallel", "6", "6", "0"])
    expect("phase column", row[7], "Succeeded")
    # Explicit pod names replace the selector; a name that is no running
    # pod is not a target and is reported.
    w.run("ps-2", "ps", targets=["web-4", "missing"])
    execs = wait("1 execution", lambda: w.execs("ps-2"))
    expect("explicit targets", [e["spec"]["target"]["pod"] for e in execs],
           ["web-4"])

    def reported():
        return any(e["reason"] == "TargetsNotFound" and
                   e["regarding"]["name"] == "ps-2" and "missing" in e["note"]
                   for e in w.items("events.events.k8s.io"))
    wait("a TargetsNotFound event", reported)


def rfc3339(ts):
    return calendar.timegm(time.strptime(ts, "%Y-%m-%dT%H:%M:%SZ"))


def exec_of(w, run, pod):
    for e in w.execs(run):
        if e["spec"]["target"]["pod"] == pod:
            return e
    return None


def check_iterative_stop(w):
    for i in range(3):
        w.pod(f"it-{i}", {"app": "it"}, NODES[i])
    w.capsule("rotate", {"targets": {"selector": {"matchLabels": {"app": "it"}}},
                         "strategy": {"type": "Iterative",
                                      "failurePolicy": "Stop"}})
    w.wait_ready("rotate", 3)
    w.run("rotate-1", "rotate")
    e0 = wait("execution of it-0", lambda: exec_of(w, "rotate-1", "it-0"))
    time.sleep(1)
    expect("executions while the first runs", len(w.execs("rotate-1")), 1)
    digest = "sha256:" + "ab" * 32
    w.finish(e0, digest=digest)
    e1 = wait("execution of it-1", lambda: exec_of(w, "rotate-1", "it-1"))
    # The digest the node reported pins the image for the rest of the run.
    expect("image of the next target", e1["spec"]["capsule"]["image"],
           "registry.local/capsules/tool:1@" + digest)
    w.finish(e1, "Failed", 1, "CommandFailed")
    st = w.run_phase("rotate-1", "Failed")
    time.sleep(1)
    expect("executions", sorted(e["spec"]["target"]["pod"]
                                for e in w.execs("rotate-1")), ["it-0", "it-1"])
    expect("counts", [st[k] for k in ("succeeded", "failed", "pending")],
           [1, 1, 0])
    expect("failure", (st["failures"][0]["pod"], st["failures"][0]["exitCode"],
                       st["failures"][0]["reason"]), ("it-1", 1, "CommandFailed"))
    done = {c["type"]: c for c in st["conditions"]}["Complete"]
    expect("Complete reason", done["reason"], "FailurePolicyStop")


def check_roles(w):
    w.pod("srv-0", {"app": "iperf-server"}, "node-0")
    w.pod("cli-0", {"app": "iperf-client"}, "node-1")
    w.pod("cli-1", {"app": "iperf-client"}, "node-2")
    w.capsule("iperf", {"command": ["iperf3", "-c", "x"], "roles": [
        {"name": "server", "command": ["iperf3", "-s"],
         "selector": {"matchLabels": {"app": "iperf-server"}}},
        {"name": "client", "startAfter": ["server"],
         "selector": {"matchLabels": {"app": "iperf-client"}}}]})
    w.wait_ready("iperf", 3)
    w.run("iperf-1", "iperf")
    srv = wait("server execution", lambda: exec_of(w, "iperf-1", "srv-0"))
    expect("server command", srv["spec"]["capsule"]["command"], ["iperf3", "-s"])
    expect("server role", srv["spec"]["role"], "server")
    time.sleep(1)
    expect("executions before the server runs", len(w.execs("iperf-1")), 1)
    w.exec_status(srv["metadata"]["name"], phase="Running")
    execs = wait("client executions", lambda: (lambda e: e if len(e) == 3 else None)(
        w.execs("iperf-1")))
    server_ip = w.get("pod", "srv-0")["status"]["podIP"]
    for e in execs:
        env = {v["name"]: v["value"] for v in e["spec"]["capsule"].get("env", [])}
        expect(f"RECAP_ROLE_SERVER_IPS of {e['spec']['target']['pod']}",
               env.get("RECAP_ROLE_SERVER_IPS"), server_ip)
        if e["spec"]["role"] == "client":
            expect("client command", e["spec"]["capsule"]["command"],
                   ["iperf3", "-c", "x"])
    for e in execs:
        w.finish(e)
    w.run_phase("iperf-1", "Succeeded")


def check_cancel(w):
    w.pod("cx-0", {"app": "cx"}, "node-0")
    w.pod("cx-1", {"app": "cx"}, "node-1")
    w.capsule("dump", {"targets": {"selector": {"matchLabels": {"app": "cx"}}}})
    w.wait_ready("dump", 2)
    w.run("dump-1", "dump")
    execs = wait("2 executions", lambda: (lambda e: e if len(e) == 2 else None)(
        w.execs("dump-1")))
    w.exec_status(execs[0]["metadata"]["name"], phase="Running")
    w.run_phase("dump-1", "Running")
    w.k.ok("-n", NS, "patch", "capsulerun", "dump-1", "--type=merge", "-p",
           '{"spec":{"cancel":true}}')
    st = w.run_phase("dump-1", "Cancelled")
    expect("cancelled", st["cancelled"], 2)
    wait("executions deleted", lambda: w.execs("dump-1") == [])


def check_failed_create(w):
    """A create the API server refuses (here a ResourceQuota of one
    execution) is told on the run as a FailedCreate Warning naming the
    cause, not only in the controller's log; what fits is created."""
    w.k.ok("create", "namespace", "quota")
    w.create({"apiVersion": "v1", "kind": "ResourceQuota",
              "metadata": {"name": "one-execution", "namespace": "quota"},
              "spec": {"hard": {"count/capsuleexecutions.recap.dev": "1"}}})
    wait("the quota is counted", lambda: w.get("resourcequota", "one-execution",
                                                "quota").get("status", {}).get("hard"))
    w.pod("qt-0", {"app": "qt"}, "node-0", ns="quota")
    w.pod("qt-1", {"app": "qt"}, "node-1", ns="quota")
    w.capsule("qt", {"targets": {"selector": {"matchLabels": {"app": "qt"}}}}, ns="quota")
    w.wait_ready("qt", 2, ns="quota")
    w.run("qt-1", "qt", ns="quota")

    def told():
        return [e for e in w.items("events.events.k8s.io", ns="quota")
                if e["reason"] == "FailedCreate" and e["regarding"]["name"] == "qt-1"]
    events = wait("a FailedCreate Warning on the run", told)
    if "exceeded quota" not in events[0].get("note", ""):
        raise Failure(f"the Event does not name the quota: {events[0].get('note')!r}")
    expect("executions created", len(w.execs("qt-1", ns="quota")), 1)


def check_ttl(w):
    """A finished run goes ttlSecondsAfterFinished after it finished, with
    its executions; one without the field is kept (the default is 7 days)."""
    w.pod("tl-0", {"app": "tl"}, "node-0")
    w.capsule("tl", {"targets": {"selector": {"matchLabels": {"app": "tl"}}}})
    w.wait_ready("tl", 1)
    w.run("tl-short", "tl", ttlSecondsAfterFinished=2)
    w.run("tl-kept", "tl")
    for run in ("tl-short", "tl-kept"):
        w.finish(wait(f"execution of {run}", lambda: (w.execs(run) or [None])[0]))
        w.run_phase(run, "Succeeded")
    finished = time.monotonic()
    gone = lambda: w.k.run("-n", NS, "get", "capsulerun", "tl-short")[0] != 0
    wait("the run with ttlSecondsAfterFinished 2 is deleted", gone, timeout=20)
    if time.monotonic() - finished < 1:
        raise Failure("deleted before its time to live had passed")
    wait("its executions go with it", lambda: w.execs("tl-short") == [])
    expect("the run without one is kept", w.get("capsulerun", "tl-kept")["status"]["phase"],
           "Succeeded")


def names_of(w, run):
    return sorted(e["metadata"]["name"] for e in w.execs(run))


def check_deleted_execution(w, ctl):
    """At most once: an execution deleted mid-run is not created again, also
    across a kill -9 (the run's status.dispatched remembers it); its target
    counts as failed. A new run with the name of a deleted one does not take
    that run's executions for its own (owner UID, not name)."""
    w.pod("dx-0", {"app": "dx"}, "node-0")
    w.pod("dx-1", {"app": "dx"}, "node-1")
    w.capsule("once", {"targets": {"selector": {"matchLabels": {"app": "dx"}}}})
    w.wait_ready("once", 2)
    w.run("once-1", "once")
    wait("2 executions", lambda: len(w.execs("once-1")) == 2)
    keep, gone = exec_of(w, "once-1", "dx-0"), exec_of(w, "once-1", "dx-1")
    w.exec_status(gone["metadata"]["name"], phase="Running")
    w.k.ok("-n", NS, "delete", "capsuleexecution", gone["metadata"]["name"])
    time.sleep(2)
    expect("executions after the delete", names_of(w, "once-1"), [keep["metadata"]["name"]])
    ctl.kill(signal.SIGKILL)
    ctl.start()
    time.sleep(2)
    expect("executions after a restart", names_of(w, "once-1"), [keep["metadata"]["name"]])
    dispatched = w.get("capsulerun", "once-1")["status"].get("dispatched", [])
    expect("status.dispatched", sorted(dispatched),
           sorted(e["metadata"]["name"].rsplit("-", 1)[1] for e in (keep, gone)))
    w.finish(keep)
    st = w.run_phase("once-1", "PartiallyFailed")
    expect("counts", (st["targets"], st["succeeded"], st["failed"]), (2, 1, 1))
    f = st["failures"][0]
    expect("failure", (f["execution"], f.get("pod"), f["reason"]),
           (gone["metadata"]["name"], "dx-1", "ExecutionDeleted"))
    # The succeeded execution outlives its run (a finalizer holds it), and a
    # run of the same name comes: its dx-0 cannot be created and did not run.
    w.k.ok("-n", NS, "patch", "capsuleexecution", keep["metadata"]["name"], "--type=merge",
           "-p", '{"metadata":{"finalizers":["test.recap.dev/hold"]}}')
    w.k.ok("-n", NS, "delete", "capsulerun", "once-1", "--wait=true")
    w.run("once-1", "once")
    fresh = wait("the new run's dx-1", lambda: exec_of(w, "once-1", "dx-1"))
    w.finish(fresh)
    st = w.run_phase("once-1", "PartiallyFailed")
    expect("new run's counts", (st["targets"], st["succeeded"], st["failed"]), (2, 1, 1))
    expect("new run's failure", (st["failures"][0].get("pod"), st["failures"][0]["reason"]),
           ("dx-0", "ExecutionDeleted"))
    w.k.ok("-n", NS, "patch", "capsuleexecution", keep["metadata"]["name"], "--type=merge",
           "-p", '{"metadata":{"finalizers":null}}')
    wait("the old execution goes", lambda: exec_of(w, "once-1", "dx-0") is None)


def check_restart_mid_iterative(w, ctl):
    for i in range(4):
        w.pod(f"lr-{i}", {"app": "lr"}, NODES[i % 3])
    w.capsule("logrotate", {"targets": {"selector": {"matchLabels": {"app": "lr"}}},
                            "strategy": {"type": "Iterative",
                                         "failurePolicy": "Continue"}})
    w.wait_ready("logrotate", 4)
    w.run("lr-1", "logrotate")
    e0 = wait("execution of lr-0", lambda: exec_of(w, "lr-1", "lr-0"))
    w.finish(e0)
    e1 = wait("execution of lr-1", lambda: exec_of(w, "lr-1", "lr-1"))
    ctl.kill(signal.SIGKILL)
    # While it is down the node agent finishes the second target.
    w.finish(e1)
    time.sleep(1)
    expect("executions while down", len(w.execs("lr-1")), 2)
    ctl.start()
    for pod in ("lr-2", "lr-3"):
        e = wait(f"execution of {pod}", lambda p=pod: exec_of(w, "lr-1", p))
        w.finish(e)
    w.run_phase("lr-1", "Succeeded")
    pods = sorted(e["spec"]["target"]["pod"] for e in w.execs("lr-1"))
    expect("every target exactly once", pods, ["lr-0", "lr-1", "lr-2", "lr-3"])


def minute_of(ts):
    return int(time.mktime(time.strptime(ts, "%Y-%m-%dT%H:%M:%SZ"))
               - time.timezone) // 60


def check_periodic(w, ctl, created_minute):
    """`tick` was created first thing; by now a minute has passed."""
    def runs():
        rs = [r for r in w.items("capsuleruns") if
              r["spec"]["capsuleRef"]["name"] == "tick"]
        return rs or None
    rs = wait("a Periodic run of tick", runs, timeout=75)
    # Killed once its execution exists: killed between the run's status write
    # and the create, the run would count its target failed (at most once,
    # docs/controller.md), which is not what this case is about.
    wait("its execution", lambda: all(w.execs(r["metadata"]["name"]) for r in rs))
    ctl.kill(signal.SIGKILL)
    ctl.start()
    time.sleep(3)
    # Not right at a minute boundary: the count below is exact.
    while time.time() % 60 > 55 or time.time() % 60 < 3:
        time.sleep(1)
    rs = runs()
    now_minute = int(time.time()) // 60
    names = sorted(r["metadata"]["name"] for r in rs)
    for r in rs:
        expect("trigger", r["spec"]["trigger"], "Periodic")
        m = minute_of(r["spec"]["scheduledTime"])
        expect("deterministic name", r["metadata"]["name"], f"tick-{m}")
        o = r["metadata"]["ownerReferences"][0]
        expect("owner", (o["kind"], o["name"]), ("Capsule", "tick"))
    expect("one run per minute since creation", names,
           [f"tick-{m}" for m in range(created_minute + 1, now_minute + 1)])
    st = w.get("capsule", "tick")["status"]
    expect("lastScheduleTime", minute_of(st["lastScheduleTime"]), now_minute)
    expect("nextScheduleTime", minute_of(st["nextScheduleTime"]), now_minute + 1)
    # historyLimits.succeeded 0: a run that succeeds is deleted, and its
    # scheduled time is not started again.
    last = names[-1]
    e = wait(f"execution of {last}", lambda: w.execs(last))[0]
    w.finish(e)
    wait(f"{last} deleted by the history limit", lambda: last not in [
        r["metadata"]["name"] for r in w.items("capsuleruns")], timeout=20)
    st = wait("lastSuccessfulTime", lambda: w.get("capsule", "tick")["status"].get(
        "lastSuccessfulTime"))
    time.sleep(2)
    if last in [r["metadata"]["name"] for r in w.items("capsuleruns")]:
        raise Failure(f"{last} was started again after its deletion")


def check_missed(w):
    """Three hours of missed minutes start one run, with a warning."""
    w.capsule("catchup", {"targets": {"selector": {"matchLabels": {"app": "tick"}}},
                          "schedule": {"cron": "* * * * *"}})
    w.wait_ready("catchup", 1)
    while time.time() % 60 > 50:  # the minute must not turn meanwhile
        time.sleep(1)
    past = time.strftime("%Y-%m-%dT%H:%M:00Z", time.gmtime(time.time() - 3 * 3600))
    w.k.ok("-n", NS, "patch", "capsule", "catchup", "--subresource=status",
           "--type=merge", "-p", json.dumps({"status": {"lastScheduleTime": past}}))
    minute = int(time.time()) // 60

    def runs():
        return [r["metadata"]["name"] for r in w.items("capsuleruns")
                if r["spec"]["capsuleRef"]["name"] == "catchup"] or None
    wait("the catch-up run", runs)
    time.sleep(1)
    expect("runs", runs(), [f"catchup-{minute}"])

    def warned():
        return any(e["reason"] == "MissedSchedules" and e["type"] == "Warning" and
                   e["regarding"]["name"] == "catchup"
                   for e in w.items("events.events.k8s.io"))
    wait("a MissedSchedules warning", warned)


class Proxy:
    """`kubectl proxy` on a free port and one kept-alive connection to it:
    a thousand status writes in seconds, as a node's kubelets make them."""

    def __init__(self, k):
        self.port = free_port()
        self.proc = subprocess.Popen(k.argv + ["proxy", f"--port={self.port}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait("kubectl proxy", self.up)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def up(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def call(self, method, path, body, ctype="application/json"):
        self.conn.request(method, path, json.dumps(body), {"Content-Type": ctype})
        r = self.conn.getresponse()
        data = r.read()
        if r.status >= 300:
            raise Failure(f"{method} {path}: {r.status} {data[:300]!r}")

    def close(self):
        self.conn.close()
        self.proc.terminate()
        self.proc.wait()


STORM = 1000


def check_storm(w):
    """A storm: 1,000 running pods turn NotReady at once. A Capsule whose
    trigger fires on Ready False (maxConcurrentRuns 5) gets exactly 5 runs,
    each for its own pod, and says the others wait; with no node agent
    they never finish, so no other cause may fire."""
    ns = "storm"
    w.k.ok("create", "namespace", ns)
    w.capsule("on-storm", {"targets": {"selector": {"matchLabels": {"app": "storm"}}},
                           "triggers": [{"podCondition": {"type": "Ready", "status": "False"}}],
                           "triggerLimits": {"maxConcurrentRuns": 5}}, ns=ns)
    proxy = Proxy(w.k)
    try:
        base = f"/api/v1/namespaces/{ns}/pods"
        for i in range(STORM):
            proxy.call("POST", base, {"apiVersion": "v1", "kind": "Pod",
                                      "metadata": {"name": f"s-{i}", "labels": {"app": "storm"}},
                                      "spec": {"nodeName": NODES[i % 3],
                                               "containers": [{"name": "app", "image": "busybox"}]}})

        def status(i, ready):
            return {"status": {
                "phase": "Running", "podIP": f"10.245.{i // 250}.{i % 250 + 1}",
                "conditions": [{"type": "Ready", "status": ready,
                                "lastTransitionTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}],
                "containerStatuses": [{
                    "name": "app", "containerID": "containerd://" + f"{i + 4096:064x}",
                    "image": "busybox", "imageID": "", "ready": ready == "True", "restartCount": 0,
                    "state": {"running": {}}}]}}
        for i in range(STORM):
            proxy.call("PATCH", f"{base}/s-{i}/status", status(i, "True"), "application/merge-patch+json")
        w.wait_ready("on-storm", STORM, ns=ns)
        expect("no run while every pod is Ready", len(w.items("capsuleruns", ns=ns)), 0)
        for i in range(STORM):
            proxy.call("PATCH", f"{base}/s-{i}/status", status(i, "False"), "application/merge-patch+json")
    finally:
        proxy.close()
    wait("the first triggered runs", lambda: len(w.items("capsuleruns", ns=ns)) >= 5, timeout=60)
    time.sleep(5)  # every pod change has been seen by then; none may add a run
    runs = w.items("capsuleruns", ns=ns)
    expect("triggered runs after the storm (maxConcurrentRuns)", len(runs), 5)
    pods = {r["spec"]["cause"]["pod"] for r in runs}
    expect("each for its own pod", len(pods), 5)
    expect("trigger", {r["spec"]["trigger"] for r in runs}, {"PodCondition"})

    def capped():
        notes = [e.get("note", "") for e in json.loads(w.k.ok(
            "-n", ns, "get", "events.events.k8s.io", "-o", "json"))["items"]
            if e.get("reason") == "TriggerCapped"]
        return any("causes wait: at most 5 triggered runs of this Capsule" in n for n in notes)
    wait("a TriggerCapped Event on the Capsule", capped)
    w.k.ok("delete", "namespace", ns, "--wait=false")


def check_endpoints(ctl):
    expect("/healthz", ctl.get("/healthz")[0], 200)
    expect("/readyz", ctl.get("/readyz")[0], 200)
    expect("POST /healthz", ctl.get("/healthz", method="POST")[0], 405)
    expect("/nope", ctl.get("/nope")[0], 404)
    text = ctl.metrics_text()
    for want in ('recap_controller_reconcile_total{kind="CapsuleRun",result="success"}',
                 'recap_controller_reconcile_duration_seconds_bucket{kind="Capsule",le="+Inf"}',
                 'recap_controller_queue_depth{kind="Capsule"}',
                 'recap_controller_runs{phase="Succeeded"}',
                 "recap_controller_execution_duration_seconds_count",
                 "recap_controller_leader 1"):
        if want not in text:
            raise Failure(f"/metrics lacks {want}")
    # An oversized request head is refused, not buffered.
    # (The server may reset the connection with the rest unread.)
    try:
        with socket.create_connection(("127.0.0.1", ctl.health), timeout=5) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nX: " + b"a" * 10000 + b"\r\n\r\n")
            reply = s.recv(200)
    except ConnectionResetError:
        reply = b" 431 "
    if b" 431 " not in reply:
        raise Failure(f"oversized request: {reply[:60]!r}")
    expect("/healthz after it", ctl.get("/healthz")[0], 200)


def check_unescaped(w, ctl):
    """An execution that ended without a verified escape is counted until
    its node verifies it."""
    def gauge():
        for line in ctl.metrics_text().splitlines():
            if line.startswith("recap_controller_executions_unescaped "):
                return int(line.split()[1])
        raise Failure("/metrics lacks recap_controller_executions_unescaped")
    expect("unescaped before", gauge(), 0)
    w.pod("leaky-0", {"app": "leaky"}, "node-1")
    w.capsule("leaky", {"targets": {"selector": {"matchLabels": {"app": "leaky"}}}})
    w.wait_ready("leaky", 1)
    w.run("leaky-1", "leaky")
    e = wait("execution of leaky-1", lambda: w.execs("leaky-1"))[0]
    name = e["metadata"]["name"]
    w.exec_status(name, phase="Failed", reason="ExecutorFailed", escaped=False,
                  message="escape could not be verified",
                  completionTime=time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()))
    wait("recap_controller_executions_unescaped 1", lambda: gauge() == 1)
    w.exec_status(name, escaped=True)
    wait("recap_controller_executions_unescaped back to 0", lambda: gauge() == 0)


def check_api_down(w, ctl, cluster):
    """/readyz says when the API server does not answer, and recovers."""
    expect("/readyz before", ctl.get("/readyz")[0], 200)
    cluster.stop_apiserver()
    try:
        wait("/readyz fails while the API server is down",
             lambda: ctl.get("/readyz")[0] == 503, timeout=20)
        expect("/readyz says why", "does not answer" in ctl.get("/readyz")[1], True)
        expect("/healthz stays ok (a restart would not help)", ctl.get("/healthz")[0], 200)
    finally:
        cluster.start_apiserver()
    w.k.ok("create", "namespace", "readyz-probe")  # an event the informers see
    wait("/readyz ok again once the API server answers",
         lambda: ctl.get("/readyz")[0] == 200, timeout=30)


def check_leader_election(w, binary, kubeconfig, logdir):
    timing = ["--leader-elect=true", "--leader-elect-namespace=default",
              "--lease-duration-ms=3000", "--renew-deadline-ms=2000",
              "--retry-period-ms=500"]
    a = Controller(binary, kubeconfig, logdir, "leader-a", *timing,
                   "--leader-elect-identity=ctl-a")
    b = Controller(binary, kubeconfig, logdir, "leader-b", *timing,
                   "--leader-elect-identity=ctl-b")
    try:
        a.start()
        b.start()

        def holder():
            lease = json.loads(w.k.ok("-n", "default", "get", "lease",
                                      "recap-controller", "-o", "json"))
            return lease["spec"].get("holderIdentity")
        first = wait("a Lease holder", holder)
        wait("the holder leads", lambda: "recap_controller_leader 1" in
             (a if first == "ctl-a" else b).metrics_text())
        leading = [c for c in (a, b) if "recap_controller_leader 1" in
                   c.metrics_text()]
        expect("replicas leading", len(leading), 1)
        expect("both ready", [c.get("/readyz")[0] for c in (a, b)], [200, 200])
        w.pod("le-0", {"app": "le"}, "node-0")
        w.capsule("le", {"targets": {"selector": {"matchLabels": {"app": "le"}}}})
        w.wait_ready("le", 1)
        w.run("le-1", "le")
        wait("execution of le-1", lambda: w.execs("le-1"))
        leader, standby = (a, b) if first == "ctl-a" else (b, a)
        idle = 'recap_controller_reconcile_total{kind="CapsuleRun",result="success"} 0'
        if idle not in standby.metrics_text():
            raise Failure("the standby reconciled runs")
        expect("leader exits cleanly on SIGTERM", leader.kill(signal.SIGTERM), 0)
        wait("the standby takes over", lambda: holder() == (
            "ctl-b" if first == "ctl-a" else "ctl-a"), timeout=10)
        w.run("le-2", "le")
        wait("execution of le-2", lambda: w.execs("le-2"))
        check_stopped_leader(w, leader, standby, holder)
    finally:
        a.kill()
        b.kill()


def check_stopped_leader(w, old, cur, holder):
    """Two leaders: the current one is stopped (SIGSTOP) past its lease while
    the other takes over and works; continued (SIGCONT), it must see at once
    that it no longer leads and exit 1, sending nothing more."""
    old.start()  # back as the standby
    ids = {"leader-a": "ctl-a", "leader-b": "ctl-b"}
    old_id = ids[os.path.basename(old.log)[:-4]]
    cur.proc.send_signal(signal.SIGSTOP)
    try:
        wait("the standby takes over from the stopped leader",
             lambda: holder() == old_id, timeout=15)
        w.run("le-3", "le")
        wait("the new leader makes le-3's execution", lambda: w.execs("le-3"))
        wait("the new leader records it", lambda: (w.get("caprun", "le-3").get(
            "status") or {}).get("dispatched"))
        before = os.path.getsize(cur.log)
    finally:
        cur.proc.send_signal(signal.SIGCONT)
    try:
        code = cur.proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        raise Failure("the continued leader still runs 5 s after SIGCONT")
    cur.proc = None
    expect("the continued leader's exit code", code, 1)
    with open(cur.log) as f:
        f.seek(before)
        after = f.read()
    if "lost the leader Lease" not in after:
        raise Failure(f"the continued leader did not say it lost the Lease: {after!r}")
    expect("executions of le-3", len(w.execs("le-3")), 1)
    expect("the Lease holder", holder(), old_id)


def main():
    binary = sys.argv[1]
    bindir = os.environ.get("RECAP_KUBE_BIN", "")
    if not os.access(os.path.join(bindir, "kubectl"), os.X_OK):
        print("skip: RECAP_KUBE_BIN does not hold kubectl "
              "(export RECAP_KUBE_BIN=$(hack/build-kube))")
        return 77
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("controller: terminated"))
    logdir = tempfile.mkdtemp(prefix="recap-test-controller.")
    ctl = None
    try:
        with Cluster(bindir) as k:
            k.ok("apply", "-k", os.path.join(ROOT, "crds"))
            k.wait_established(["crd", "--all"])
            for n in NODES:
                k.ok("create", "-f", "-", stdin=json.dumps(
                    {"apiVersion": "v1", "kind": "Node",
                     "metadata": {"name": n}}))
            k.ok("create", "namespace", NS)
            w = World(k)
            kubeconfig = k.argv[2]
            ctl = Controller(binary, kubeconfig, logdir, "controller",
                             "--leader-elect=false")
            ctl.start()
            # The schedule first: its minute passes while the rest runs.
            w.pod("tick-0", {"app": "tick"}, "node-0")
            w.capsule("tick", {"targets": {"selector": {"matchLabels": {"app": "tick"}}},
                               "schedule": {"cron": "* * * * *"},
                               "historyLimits": {"succeeded": 0}})
            # the minute the API server created it in (the local clock's
            # could be the one before, at a minute's turn)
            created_minute = minute_of(
                w.get("capsule", "tick")["metadata"]["creationTimestamp"])
            case("policy violation", check_policy_violation, w)
            case("invalid spec: startAfter cycle", check_invalid_spec, w)
            case("parallel over 6 pods on 3 nodes", check_parallel, w)
            case("iterative, failurePolicy Stop", check_iterative_stop, w)
            case("roles: clients after servers, peer IPs", check_roles, w)
            case("cancel", check_cancel, w)
            case("a finished run goes after its ttlSecondsAfterFinished", check_ttl, w)
            case("a refused create is told on the run", check_failed_create, w)
            case("kill -9 mid-Iterative", check_restart_mid_iterative, w, ctl)
            case("a deleted execution is not created again", check_deleted_execution, w, ctl)
            case("more than 100 missed starts: one run", check_missed, w)
            case("a storm of 1,000 pods NotReady: the Capsule's cap", check_storm, w)
            case("endpoints", check_endpoints, ctl)
            case("an unverified escape is counted", check_unescaped, w, ctl)
            case("periodic: one run per minute, none twice", check_periodic,
                 w, ctl, created_minute)
            case("/readyz while the API server is down", check_api_down, w, ctl,
                 k.cluster)
            expect_clean = ctl.kill(signal.SIGTERM)
            if expect_clean != 0:
                print(f"FAIL SIGTERM: exit {expect_clean}")
                failed.append("sigterm")
            case("leader election: one acts", check_leader_election, w,
                 binary, kubeconfig, logdir)
    except Failure as e:
        print(f"FAIL setup: {e}", flush=True)
        failed.append("setup")
    finally:
        if ctl:
            ctl.kill()
        if failed:
            for f in sorted(os.listdir(logdir)):
                print(f"---- {f}")
                print(open(os.path.join(logdir, f)).read()[-6000:])
        subprocess.run(["rm", "-rf", logdir])
    if failed:
        print(f"{len(failed)} failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The e2e node stand-in: plays the kubelet's part for target pods.

For every Pod whose spec.nodeName is one of --nodes it runs the pod through a
real containerd's CRI with crictl, as the kubelet would: a pod sandbox whose
metadata is the pod's name, namespace and uid (hostname the pod's name, its
network from the runtime's CNI bridge, its cgroup parent
<--cgroup-parent>/pod<uid>), then one container per pod container (metadata
name the container's name, --image), both labelled as the kubelet labels them
(io.kubernetes.pod.name, .namespace, .uid and io.kubernetes.container.name).
It reports the pod Running with podIP (the sandbox's, from inspectp) and
containerStatuses[].containerID = containerd://<CRI container id>. A pod being
deleted loses its sandbox and is then removed (there is no kubelet to
confirm). A Ready Node object exists for every simulated node, its heartbeat
renewed. On SIGTERM/SIGINT every sandbox of the runtime is removed.

    standin.py --nodes n1,n2,n3 --cri-endpoint SOCKET --image REF
               --cgroup-parent /PARENT --dir DIR

kubectl (with $KUBECONFIG) and crictl must be on PATH; run as root. The
runtime (hack/node up --runtime-only) is this stand-in's alone: every
sandbox in it is the stand-in's.
"""
import argparse
import concurrent.futures
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import time

POLL_S = 0.3
HEARTBEAT_S = 10
START_WORKERS = 8


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def kubectl(*args, stdin=None, check=True):
    p = subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError("kubectl %s: %s" % (" ".join(args[:3]), p.stderr.strip()))
    return p.stdout


def log(msg):
    print("standin: %s" % msg, file=sys.stderr, flush=True)


def cgroup_hierarchies():
    with open("/proc/self/mounts") as f:
        return [line.split()[1] for line in f if line.split()[2] in ("cgroup", "cgroup2")]


class Standin:
    def __init__(self, nodes, image, cgroup_parent, workdir):
        self.nodes = nodes
        self.image = image
        self.cgroup_parent = cgroup_parent
        self.dir = workdir
        self.config = os.path.join(workdir, "crictl.yaml")
        self.pods = {}  # uid -> {"sandbox": id, "ids": [...], "ns": ..., "name": ...}
        self.stopping = False
        # New pods start side by side and apart from the loop, as a kubelet's
        # pod workers do: one pod's CRI calls hold up neither another pod
        # nor the next poll.
        self.workers = concurrent.futures.ThreadPoolExecutor(START_WORKERS)
        self.starting = {}  # uid -> future of pod_start's entry (None: failed)

    def write_config(self, endpoint):
        with open(self.config, "w") as f:
            f.write("runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\n"
                    "timeout: 30\npull-image-on-create: false\n" % (endpoint, endpoint))

    def crictl(self, *args, check=True):
        p = subprocess.run(["crictl", "--config", self.config, *args],
                           capture_output=True, text=True)
        if check and p.returncode != 0:
            raise RuntimeError("crictl %s: %s" % (args[0], p.stderr.strip()))
        return p.stdout.strip()

    # --- nodes -------------------------------------------------------------
    def nodes_ready(self):
        for n in self.nodes:
            node = {"apiVersion": "v1", "kind": "Node",
                    "metadata": {"name": n, "labels": {"kubernetes.io/hostname": n,
                                                       "recap.dev/simulated": "true"}}}
            kubectl("apply", "-f", "-", stdin=json.dumps(node))
            status = {"status": {"conditions": [{
                "type": "Ready", "status": "True", "reason": "KubeletReady",
                "message": "e2e node stand-in", "lastHeartbeatTime": now(),
                "lastTransitionTime": now()}],
                "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}]}}
            kubectl("patch", "node", n, "--subresource=status", "--type=merge",
                    "-p", json.dumps(status))

    # --- pods through the CRI ----------------------------------------------
    def write_json(self, uid, name, obj):
        path = os.path.join(self.dir, uid, name)
        with open(path, "w") as f:
            json.dump(obj, f)
        return path

    def sandbox_config(self, meta):
        labels = {"io.kubernetes.pod.name": meta["name"],
                  "io.kubernetes.pod.namespace": meta["namespace"],
                  "io.kubernetes.pod.uid": meta["uid"]}
        # namespace_options: network and IPC shared by the pod (POD = 0),
        # a PID namespace per container (CONTAINER = 1), as the kubelet's
        # default without shareProcessNamespace.
        return {"metadata": {"name": meta["name"], "namespace": meta["namespace"],
                             "uid": meta["uid"], "attempt": 0},
                "hostname": meta["name"][:63], "labels": labels,
                "linux": {"cgroup_parent": self.pod_cgroup(meta["uid"]),
                          "security_context": {"namespace_options": {
                              "network": 0, "pid": 1, "ipc": 0}}}}

    def container_config(self, sandbox_labels, name):
        labels = dict(sandbox_labels, **{"io.kubernetes.container.name": name})
        return {"metadata": {"name": name, "attempt": 0}, "image": {"image": self.image},
                "labels": labels, "linux": {}}

    def pod_cgroup(self, uid):
        return "%s/pod%s" % (self.cgroup_parent, uid)

    def pod_start(self, pod):
        """Runs the pod and reports it Running; returns its entry. On failure
        whatever was made is removed and the error raised."""
        meta, spec = pod["metadata"], pod["spec"]
        uid = meta["uid"]
        os.makedirs(os.path.join(self.dir, uid), exist_ok=True)
        sandbox_cfg = self.sandbox_config(meta)
        pod_json = self.write_json(uid, "pod.json", sandbox_cfg)
        entry = {"sandbox": None, "ids": [], "ns": meta["namespace"], "name": meta["name"],
                 "uid": uid}
        try:
            entry["sandbox"] = self.crictl("runp", pod_json)
            statuses = []
            for i, c in enumerate(spec["containers"]):
                cfg = self.container_config(sandbox_cfg["labels"], c["name"])
                cid = self.crictl("create", "--no-pull", entry["sandbox"],
                                  self.write_json(uid, "container-%d.json" % i, cfg), pod_json)
                entry["ids"].append(cid)
                self.crictl("start", cid)
                statuses.append({"name": c["name"], "containerID": "containerd://" + cid,
                                 "image": c.get("image", ""), "imageID": "", "ready": True,
                                 "started": True, "restartCount": 0,
                                 "state": {"running": {"startedAt": now()}}})
            ip = json.loads(self.crictl("inspectp", entry["sandbox"]))["status"]["network"]["ip"]
            status = {"status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                                 "hostIP": "127.0.0.1", "startTime": now(),
                                 "conditions": [{"type": "Ready", "status": "True"},
                                                {"type": "ContainersReady", "status": "True"}],
                                 "containerStatuses": statuses}}
            kubectl("patch", "pod", "-n", meta["namespace"], meta["name"],
                    "--subresource=status", "--type=merge", "-p", json.dumps(status))
        except (RuntimeError, OSError, KeyError, ValueError):
            self.pod_remove(entry)
            raise
        log("pod %s/%s on %s: %s sandbox %s containers %s" % (
            meta["namespace"], meta["name"], spec["nodeName"], ip, entry["sandbox"][:13],
            [c[:13] for c in entry["ids"]]))
        return entry

    def pod_remove(self, entry):
        """The sandbox with its containers (stopped first: rmp --force), the
        pod's cgroup (the runtime removes only the containers' own) and its
        files."""
        if entry["sandbox"]:
            self.crictl("rmp", "--force", entry["sandbox"], check=False)
        for h in cgroup_hierarchies():
            try:
                os.rmdir(h + self.pod_cgroup(entry["uid"]))
            except FileNotFoundError:
                pass
            except OSError as e:
                log("pod %s/%s: %s" % (entry["ns"], entry["name"], e))
        shutil.rmtree(os.path.join(self.dir, entry["uid"]), ignore_errors=True)

    def pod_stop(self, uid):
        entry = self.pods.pop(uid)
        self.pod_remove(entry)
        log("pod %s/%s: sandbox removed" % (entry["ns"], entry["name"]))
        return entry

    def start_one(self, pod):
        try:
            return self.pod_start(pod)
        except (RuntimeError, OSError, KeyError, ValueError) as e:
            log("pod %s/%s: %s" % (pod["metadata"]["namespace"], pod["metadata"]["name"], e))
            return None

    def started(self, wait=False):
        """Pods whose start ended join self.pods (a failed one is retried
        at a later poll)."""
        for uid, fut in list(self.starting.items()):
            if wait or fut.done():
                del self.starting[uid]
                if fut.result():
                    self.pods[uid] = fut.result()

    # --- the loop ----------------------------------------------------------
    def sync(self):
        self.started()
        pods = json.loads(kubectl("get", "pods", "-A", "-o", "json"))["items"]
        seen = set()
        for pod in pods:
            meta, spec = pod["metadata"], pod["spec"]
            if spec.get("nodeName") not in self.nodes:
                continue
            uid = meta["uid"]
            if meta.get("deletionTimestamp"):
                if uid in self.pods:
                    self.pod_stop(uid)
                kubectl("delete", "pod", "-n", meta["namespace"], meta["name"],
                        "--grace-period=0", "--force", "--wait=false", check=False)
                continue
            seen.add(uid)
            if uid not in self.pods and uid not in self.starting:
                self.starting[uid] = self.workers.submit(self.start_one, pod)
        # (a pod deleted while it started goes at the poll after its start)
        for uid in [u for u in self.pods if u not in seen]:
            self.pod_stop(uid)

    def run(self):
        self.nodes_ready()
        beat = time.monotonic()
        while not self.stopping:
            try:
                self.sync()
            except RuntimeError as e:
                log(str(e))
            if time.monotonic() - beat > HEARTBEAT_S:
                try:  # the API server may be restarting: beat again at the next poll
                    self.nodes_ready()
                    beat = time.monotonic()
                except RuntimeError as e:
                    log(str(e))
            time.sleep(POLL_S)

    def shutdown(self):
        """Every pod goes, side by side (the e2e teardown waits for this)."""
        self.started(wait=True)
        list(self.workers.map(self.pod_stop, list(self.pods)))
        self.workers.shutdown()
        # A sandbox whose start was cut short by the signal is in the
        # runtime but not in self.pods: the runtime is ours alone.
        left = self.crictl("pods", "--quiet", check=False).split()
        for sandbox in left:
            self.crictl("rmp", "--force", sandbox, check=False)
        if left:
            log("removed %d sandbox(es) not yet reported" % len(left))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nodes", required=True, help="comma-separated simulated node names")
    ap.add_argument("--cri-endpoint", required=True, help="the containerd's CRI socket")
    ap.add_argument("--image", required=True, help="the image every container runs")
    ap.add_argument("--cgroup-parent", required=True,
                    help="cgroup (absolute, cgroupfs) the pods' cgroups go under")
    ap.add_argument("--dir", required=True, help="crictl's configuration and the pods' CRI configs")
    a = ap.parse_args()
    nodes = [n for n in a.nodes.split(",") if n]
    if not nodes or len(nodes) > 200:
        ap.error("--nodes: 1..200 names")
    if not a.cgroup_parent.startswith("/") or a.cgroup_parent == "/":
        ap.error("--cgroup-parent: an absolute path below /")
    os.makedirs(a.dir, exist_ok=True)
    s = Standin(nodes, a.image, a.cgroup_parent.rstrip("/"), a.dir)
    s.write_config(a.cri_endpoint)

    def stop(signum, frame):
        s.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        s.run()
    finally:
        s.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())

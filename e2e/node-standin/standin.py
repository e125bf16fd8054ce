#!/usr/bin/env python3
"""The e2e node stand-in: plays the kubelet's part for target pods.

For every Pod whose spec.nodeName is one of --nodes it starts one real runc
container per pod container (a tool-less rootfs holding only a static
sleeper), in its own network namespace whose loopback carries the pod's IP
(10.244.<node index>.<n>: unique and real inside the pod; not routed between
pods unless --bridge is given: then each pod gets an eth0 on a veth pair
attached to that host bridge, 10.244.0.1/16, so pods reach each other), and reports the pod Running with podIP and containerStatuses[].
containerID = containerd://<runc id> (the executor finds runc ids in
/proc/*/cgroup). A pod being deleted loses its containers and is then removed
(there is no kubelet to confirm). A Ready Node object exists for every
simulated node, its heartbeat renewed. On SIGTERM/SIGINT every container of
this stand-in is removed.

    standin.py --nodes n1,n2,n3 --sleeper PATH --dir DIR [--prefix ID] [--bridge NAME]

kubectl (with $KUBECONFIG) and runc must be on PATH; run as root.
"""
import argparse
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


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def kubectl(*args, stdin=None, check=True):
    p = subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError("kubectl %s: %s" % (" ".join(args[:3]), p.stderr.strip()))
    return p.stdout


def log(msg):
    print("standin: %s" % msg, file=sys.stderr, flush=True)


class Standin:
    def __init__(self, nodes, sleeper, workdir, prefix, bridge=None):
        self.bridge = bridge
        self.veths = 0
        self.nodes = nodes
        self.sleeper = sleeper
        self.dir = workdir
        self.prefix = prefix
        self.pods = {}  # uid -> {"ids": [...], "ip": str, "ns": ..., "name": ...}
        self.next_ip = {n: 2 for n in nodes}
        self.stopping = False

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

    # --- containers --------------------------------------------------------
    def runc_start(self, cid, hostname):
        bundle = os.path.join(self.dir, cid)
        os.makedirs(os.path.join(bundle, "rootfs"), exist_ok=True)
        shutil.copy(self.sleeper, os.path.join(bundle, "rootfs", "sleeper"))
        subprocess.run(["runc", "spec"], cwd=bundle, check=True)
        path = os.path.join(bundle, "config.json")
        with open(path) as f:
            cfg = json.load(f)
        cfg["process"]["args"] = ["/sleeper"]
        cfg["process"]["terminal"] = False
        cfg["hostname"] = hostname[:63]
        with open(path, "w") as f:
            json.dump(cfg, f)
        subprocess.run(["runc", "run", "-d", "--bundle", bundle, cid], check=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        state = json.loads(subprocess.run(["runc", "state", cid], check=True,
                                          capture_output=True, text=True).stdout)
        return state["pid"]

    def runc_remove(self, cid):
        subprocess.run(["runc", "kill", cid, "KILL"], capture_output=True)
        for _ in range(50):
            if subprocess.run(["runc", "delete", "-f", cid], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        shutil.rmtree(os.path.join(self.dir, cid), ignore_errors=True)

    def pod_start(self, pod):
        meta, spec = pod["metadata"], pod["spec"]
        node = spec["nodeName"]
        idx = self.nodes.index(node)
        ip = "10.244.%d.%d" % (idx + 1, self.next_ip[node])
        self.next_ip[node] += 1
        entry = {"ids": [], "ip": ip, "ns": meta["namespace"], "name": meta["name"]}
        self.pods[meta["uid"]] = entry
        statuses = []
        for i, c in enumerate(spec["containers"]):
            cid = "%s-%s-%d" % (self.prefix, meta["uid"][:13], i)
            pid = self.runc_start(cid, meta["name"])
            entry["ids"].append(cid)
            if i == 0:  # the pod's network namespace: the first container's
                self.pod_network(pid, ip)
            statuses.append({"name": c["name"], "containerID": "containerd://" + cid,
                             "image": c.get("image", ""), "imageID": "", "ready": True,
                             "started": True, "restartCount": 0,
                             "state": {"running": {"startedAt": now()}}})
        status = {"status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                             "hostIP": "127.0.0.1", "startTime": now(),
                             "conditions": [{"type": "Ready", "status": "True"},
                                            {"type": "ContainersReady", "status": "True"}],
                             "containerStatuses": statuses}}
        kubectl("patch", "pod", "-n", meta["namespace"], meta["name"], "--subresource=status",
                "--type=merge", "-p", json.dumps(status))
        log("pod %s/%s on %s: %s %s" % (meta["namespace"], meta["name"], node, ip, entry["ids"]))

    def pod_network(self, pid, ip):
        def ns(cmd):
            subprocess.run(["nsenter", "-t", str(pid), "-n", "sh", "-c", cmd], check=True)
        if not self.bridge:
            ns("ip link set lo up && ip addr add %s/32 dev lo" % ip)
            return
        self.veths += 1
        host, peer = "%s-%d" % (self.bridge[:8], self.veths), "%sp%d" % (self.bridge[:7], self.veths)
        run = lambda *a: subprocess.run(["ip", *a], check=True)
        run("link", "add", host, "type", "veth", "peer", "name", peer)
        run("link", "set", peer, "netns", str(pid))
        run("link", "set", host, "master", self.bridge, "up")
        ns("ip link set lo up && ip link set %s name eth0 && ip addr add %s/16 dev eth0 && "
           "ip link set eth0 up" % (peer, ip))

    def bridge_up(self):
        if self.bridge:
            subprocess.run(["ip", "link", "add", self.bridge, "type", "bridge"], check=True)
            subprocess.run(["ip", "addr", "add", "10.244.0.1/16", "dev", self.bridge], check=True)
            subprocess.run(["ip", "link", "set", self.bridge, "up"], check=True)

    def bridge_down(self):
        if self.bridge:
            subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)

    def pod_stop(self, uid):
        entry = self.pods.pop(uid)
        for cid in entry["ids"]:
            self.runc_remove(cid)
        log("pod %s/%s: containers removed" % (entry["ns"], entry["name"]))
        return entry

    # --- the loop ----------------------------------------------------------
    def sync(self):
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
            if uid not in self.pods:
                try:
                    self.pod_start(pod)
                except (subprocess.CalledProcessError, RuntimeError, OSError) as e:
                    log("pod %s/%s: %s" % (meta["namespace"], meta["name"], e))
                    if uid in self.pods:
                        self.pod_stop(uid)
        for uid in [u for u in self.pods if u not in seen]:
            self.pod_stop(uid)

    def run(self):
        self.bridge_up()
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
        for uid in list(self.pods):
            self.pod_stop(uid)
        self.bridge_down()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nodes", required=True, help="comma-separated simulated node names")
    ap.add_argument("--sleeper", required=True, help="static binary the containers run")
    ap.add_argument("--dir", required=True, help="where bundles live")
    ap.add_argument("--prefix", default="standin-%d" % os.getpid(), help="runc id prefix")
    ap.add_argument("--bridge", help="host bridge (at most 15 characters) for pod networking")
    a = ap.parse_args()
    if a.bridge and (len(a.bridge) > 15 or not a.bridge.isalnum()):
        ap.error("--bridge: 1..15 letters and digits")
    nodes = [n for n in a.nodes.split(",") if n]
    if not nodes or len(nodes) > 200:
        ap.error("--nodes: 1..200 names")
    os.makedirs(a.dir, exist_ok=True)
    s = Standin(nodes, a.sleeper, a.dir, a.prefix, a.bridge)

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

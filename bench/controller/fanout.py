"""Drives bench/controller/fanout over the API directly (kubectl would
dominate the timing).

    fanout.py setup N     N Running pods on 10 nodes and a Capsule selecting
                          them; waits until the controller matched them all
    fanout.py run N NAME  creates CapsuleRun NAME and times the fan-out

With FANOUT_CPU_PIDS="NAME=PID ..." the run also reports the CPU time each
of those processes used meanwhile: unlike the wall time, it hardly depends
on what else the machine runs.
"""

import http.client
import json
import os
import ssl
import sys
import time
from urllib.parse import urlparse

if len(sys.argv) < 3 or sys.argv[1] not in ("setup", "run") or (sys.argv[1] == "run") != (len(sys.argv) == 4):
    sys.exit("usage: fanout.py setup N | fanout.py run N NAME")
N = int(sys.argv[2])
NS = "bench"
url = urlparse(os.environ["RECAP_APISERVER_URL"])
ctx = ssl.create_default_context(cafile=os.environ["RECAP_CA_FILE"])
ctx.load_cert_chain(os.environ["RECAP_ADMIN_CERT"], os.environ["RECAP_ADMIN_KEY"])
conn = http.client.HTTPSConnection(url.hostname, url.port, context=ctx)


def call(method, path, body=None, ctype="application/json", accept=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": ctype} if data else {}
    if accept:
        headers["Accept"] = accept
    conn.request(method, path, data, headers)
    r = conn.getresponse()
    out = r.read()
    if r.status >= 300:
        raise SystemExit(f"{method} {path}: {r.status} {out[:300]!r}")
    return json.loads(out)


grp = f"/apis/recap.dev/v1alpha1/namespaces/{NS}"


def setup():
    for i in range(10):
        call("POST", "/api/v1/nodes", {"metadata": {"name": f"node-{i}"}})
    pods = f"/api/v1/namespaces/{NS}/pods"
    t0 = time.monotonic()
    for i in range(N):
        name = f"t-{i:05d}"
        call("POST", pods, {"metadata": {"name": name, "labels": {"app": "fan"}},
                            "spec": {"nodeName": f"node-{i % 10}",
                                     "containers": [{"name": "app", "image": "busybox"}]}})
        call("PATCH", f"{pods}/{name}/status", {"status": {
            "phase": "Running", "podIP": f"10.{i // 65536}.{i // 256 % 256}.{i % 256}",
            "containerStatuses": [{"name": "app", "containerID": f"containerd://{i:064x}",
                                   "image": "busybox", "imageID": "", "ready": True,
                                   "restartCount": 0, "state": {"running": {}}}]}},
             "application/merge-patch+json")
    print(f"created {N} Running pods in {time.monotonic() - t0:.1f}s", file=sys.stderr)
    call("POST", f"{grp}/capsules", {
        "apiVersion": "recap.dev/v1alpha1", "kind": "Capsule", "metadata": {"name": "fan"},
        "spec": {"image": "registry.local/capsules/ps:1",
                 "targets": {"selector": {"matchLabels": {"app": "fan"}}}}})
    deadline = time.monotonic() + 120
    while call("GET", f"{grp}/capsules/fan").get("status", {}).get("matchedTargets") != N:
        if time.monotonic() > deadline:
            raise SystemExit("the Capsule never matched every pod")
        time.sleep(0.2)


def cpu_seconds():
    out = {}
    for item in os.environ.get("FANOUT_CPU_PIDS", "").split():
        who, pid = item.split("=")
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        out[who] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def controller_pid():
    for item in os.environ.get("FANOUT_CPU_PIDS", "").split():
        who, pid = item.split("=")
        if who == "controller":
            return pid
    return None


def peak_rss_reset():
    pid = controller_pid()
    if pid:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS


def peak_rss_kib():
    pid = controller_pid()
    if not pid:
        return None
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def run(name):
    peak_rss_reset()
    cpu0 = cpu_seconds()
    t0 = time.monotonic()
    call("POST", f"{grp}/capsuleruns", {
        "apiVersion": "recap.dev/v1alpha1", "kind": "CapsuleRun", "metadata": {"name": name},
        "spec": {"capsuleRef": {"name": "fan"}}})
    first = created = None
    while created is None:
        now = time.monotonic() - t0
        if now > 120:
            raise SystemExit("timed out waiting for the executions")
        # Metadata only: whole objects would load the API server the
        # controller is writing to.
        page = call("GET", f"{grp}/capsuleexecutions?labelSelector=recap.dev/run%3D{name}",
                    accept="application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1")
        count = len(page.get("items") or [])
        if count and first is None:
            first = now
        if count == N:
            created = now
        time.sleep(0.1)
    cpu1 = cpu_seconds()
    used = ", ".join(f"{who} {cpu1[who] - cpu0[who]:.1f}" for who in cpu0)
    peak = peak_rss_kib()
    print(f"fan-out of {N} targets on 10 nodes: first execution after {first:.2f}s, "
          f"all after {created:.2f}s ({N / created:.0f} targets/s)" + (f"; CPU s: {used}" if used else "")
          + (f"; controller peak RSS {peak / 1024:.1f} MiB" if peak else ""))


if sys.argv[1] == "setup":
    setup()
else:
    run(sys.argv[3])

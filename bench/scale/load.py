"""The API side of bench/scale.sh, straight over HTTPS (kubectl would
dominate the timing). Bench tooling only: `caplets` is a load generator that
stands in for the node agents of 1,000 simulated nodes, writing each
execution's status as caplet does (lib/caplet/status.c); no real caplet runs.

    load.py nodes N                       N Nodes kwok manages
    load.py pods N NODES TARGETS QPS      N pods over NODES nodes, the first
                                          TARGETS labelled as the Capsule's
                                          targets; waits until all are Running
    load.py capsule TARGETS               the Capsule; waits until it matches
    load.py run NAME TARGETS CTL_PID      the CapsuleRun; times its fan-out
    load.py caplets NAME TARGETS QPS TAIL_BYTES
                                          caplet's four writes for each
                                          execution (its finalizer, Running,
                                          Succeeded, the finalizer's release);
                                          times the run to Succeeded
    load.py metrics                       API server and etcd figures (JSON)
    load.py sizes NAME                    stored bytes of the run and executions

Identity: SCALE_CERT/SCALE_KEY (else the admin's); client limit: QPS with a
burst of QPS/10, over SCALE_WORKERS connections (default 8). A 429 (the API
server's priority and fairness) is counted and retried after its Retry-After.
"""

import base64
import http.client
import json
import os
import queue
import ssl
import sys
import threading
import time
from urllib.parse import urlparse

NS = "bench"
GRP = f"/apis/recap.dev/v1alpha1/namespaces/{NS}"
META = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
URL = urlparse(os.environ["RECAP_APISERVER_URL"])
WORKERS = int(os.environ.get("SCALE_WORKERS", "8"))
throttled = 0
throttled_lock = threading.Lock()


def connect(admin=False):
    ctx = ssl.create_default_context(cafile=os.environ["RECAP_CA_FILE"])
    cert = os.environ["RECAP_ADMIN_CERT"] if admin else os.environ.get("SCALE_CERT", os.environ["RECAP_ADMIN_CERT"])
    key = os.environ["RECAP_ADMIN_KEY"] if admin else os.environ.get("SCALE_KEY", os.environ["RECAP_ADMIN_KEY"])
    ctx.load_cert_chain(cert, key)
    return http.client.HTTPSConnection(URL.hostname, URL.port, context=ctx, timeout=120)


_local = threading.local()


def conn():
    if getattr(_local, "conn", None) is None:
        _local.conn = connect()
    return _local.conn


def call(method, path, body=None, ctype="application/json", accept=None, raw=False):
    global throttled
    data = json.dumps(body, separators=(",", ":")).encode() if body is not None else None
    headers = {"Content-Type": ctype} if data else {}
    if accept:
        headers["Accept"] = accept
    for attempt in range(20):
        c = conn()
        try:
            c.request(method, path, data, headers)
            r = c.getresponse()
            out = r.read()
        except (OSError, http.client.HTTPException):
            c.close()
            _local.conn = None
            time.sleep(0.2)
            continue
        if r.status == 429:
            with throttled_lock:
                throttled += 1
            time.sleep(float(r.getheader("Retry-After") or 1))
            continue
        if r.status >= 300:
            raise SystemExit(f"{method} {path}: {r.status} {out[:300]!r}")
        return out if raw else json.loads(out)
    raise SystemExit(f"{method} {path}: no answer after 20 tries")


class Bucket:
    """Client-side rate limit: QPS tokens a second, at most BURST saved."""

    def __init__(self, qps):
        self.qps, self.burst = qps, max(1.0, qps / 10)
        self.tokens, self.last = self.burst, time.monotonic()
        self.lock = threading.Lock()

    def take(self):
        while True:
            with self.lock:
                now = time.monotonic()
                self.tokens = min(self.burst, self.tokens + (now - self.last) * self.qps)
                self.last = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                wait = (1 - self.tokens) / self.qps
            time.sleep(wait)


def parallel(jobs, qps):
    """Runs each job (a function) once on WORKERS threads under QPS."""
    bucket, q, errors = Bucket(qps), queue.Queue(), []
    for j in jobs:
        q.put(j)

    def worker():
        while True:
            try:
                job = q.get_nowait()
            except queue.Empty:
                return
            try:
                job(bucket)
            except BaseException as e:  # SystemExit from call()
                errors.append(e)
                return

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"{len(errors)} workers failed; first: {errors[0]}")


def count(path, selector=""):
    """Objects a metadata-only, paginated list returns."""
    n, cont = 0, ""
    while True:
        q = f"{path}?limit=5000{selector}" + (f"&continue={cont}" if cont else "")
        page = call("GET", q, accept=META)
        n += len(page.get("items") or [])
        cont = page.get("metadata", {}).get("continue")
        if not cont:
            return n


def node_name(i):
    return f"kwok-node-{i:04d}"


def nodes(n):
    def make(i):
        def job(bucket):
            bucket.take()
            call("POST", "/api/v1/nodes", {
                "apiVersion": "v1", "kind": "Node",
                "metadata": {"name": node_name(i), "labels": {"type": "kwok"},
                             "annotations": {"kwok.x-k8s.io/node": "fake"}}})
        return job
    t0 = time.monotonic()
    parallel([make(i) for i in range(n)], 100)
    while count("/api/v1/nodes", "&labelSelector=type%3Dkwok") < n:
        time.sleep(0.5)
    print(json.dumps({"nodes": n, "created_s": round(time.monotonic() - t0, 1)}))


def pods(n, nnodes, targets, qps):
    path = f"/api/v1/namespaces/{NS}/pods"

    def make(i):
        labels = {"app": "scale"}
        if i < targets:  # round-robin: the targets spread over every node
            labels["scale-target"] = "yes"

        def job(bucket):
            bucket.take()
            call("POST", path, {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": f"p-{i:05d}", "labels": labels},
                "spec": {"nodeName": node_name(i % nnodes),
                         "containers": [{"name": "app", "image": "registry.local/app:1"}]}})
        return job
    t0 = time.monotonic()
    parallel([make(i) for i in range(n)], qps)
    created = time.monotonic() - t0
    print(f"created {n} pods in {created:.1f}s ({n / created:.0f}/s)", file=sys.stderr)
    deadline = time.monotonic() + 1800
    running = 0
    while running < n:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {running} of {n} pods Running after 30 minutes")
        time.sleep(2)
        running = count(path, "&fieldSelector=status.phase%3DRunning")
    print(json.dumps({"pods": n, "created_s": round(created, 1), "running_s": round(time.monotonic() - t0, 1),
                      "throttled": throttled}))


def capsule(targets):
    call("POST", f"{GRP}/capsules", {
        "apiVersion": "recap.dev/v1alpha1", "kind": "Capsule", "metadata": {"name": "scale"},
        "spec": {"image": "registry.local/capsules/ps:1", "command": ["ps", "aux"],
                 "strategy": {"type": "Parallel"},
                 "targets": {"selector": {"matchLabels": {"scale-target": "yes"}}}}})
    t0 = time.monotonic()
    while True:
        st = call("GET", f"{GRP}/capsules/scale").get("status", {})
        if st.get("matchedTargets") == targets:
            break
        if time.monotonic() - t0 > 600:
            raise SystemExit(f"the Capsule matched {st.get('matchedTargets')} of {targets} targets after 600 s")
        time.sleep(0.5)
    print(json.dumps({"matched": targets, "matched_s": round(time.monotonic() - t0, 1)}))


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def watch_added(path, selector, rv, want, seen, done, errors):
    """Counts the distinct objects a watch reports ADDED; sets done at want.
    A watch the API server ends is opened again from the last version seen."""
    try:
        while not done.is_set():
            c = connect()
            c.request("GET", f"{path}?watch=1&allowWatchBookmarks=true&resourceVersion={rv}"
                      f"&labelSelector={selector}")
            r = c.getresponse()
            if r.status != 200:
                raise RuntimeError(f"watch {path}: {r.status} {r.read()[:300]!r}")
            while not done.is_set():
                line = r.readline()
                if not line:
                    break
                ev = json.loads(line)
                if ev["type"] == "ERROR":
                    raise RuntimeError(f"watch {path}: {ev['object']}")
                rv = ev["object"]["metadata"]["resourceVersion"]
                if ev["type"] == "ADDED":
                    seen.setdefault(ev["object"]["metadata"]["name"], time.monotonic())
                    if len(seen) >= want:
                        done.set()
            c.close()
    except Exception as e:
        errors.append(repr(e))


def run(name, targets, ctl):
    path = f"{GRP}/capsuleexecutions"
    rv = call("GET", f"{path}?limit=1", accept=META)["metadata"]["resourceVersion"]
    seen, done, peak, errors = {}, threading.Event(), [0], []
    w = threading.Thread(target=watch_added,
                         args=(path, f"recap.dev/run%3D{name}", rv, targets, seen, done, errors), daemon=True)
    w.start()
    with open(f"/proc/{ctl}/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM: the peak below is this run's
    t0 = time.monotonic()
    call("POST", f"{GRP}/capsuleruns", {
        "apiVersion": "recap.dev/v1alpha1", "kind": "CapsuleRun", "metadata": {"name": name},
        "spec": {"capsuleRef": {"name": "scale"}}})
    while not done.wait(0.1):
        peak[0] = max(peak[0], rss_kib(ctl, "VmRSS"))
        if time.monotonic() - t0 > 1200 or not w.is_alive():
            raise SystemExit(f"{len(seen)} of {targets} executions after {time.monotonic() - t0:.0f} s {errors}")
    times = sorted(seen.values())
    first, last = times[0] - t0, times[-1] - t0
    print(json.dumps({"executions": len(seen), "first_s": round(first, 2), "all_s": round(last, 2),
                      "per_s": round(targets / last), "peak_rss_kib": max(peak[0], rss_kib(ctl, "VmHWM")),
                      "rss_kib": rss_kib(ctl, "VmRSS")}))


def now():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e6):06d}Z"


def caplets(name, targets, qps, tail_bytes):
    path = f"{GRP}/capsuleexecutions"
    names, cont = [], ""
    while True:
        page = call("GET", f"{path}?limit=5000&labelSelector=recap.dev/run%3D{name}"
                    + (f"&continue={cont}" if cont else ""), accept=META)
        names += [i["metadata"]["name"] for i in page.get("items") or []]
        cont = page["metadata"].get("continue")
        if not cont:
            break
    if len(names) != targets:
        raise SystemExit(f"{len(names)} executions, {targets} expected")
    line = "root         1  0.0  0.1  10432  5480 ?        Ss   09:00   0:00 /app --serve\n"
    tail = (line * (tail_bytes // len(line) + 1))[-tail_bytes:] if tail_bytes else ""
    patch_type = "application/merge-patch+json"
    relay = "10.240.13.117:10350"  # a node IP's length and caplet's relay port

    finalizer = "recap.dev/escape"

    def conditions(phase, at):
        # lib/api/conditions.c: Reconciling while not ended, Stalled when failed
        ended = phase in ("Succeeded", "Failed")
        return [{"type": t, "status": st, "reason": phase, "message": phase, "observedGeneration": 1,
                 "lastTransitionTime": at}
                for t, st in (("Reconciling", "False" if ended else "True"), ("Stalled", "False"))]

    def make(ex):
        # caplet's writes (lib/caplet/api.c, exec.c): its finalizer, Running,
        # the final status, then the finalizer's release, which also drops
        # the managedFields
        def job(bucket):
            bucket.take()
            call("PATCH", f"{path}/{ex}?fieldManager=caplet",
                 {"metadata": {"finalizers": [finalizer]}}, patch_type)
            start = now()
            bucket.take()
            # caplet's Pulling and Attaching writes in one: the fields they
            # leave (its relay's endpoint: the node's IP and port 10350)
            call("PATCH", f"{path}/{ex}/status?fieldManager=caplet",
                 {"status": {"phase": "Running", "pullStartTime": start, "attachStartTime": start,
                             "runStartTime": start, "relayEndpoint": relay,
                             "conditions": conditions("Running", start)}}, patch_type)
            bucket.take()
            end = now()
            call("PATCH", f"{path}/{ex}/status?fieldManager=caplet", {"status": {
                "phase": "Succeeded", "reason": "Completed", "escaped": True, "exitCode": 0,
                "stdoutTail": tail, "stderrTail": "", "stdoutBytes": len(tail), "stderrBytes": 0,
                "imageDigest": "sha256:" + "ab" * 32, "escapeStartTime": end, "completionTime": end,
                "conditions": conditions("Succeeded", end)}},
                patch_type)
            bucket.take()
            call("PATCH", f"{path}/{ex}?fieldManager=caplet",
                 {"metadata": {"finalizers": None, "managedFields": [{}]}}, patch_type)
        return job

    final = {}

    def poll():
        while "phase" not in final:
            st = call("GET", f"{GRP}/capsuleruns/{name}").get("status", {})
            if st.get("phase") in ("Succeeded", "Failed"):
                final.update(phase=st["phase"], t=time.monotonic(), succeeded=st.get("succeeded"),
                             failed=st.get("failed"))
                return
            time.sleep(0.25)

    t0 = time.monotonic()
    parallel([make(ex) for ex in names], qps)
    written = time.monotonic() - t0
    poll()
    total = final["t"] - t0
    print(json.dumps({"writes": 4 * len(names), "written_s": round(written, 1),
                      "writes_per_s": round(4 * len(names) / written), "final_s": round(total, 1),
                      "executions_per_s": round(len(names) / total), "phase": final["phase"],
                      "succeeded": final["succeeded"], "failed": final["failed"], "throttled": throttled}))
    if final["phase"] != "Succeeded" or final["succeeded"] != targets:
        raise SystemExit(f"the run ended {final}")


def metric_lines(text, prefix):
    out = {}
    for line in text.splitlines():
        if line.startswith(prefix):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def metrics():
    global _local
    _local.conn = connect(admin=True)
    api = call("GET", "/metrics", raw=True).decode()
    rejected = metric_lines(api, "apiserver_flowcontrol_rejected_requests_total")
    c = http.client.HTTPConnection(urlparse(os.environ["RECAP_ETCD_URL"]).hostname,
                                   urlparse(os.environ["RECAP_ETCD_URL"]).port, timeout=30)
    c.request("GET", "/metrics")
    etcd = c.getresponse().read().decode()
    db = metric_lines(etcd, "etcd_mvcc_db_total_size_in")
    # The API server's time per call, summed over its scopes and codes.
    lat = {}
    for k, v in metric_lines(api, "apiserver_request_duration_seconds_").items():
        if "_bucket" in k:
            continue
        labels = dict(x.split("=", 1) for x in k[k.index("{") + 1:-1].replace('"', "").split(","))
        key = f"{labels.get('verb')} {labels.get('resource')}{'/' + labels['subresource'] if labels.get('subresource') else ''}"
        part = "sum" if k.startswith("apiserver_request_duration_seconds_sum") else "count"
        lat.setdefault(key, {"sum": 0.0, "count": 0.0})[part] += v
    print(json.dumps({"apf_rejected": sum(rejected.values()), "apf_rejected_by": rejected, "latency": lat,
                      "etcd_db_bytes": db.get("etcd_mvcc_db_total_size_in_bytes", 0),
                      "etcd_db_in_use_bytes": db.get("etcd_mvcc_db_total_size_in_use_in_bytes", 0)}))


def etcd_range(prefix):
    """Every key under prefix with its stored value's size (etcd's JSON gateway)."""
    u = urlparse(os.environ["RECAP_ETCD_URL"])
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    b64 = lambda s: base64.b64encode(s.encode()).decode()
    key, sizes = b64(prefix), {}
    while True:
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        c.request("POST", "/v3/kv/range", json.dumps({"key": key, "range_end": b64(end), "limit": 2000}),
                  {"Content-Type": "application/json"})
        out = json.loads(c.getresponse().read())
        c.close()
        kvs = out.get("kvs") or []
        for kv in kvs:
            sizes[base64.b64decode(kv["key"]).decode()] = len(base64.b64decode(kv.get("value", "")))
        if not out.get("more"):
            return sizes
        key = base64.b64encode(base64.b64decode(kvs[-1]["key"]) + b"\0").decode()


def sizes(name):
    ex = etcd_range(f"/registry/recap.dev/capsuleexecutions/{NS}/{name}-")
    allrecap = etcd_range("/registry/recap.dev/")
    # Where one execution's bytes go, as the API serves it (compact JSON).
    one = call("GET", f"{GRP}/capsuleexecutions/{min(ex).rsplit('/', 1)[1]}")
    n = lambda o: len(json.dumps(o, separators=(",", ":")))
    md = one["metadata"]
    parts = {"managedFields": n(md.get("managedFields", [])),
             "metadata, the rest": n({k: v for k, v in md.items() if k != "managedFields"}),
             "spec": n(one.get("spec", {})), "status": n(one.get("status", {}))}
    big = max(allrecap, key=allrecap.get)
    vals = sorted(ex.values())
    print(json.dumps({"executions": len(vals), "exec_mean_b": round(sum(vals) / len(vals)),
                      "exec_max_b": vals[-1], "exec_total_b": sum(vals),
                      "run_b": allrecap.get(f"/registry/recap.dev/capsuleruns/{NS}/{name}", 0),
                      "largest_key": big, "largest_b": allrecap[big], "exec_parts": parts}))


def main():
    a = sys.argv[1:]
    cmds = {"nodes": (1, lambda: nodes(int(a[1]))),
            "pods": (4, lambda: pods(int(a[1]), int(a[2]), int(a[3]), float(a[4]))),
            "capsule": (1, lambda: capsule(int(a[1]))),
            "run": (3, lambda: run(a[1], int(a[2]), int(a[3]))),
            "caplets": (4, lambda: caplets(a[1], int(a[2]), float(a[3]), int(a[4]))),
            "metrics": (0, metrics),
            "sizes": (1, lambda: sizes(a[1]))}
    if not a or a[0] not in cmds or len(a) != cmds[a[0]][0] + 1:
        sys.exit(__doc__)
    cmds[a[0]][1]()


if __name__ == "__main__":
    main()

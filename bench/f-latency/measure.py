#!/usr/bin/env python3
"""CapsuleRun created -> Succeeded, one target, measured against the API server.

Watches capsuleruns and capsuleexecutions of NAMESPACE, then creates RUNS
CapsuleRuns of CAPSULE one after another (after one warm-up run that is not
counted). Per run: the total (POST sent -> the watch shows a finished phase)
and its phases, from the client's clock (POST, execution added, run finished)
and the execution's status timestamps (written by caplet, same host clock).

    measure.py NAMESPACE CAPSULE RUNS [LABEL SAMPLES]
    measure.py --report SAMPLES
Reads RECAP_APISERVER_URL, RECAP_CA_FILE, RECAP_ADMIN_CERT, RECAP_ADMIN_KEY.
With LABEL and SAMPLES, each run's phases are also appended to the file
SAMPLES as one JSON line labelled LABEL (run names carry the label, so
several invocations share a namespace); --report prints the p50/p95 of every
label in SAMPLES side by side (bench/f-latency.sh with BASELINE).
"""
import datetime
import http.client
import json
import math
import os
import ssl
import sys
import threading
import time
import urllib.parse

GROUP = "/apis/recap.dev/v1alpha1/namespaces/"
FINISHED = ("Succeeded", "Failed", "PartiallyFailed", "Cancelled")
TIMEOUT = 60.0
STAMPS = ("pullStartTime", "attachStartTime", "runStartTime", "escapeStartTime", "completionTime")


def connect():
    url = urllib.parse.urlparse(os.environ["RECAP_APISERVER_URL"])
    ctx = ssl.create_default_context(cafile=os.environ["RECAP_CA_FILE"])
    ctx.load_cert_chain(os.environ["RECAP_ADMIN_CERT"], os.environ["RECAP_ADMIN_KEY"])
    conn = http.client.HTTPSConnection(url.hostname, url.port, context=ctx, timeout=None)
    conn.connect()
    return conn


def request(conn, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    raw = resp.read()
    if resp.status >= 300:
        sys.exit(f"{method} {path}: HTTP {resp.status}: {raw[:300]!r}")
    return json.loads(raw)


class Watcher(threading.Thread):
    """Records the first time (client clock) each object is seen and the time
    it is first seen in a finished phase, and keeps the last object."""

    def __init__(self, ns, plural):
        super().__init__(daemon=True)
        self.path = GROUP + ns + "/" + plural
        self.cond = threading.Condition()
        self.added, self.done, self.last = {}, {}, {}
        conn = connect()
        self.rv = request(conn, "GET", self.path)["metadata"]["resourceVersion"]
        conn.close()

    def run(self):
        conn = connect()
        conn.request("GET", f"{self.path}?watch=1&allowWatchBookmarks=false&resourceVersion={self.rv}")
        resp = conn.getresponse()
        if resp.status != 200:
            sys.exit(f"watch {self.path}: HTTP {resp.status}")
        while True:
            line = resp.readline()
            now = time.time()
            if not line:
                sys.exit(f"watch {self.path} closed")
            ev = json.loads(line)
            obj = ev["object"]
            if ev["type"] == "ERROR":
                sys.exit(f"watch {self.path}: {obj}")
            name = obj["metadata"]["name"]
            with self.cond:
                self.added.setdefault(name, now)
                self.last[name] = obj
                if obj.get("status", {}).get("phase") in FINISHED:
                    self.done.setdefault(name, now)
                self.cond.notify_all()

    def wait_done(self, name):
        with self.cond:
            ok = self.cond.wait_for(lambda: name in self.done, TIMEOUT)
        if not ok:
            sys.exit(f"{name}: not finished after {TIMEOUT:.0f} s")
        return self.done[name]


def stamp(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def one_run(conn, runs, ns, capsule, name):
    body = {
        "apiVersion": "recap.dev/v1alpha1",
        "kind": "CapsuleRun",
        "metadata": {"name": name},
        "spec": {"capsuleRef": {"name": capsule}},
    }
    t0 = time.time()
    request(conn, "POST", GROUP + ns + "/capsuleruns", body)
    t1 = runs.wait_done(name)
    return t0, t1, runs.last[name]["status"]["phase"]


def phases(t0, t1, run_name, execs):
    """The phases of one run in ms, or None when its execution is not seen."""
    def of_run():
        return [(n, o) for n, o in execs.last.items() if o["spec"].get("runRef", {}).get("name") == run_name]

    def complete():  # the execution's last event may trail the run's
        ex = of_run()
        return len(ex) == 1 and all(k in ex[0][1].get("status", {}) for k in STAMPS)

    with execs.cond:
        if not execs.cond.wait_for(complete, 5.0):
            return None
        name, obj = of_run()[0]
    st = obj["status"]
    s = [stamp(st[k]) for k in STAMPS]
    points = [t0, execs.added[name]] + s + [t1]
    labels = ["dispatch", "pickup", "pull", "attach", "run", "escape", "aggregate"]
    out = {"total": (t1 - t0) * 1000}
    for i, k in enumerate(labels):
        out[k] = (points[i + 1] - points[i]) * 1000
    return out


def pct(xs, p):
    xs = sorted(xs)  # nearest rank
    return xs[max(0, math.ceil(p / 100 * len(xs)) - 1)]


WHAT = {
    "total": "POST sent -> run finished (watch)",
    "dispatch": "POST -> execution created (controller)",
    "pickup": "execution created -> caplet pullStartTime",
    "pull": "pullStartTime -> attachStartTime (cached)",
    "attach": "attachStartTime -> runStartTime",
    "run": "runStartTime -> escapeStartTime (true)",
    "escape": "escapeStartTime -> completionTime",
    "aggregate": "completionTime -> run finished (watch)",
}


def report(path):
    by = {}
    with open(path) as f:
        for line in f:
            d = json.loads(line)
            by.setdefault(d["label"], []).append(d["row"])
    labels = list(by)
    print("runs: " + ", ".join(f"{lb} {len(by[lb])}" for lb in labels))
    head = "".join(f" {lb[:15] + ' p50':>19} {'p95':>7}" for lb in labels)
    print(f"{'phase (ms)':<10}{head}  what")
    for k, what in WHAT.items():
        cols = "".join(f" {pct([r[k] for r in by[lb]], 50):19.1f} {pct([r[k] for r in by[lb]], 95):7.1f}"
                       for lb in labels)
        print(f"{k:<10}{cols}  {what}")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--report":
        report(sys.argv[2])
        return
    if len(sys.argv) not in (4, 6):
        sys.exit("usage: measure.py NAMESPACE CAPSULE RUNS [LABEL SAMPLES] | --report SAMPLES")
    ns, capsule, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    label, samples = (sys.argv[4], sys.argv[5]) if len(sys.argv) == 6 else (None, None)
    if n < 1 or n > 10000:
        sys.exit(f"RUNS must be 1..10000, got {n}")
    prefix = f"{capsule}-{label}" if label else capsule
    runs, execs = Watcher(ns, "capsuleruns"), Watcher(ns, "capsuleexecutions")
    runs.start()
    execs.start()
    conn = connect()
    one_run(conn, runs, ns, capsule, f"{prefix}-warm")
    rows, failed, missing = [], 0, 0
    for i in range(1, n + 1):
        name = f"{prefix}-{i:04d}"
        t0, t1, phase = one_run(conn, runs, ns, capsule, name)
        if phase != "Succeeded":
            failed += 1
            print(f"{name}: {phase}", file=sys.stderr)
            continue
        p = phases(t0, t1, name, execs)
        if p is None:
            missing += 1
            continue
        rows.append(p)
    print(f"{n} runs: {n - failed} succeeded, {failed} failed, {missing} without a full breakdown")
    if not rows:
        sys.exit(1)
    if samples:
        with open(samples, "a") as f:
            for r in rows:
                f.write(json.dumps({"label": label, "row": r}) + "\n")
    else:
        print(f"{'phase (ms)':<10} {'p50':>7} {'p95':>7} {'max':>7}  what")
        for k, what in WHAT.items():
            xs = [r[k] for r in rows]
            print(f"{k:<10} {pct(xs, 50):7.1f} {pct(xs, 95):7.1f} {max(xs):7.1f}  {what}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

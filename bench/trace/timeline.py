#!/usr/bin/env python3
"""Where a run's time goes, from the API server's audit log: every call on
recap.dev objects and Events, in order, relative to each CapsuleRun's create.

    timeline.py AUDIT_LOG [RUNS [WINDOW_MS [PREFIX]]]

Prints the calls of the first RUNS runs (default 3) that start within
WINDOW_MS (default 300) of the run's create (received / answered in ms, the
client's user agent, verb, resource/subresource, name, HTTP code), then the
count of calls per run by (client, verb, resource, code) over all runs
(only runs named PREFIX*, when given; a run's calls are those from its
create to the next run's).
The log comes from an API server started with bench/trace/audit-policy.yaml:
  E2E_CLUSTER_ARGS="--apiserver-arg=--audit-policy-file=$PWD/bench/trace/audit-policy.yaml
    --apiserver-arg=--audit-log-path=/tmp/audit.log" bench/f-latency.sh 20
(FANOUT_CLUSTER_ARGS the same way for bench/controller/fanout).
"""
import collections
import datetime
import json
import sys


def ts(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def load(path):
    evs = []
    with open(path) as f:
        for line in f:
            e = json.loads(line)
            if e.get("stage") == "ResponseComplete":
                e["t0"], e["t1"] = ts(e["requestReceivedTimestamp"]), ts(e["stageTimestamp"])
                evs.append(e)
    evs.sort(key=lambda e: e["t0"])
    return evs


def what(e):
    o = e["objectRef"]
    res = o.get("resource", "") + ("/" + o["subresource"] if o.get("subresource") else "")
    return (e.get("userAgent", "").split("/")[0] or "-", e["verb"], res, e["responseStatus"]["code"])


def main():
    if len(sys.argv) < 2 or len(sys.argv) > 5:
        sys.exit(__doc__)
    evs = load(sys.argv[1])
    shown = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    window = (float(sys.argv[3]) if len(sys.argv) > 3 else 300) / 1000
    prefix = sys.argv[4] if len(sys.argv) > 4 else ""
    every = [e for e in evs if e["verb"] == "create" and e["objectRef"].get("resource") == "capsuleruns"
             and e["responseStatus"]["code"] == 201]
    runs = [e for e in every if e["objectRef"].get("name", "").startswith(prefix)]
    if not runs:
        sys.exit("no CapsuleRun created in the log")
    for r in runs[:shown]:
        print(f"run {r['objectRef'].get('name')}: ms from its create (received, answered)")
        for e in evs:
            a = e["t0"] - r["t0"]
            if 0 <= a < window:
                ua, verb, res, code = what(e)
                print(f"  {a * 1000:7.1f} {(e['t1'] - r['t0']) * 1000:7.1f}  {ua[:18]:18} {verb:6} "
                      f"{res:28} {e['objectRef'].get('name', '')[:40]:40} {code}")
    # Calls per run: everything from one run's create to the next one's.
    counts = collections.Counter()
    starts = [r["t0"] for r in every] + [float("inf")]
    counted = {id(r) for r in runs}
    i = -1
    for e in evs:
        while e["t0"] >= starts[i + 1]:
            i += 1
        if i >= 0 and id(every[i]) in counted and e["verb"] not in ("watch", "list", "get"):
            counts[what(e)] += 1
    print(f"calls per run over {len(runs)} runs (writes only):")
    for (ua, verb, res, code), n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"  {n / len(runs):6.2f}  {ua[:18]:18} {verb:6} {res:28} {code}")


if __name__ == "__main__":
    main()

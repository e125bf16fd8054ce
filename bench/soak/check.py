#!/usr/bin/env python3
"""bench/soak.sh's verdict: at most once in every target, every run final,
and the resident-size curve. Exit 1 on a broken guarantee.

    check.py RUNS_JSON EXECS_JSON STARTS_TSV RSS_TSV N_RUNS [expired]

"expired": finished runs were deleted by their TTL, so only those still
there are checked against the API; at most once is checked for all.
"""
import collections
import json
import sys

FINAL = {"Succeeded", "Failed", "PartiallyFailed", "Cancelled"}


def main():
    runs_json, execs_json, starts_tsv, rss_tsv, n_runs = sys.argv[1:6]
    expired = len(sys.argv) > 6 and sys.argv[6] == "expired"
    runs = json.load(open(runs_json))["items"]
    execs = json.load(open(execs_json))["items"]
    starts = collections.Counter()
    for line in open(starts_tsv):
        pod, run = line.rstrip("\n").split("\t", 1)
        starts[(run, pod)] += 1
    bad = []

    phases = collections.Counter(r.get("status", {}).get("phase", "") for r in runs)
    if not expired and len(runs) != int(n_runs):
        bad.append("%d runs exist, %s were created" % (len(runs), n_runs))
    for r in runs:
        if r.get("status", {}).get("phase") not in FINAL:
            bad.append("run %s ended in no final phase (%s)" %
                       (r["metadata"]["name"], r.get("status", {}).get("phase")))

    started_runs = {run for run, _ in starts}
    print("runs whose command started somewhere: %d of %s (%d still in the API)" %
          (len(started_runs), n_runs, len(runs)))
    twice = [(k, v) for k, v in starts.items() if v > 1]
    for (run, pod), v in twice:
        bad.append("%s started %d times in %s" % (run, v, pod))

    outcome = collections.Counter()
    for e in execs:
        run = e["metadata"]["labels"].get("recap.dev/run", "")
        pod = e["spec"]["target"]["pod"]
        st = e.get("status", {})
        phase, reason = st.get("phase", "Pending"), st.get("reason", "")
        n = starts.get((run, pod), 0)
        outcome[(phase, reason, n)] += 1
        if phase == "Succeeded" and n != 1:
            bad.append("%s on %s: Succeeded, but its command started %d times" % (run, pod, n))

    print("runs by phase: " + ", ".join("%s %d" % kv for kv in sorted(phases.items())))
    print("executions by phase, reason and starts counted in the target:")
    print("  %-10s %-22s %6s %8s" % ("phase", "reason", "starts", "count"))
    for (phase, reason, n), c in sorted(outcome.items()):
        print("  %-10s %-22s %6d %8d" % (phase, reason or "-", n, c))
    print("at most once: %d target starts counted, %d started twice or more" %
          (sum(starts.values()), len(twice)))

    rows = [line.rstrip("\n").split("\t") for line in open(rss_tsv)][1:]
    rows = [(int(t), int(c), int(a or 0), int(b or 0)) for t, c, a, b in rows]
    if rows:
        print("resident size (KiB) every 10 s: t, runs created, controller, caplet on node-3")
        step = max(1, len(rows) // 20)
        for r in rows[::step] + ([rows[-1]] if (len(rows) - 1) % step else []):
            print("  %6d %6d %8d %8d" % r)
        half = [r for r in rows if r[1] >= int(n_runs) // 2]
        for col, name in ((2, "controller"), (3, "caplet node-3")):
            vals = [r[col] for r in half if r[col] > 0]
            if len(vals) >= 4:
                q = len(vals) // 4
                first, last = max(vals[:q]), max(vals[-q:])
                print("  %s over the second half: %d KiB at its start, %d KiB at its end (%+.0f%%)" %
                      (name, first, last, 100.0 * (last - first) / first))
    for b in bad[:50]:
        print("BROKEN: " + b, file=sys.stderr)
    if len(bad) > 50:
        print("BROKEN: ... and %d more" % (len(bad) - 50), file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

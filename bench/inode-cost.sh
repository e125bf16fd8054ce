#!/usr/bin/env bash
# What a run's directories and small files cost on a filesystem: mkdir,
# rename, create + write 300 bytes, unlink and rmdir, 300 of each, three
# rounds, microseconds per call.
#
#   bench/inode-cost.sh [DIR]   (default: a temporary directory under /var/lib)
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../hack/lib/errtrap.sh"
D=$(mktemp -d "${1:-/var/lib}/recap-bench-inode.XXXXXX")
trap 'rm -rf "$D"' EXIT
python3 - "$D" <<'PY'
import os, sys, time
d = sys.argv[1]
n = 300
print("| round | mkdir | rename | create+write | unlink | rmdir |  (us per call)")
for rnd in range(3):
    t = [time.perf_counter()]
    for i in range(n):
        os.mkdir(f"{d}/r{rnd}-{i}")
    t.append(time.perf_counter())
    for i in range(n):
        os.rename(f"{d}/r{rnd}-{i}", f"{d}/s{rnd}-{i}")
    t.append(time.perf_counter())
    for i in range(n):
        fd = os.open(f"{d}/f{rnd}-{i}", os.O_CREAT | os.O_WRONLY, 0o600)
        os.write(fd, b"x" * 300)
        os.close(fd)
    t.append(time.perf_counter())
    for i in range(n):
        os.unlink(f"{d}/f{rnd}-{i}")
    t.append(time.perf_counter())
    for i in range(n):
        os.rmdir(f"{d}/s{rnd}-{i}")
    t.append(time.perf_counter())
    us = [(b - a) / n * 1e6 for a, b in zip(t, t[1:])]
    print("| %d | %s |" % (rnd + 1, " | ".join("%.0f" % u for u in us)))
PY
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

#!/usr/bin/env bash
# hack/test's host snapshot, hack/deps' check and the ERR trap, run where a
# fresh machine has nothing to report: a new network namespace (only `lo`, no
# iptables table) and a new mount namespace with empty file systems over the
# places the snapshot looks at. Each must work there and say what it sees;
# each is also shown something, so that this test can fail. A snapshot that
# pipes an empty `iptables-save` through grep under pipefail ended hack/test
# with no word on every fresh machine: this is the test that catches it.
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../hack/lib/errtrap.sh"
src=${RECAP_SRC:?RECAP_SRC must name the source tree}
if ((EUID != 0)); then
	echo "SKIP: needs root (network and mount namespaces)"
	exit 77
fi
T=$(mktemp -d /tmp/recap-test-hack.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
pass() { echo "ok - $*"; }
fail() {
	echo "FAIL - $*" >&2
	fails=$((fails + 1))
}

# in_fresh_host SCRIPT: runs bash SCRIPT in a new network and mount namespace
# whose /run, /var/lib, /var/log, /etc/cni and /sys/fs/cgroup are empty.
in_fresh_host() {
	unshare --net --mount --propagation private -- bash -c '
		set -e
		for d in /run /var/lib /var/log /sys/fs/cgroup; do mount -t tmpfs fresh "$d"; done
		[[ ! -d /etc/cni ]] || mount -t tmpfs fresh /etc/cni
		ip link set lo up
		exec bash "$@"' fresh-host "$@"
}

# --- the snapshot where there is nothing to report ---------------------------
cat >"$T/snapshot.sh" <<EOS
set -euo pipefail
. "$src/hack/lib/errtrap.sh"
. "$src/hack/lib/host-state.sh"
host_state | LC_ALL=C sort -u >"\$1"
[[ \${2:-} == mark ]] || exit 0
# Something of each kind a test could leave, then the snapshot again.
iptables -t filter -A INPUT -i lo -m comment --comment recap-test-leak -j ACCEPT
ip link add recap-leak0 type bridge
ip netns add recap-leak-ns
mkdir -p /sys/fs/cgroup/recap-leak /var/lib/kubelet
host_state | LC_ALL=C sort -u >"\$1.marked"
ip netns del recap-leak-ns
EOS
if in_fresh_host "$T/snapshot.sh" "$T/empty" mark 2>"$T/err"; then
	pass "the snapshot of a fresh host succeeds under set -euo pipefail"
else
	fail "the snapshot of a fresh host failed: $(cat "$T/err")"
fi
if [[ -f $T/empty ]]; then
	others=$(grep -v -e '^mount ' -e '^link lo$' "$T/empty" || true)
	[[ -z $others ]] && pass "a fresh host shows mounts and lo only" ||
		fail "a fresh host shows more than mounts and lo: $others"
	grep -qx 'link lo' "$T/empty" && pass "the snapshot sees the links" || fail "no 'link lo' in the snapshot"
fi
if [[ -f $T/empty.marked ]]; then
	added=$(LC_ALL=C comm -13 "$T/empty" "$T/empty.marked")
	for want in 'iptables *filter' 'iptables :INPUT ACCEPT' \
		'iptables -A INPUT -i lo -m comment --comment recap-test-leak -j ACCEPT' \
		'link recap-leak0' 'netns recap-leak-ns' 'cgroup /sys/fs/cgroup/recap-leak' 'path /var/lib/kubelet'; do
		grep -qxF -- "$want" <<<"$added" && pass "a leak is seen: $want" || fail "not seen: $want (new: $added)"
	done
fi

# A source that cannot be read fails the snapshot, naming it.
cat >"$T/broken.sh" <<EOS
set -euo pipefail
. "$src/hack/lib/host-state.sh"
iptables-save() { return 4; }
host_state >/dev/null
EOS
if out=$(bash "$T/broken.sh" 2>&1); then
	fail "a snapshot whose iptables-save fails succeeded"
else
	grep -q "iptables-save failed" <<<"$out" && pass "a failing source is named: $out" ||
		fail "a failing source is not named: $out"
fi

# --- hack/deps --check -------------------------------------------------------
"$src/hack/deps" --check >"$T/deps.out" 2>&1 && pass "deps --check on this host: $(cat "$T/deps.out")" ||
	fail "deps --check on this host: $(cat "$T/deps.out")"
cat >"$T/deps.sh" <<EOS
mkdir -p /var/lib/dpkg && : >/var/lib/dpkg/status
"$src/hack/deps" --check
EOS
if in_fresh_host "$T/deps.sh" >"$T/deps-empty.out" 2>&1; then
	fail "deps --check with no package installed succeeded: $(cat "$T/deps-empty.out")"
else
	grep -q 'packages missing: .*libuv1-dev' "$T/deps-empty.out" &&
		pass "deps --check names what a fresh machine misses" ||
		fail "deps --check on an empty dpkg database says: $(cat "$T/deps-empty.out")"
fi

# --- the ERR trap ------------------------------------------------------------
cat >"$T/silent.sh" <<EOS
set -euo pipefail
. "$src/hack/lib/errtrap.sh"
rules() { printf '' | grep -v '^#'; }
snapshot() { rules | sort; }
snapshot >/dev/null
echo "not reached"
EOS
rc=0
out=$(bash "$T/silent.sh" 2>&1) || rc=$?
if ((rc == 0)) || grep -q "not reached" <<<"$out"; then
	fail "a failing pipeline did not end the script (rc $rc): $out"
elif grep -qF "$T/silent.sh:3: command failed with status 1: grep -v '^#' (in rules called at $T/silent.sh:4, snapshot called at $T/silent.sh:5)" <<<"$out"; then
	pass "a failing pipeline ends the script naming file, line, command and callers"
else
	fail "the ERR trap said: $out"
fi
cat >"$T/handled.sh" <<EOS
set -euo pipefail
. "$src/hack/lib/errtrap.sh"
false || true
if ! grep -q x /dev/null; then :; fi
set +e
false
set -e
echo done
EOS
out=$(bash "$T/handled.sh" 2>&1) || true
[[ $out == done ]] && pass "handled failures are not reported" || fail "handled failures were reported: $out"

echo "fresh host: $fails check(s) failed"
((fails == 0))

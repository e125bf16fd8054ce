# shellcheck shell=bash
# Helpers for the hack/cluster tests: a scratch directory, clusters in it that
# are always torn down (also when a test fails), polling with a deadline.
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../hack/lib/errtrap.sh"

src=${RECAP_SRC:?RECAP_SRC must name the source tree}
cluster=$src/hack/cluster
RECAP_KUBE_BIN=${RECAP_KUBE_BIN:-$("$src/hack/build-kube" --print)}
for c in etcd kube-apiserver kube-controller-manager kubectl; do
	if [[ ! -x $RECAP_KUBE_BIN/$c ]]; then
		echo "SKIP: $RECAP_KUBE_BIN/$c missing (run hack/build-kube or hack/test)" >&2
		exit 77
	fi
done
export RECAP_KUBE_BIN
# curl and kubectl reach the clusters directly, whatever proxy is configured.
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost
kubectl=$RECAP_KUBE_BIN/kubectl

scratch=$(mktemp -d /tmp/recap-test-cluster.XXXXXX)

# Every cluster directory under $scratch, also one a failed or killed `up` left.
t_cleanup() {
	local rc=$? d
	for d in "$scratch"/*/; do
		[[ -f $d/.recap-cluster ]] || continue
		"$cluster" down --dir "${d%/}" 2>/dev/null || { echo "FAIL: down --dir $d" >&2; rc=1; }
	done
	rm -rf "$scratch"
	exit "$rc"
}
trap t_cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
ok() { echo "ok: $*"; }

# cluster_dir NAME: a directory for a cluster (torn down at exit).
cluster_dir() {
	echo "$scratch/$1"
}

# up NAME [up options]: starts a cluster in $scratch/NAME.
up() {
	local name=$1
	shift
	"$cluster" up --dir "$scratch/$name" --bin "$RECAP_KUBE_BIN" "$@"
}

# kc DIR ARGS...: kubectl as the admin of that cluster.
kc() {
	local d=$1
	shift
	"$kubectl" --kubeconfig "$d/kubeconfig" "$@"
}

# eventually SECONDS WHAT COMMAND...: polls COMMAND until it succeeds.
eventually() {
	local secs=$1 what=$2 end=$((SECONDS + $1))
	shift 2
	until "$@" >/dev/null 2>&1; do
		((SECONDS < end)) || fail "not within $secs s: $what"
		sleep 0.2
	done
}

# cluster_pids DIR: every process whose command line names DIR.
cluster_pids() {
	pgrep -f -- "$1/" || true
}

# listening PORT: whether something listens on 127.0.0.1:PORT.
listening() {
	[[ -n $(ss -Hltn "sport = :$1") ]]
}

# cluster_env DIR NAME: the value of NAME in DIR/env (RECAP_APISERVER_URL, ...).
cluster_env() {
	(
		# shellcheck disable=SC1091
		. "$1/env"
		printf '%s\n' "${!2}"
	)
}

# listening_ports PID...: the TCP ports those processes listen on.
listening_ports() {
	local re
	re=$(IFS='|' && echo "$*")
	# none is an answer (grep finding nothing exits 1): the caller judges it
	ss -Hltnp | { grep -E "pid=($re)," || true; } | awk '{ sub(/.*:/, "", $4); print $4 }' | sort -u
}

#!/usr/bin/env bash
# Runs a test program against its own private control plane:
#   with-cluster.sh ROOT PROGRAM [ARGS...]
# The cluster (hack/cluster) has a short etcd compaction interval and no
# watch cache for podtemplates, so a test can watch from a compacted
# resourceVersion. It is taken down again whatever the test does.
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../hack/lib/errtrap.sh"
root=$1
shift
dir=$(mktemp -d /tmp/recap-kube-it.XXXXXX)
cleanup() { "$root/hack/cluster" down --dir "$dir" >/dev/null 2>&1 || rm -rf "$dir"; }
trap cleanup EXIT
trap 'exit 143' TERM INT
"$root/hack/cluster" up --dir "$dir" --compaction-interval 1s \
	--apiserver-arg=--watch-cache-sizes=podtemplates#0 >&2
# shellcheck disable=SC1091
. "$dir/env"
export RECAP_CLUSTER_SCRIPT=$root/hack/cluster RECAP_SOURCE_ROOT=$root
"$@"

# shellcheck shell=bash
# What the real-node benchmarks share (bench/real-node.sh, bench/streams.sh,
# bench/tool-delivery.sh):
#   bench_counts MAX NAME...  each variable NAME must hold a number in 1..MAX
#                             (exit 2 naming it otherwise)
#   bench_node_up ROOT        the real node of e2e/real-node/lib.sh from the
#                             binaries of ROOT/build (B), with that build's
#                             kubectl-capsule (PLUGIN) first on PATH; its
#                             EXIT trap removes everything again

bench_counts() {
	local max=$1 v
	shift
	for v in "$@"; do
		if ! [[ ${!v} =~ ^[0-9]+$ ]] || ((${!v} < 1 || ${!v} > max)); then
			echo "$v must be a number in 1..$max, got '${!v}'" >&2
			exit 2
		fi
	done
}

bench_node_up() {
	B=$1/build
	PLUGIN=$B/cmd/kubectl-capsule/kubectl-capsule
	[[ -x $PLUGIN ]] || { echo "$PLUGIN missing: build first (meson setup build && ninja -C build)" >&2; exit 2; }
	# shellcheck source=e2e/real-node/lib.sh
	. "$1/e2e/real-node/lib.sh"
	rn_up "$B/cmd/caplet/caplet" "$B/cmd/capsule/capsule" "$B/cmd/recap-controller/recap-controller" "$1"
	mkdir -p "$T/plugin" && ln -s "$PLUGIN" "$T/plugin/kubectl-capsule"
	export PATH=$T/plugin:$PATH
}

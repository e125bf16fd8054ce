# shellcheck shell=bash
# host_state: what a test could leave on the host besides processes, one
# item a line: mount points, cgroups, network namespaces and links, runc
# containers, iptables tables, chains with their policies, and rules, and
# the fixed paths Kubernetes parts default to. hack/test takes it before and
# after the suites; anything new after is a leak. test/hack/host_state.sh
# runs it where there is nothing to report.
#
# Every source may legitimately report nothing (a fresh host has no iptables
# table, no netns, no runc container): an empty answer is not a failure, and
# no pipeline here may end the caller, whatever its shell options. A source
# that cannot be read at all is said on stderr and fails the snapshot.
host_state() (
	set +e +o pipefail
	local rc=0
	awk '{print "mount", $5}' /proc/self/mountinfo || { echo "host_state: cannot read mountinfo" >&2; rc=1; }
	# (process_api: the machine's own process supervisor, not the tests')
	find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -type d 2>/dev/null | grep -v '/process_api' | sed 's/^/cgroup /'
	ip netns list 2>/dev/null | awk '{print "netns", $1}'
	ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print "link", $2}'
	[[ ${PIPESTATUS[0]} == 0 ]] || { echo "host_state: ip link failed" >&2; rc=1; }
	runc list -q 2>/dev/null | sed 's/^/runc /'
	# Counters change by themselves; tables, policies and rules must not.
	iptables-save | grep -v -e '^#' -e '^COMMIT' | sed -e 's/ \[[0-9]*:[0-9]*\]$//' -e 's/^/iptables /'
	[[ ${PIPESTATUS[0]} == 0 ]] || { echo "host_state: iptables-save failed" >&2; rc=1; }
	local p
	for p in /usr/libexec/kubernetes /var/lib/kubelet /var/log/containers /var/log/pods /var/lib/cni \
		/etc/cni/net.d /run/containerd /var/lib/containerd /run/recap-node.made; do
		[[ -e $p ]] && echo "path $p"
	done
	exit "$rc"
)

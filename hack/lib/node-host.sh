# shellcheck shell=bash
# shellcheck disable=SC2154 # dir, id, bridge, ... are set by hack/node
# What hack/node makes outside its directory, and how `down` removes it:
# a cgroup root in every hierarchy, a bridge with two iptables rules, the
# mounts and processes of pods. Everything is named after the node's id
# (a hash of its directory), so several nodes can run at once and one's
# `down` never touches another's. Sourced by hack/node.

readonly CGROUP_FS=/sys/fs/cgroup
readonly DEVICE_PLUGINS_DIR=/var/lib/kubelet/device-plugins

# host_names: id, bridge and cgroup root, derived from the directory.
host_names() {
	id=$(printf '%s' "$dir" | sha256sum | cut -c1-8)
	bridge=rn-$id
	cgroup_root=recap-node-$id
}

# host_pick_subnet: a 10.250.X.0/24 no interface of this host is in (hack/node
# picks it and makes the bridge under host_record_edit's lock, so that two
# nodes coming up at once cannot pick the same).
host_pick_subnet() {
	local x addrs
	addrs=$(ip -4 -o addr show)
	for _ in $(seq 50); do
		x=$((SRANDOM % 256))
		grep -q " 10\.250\.$x\." <<<"$addrs" && continue
		subnet=10.250.$x.0/24 gateway=10.250.$x.1
		return 0
	done
	return 1
}

# The two rules, one per line: "TABLE CHAIN SPEC...". The DNAT stands in
# for kube-proxy's "kubernetes" Service; route_localnet (on this bridge
# only) lets the rewritten packets reach the loopback apiserver, and the
# DROP keeps every other loopback port closed to pods. A runtime-only node
# has no API server to reach, hence neither.
host_rules() {
	local tag="recap-node-$id"
	[[ ${runtime_only:-false} == false ]] || return 0
	echo "nat PREROUTING -i $bridge -d $SERVICE_IP/32 -p tcp --dport 443 -m comment --comment $tag -j DNAT --to-destination 127.0.0.1:$api_port"
	echo "filter INPUT -i $bridge -d 127.0.0.0/8 -m conntrack ! --ctstate DNAT,RELATED,ESTABLISHED -m comment --comment $tag -j DROP"
}

host_network_up() {
	local table chain spec
	ip link add "$bridge" type bridge &&
		ip addr add "$gateway/24" dev "$bridge" &&
		ip link set "$bridge" up || return 1
	if [[ ${runtime_only:-false} == false ]]; then
		echo 1 >"/proc/sys/net/ipv4/conf/$bridge/route_localnet" || return 1
	fi
	while read -r table chain spec; do
		# shellcheck disable=SC2086 # the spec is words
		iptables -w 5 -t "$table" -I "$chain" 1 $spec || return 1
	done < <(host_rules)
}

host_network_down() {
	local table chain spec veth
	while read -r table chain spec; do
		# shellcheck disable=SC2086
		while iptables -w 5 -t "$table" -C "$chain" $spec 2>/dev/null; do
			iptables -w 5 -t "$table" -D "$chain" $spec || break
		done
	done < <(host_rules)
	if ip link show "$bridge" >/dev/null 2>&1; then
		for veth in $(ip -o link show master "$bridge" | awk -F': ' '{print $2}' | cut -d@ -f1); do
			ip link del "$veth" 2>/dev/null
		done
		ip link del "$bridge"
	fi
}

# Every cgroup hierarchy: each v1 controller's and the v2 one.
host_hierarchies() {
	awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts | grep "^$CGROUP_FS"
}

# The kubelet wants its cgroup root to exist everywhere; a cpuset cgroup
# needs cpus and mems before anything can join it.
host_cgroups_up() {
	local h
	for h in $(host_hierarchies); do
		mkdir -p "$h/$cgroup_root" || return 1
		if [[ -f $h/cpuset.cpus ]]; then
			cat "$h/cpuset.cpus" >"$h/$cgroup_root/cpuset.cpus" &&
				cat "$h/cpuset.mems" >"$h/$cgroup_root/cpuset.mems" || return 1
		fi
	done
}

# Pods first through containerd (so the shims see their tasks end), then
# whatever is still in the node's cgroups is killed outright.
host_containers_down() {
	containerd_ready >/dev/null 2>&1 || return 0
	local c ctr=(ctr -a "$dir/containerd/containerd.sock" -n k8s.io)
	for c in $("${ctr[@]}" tasks ls -q 2>/dev/null); do
		"${ctr[@]}" tasks kill -a -s KILL "$c" >/dev/null 2>&1
	done
	for c in $("${ctr[@]}" tasks ls -q 2>/dev/null); do
		"${ctr[@]}" tasks delete -f "$c" >/dev/null 2>&1
	done
	for c in $("${ctr[@]}" containers ls -q 2>/dev/null); do
		"${ctr[@]}" containers delete "$c" >/dev/null 2>&1
	done
}

host_cgroup_procs() {
	local h
	for h in $(host_hierarchies); do
		[[ -d $h/$cgroup_root ]] && find "$h/$cgroup_root" -name cgroup.procs -exec cat {} + 2>/dev/null
	done | sort -u
}

host_cgroup_procs_down() {
	local pids deadline=$(($(now_ms) + 10000))
	while :; do
		mapfile -t pids < <(host_cgroup_procs)
		((${#pids[@]})) || return 0
		(($(now_ms) < deadline)) || { log "processes ${pids[*]} in /$cgroup_root did not die"; return 1; }
		kill -KILL "${pids[@]}" 2>/dev/null
		sleep 0.1
	done
}

# Shims outlive containerd by design; ours name our containerd's socket.
host_shims_down() {
	local pids
	mapfile -t pids < <(pgrep -f -- "containerd-shim-runc-v2 .*-address $dir/containerd/containerd.sock" || true)
	((${#pids[@]})) || return 0
	kill -KILL "${pids[@]}" 2>/dev/null
	proc_wait_gone 10 "${pids[@]}"
}

# Every mount under the directory, deepest first (rootfs overlays, network
# namespaces, pod volumes, the kubelet's shared root).
host_mounts_down() {
	local m
	for _ in 1 2 3; do
		mapfile -t m < <(awk -v d="$dir/" 'index($5, d) == 1 || $5 == substr(d, 1, length(d) - 1) { print $5 }' \
			/proc/self/mountinfo | sort -r)
		((${#m[@]})) || return 0
		umount -l "${m[@]}" 2>/dev/null
	done
}

host_cgroups_down() {
	local h
	for h in $(host_hierarchies); do
		[[ -d $h/$cgroup_root ]] || continue
		find "$h/$cgroup_root" -depth -type d -exec rmdir {} + 2>/dev/null
	done
}

# Host directories the parts insist on, whatever they are configured with:
# containerd 1.6's shim sockets, the CNI library's result cache, the
# kubelet's container log links and its device-plugin directory (a mount
# point in its namespace, see node-conf.sh). Each may be shared with other
# users: `down` removes our entries in them.
readonly SHARED_DIRS=(/run/containerd /run/containerd/s /var/lib/cni /var/lib/cni/results
	/var/log/containers /var/lib/kubelet "$DEVICE_PLUGINS_DIR")
# The iptables tables the two rules live in (host_rules).
readonly RULE_TABLES=(nat filter)

# What hack/node makes on the host that no one node owns: the shared
# directories above and the iptables tables, when they were absent before the
# first node came up (a fresh host has no iptables table at all; inserting a
# rule instantiates one with its built-in chains). One host-wide record lists
# them together with the nodes that are up or coming up; the last node's
# `down` removes each that is empty again, so the host ends as it was found
# however nodes overlap. Directories are the host's; iptables tables belong
# to a network namespace, so nodes and tables are recorded with theirs
# (readlink /proc/self/ns/net) and a table goes with the last node of its own
# namespace. Lines: "node DIR NETNS", "dir PATH", "iptables TABLE NETNS".
# It is changed only under a lock on /run (no lock file to leave behind),
# held for the edit alone so that no started process inherits it.
readonly HOST_RECORD=/run/recap-node.made

host_record_edit() { # FUNCTION: runs it under the lock
	local fd rc=0
	exec {fd}</run
	flock -w 60 "$fd" || { exec {fd}<&-; log "cannot lock /run for $HOST_RECORD"; return 1; }
	"$1" || rc=$?
	exec {fd}<&-
	return "$rc"
}

host_record_write() { # LINE... (none: the record goes)
	if (($#)); then
		printf '%s\n' "$@" | sort -u >"$HOST_RECORD.tmp" && mv "$HOST_RECORD.tmp" "$HOST_RECORD"
	else
		rm -f "$HOST_RECORD"
	fi
}

host_record_lines() { [[ ! -f $HOST_RECORD ]] || cat "$HOST_RECORD"; }

host_tables() { # the iptables tables that exist now
	{ iptables-save 2>/dev/null || true; } | sed -n 's/^\*//p'
}

# Tables can be deleted only through nftables (iptables has no verb for it);
# with the legacy backend a table, once loaded, stays (docs/development.md).
host_tables_removable() {
	[[ $(iptables -V 2>/dev/null) == *nf_tables* ]] && command -v nft >/dev/null
}

host_netns() { readlink /proc/self/ns/net; }

# host_record_up: this node, and what is missing now that `up` may make.
host_record_up() {
	local lines d t tables netns
	netns=$(host_netns)
	mapfile -t lines < <(host_record_lines)
	lines+=("node $dir $netns")
	for d in "${SHARED_DIRS[@]}"; do [[ -e $d ]] || lines+=("dir $d"); done
	if host_tables_removable && [[ -n $(host_rules) ]]; then
		tables=$(host_tables)
		for t in "${RULE_TABLES[@]}"; do grep -qx -- "$t" <<<"$tables" || lines+=("iptables $t $netns"); done
	fi
	host_record_write "${lines[@]}"
}

# host_table_empty TABLE: only built-in chains, each with policy ACCEPT.
host_table_empty() {
	local rules
	rules=$(iptables -w 5 -t "$1" -S 2>/dev/null) || return 1
	! grep -qv -e '^-P [A-Z]* ACCEPT$' <<<"$rules"
}

# host_record_down: this node goes. Directories the record lists go when it
# was the last node (a node whose directory has lost its marker was taken down
# by hand), tables of this network namespace when it was the last node in it:
# each that is empty again is removed, and what is still in use stays listed.
host_record_down() {
	local kind what ns netns nodes=() made=() keep=() others=0 others_here=0
	netns=$(host_netns)
	while read -r kind what ns; do
		case $kind in
		node)
			[[ $what == "$dir" || ! -f $what/$MARKER ]] && continue
			nodes+=("node $what${ns:+ $ns}")
			others=$((others + 1))
			# (a node recorded without its namespace counts as here)
			[[ -n $ns && $ns != "$netns" ]] || others_here=$((others_here + 1))
			;;
		*) made+=("$kind $what${ns:+ $ns}") ;;
		esac
	done < <(host_record_lines)
	while read -r kind what ns; do
		[[ -n $kind ]] || continue
		case $kind in
		dir)
			((others == 0)) && { rmdir "$what" 2>/dev/null || [[ ! -e $what ]]; } || keep+=("dir $what")
			;;
		iptables)
			if [[ -n $ns && $ns != "$netns" ]] || ((others_here)); then
				keep+=("iptables $what${ns:+ $ns}")
				continue
			fi
			grep -qx -- "$what" <<<"$(host_tables)" || continue
			{ host_table_empty "$what" && nft delete table ip "$what"; } || keep+=("iptables $what${ns:+ $ns}")
			;;
		esac
	done < <(printf '%s\n' "${made[@]}" | sort -r) # deepest directories first
	host_record_write "${nodes[@]}" "${keep[@]}"
}

# host_container_ids: every container and sandbox id containerd has had
# (asked, and read from its directories in case it is gone).
host_container_ids() {
	local c=$dir/containerd
	{
		containerd_ready >/dev/null 2>&1 &&
			ctr -a "$c/containerd.sock" -n k8s.io containers ls -q 2>/dev/null
		ls "$c/state/io.containerd.runtime.v2.task/k8s.io" "$c/root/io.containerd.grpc.v1.cri/sandboxes" \
			"$c/root/io.containerd.grpc.v1.cri/containers" 2>/dev/null
	} | { grep -E '^[0-9a-f]{64}$' || true; } | sort -u
}

host_shared_dirs_down() { # CONTAINER_ID...
	local l c sock
	for l in /var/log/containers/*.log; do
		[[ -L $l && $(readlink "$l") == "$dir/"* ]] && rm -f "$l"
	done
	rm -f /var/lib/cni/results/"recap-$id-"*
	for c in "$@"; do
		rm -f "/var/lib/cni/results/cni-loopback-$c-lo"
		sock=$(printf '%s' "$dir/containerd/containerd.sock/k8s.io/$c" | sha256sum | cut -c1-64)
		rm -f "/run/containerd/s/$sock"
	done
	return 0
}

# host_leftovers: prints whatever of this node is still on the host.
host_leftovers() {
	local h
	for h in $(host_hierarchies); do [[ ! -d $h/$cgroup_root ]] || echo "cgroup $h/$cgroup_root"; done
	ip link show "$bridge" >/dev/null 2>&1 && echo "link $bridge"
	awk -v d="$dir/" 'index($5, d) == 1 { print "mount " $5 }' /proc/self/mountinfo
	{ pgrep -f -- "$dir/" || true; } | sed 's/^/process /'
	{ iptables-save 2>/dev/null || true; } | { grep -e "recap-node-$id" || true; } | sed 's/^/iptables /'
	return 0
}

# shellcheck shell=bash
# shellcheck disable=SC2154 # dir, id, bridge, ... are set by hack/node
# Configuration files of hack/node: containerd, the CNI network, the kubelet
# and the kernel settings the kubelet checks. Every path is under the node
# directory; nothing names a host default. Sourced by hack/node, which sets
# dir, id, bridge, subnet, gateway, cgroup_root, kubelet_port, healthz_port,
# node_name, api_url.

# containerd with only what the node needs: CRI, overlayfs, runc. Its root,
# state, sockets and runc's state are its own; network namespaces are mounted
# under its state dir instead of /var/run/netns.
conf_containerd() {
	local c=$dir/containerd cri='plugins."io.containerd.grpc.v1.cri"'
	cat <<EOF
version = 2
root = "$c/root"
state = "$c/state"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.native",
  "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$c/containerd.sock"
[ttrpc]
  address = "$c/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[$cri]
  sandbox_image = "$PAUSE_IMAGE"
  netns_mounts_under_state_dir = true
  # Lowering an oom_score_adj (the sandbox's -998, a Guaranteed pod's -997)
  # takes CAP_SYS_RESOURCE, which hosts like this one do not grant even to
  # root: without this every sandbox fails in runc ("can't get final
  # child's PID from pipe"). Containers keep at least containerd's own score.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [$cri.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [$cri.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [$cri.containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        Root = "$dir/runc"
        SystemdCgroup = false
  [$cri.cni]
    bin_dir = "$CNI_BIN_DIR"
    conf_dir = "$dir/cni/net.d"
EOF
}

# One bridge of our own, made by hack/node with the gateway address (so the
# bridge plugin need not be the gateway, which would turn on the host's
# ip_forward), host-local addresses kept under the node dir, no masquerade:
# pods talk to each other and to this host only.
conf_cni() {
	cat <<EOF
{
  "cniVersion": "1.0.0",
  "name": "recap-$id",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$bridge",
      "isGateway": false,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$dir/cni/ipam",
        "ranges": [[{"subnet": "$subnet", "gateway": "$gateway"}]],
        "routes": [{"dst": "0.0.0.0/0", "gw": "$gateway"}]
      }
    }
  ]
}
EOF
}

# The kubelet: cgroupfs under a cgroup root of its own, cgroup v1 allowed
# (this host's hierarchy is hybrid: v1 controllers, v2 mounted at unified),
# swap allowed, loopback ports, its own directories, no image garbage
# collection (the images are imported, never pulled) and the kernel settings
# checked, never written (protectKernelDefaults; see kernel_view).
conf_kubelet() {
	cat <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
cgroupRoot: /$cgroup_root
cgroupsPerQOS: true
failCgroupV1: false
failSwapOn: false
memorySwap: {}
protectKernelDefaults: true
containerRuntimeEndpoint: unix://$dir/containerd/containerd.sock
address: $gateway
port: $kubelet_port
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $healthz_port
tlsCertFile: $dir/pki/kubelet-serving.crt
tlsPrivateKeyFile: $dir/pki/kubelet-serving.key
rotateCertificates: false
serverTLSBootstrap: false
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $dir/pki/ca.crt}
authorization:
  mode: Webhook
podLogsDir: $dir/pod-logs
volumePluginDir: $dir/volume-plugins
staticPodPath: ""
resolvConf: $dir/resolv.conf
registerNode: true
nodeStatusUpdateFrequency: 4s
syncFrequency: 10s
fileCheckFrequency: 20s
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 1Mi
  nodefs.available: "1%"
  imagefs.available: "1%"
  nodefs.inodesFree: "1%"
evictionPressureTransitionPeriod: 5s
shutdownGracePeriod: 0s
EOF
}

# The kernel settings the kubelet insists on (vm.overcommit_memory=1,
# kernel.panic=10, ...) are host-wide and not namespaced. Left to itself
# the kubelet would rewrite them; with protectKernelDefaults it refuses to
# start unless they already hold. It therefore runs in a mount namespace of
# its own where read-only files with those values cover /proc/sys's: the
# host's settings are never touched.
readonly KUBELET_KERNEL_SETTINGS=(
	vm/overcommit_memory=1 vm/panic_on_oom=0 kernel/panic=10 kernel/panic_on_oops=1
	kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000
)

# kernel_view_script: the shell run in the kubelet's namespace before exec.
# It also gives the kubelet a device-plugin directory of its own: that path
# is fixed (/var/lib/kubelet/device-plugins) whatever the root dir, and
# another node's kubelet would replace its socket.
kernel_view_script() {
	local s k v
	mkdir -p "$dir/kernel-view" "$dir/device-plugins"
	printf 'mount --bind %q %s || exit 1\n' "$dir/device-plugins" "$DEVICE_PLUGINS_DIR"
	for s in "${KUBELET_KERNEL_SETTINGS[@]}"; do
		k=${s%%=*} v=${s#*=}
		echo "$v" >"$dir/kernel-view/${k//\//.}"
		printf 'mount --bind %q /proc/sys/%s && mount -o remount,bind,ro /proc/sys/%s || exit 1\n' \
			"$dir/kernel-view/${k//\//.}" "$k" "$k"
	done
	echo 'exec "$@"'
}

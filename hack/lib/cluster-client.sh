# shellcheck shell=bash
# Shared by hack/cluster and hack/node: free loopback ports and kubeconfigs.
# The caller sets PY (a python3).

# free_ports N: N distinct ports that were free on 127.0.0.1 a moment ago,
# chosen at random below the kernel's ephemeral range: a port from that range
# can be taken as the source port of any outgoing connection while a
# component is stopped (start-apiserver would then fail), and a client that
# connects to such a port with nothing listening may connect to itself.
free_ports() {
	"$PY" - "$1" <<'EOF'
import random, socket, sys
lo, hi = 10000, 32768
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        hi = int(f.read().split()[0])
except (OSError, ValueError, IndexError):
    pass
rng = random.SystemRandom()
socks, tries = [], 0
while len(socks) < int(sys.argv[1]):
    tries += 1
    if tries > 2000:
        sys.exit("no free port on 127.0.0.1")
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", rng.randrange(lo, hi) if hi - lo >= 1000 else 0))
    except OSError:
        s.close()
        continue
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# write_kubeconfig FILE SERVER CA_FILE USER CERT KEY: a kubeconfig with the
# client certificate embedded.
write_kubeconfig() {
	local f=$1 server=$2 ca=$3 user=$4 cert=$5 key=$6
	cat >"$f.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: recap-local
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 <"$ca")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 <"$cert")
    client-key-data: $(base64 -w0 <"$key")
contexts:
- name: $user@recap-local
  context:
    cluster: recap-local
    user: $user
    namespace: default
current-context: $user@recap-local
EOF
	chmod 600 "$f.tmp"
	mv "$f.tmp" "$f"
}

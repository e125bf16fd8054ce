# shellcheck shell=bash
# Certificates and keys for hack/cluster, made with OpenSSL: the cluster CA,
# the apiserver's serving certificate, client certificates (the subject's CN is
# the user name, each O a group), the service-account signing key pair, and
# the aggregation layer's front proxy: a CA of its own (front-proxy/ca.crt)
# and the client certificate kube-apiserver presents to aggregated API
# servers (front-proxy/client.crt, CN front-proxy-client).
# ECDSA P-256 throughout: key generation is instant, which keeps `up` fast.
# Sourced by hack/cluster; every function takes the pki directory first.

# The first address of --service-cluster-ip-range: the "kubernetes" Service.
readonly PKI_SERVICE_IP=10.0.0.1

# A config with nothing in it, so the system openssl.cnf adds no extensions.
pki_conf() {
	printf '[req]\ndistinguished_name = dn\n[dn]\n'
}

# Certificates start 15 minutes before they are made (kubeadm backdates its
# own too), so a client whose clock is a few minutes behind the API server's
# still accepts them (e2e/faults.sh runs a controller 10 minutes behind).
# OpenSSL 3.0 cannot set a start date on `req -x509` / `x509 -req`: its clock
# is moved back instead (libfaketime, which hack/deps installs).
PKI_FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
pki_openssl() {
	[[ -f $PKI_FAKETIME_LIB ]] || {
		echo "pki: $PKI_FAKETIME_LIB is missing (hack/deps installs libfaketime)" >&2
		return 1
	}
	LD_PRELOAD=$PKI_FAKETIME_LIB FAKETIME=-15m FAKETIME_DONT_FAKE_MONOTONIC=1 openssl "$@"
}

pki_serial() {
	printf '0x%08x%08x%08x' "$SRANDOM" "$SRANDOM" "$SRANDOM"
}

# pki_ca DIR [CN]: DIR/ca.crt, DIR/ca.key
pki_ca() {
	local d=$1 cn=${2:-recap-local-ca}
	pki_openssl req -x509 -new -nodes -config <(pki_conf) \
		-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-keyout "$d/ca.key" -out "$d/ca.crt" -days 3650 -set_serial "$(pki_serial)" \
		-subj "/CN=$cn" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash" 2>>"$d/openssl.err"
}

# pki_leaf DIR NAME SUBJECT EXTENSIONS: DIR/NAME.crt, DIR/NAME.key signed by
# the CA in $PKI_CA_DIR (default DIR).
pki_leaf() {
	local d=$1 name=$2 subj=$3 ext=$4 ca=${PKI_CA_DIR:-$1}
	openssl req -new -nodes -config <(pki_conf) \
		-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-keyout "$d/$name.key" -subj "$subj" 2>>"$d/openssl.err" |
		pki_openssl x509 -req -CA "$ca/ca.crt" -CAkey "$ca/ca.key" -set_serial "$(pki_serial)" \
			-days 3650 -extfile <(printf '%s\n' "$ext") -out "$d/$name.crt" 2>>"$d/openssl.err" &&
		chmod 600 "$d/$name.key"
}

pki_server() { # DIR NAME CN SAN
	pki_leaf "$1" "$2" "/CN=$3" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$4"
}

pki_client() { # DIR NAME USER [GROUP...]
	local d=$1 name=$2 subj="/CN=$3" g
	shift 3
	for g in "$@"; do subj+="/O=$g"; done
	pki_leaf "$d" "$name" "$subj" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
}

# pki_sa DIR: DIR/sa.key (signs service-account tokens), DIR/sa.pub (verifies)
pki_sa() {
	local d=$1
	openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 -out "$d/sa.key" 2>>"$d/openssl.err"
	chmod 600 "$d/sa.key"
	openssl pkey -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>>"$d/openssl.err"
}

# pki_control_plane DIR: everything `up` needs.
pki_control_plane() {
	local d=$1
	pki_ca "$d" &&
		pki_server "$d" apiserver kube-apiserver \
			"IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:$PKI_SERVICE_IP" &&
		pki_client "$d" admin recap-admin system:masters &&
		pki_client "$d" controller-manager system:kube-controller-manager &&
		pki_client "$d" apiserver-kubelet-client kube-apiserver-kubelet-client system:masters &&
		pki_sa "$d" &&
		pki_front_proxy "$d"
}

# pki_front_proxy DIR: DIR/front-proxy/{ca,client}.{crt,key}. A CA apart from
# the cluster's: an aggregated API server trusts a request's X-Remote-User
# only from a client certificate of this CA, which no user can get.
pki_front_proxy() {
	local d=$1/front-proxy
	mkdir -p "$d" || return
	if ! pki_ca "$d" recap-front-proxy-ca || ! PKI_CA_DIR=$d pki_client "$d" client front-proxy-client; then
		cat "$d/openssl.err" >>"$1/openssl.err" 2>/dev/null
		return 1
	fi
}

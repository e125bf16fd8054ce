# Helpers for the oci integration tests (sourced). Everything a test starts
# lives under $T and is stopped/removed by oci_cleanup (installed as a trap).
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../hack/lib/errtrap.sh"

FIXTURES=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/fixtures.py
T=$(mktemp -d /tmp/recap-oci-test.XXXXXX)
PIDS=()
MOUNTS=()
FAILS=0

oci_cleanup() {
	local m p
	for m in "${MOUNTS[@]}"; do umount -l "$m" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap oci_cleanup EXIT

pass() { echo "ok - $*"; }
fail() { echo "FAIL - $*" >&2; FAILS=$((FAILS + 1)); }
finish() {
	if ((FAILS)); then echo "$FAILS check(s) failed" >&2; exit 1; fi
	echo "all checks passed"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# registry_start NAME [AUTH [TLS]]: sets REG_<NAME>=127.0.0.1:port and
# REGROOT_<NAME>=its storage directory. AUTH is the registry's auth section
# in YAML flow style, e.g. "{htpasswd: {realm: r, path: FILE}}"; TLS is
# "CERT KEY" for an https registry. REGISTRY_BIN is the registry binary
# (default Debian's docker-registry; any distribution build with `serve`).
registry_start() {
	local name=$1 auth=${2:-} tls=${3:-} port dir scheme=http
	port=$(free_port)
	dir=$T/registry-$name
	mkdir -p "$dir/data"
	{
		echo "version: 0.1"
		echo "log: {level: error, accesslog: {disabled: true}}"
		echo "storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}"
		if [[ -n $tls ]]; then
			echo "http: {addr: 127.0.0.1:$port, tls: {certificate: ${tls% *}, key: ${tls#* }}}"
		else
			echo "http: {addr: 127.0.0.1:$port}"
		fi
		if [[ -n $auth ]]; then echo "auth: $auth"; fi
	} >"$dir/config.yml"
	# distribution v3 exports traces to localhost:4318 unless told not to
	OTEL_TRACES_EXPORTER=none "${REGISTRY_BIN:-docker-registry}" serve "$dir/config.yml" >"$dir/log" 2>&1 &
	PIDS+=($!)
	[[ -z $tls ]] || scheme=https
	local i
	for i in $(seq 100); do
		if curl -sk -o /dev/null "$scheme://127.0.0.1:$port/v2/"; then break; fi
		sleep 0.1
	done
	curl -sk -o /dev/null "$scheme://127.0.0.1:$port/v2/" || { cat "$dir/log" >&2; return 1; }
	printf -v "REG_$name" '%s' "127.0.0.1:$port"
	printf -v "REGROOT_$name" '%s' "$dir/data"
}

# image_build LAYOUT TAG ARCH [FILE CONTENT]...: a busybox-static image built
# with umoci, plus small files (/FILE holding CONTENT).
image_build() {
	local layout=$1 tag=$2 arch=$3
	shift 3
	[[ -d $layout ]] || umoci init --layout "$layout"
	umoci new --image "$layout:$tag"
	umoci insert --image "$layout:$tag" /bin/busybox /bin/busybox
	while (($#)); do
		printf '%s\n' "$2" >"$T/insert.tmp"
		umoci insert --image "$layout:$tag" "$T/insert.tmp" "/$1"
		shift 2
	done
	umoci config --image "$layout:$tag" --architecture "$arch" --config.entrypoint /bin/busybox \
		--config.env PATH=/bin --config.workingdir /
	umoci gc --layout "$layout"
}

push() { # LAYOUT:TAG REGISTRY/REPO:TAG [skopeo args]
	local src=$1 dst=$2
	shift 2
	skopeo copy -q --dest-tls-verify=false "$@" "oci:$src" "docker://$dst" >/dev/null
}

# expect_fail NAME NEEDLE CMD...: the command fails and its stderr names the problem.
expect_fail() {
	local name=$1 needle=$2 rc=0
	shift 2
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	if ((rc == 0)); then
		fail "$name: succeeded"
	elif ! grep -qF -- "$needle" "$T/err"; then
		fail "$name: error lacks '$needle': $(cat "$T/err")"
	else
		pass "$name: $(tail -1 "$T/err" | sed 's/.*error *//')"
	fi
}

# expect_ok NAME NEEDLE CMD...: the command succeeds and its output (stdout
# and stderr) holds NEEDLE ("" for any).
expect_ok() {
	local name=$1 needle=$2 out
	shift 2
	if out=$("$@" 2>&1) && [[ $out == *"$needle"* ]]; then
		pass "$name"
	else
		fail "$name: $out"
	fi
}

# store_clean STORE: no temp file or half-unpacked layer is left.
store_clean() {
	local left
	# awk, unlike head, reads to the end: find is never cut off by SIGPIPE, which
	# under pipefail ended the script exactly when there were leftovers to report
	left=$(find "$1/tmp" -mindepth 1 | awk 'NR <= 3'; find "$1/layers" -maxdepth 1 -name '*.tmp' | awk 'NR <= 3')
	if [[ -n $left ]]; then fail "store $1 has leftovers: $left"; else pass "store $1 has no leftovers"; fi
}

# token_server_start USER:PASSWORD [ARGS...]: a token server on loopback
# with its own key and certificate (ARGS as token_server.py takes them:
# --jwks FILE, USER:PASSWORD@REPO); sets TOKEN_REALM, TOKEN_HOST (its
# host:port), TOKEN_CERT (for the registry's rootcertbundle) and TOKEN_LOG
# (one line per token request).
token_server_start() {
	local port creds=$1
	shift
	port=$(free_port)
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/token-$port-key.pem" -out "$T/token-$port-cert.pem" \
		-days 1 -subj /CN=recap-token 2>/dev/null
	python3 "$(dirname "$FIXTURES")/token_server.py" "$port" "$T/token-$port-key.pem" "$T/token-$port-cert.pem" \
		"$creds" recap-issuer "$@" >"$T/token-$port.log" 2>&1 &
	PIDS+=($!)
	local i
	for i in $(seq 100); do
		if curl -s -m 1 -o /dev/null "http://127.0.0.1:$port/" || (($? == 28)); then break; fi
		sleep 0.1
	done
	curl -s -m 1 -o /dev/null "http://127.0.0.1:$port/" || { cat "$T/token-$port.log" >&2; return 1; }
	TOKEN_HOST=127.0.0.1:$port
	TOKEN_REALM=http://$TOKEN_HOST/token
	TOKEN_CERT=$T/token-$port-cert.pem
	TOKEN_LOG=$T/token-$port.log
}

# stub_start MODE ARGS...: http_stub.py on a free port; sets STUB=127.0.0.1:port.
stub_start() {
	local port mode=$1
	shift
	port=$(free_port)
	python3 "$(dirname "$FIXTURES")/http_stub.py" "$mode" "$port" "$@" >/dev/null 2>&1 &
	PIDS+=($!)
	local i
	for i in $(seq 100); do
		if curl -s -m 1 -o /dev/null "http://127.0.0.1:$port/" || (($? == 28)); then break; fi
		sleep 0.1
	done
	STUB=127.0.0.1:$port
}

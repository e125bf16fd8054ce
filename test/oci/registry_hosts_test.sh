#!/usr/bin/env bash
# hosts.toml's per-host settings against real registries on loopback:
# `client` certificates with a docker-registry that requires them, `header`
# tables (logged by header_front.py: each endpoint gets its own, and a
# token server or a redirect to another host none), and `dial_timeout`
# with an endpoint that never accepts.
# usage: registry_hosts_test.sh CAPSULE-BINARY
source "$(dirname "$0")/lib.sh"
CAPSULE=$(realpath "$1")
((EUID == 0)) || { echo "needs root (umoci, store ownership)"; exit 77; }

registry_start A
registry_start E # empty: a mirror without the image
image_build "$T/src" bb amd64
push "$T/src:bb" "$REG_A/capsules/bb:v1"

hosts() { # REGISTRY: hosts.toml from stdin into $T/certs.d/REGISTRY/
	mkdir -p "$T/certs.d/$1"
	cat >"$T/certs.d/$1/hosts.toml"
}
pull_with_config() { # REF -> pulls into a fresh store with --registry-config
	rm -rf "$T/store"
	"$CAPSULE" --root "$T/store" pull --registry-config "$T/certs.d" "$1"
}
dead=127.0.0.1:$(free_port) # nothing listens there
lines() { grep -c "$@" || true; } # PATTERN FILE: how many lines match
front_start() { # NAME UPSTREAM STORAGE [header_front.py options]: FRONT_<NAME>=127.0.0.1:port, log $T/NAME.log
	local name=$1
	python3 "$(dirname "$FIXTURES")/header_front.py" "$2" "$3" "$T/$name.log" "${@:4}" >"$T/$name.port" \
		2>"$T/$name.err" &
	PIDS+=($!)
	for _ in $(seq 100); do [[ -s $T/$name.port ]] && break; sleep 0.1; done
	printf -v "FRONT_$name" '127.0.0.1:%s' "$(cat "$T/$name.port")"
	: >"$T/$name.log"
}

# --- client: docker-registry serving A's storage over TLS that requires a
# client certificate issued by its CA.
M=$T/mtls
mkdir -p "$M"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$M/ca-key.pem" -out "$M/ca.pem" -days 1 -subj /CN=recap-test-ca 2>/dev/null
issue() { # NAME SUBJECT EXTENSION: NAME.pem and NAME-key.pem signed by the CA
	openssl req "${ec[@]}" -keyout "$M/$1-key.pem" -out "$M/$1.csr" -subj "$2" 2>/dev/null
	openssl x509 -req -in "$M/$1.csr" -CA "$M/ca.pem" -CAkey "$M/ca-key.pem" -CAcreateserial -days 1 \
		-out "$M/$1.pem" -extfile <(printf '%s\n' "$3") 2>/dev/null
}
issue server /CN=127.0.0.1 "subjectAltName=IP:127.0.0.1"
issue client /CN=recap-client "extendedKeyUsage=clientAuth"
cat "$M/client.pem" "$M/client-key.pem" >"$M/both.pem"
openssl req -x509 "${ec[@]}" -keyout "$M/stranger-key.pem" -out "$M/stranger.pem" -days 1 -subj /CN=stranger \
	2>/dev/null
port=$(free_port)
MTLS=127.0.0.1:$port
cat >"$M/config.yml" <<YAML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $REGROOT_A}}
http: {addr: $MTLS, tls: {certificate: $M/server.pem, key: $M/server-key.pem, clientcas: [$M/ca.pem]}}
YAML
OTEL_TRACES_EXPORTER=none docker-registry serve "$M/config.yml" >"$M/log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
	curl -s -o /dev/null --cacert "$M/ca.pem" --cert "$M/both.pem" "https://$MTLS/v2/" && break
	sleep 0.1
done
if curl -sf -o /dev/null --cacert "$M/ca.pem" --cert "$M/client.pem" --key "$M/client-key.pem" "https://$MTLS/v2/" &&
	! curl -sf -o /dev/null --cacert "$M/ca.pem" "https://$MTLS/v2/" 2>/dev/null; then
	pass "the registry at $MTLS answers only with a client certificate (curl)"
else
	fail "the mTLS registry: $(cat "$M/log")"
fi

hosts "$MTLS" <<TOML
ca = "../../mtls/ca.pem"   # relative to this file's directory
TOML
expect_fail "client: none, the registry refuses the connection" "https://$MTLS/v2/capsules/bb/manifests/v1" \
	pull_with_config "$MTLS/capsules/bb:v1"
hosts "$MTLS" <<TOML
ca = "../../mtls/ca.pem"
client = "../../mtls/both.pem"   # one file with the certificate and its key
TOML
expect_ok "client: one file with certificate and key" "2 blobs fetched" pull_with_config "$MTLS/capsules/bb:v1"
hosts "$dead" <<TOML
server = "http://$dead"
[host."https://$MTLS"]
  ca = "$M/ca.pem"
  client = [["../../mtls/client.pem", "../../mtls/client-key.pem"]]
TOML
expect_ok "client: a mirror with a [cert, key] pair serves a registry that is down" "2 blobs fetched" \
	pull_with_config "$dead/capsules/bb:v1"
hosts "$MTLS" <<TOML
ca = "$M/ca.pem"
client = [["$M/stranger.pem", "$M/stranger-key.pem"]]
TOML
expect_fail "client: a certificate of another CA is refused by the registry" "https://$MTLS/v2/" \
	pull_with_config "$MTLS/capsules/bb:v1"
hosts "$MTLS" <<TOML
ca = "$M/ca.pem"
client = "missing.pem"
TOML
expect_fail "client: a missing file is named" "$T/certs.d/$MTLS/missing.pem" pull_with_config "$MTLS/capsules/bb:v1"
hosts "$MTLS" <<TOML
ca = "$M/ca.pem"
client = ["$M/both.pem", "$M/stranger.pem"]
TOML
expect_fail "client: two certificates, refused with file and line" \
	"$T/certs.d/$MTLS/hosts.toml:2: client names 2 certificates" pull_with_config "$MTLS/capsules/bb:v1"
# The certificate goes to the endpoint's origin only: a front that requires
# it, whose token server and blob redirect target (another origin) ask for
# one and log whether it came.
issue front /CN=localhost "subjectAltName=IP:127.0.0.1,DNS:localhost"
front_start C "$REG_A" "$REGROOT_A" --token --tls "$M/front.pem" "$M/front-key.pem" "$M/ca.pem"
hosts "$dead" <<TOML
server = "https://$FRONT_C"
ca = "$M/ca.pem"
client = "$M/both.pem"
TOML
expect_ok "client: through a front that requires it, with a token and redirected blobs" "2 blobs fetched" \
	pull_with_config "$dead/capsules/bb:v1"
front=$(lines '^front' "$T/C.log")
if ((front > 0)) && (($(lines '^front .* cert=yes ' "$T/C.log") == front)) &&
	(($(lines '^side GET /token?.* cert=no ' "$T/C.log") >= 1)) &&
	(($(lines '^side GET /blob/sha256:.* auth=no cert=no ' "$T/C.log") >= 2)) &&
	(($(lines '^side .* cert=yes' "$T/C.log") == 0)); then
	pass "client: presented on each of $front requests to the endpoint, never to its token server or redirect target"
else
	fail "client: where the certificate went: $(cat "$T/C.log")"
fi

# --- header: a mirror (front Q, on the empty registry: 404) and the server
# (front P, on A; Bearer tokens from its side server, blobs redirected
# there), each with headers of its own.
front_start P "$REG_A" "$REGROOT_A" --token
front_start Q "$REG_E" "$REGROOT_E"
hosts "$dead" <<TOML
server = "http://$FRONT_P"
[header]
  X-Recap-Server = "p"
[host."http://$FRONT_Q"]
  header.X-Recap-Mirror = ["q1", "q2"]
  header.x-recap-empty = ""
TOML
expect_ok "header: pulled through the mirror's 404 from the server" "2 blobs fetched" \
	pull_with_config "$dead/capsules/bb:v1"
if (($(lines . "$T/Q.log") > 0)) &&
	(($(lines -vF 'x-recap=X-Recap-Mirror:q1;X-Recap-Mirror:q2;x-recap-empty:' "$T/Q.log") == 0)); then
	pass "header: the mirror got its headers (both values, and the empty one) on each of $(lines . "$T/Q.log") requests"
else
	fail "header: the mirror's requests: $(cat "$T/Q.log")"
fi
front=$(lines '^front' "$T/P.log")
if ((front > 0)) && (($(lines '^front .* x-recap=X-Recap-Server:p$' "$T/P.log") == front)); then
	pass "header: the server got its own header, not the mirror's, on each of $front requests"
else
	fail "header: the server's requests: $(cat "$T/P.log")"
fi
if (($(lines '^side GET /token?.* auth=no cert=- x-recap=-$' "$T/P.log") >= 1)) &&
	(($(lines '^side GET /blob/sha256:.* auth=no cert=- x-recap=-$' "$T/P.log") >= 2)) &&
	(($(lines '^side .* x-recap=[^-]' "$T/P.log") == 0)) &&
	(($(lines '^front GET /v2/capsules/bb/blobs/.* auth=bearer' "$T/P.log") >= 2)); then
	pass "header: the token server and the blobs' redirect target (another origin) got neither the header nor the token"
else
	fail "header: token server and redirect: $(cat "$T/P.log")"
fi
: >"$T/P.log"
hosts "$FRONT_P" <<TOML
[header]
  X-Recap-Server = "p"
TOML
expect_ok "header: the registry's own file (no mirror)" "2 blobs fetched" \
	"$CAPSULE" --root "$T/store-p" pull --insecure-registry "$FRONT_P" --registry-config "$T/certs.d" \
	"$FRONT_P/capsules/bb:v1"
if (($(lines '^front .* x-recap=X-Recap-Server:p$' "$T/P.log") > 0)) && (($(lines '^side .* x-recap=-$' "$T/P.log") > 0)) &&
	(($(lines '^side .* x-recap=[^-]' "$T/P.log") == 0)); then
	pass "header: the server's header reaches it, never its side server"
else
	fail "header: $(cat "$T/P.log")"
fi
hosts "$dead" <<TOML
[host."http://$FRONT_Q".header]
  Authorization = "Basic eDp5"
TOML
expect_fail "header: Authorization refused with file and line" \
	"$T/certs.d/$dead/hosts.toml:2: header \"Authorization\" would override the credentials RECap sends" \
	pull_with_config "$dead/capsules/bb:v1"

# --- dial_timeout: a listener whose backlog is full and that never accepts,
# so a connection attempt waits for its timeout.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
port = s.getsockname()[1]
held = []
for _ in range(2):  # the queue holds one; the second waits in SYN_SENT
    c = socket.socket(); c.setblocking(False)
    try:
        c.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    held.append(c)
print(port, flush=True)
time.sleep(3600)
' >"$T/hole.port" &
PIDS+=($!)
for _ in $(seq 100); do [[ -s $T/hole.port ]] && break; sleep 0.1; done
HOLE=127.0.0.1:$(cat "$T/hole.port")
if ! curl -s -o /dev/null --connect-timeout 1 "http://$HOLE/"; then
	pass "the listener at $HOLE does not accept (curl times out)"
else
	fail "the listener at $HOLE answered"
fi
hosts "$HOLE" <<<'dial_timeout = "700ms"'
t0=$(date +%s%N)
# libcurl says either, depending on where in the connect the time ran out
rc=0
pull_with_config "$HOLE/capsules/bb:v1" >"$T/out" 2>"$T/err" || rc=$?
if ((rc != 0)) && grep -Eq "after 3 attempts: .*(Timeout was reached|Connection timed? ?out after [0-9]+ ms)" "$T/err"; then
	pass "dial_timeout: an endpoint that never accepts times out: $(tail -1 "$T/err" | sed 's/.*error *//')"
else
	fail "dial_timeout: an endpoint that never accepts times out (exit $rc): $(cat "$T/err")"
fi
ms=$((($(date +%s%N) - t0) / 1000000))
# 3 attempts of 700 ms with 200 and 400 ms between them: about 2.7 s
if ((ms >= 2000 && ms < 8000)); then
	pass "dial_timeout: 3 attempts of 700 ms took ${ms} ms (the default connect timeout is 10 s)"
else
	fail "dial_timeout: 3 attempts took ${ms} ms"
fi
hosts "$dead" <<TOML
server = "http://$REG_A"
[host."http://$HOLE"]
  capabilities = ["resolve"]
  dial_timeout = "0.5s"
TOML
t0=$(date +%s%N)
expect_ok "dial_timeout: past a mirror that never accepts, the server serves" "2 blobs fetched" \
	pull_with_config "$dead/capsules/bb:v1"
ms=$((($(date +%s%N) - t0) / 1000000))
if ((ms < 8000)); then pass "dial_timeout: the pull took ${ms} ms"; else fail "dial_timeout: the pull took ${ms} ms"; fi
hosts "$dead" <<<'dial_timeout = "5"'
expect_fail "dial_timeout: a malformed duration names file and line" \
	"$T/certs.d/$dead/hosts.toml:1: dial_timeout \"5\" is not a duration" pull_with_config "$dead/capsules/bb:v1"
store_clean "$T/store"
finish

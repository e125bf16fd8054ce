#!/usr/bin/env bash
# The relay against curl and openssl over mutual TLS: who may connect, what
# a log request returns whole, bounded and followed, bad requests, the
# stream limit, 100 followers of one run, a follower that reads nothing
# (dropped after the write timeout while others are served and the log's
# writer goes on), one that leaves mid-stream (its stream ends), credentials
# re-read on rotation.
#   relay.sh RELAY_SERVE_BINARY
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../hack/lib/errtrap.sh"
serve_bin=$(realpath "$1")
work=$(mktemp -d /tmp/recap-relay-test.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$work"

# -- certificates: a CA, the relay's, the client it wants and clients it must refuse
ossl() { openssl "$@" 2>/dev/null || fail "openssl $1"; }
key() { ossl ecparam -name prime256v1 -genkey -noout -out "$1.key"; }
ca() {
	key "$1"
	ossl req -x509 -new -key "$1.key" -subj "/CN=$1" -days 2 -out "$1.crt" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
}
leaf() { # name ca cn eku [san]
	key "$1"
	ossl req -new -key "$1.key" -subj "/CN=$3" -out "$1.csr"
	printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=%s\n%s\n' "$4" \
		"${5:+subjectAltName=$5}" >"$1.ext"
	ossl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -days 1 \
		-extfile "$1.ext" -out "$1.crt"
}
ca ca
ca otherca
leaf server ca caplet serverAuth DNS:caplet.recap-system.svc
leaf client ca recap-apiserver clientAuth
leaf mallory ca mallory clientAuth
leaf serveronly ca recap-apiserver serverAuth
leaf foreign otherca recap-apiserver clientAuth

# -- a store: one whole log, one being written
mkdir -p root/logs root/runs/ce-bbbb
printf 'hello\nworld\n' >root/logs/ce-aaaa
printf 'first\n' >root/logs/ce-bbbb.part

start() { # max_streams -> sets port
	"$serve_bin" 127.0.0.1:0 server.crt server.key ca.crt root n1 "$1" >port 2>>relay.log &
	pids+=($!)
	for _ in $(seq 50); do [[ -s port ]] && break; sleep 0.1; done
	port=$(head -1 port)
	[[ $port =~ ^[0-9]+$ ]] || fail "relay-serve did not start: $(cat relay.log)"
	rm port
}
start 128
host=caplet.recap-system.svc
get() { # identity path [curl args] -> body on stdout, code in $work/code
	local who=$1 path=$2
	shift 2
	curl -sS --max-time 20 --cacert ca.crt --cert "$who.crt" --key "$who.key" \
		--resolve "$host:$port:127.0.0.1" -H "X-Recap-Node: n1" -o body -w '%{http_code}' \
		"$@" "https://$host:$port$path" >code 2>curl.err || return 1
	cat body
}
expect() { # code body-pattern
	[[ $(cat code) == "$1" ]] || fail "expected HTTP $1, got $(cat code): $(cat body)"
	grep -q -- "$2" body || fail "expected '$2' in: $(cat body)"
}

echo "--- whole log, bounds"
[[ $(get client /v1/runs/ce-aaaa/log) == $'hello\nworld' ]] || fail "whole log: $(cat body)"
[[ $(get client '/v1/runs/ce-aaaa/log?limitBytes=5') == hello ]] || fail "limitBytes: $(cat body)"
[[ $(get client '/v1/runs/ce-aaaa/log?sinceBytes=6') == world ]] || fail "sinceBytes: $(cat body)"
get client '/v1/runs/ce-aaaa/log?sinceBytes=-1' >/dev/null || true
expect 400 "sinceBytes must be a whole number"
get client '/v1/runs/ce-aaaa/log?follow=maybe' >/dev/null || true
expect 400 "follow must be true or false"

echo "--- not this node's, not a run, not a path"
get client /v1/runs/ce-cccc/log >/dev/null || true
expect 404 "run ce-cccc has no log on node n1"
curl -sS --cacert ca.crt --cert client.crt --key client.key --resolve "$host:$port:127.0.0.1" \
	-H "X-Recap-Node: n2" -o body -w '%{http_code}' "https://$host:$port/v1/runs/ce-aaaa/log" >code
expect 404 "this relay serves node n1, not n2"
for p in '/v1/runs/..%2f..%2fetc/log' '/v1/runs/ce-aaaa/../../etc/passwd' '/v1/runs/ce-AAAA/log' \
	'/v1/runs/ce-aaaa/log/x' '/v1/runs/ce-aaaa/secrets'; do
	get client "$p" --path-as-is >/dev/null || true
	expect 404 "no such path"
done
get client /v1/runs/ce-aaaa/log -X POST >/dev/null || true
expect 405 "GET only"
get client /v1/runs/ce-aaaa/log -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" >/dev/null &&
	fail "a 9 KiB request head was served"
grep -q "request head passes 8192 bytes" relay.log || fail "the oversized head was not named"

echo "--- identities refused"
get mallory /v1/runs/ce-aaaa/log >/dev/null && fail "a client named mallory was served"
grep -q "does not name recap-apiserver" relay.log || fail "mallory's refusal not logged"
get serveronly /v1/runs/ce-aaaa/log >/dev/null && fail "a server-only certificate was served"
tail -1 relay.log | grep -q "not for client authentication" || fail "the usage refusal not logged: $(tail -1 relay.log)"
get foreign /v1/runs/ce-aaaa/log >/dev/null && fail "a certificate of another CA was served"
grep -q "client certificate was refused" relay.log || fail "the foreign CA refusal not logged"
curl -sS --max-time 5 --cacert ca.crt --resolve "$host:$port:127.0.0.1" -H "X-Recap-Node: n1" \
	"https://$host:$port/v1/runs/ce-aaaa/log" >/dev/null 2>&1 && fail "a client without a certificate was served"

echo "--- resumed sessions (tickets) are checked as full ones"
# The relay issues session tickets. mallory completes a handshake (and is
# given a ticket) before the relay reads who it is; its resumed session
# carries its certificate and must be refused again. The right client's
# resumed session is served, with no full handshake.
python3 - "$port" "$host" <<'PY' >resume.out 2>&1 || fail "session resumption: $(cat resume.out)"
import socket, ssl, sys
port, host = int(sys.argv[1]), sys.argv[2]
contexts = {}
def attempt(who, session=None):
    if who not in contexts:
        contexts[who] = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        contexts[who].load_verify_locations("ca.crt")
        contexts[who].load_cert_chain(who + ".crt", who + ".key")
    s = contexts[who].wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                        server_hostname=host, session=session)
    reused, sess = s.session_reused, s.session
    try:
        s.sendall(b"GET /v1/runs/ce-aaaa/log HTTP/1.1\r\nHost: x\r\nX-Recap-Node: n1\r\n"
                  b"Connection: close\r\n\r\n")
        data = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            data += d
    except (ssl.SSLError, OSError):
        pass
    s.close()
    return reused, sess, data.split(b"\r\n", 1)[0].decode(errors="replace")
r, sess, status = attempt("mallory")
assert not r and "200" not in status, ("mallory, full", r, status)
assert sess is not None and sess.has_ticket, "the relay gave mallory's session no ticket"
r, _, status = attempt("mallory", sess)
assert r, "mallory's ticket was not taken: the resumed path is not what this tests"
assert "200" not in status, ("mallory, resumed, was served", status)
r, sess, status = attempt("client")
assert not r and status.endswith("200 OK"), ("client, full", r, status)
r, _, status = attempt("client", sess)
assert r and status.endswith("200 OK"), ("client, resumed", r, status)
print("ok")
PY
[[ $(grep -c "does not name recap-apiserver" relay.log) -ge 3 ]] ||
	fail "mallory's resumed session was not refused by name: $(tail -3 relay.log)"

echo "--- artifacts framing"
[[ $(get client '/v1/runs/ce-aaaa/artifacts?path=cap%2Fx.pcap') == cap/x.pcap ]] || fail "artifacts: $(cat body)"
get client '/v1/runs/ce-aaaa/artifacts?path=missing' >/dev/null || true
expect 404 "no such artifact"

echo "--- 100 followers of a run being written"
for i in $(seq 100); do
	curl -sS --max-time 30 --cacert ca.crt --cert client.crt --key client.key \
		--resolve "$host:$port:127.0.0.1" -H "X-Recap-Node: n1" -o "f$i" \
		"https://$host:$port/v1/runs/ce-bbbb/log?follow=true" 2>"f$i.err" &
	fpids+=($!)
done
sleep 2
printf 'second\n' >>root/logs/ce-bbbb.part
sleep 0.5
mv root/logs/ce-bbbb.part root/logs/ce-bbbb
for p in "${fpids[@]}"; do wait "$p" || fail "a follower's stream did not end whole: $(cat f*.err | head -3)"; done
for i in $(seq 100); do
	[[ $(cat "f$i") == $'first\nsecond' ]] || fail "follower $i got: $(cat "f$i")"
done

echo "--- a run gone without finishing its log ends its followers"
mkdir -p root/runs/ce-dddd && printf 'partial\n' >root/logs/ce-dddd.part
get client '/v1/runs/ce-dddd/log?follow=true' >/dev/null &
g=$!
sleep 1
rm -r root/runs/ce-dddd
wait "$g" || fail "the follower of a vanished run did not end"
[[ $(cat body) == partial ]] || fail "vanished run: $(cat body)"

echo "--- a follower that reads nothing is dropped; others are served; the writer never waits"
streams() { # the relay's open streams, as relay-serve says on SIGUSR1
	local before
	before=$(grep -c ' streams$' relay.log || true)
	kill -USR1 "${pids[0]}"
	for _ in $(seq 20); do
		(($(grep -c ' streams$' relay.log || true) > before)) && break
		sleep 0.05
	done
	sed -n 's/^relay-serve: \([0-9]*\) streams$/\1/p' relay.log | tail -1
}
settle() { # N: wait up to 5 s for N open streams
	for _ in $(seq 25); do [[ $(streams) == "$1" ]] && return 0; sleep 0.2; done
	return 1
}
idle=$(streams)
[[ $idle =~ ^[0-9]+$ ]] || fail "relay-serve did not say its stream count: $(tail -2 relay.log)"
mkdir -p root/runs/ce-ffff && : >root/logs/ce-ffff.part
(for _ in $(seq 600); do head -c 65536 /dev/zero >>root/logs/ce-ffff.part; sleep 0.02; done) &
writer=$!
pids+=("$writer")
# a client that sends its request, then never reads (a small receive buffer fills at once)
python3 - "$port" "$host" <<'PY' &
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile="ca.crt")
ctx.load_cert_chain("client.crt", "client.key")
raw = socket.socket()
raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
raw.connect(("127.0.0.1", int(sys.argv[1])))
s = ctx.wrap_socket(raw, server_hostname=sys.argv[2])
s.sendall(b"GET /v1/runs/ce-ffff/log?follow=true HTTP/1.1\r\nHost: x\r\nX-Recap-Node: n1\r\n\r\n")
time.sleep(20)
PY
stuck=$!
pids+=("$stuck")
sleep 1
[[ $(get client /v1/runs/ce-aaaa/log) == $'hello\nworld' ]] || fail "not served beside a stuck follower: $(cat body)"
# a client that leaves mid-stream
curl -sS --max-time 1 --cacert ca.crt --cert client.crt --key client.key --resolve "$host:$port:127.0.0.1" \
	-H "X-Recap-Node: n1" -o left.out "https://$host:$port/v1/runs/ce-ffff/log?follow=true" 2>/dev/null &&
	fail "the follow of a growing log ended by itself"
[[ -s left.out ]] || fail "the client that left got nothing before it left"
for _ in $(seq 50); do grep -q "log of run ce-ffff was dropped" relay.log && break; sleep 0.2; done
grep -q "log of run ce-ffff was dropped: its client read nothing for 3 s" relay.log ||
	fail "the follower that reads nothing was not dropped: $(tail -3 relay.log)"
size=$(stat -c %s root/logs/ce-ffff.part)
sleep 0.5
(($(stat -c %s root/logs/ce-ffff.part) > size)) || fail "the log's writer stopped while the relay dropped a reader"
settle "$idle" || fail "the streams did not end: $(streams) open, $idle before"
kill "$writer" "$stuck" 2>/dev/null || true
[[ $(get client /v1/runs/ce-aaaa/log) == $'hello\nworld' ]] || fail "after the drop: $(cat body)"

echo "--- the stream limit"
kill "${pids[0]}"
wait "${pids[0]}" 2>/dev/null || true
pids=()
mkdir -p root/runs/ce-eeee && : >root/logs/ce-eeee.part
start 2
for i in 1 2; do
	curl -sS --max-time 30 --cacert ca.crt --cert client.crt --key client.key \
		--resolve "$host:$port:127.0.0.1" -H "X-Recap-Node: n1" -o /dev/null \
		"https://$host:$port/v1/runs/ce-eeee/log?follow=true" 2>/dev/null &
	held+=($!)
done
sleep 1
get client /v1/runs/ce-aaaa/log >/dev/null && fail "a third stream was served past the limit of 2"
grep -q "2 streams are open, the limit" relay.log || fail "the stream limit was not logged"
mv root/logs/ce-eeee.part root/logs/ce-eeee
for p in "${held[@]}"; do wait "$p" || fail "a held follower did not end"; done
sleep 0.5
[[ $(get client /v1/runs/ce-aaaa/log) == $'hello\nworld' ]] || fail "streams were not released"

echo "--- credentials re-read when their files change"
serial() {
	openssl s_client -connect "127.0.0.1:$port" -servername "$host" -cert client.crt -key client.key \
		</dev/null 2>/dev/null | openssl x509 -noout -serial
}
before=$(serial)
leaf server2 ca caplet serverAuth DNS:caplet.recap-system.svc
cp server2.key server.key.new && cp server2.crt server.crt.new
mv server.key.new server.key && mv server.crt.new server.crt
after=$(serial)
[[ -n $before && $before != "$after" ]] || fail "the rotated certificate was not served ($before, $after)"
[[ $(get client /v1/runs/ce-aaaa/log) == $'hello\nworld' ]] || fail "after rotation: $(cat body)"
echo "relay: ok"

#!/usr/bin/env bash
# capsule pull/images/rmi/gc against a real docker-registry on loopback,
# with images built by umoci from busybox-static and pushed by skopeo.
# usage: registry_test.sh CAPSULE-BINARY
source "$(dirname "$0")/lib.sh"
CAPSULE=$(realpath "$1")
((EUID == 0)) || { echo "needs root (umoci, store ownership)"; exit 77; }

registry_start A
image_build "$T/src" bb amd64 platform amd64
push "$T/src:bb" "$REG_A/capsules/bb:v1"
cap() { "$CAPSULE" --root "$T/store" "$@"; }
insecure=(--insecure-registry "$REG_A")

# Pull by tag: the layer holds busybox byte for byte.
out=$(cap pull "${insecure[@]}" "$REG_A/capsules/bb:v1")
digest=$(awk '{print $2}' <<<"$out")
layer=$(ls -d "$T"/store/layers/*/bin/busybox | head -1)
if cmp -s "$layer" /bin/busybox; then pass "pull by tag ($out)"; else fail "pull by tag: busybox differs"; fi
out=$(cap pull "${insecure[@]}" "$REG_A/capsules/bb:v1")
if grep -q "0 blobs fetched" <<<"$out"; then pass "second pull fetches nothing"; else fail "second pull: $out"; fi

# By digest, into a fresh store.
out=$("$CAPSULE" --root "$T/store2" pull "${insecure[@]}" "$REG_A/capsules/bb@$digest")
if grep -q "$digest" <<<"$out"; then pass "pull by digest"; else fail "pull by digest: $out"; fi
expect_fail "unknown digest" "not found" "$CAPSULE" --root "$T/store2" pull "${insecure[@]}" \
	"$REG_A/capsules/bb@sha256:0000000000000000000000000000000000000000000000000000000000000000"
expect_fail "unknown tag" "not found" cap pull "${insecure[@]}" "$REG_A/capsules/nope:v1"
expect_fail "TLS by default" "$REG_A" cap pull "$REG_A/capsules/bb:v1"
down=$(free_port)
expect_fail "registry down" "127.0.0.1:$down" cap pull --insecure-registry "127.0.0.1:$down" \
	"127.0.0.1:$down/capsules/bb:v1"
stub_start status 503 "$T/hits"
: >"$T/hits"
expect_fail "HTTP 503, retried" "after 3 attempts" cap pull --insecure-registry "$STUB" "$STUB/capsules/bb:v1"
if (($(wc -l <"$T/hits") == 3)); then pass "retry cap: 3 requests"; else fail "retry cap: $(wc -l <"$T/hits") requests"; fi
stub_start hang
t0=$(date +%s)
expect_fail "registry that never answers" "after 3 attempts" cap pull --insecure-registry "$STUB" --stall-timeout 1 \
	"$STUB/capsules/bb:v1"
if (($(date +%s) - t0 < 15)); then pass "stall timeout bounds the wait"; else fail "stall timeout: $(($(date +%s) - t0))s"; fi
# A registry that drips a layer (2 bytes/s): the pull's deadline ends it, the
# store's locks are released and nothing partial is left; meanwhile another
# pull into the same store proceeds.
umoci new --image "$T/src:tiny"
printf 'tiny\n' >"$T/tiny.txt"
umoci insert --image "$T/src:tiny" "$T/tiny.txt" /tiny.txt
umoci gc --layout "$T/src"
push "$T/src:tiny" "$REG_A/capsules/tiny:v1"
stub_start drip "$REG_A"
drip() { timeout 60 "$CAPSULE" --root "$T/store-drip" "$@"; }
t0=$(date +%s)
drip pull --insecure-registry "$STUB" --pull-timeout 6 --stall-timeout 60 "$STUB/capsules/bb:v1" \
	>"$T/drip.out" 2>"$T/drip.err" &
dripper=$!
sleep 2
if out=$(timeout 20 "$CAPSULE" --root "$T/store-drip" pull "${insecure[@]}" "$REG_A/capsules/tiny:v1" 2>&1); then
	pass "another pull into the store proceeds while one drips ($out)"
else
	fail "a pull beside a dripping one: $out"
fi
rc=0
wait "$dripper" || rc=$?
took=$(($(date +%s) - t0))
if ((rc == 1)) && grep -qF "deadline of 6 s (--pull-timeout) passed" "$T/drip.err" && ((took < 20)); then
	pass "a dripping registry: the pull's deadline ends it in ${took}s: $(grep -m1 -F deadline "$T/drip.err")"
else
	fail "dripping registry with --pull-timeout 6: exit $rc after ${took}s: $(cat "$T/drip.err")"
fi
if timeout 10 "$CAPSULE" --root "$T/store-drip" gc >/dev/null 2>&1; then
	pass "the store lock is released (gc takes it exclusively)"
else
	fail "gc could not take the store lock after the dripping pull"
fi
store_clean "$T/store-drip"
t0=$(date +%s)
expect_fail "a dripping registry under the 1 KiB/s floor (--stall-timeout 2)" "Operation too slow" \
	drip pull --insecure-registry "$STUB" --stall-timeout 2 "$STUB/capsules/bb:v1"
took=$(($(date +%s) - t0))
if ((took < 30)); then pass "the low-speed limit ends it in ${took}s"; else fail "low-speed limit: ${took}s"; fi
store_clean "$T/store-drip"
stub_start redirect "$REG_A"
if out=$("$CAPSULE" --root "$T/store-redirect" pull --insecure-registry "$STUB" "$STUB/capsules/bb:v1" 2>&1) &&
	grep -q "3 blobs fetched" <<<"$out"; then
	pass "redirects followed (every request answered 307 to the registry)"
else
	fail "redirects: $out"
fi
expect_fail "bad reference" "invalid image reference" cap pull "$REG_A/Capsules/bb"
store_clean "$T/store"

# Two concurrent pulls of one image into one store.
"$CAPSULE" --root "$T/store3" pull "${insecure[@]}" "$REG_A/capsules/bb:v1" >"$T/c1" 2>&1 &
p1=$!
"$CAPSULE" --root "$T/store3" pull "${insecure[@]}" "$REG_A/capsules/bb:v1" >"$T/c2" 2>&1 &
p2=$!
if wait $p1 && wait $p2; then pass "concurrent pulls: $(cat "$T/c1") / $(cat "$T/c2")"; else fail "concurrent pulls: $(cat "$T/c1" "$T/c2")"; fi
# neither pull saying "N blobs fetched" (both failed) is 0, for the check to report
fetched=$(cat "$T/c1" "$T/c2" | { grep -o '[0-9]* blobs fetched' || true; } | awk '{s+=$1} END {print s+0}')
if ((fetched == 3)); then pass "concurrent pulls fetched each blob once"; else fail "concurrent pulls fetched $fetched blobs"; fi
store_clean "$T/store3"

# An image index with two platforms.
image_build "$T/src" arm arm64 platform arm64
push "$T/src:bb" "$REG_A/capsules/multi:amd64"
push "$T/src:arm" "$REG_A/capsules/multi:arm64"
mdesc() { # TAG ARCH -> descriptor JSON for the index
	curl -s -o "$T/m.json" -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"http://$REG_A/v2/capsules/multi/manifests/$1"
	printf '{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"platform":{"os":"linux","architecture":"%s"}}' \
		"$(sha256sum <"$T/m.json" | cut -d' ' -f1)" "$(stat -c %s "$T/m.json")" "$2"
}
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s,%s]}' \
	"$(mdesc arm64 arm64)" "$(mdesc amd64 amd64)" >"$T/index.json"
curl -sS --fail-with-body -X PUT -H 'Content-Type: application/vnd.oci.image.index.v1+json' --data-binary @"$T/index.json" \
	"http://$REG_A/v2/capsules/multi/manifests/latest" >/dev/null
platform_of() { # ref store -> content of /platform in the image's top layer
	"$CAPSULE" --root "$2" pull "${insecure[@]}" "${@:3}" "$1" >/dev/null
	local top
	top=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))["images"][sys.argv[2]]; print(j["manifest"])' \
		"$2/index.json" "$1")
	python3 -c 'import json,sys; m=json.load(open(sys.argv[1]+"/blobs/sha256/"+sys.argv[2][7:])); print(m["layers"][-1]["digest"][7:])' \
		"$2" "$top" | xargs -I{} cat "$2/layers/{}/platform"
}
got=$(platform_of "$REG_A/capsules/multi:latest" "$T/store4")
if [[ $got == amd64 ]]; then pass "index: linux/amd64 selected"; else fail "index: got '$got'"; fi
got=$(platform_of "$REG_A/capsules/multi:latest" "$T/store5" --platform linux/arm64)
if [[ $got == arm64 ]]; then pass "index: --platform linux/arm64 selected"; else fail "index arm64: got '$got'"; fi
expect_fail "index without the platform" "no manifest for linux/s390x" \
	cap pull "${insecure[@]}" --platform linux/s390x "$REG_A/capsules/multi:latest"

# A tampered blob in the registry's storage: digest mismatch, nothing kept.
image_build "$T/src" tamper amd64 tampered original
push "$T/src:tamper" "$REG_A/capsules/tamper:v1"
tl=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]+"/index.json")); m=[x for x in d["manifests"] if x["annotations"]["org.opencontainers.image.ref.name"]=="tamper"][0]; man=json.load(open(sys.argv[1]+"/blobs/sha256/"+m["digest"][7:])); print(man["layers"][-1]["digest"][7:])' "$T/src")
data="$REGROOT_A/docker/registry/v2/blobs/sha256/${tl:0:2}/$tl/data"
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=0xff; open(p,"wb").write(b)' "$data"
expect_fail "tampered blob" "digest mismatch" cap pull "${insecure[@]}" "$REG_A/capsules/tamper:v1"
if [[ ! -e $T/store/blobs/sha256/$tl && ! -e $T/store/layers/$tl ]]; then pass "tampered blob not stored"; else fail "tampered blob stored"; fi
store_clean "$T/store"

# Basic credentials from a docker-style config.json.
python3 -W ignore - "$T/htpasswd" <<'PY'
import crypt, sys, warnings
warnings.simplefilter("ignore")
open(sys.argv[1], "w").write("tester:" + crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH)).replace("$2b$", "$2y$", 1) + "\n")
PY
registry_start B "{htpasswd: {realm: recap-test, path: $T/htpasswd}}"
push "$T/src:bb" "$REG_B/private/bb:v1" --dest-creds tester:s3cret
printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG_B" "$(printf tester:s3cret | base64)" >"$T/auth.json"
printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG_B" "$(printf tester:wrong | base64)" >"$T/bad-auth.json"
echo '{"auths":{}}' >"$T/empty-auth.json"
expect_fail "auth: no credentials" "requires credentials" cap pull --insecure-registry "$REG_B" \
	--auth-file "$T/empty-auth.json" "$REG_B/private/bb:v1"
expect_fail "auth: missing auth file" "/nonexistent/auth.json: No such file" cap pull --insecure-registry "$REG_B" \
	--auth-file /nonexistent/auth.json "$REG_B/private/bb:v1"
expect_fail "auth: wrong password" "denied" cap pull --insecure-registry "$REG_B" --auth-file "$T/bad-auth.json" \
	"$REG_B/private/bb:v1"
if cap pull --insecure-registry "$REG_B" --auth-file "$T/auth.json" "$REG_B/private/bb:v1" >/dev/null 2>"$T/err"; then
	pass "auth: basic credentials from config.json"
else
	fail "auth: $(cat "$T/err")"
fi
# The same document from a pipe (what caplet hands the executor), read once;
# the stored reference remembers that credentials were sent, an anonymous
# pull's does not.
stored_with_credentials() { # STORE REF -> "True" / "False"
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]+"/index.json"))["images"][sys.argv[2]].get("credentials") is True)' "$1" "$2"
}
if "$CAPSULE" --root "$T/store-fd" pull --insecure-registry "$REG_B" --auth-fd 3 "$REG_B/private/bb:v1" \
	3< <(cat "$T/auth.json") >/dev/null 2>"$T/err" &&
	[[ $(stored_with_credentials "$T/store-fd" "$REG_B/private/bb:v1") == True ]]; then
	pass "auth: credentials from --auth-fd (a pipe); the reference is marked as pulled with credentials"
else
	fail "auth-fd: $(cat "$T/err") $(cat "$T/store-fd/index.json" 2>/dev/null)"
fi
if [[ $(stored_with_credentials "$T/store" "$REG_A/capsules/bb:v1") == False ]]; then
	pass "auth: an anonymous pull is not marked as pulled with credentials"
else
	fail "anonymous pull marked: $(cat "$T/store/index.json")"
fi
expect_fail "auth-fd: not JSON" "the registry credentials are not a JSON object" "$CAPSULE" --root "$T/store-fd" \
	pull --insecure-registry "$REG_B" --auth-fd 3 "$REG_B/private/bb:v1" 3< <(echo '{"auths": nope')
expect_fail "auth-fd: empty" "the descriptor gave no credentials" "$CAPSULE" --root "$T/store-fd" \
	pull --insecure-registry "$REG_B" --auth-fd 3 "$REG_B/private/bb:v1" 3</dev/null
expect_fail "auth-fd: a standard stream" "--auth-fd takes a descriptor number from 3 to 1023" "$CAPSULE" \
	--root "$T/store-fd" pull --auth-fd 2 "$REG_B/private/bb:v1"
expect_fail "auth-fd: closed" "--auth-fd 9: Bad file descriptor" "$CAPSULE" --root "$T/store-fd" \
	pull --insecure-registry "$REG_B" --auth-fd 9 "$REG_B/private/bb:v1"

# A registry that sends blob downloads to another host, as one on object
# storage does: the credentials go to the registry, never to the redirect's
# target (which logs whether an Authorization header came).
python3 "$(dirname "$FIXTURES")/redirect_front.py" "$REG_B" "$REGROOT_B" "$T/redirect.log" >"$T/front.port" \
	2>"$T/front.err" &
PIDS+=($!)
for _ in $(seq 100); do [[ -s $T/front.port ]] && break; sleep 0.1; done
FRONT=127.0.0.1:$(cat "$T/front.port")
printf '{"auths":{"%s":{"auth":"%s"}}}' "$FRONT" "$(printf tester:s3cret | base64)" >"$T/front-auth.json"
if "$CAPSULE" --root "$T/store-redirect-auth" pull --insecure-registry "$FRONT" --auth-file "$T/front-auth.json" \
	"$FRONT/private/bb:v1" >/dev/null 2>"$T/err" &&
	grep -q "^front GET /v2/private/bb/manifests/v1 authorization=yes" "$T/redirect.log" &&
	[[ $(grep -c "^blob GET .* authorization=no" "$T/redirect.log") -ge 2 ]] &&
	! grep -q "^blob GET .* authorization=yes" "$T/redirect.log"; then
	pass "redirect: blobs fetched from another host without the credentials the registry got"
else
	fail "redirect: err: $(cat "$T/err") front: $(cat "$T/front.err") log: $(cat "$T/redirect.log")"
fi

# Bearer tokens: the registry sends a challenge, the token server wants the
# config.json credentials.
token_server_start tester:s3cret
registry_start C "{token: {realm: \"$TOKEN_REALM\", service: recap-test, issuer: recap-issuer, rootcertbundle: $TOKEN_CERT}}"
push "$T/src:bb" "$REG_C/tok/bb:v1" --dest-creds tester:s3cret
printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG_C" "$(printf tester:s3cret | base64)" >"$T/tok-auth.json"
expect_fail "token: anonymous" "token endpoint $TOKEN_REALM answered HTTP 401" cap pull --insecure-registry "$REG_C" \
	--auth-file "$T/empty-auth.json" "$REG_C/tok/bb:v1"
if out=$("$CAPSULE" --root "$T/store-tok" pull --insecure-registry "$REG_C" --auth-file "$T/tok-auth.json" \
	"$REG_C/tok/bb:v1" 2>"$T/err") && grep -q "3 blobs fetched" <<<"$out"; then
	pass "token: manifest and blobs pulled with a Bearer token ($out)"
else
	fail "token: $out $(cat "$T/err")"
fi

# TLS: verified by default; a private CA is trusted only when given.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/tls-key.pem" -out "$T/tls-cert.pem" -days 1 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
registry_start D "" "$T/tls-cert.pem $T/tls-key.pem"
push "$T/src:bb" "$REG_D/tls/bb:v1"
expect_fail "TLS: unknown CA refused" "SSL certificate problem" cap pull "$REG_D/tls/bb:v1"
if out=$(cap pull --ca-file "$T/tls-cert.pem" "$REG_D/tls/bb:v1" 2>&1); then
	pass "TLS: verified with --ca-file"
else
	fail "TLS with --ca-file: $out"
fi

# The node's registry configuration, as containerd's certs.d holds it
# (--registry-config DIR: DIR/<registry>/hosts.toml).
hosts() { # REGISTRY: hosts.toml from stdin into $T/certs.d/REGISTRY/
	mkdir -p "$T/certs.d/$1"
	cat >"$T/certs.d/$1/hosts.toml"
}
pull_with_config() { # STORE REF -> pulls into STORE with --registry-config
	rm -rf "$1"
	"$CAPSULE" --root "$1" pull --registry-config "$T/certs.d" "$2"
}
dead=127.0.0.1:$(free_port) # nothing listens there
hosts "$dead" <<TOML
# the upstream is down; a mirror has the image
server = "http://$dead"
[host."http://$REG_A"]
  capabilities = ["pull", "resolve"]
TOML
expect_ok "hosts.toml: a mirror serves the image of a registry that is down" "3 blobs fetched" \
	pull_with_config "$T/store-mirror" "$dead/capsules/bb:v1"
registry_start E
hosts "$REG_A" <<TOML
server = "http://$REG_A"
[host."http://$REG_E"]   # an empty mirror: 404, then the server
  capabilities = ["pull", "resolve"]
TOML
expect_ok "hosts.toml: a mirror without the image falls back to the server" "3 blobs fetched" \
	pull_with_config "$T/store-mirror" "$REG_A/capsules/bb:v1"
bb_digest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]+"/index.json"))["images"][sys.argv[2]]["manifest"])' \
	"$T/store-mirror" "$REG_A/capsules/bb:v1")
hosts "$dead" <<TOML
server = "http://$dead"
[host."http://$REG_A"]
  capabilities = ["pull"]   # by digest only: tags are the server's to resolve
TOML
expect_fail "hosts.toml: a pull-only mirror does not resolve tags" "http://$dead/v2/capsules/bb/manifests/v1" \
	pull_with_config "$T/store-mirror" "$dead/capsules/bb:v1"
expect_ok "hosts.toml: the pull-only mirror serves the image by digest" "" \
	pull_with_config "$T/store-mirror" "$dead/capsules/bb@$bb_digest"
cp "$T/tls-cert.pem" "$T/certs.d/"
hosts "$REG_D" <<TOML
ca = "../tls-cert.pem"   # relative to this file's directory
TOML
expect_ok "hosts.toml: the server's ca trusts the registry's TLS" "" \
	pull_with_config "$T/store-mirror" "$REG_D/tls/bb:v1"
hosts "$REG_D" <<<'skip_verify = true'
expect_ok "hosts.toml: skip_verify" "" pull_with_config "$T/store-mirror" "$REG_D/tls/bb:v1"
hosts "$REG_D" <<<'skip_verify = false'
expect_fail "hosts.toml: without ca or skip_verify the unknown CA is refused" "SSL certificate problem" \
	pull_with_config "$T/store-mirror" "$REG_D/tls/bb:v1"
hosts _default <<TOML
[host."http://$REG_A"]
TOML
expect_ok "hosts.toml: _default's mirror serves a registry without its own file" "" \
	pull_with_config "$T/store-mirror" "unknown.registry.invalid/capsules/bb:v1"
hosts "$dead" <<<'[host."ftp://mirror"]'
expect_fail "hosts.toml: a mirror that is not http(s)" "$T/certs.d/$dead/hosts.toml: host \"ftp://mirror\" is not an http:// or https:// URL" \
	pull_with_config "$T/store-mirror" "$dead/capsules/bb:v1"
printf '%s\n' '# line 1' 'server = "http://unterminated' >"$T/certs.d/$dead/hosts.toml"
expect_fail "hosts.toml: a broken file names its line" "$T/certs.d/$dead/hosts.toml:2: a string does not end" \
	pull_with_config "$T/store-mirror" "$dead/capsules/bb:v1"

# images / rmi / gc.
if cap images | grep "$REG_A/capsules/bb:v1" >/dev/null; then pass "images lists the pull"; else fail "images: $(cap images)"; fi
push "$T/src:arm" "$REG_A/capsules/arm:v1"
cap pull "${insecure[@]}" "$REG_A/capsules/arm:v1" >/dev/null
layers_of() { # REF -> layer ids of a stored image
	python3 -c 'import json,sys; s=sys.argv[1]; m=json.load(open(s+"/index.json"))["images"][sys.argv[2]]["manifest"]
for l in json.load(open(s+"/blobs/sha256/"+m[7:]))["layers"]: print(l["digest"][7:])' "$T/store" "$1"
}
mapfile -t arm_layers < <(layers_of "$REG_A/capsules/arm:v1")
mapfile -t bb_layers < <(layers_of "$REG_A/capsules/bb:v1")
# A run still uses the arm image's top layer: gc must keep it.
mkdir -p "$T/store/runs/r1"
echo "${arm_layers[1]}" >"$T/store/runs/r1/layers"
before=$(ls "$T/store/blobs/sha256" | wc -l)
cap rmi "$REG_A/capsules/arm:v1" >/dev/null
out=$(cap gc)
locks=$(ls "$T/store/locks" | tr '\n' ' ')
if [[ $locks == "index.lock store.lock " ]]; then pass "gc removes per-blob lock files"; else fail "gc left locks: $locks"; fi
after=$(ls "$T/store/blobs/sha256" | wc -l)
if ((after < before)); then pass "gc: $out"; else fail "gc: $before -> $after blobs: $out"; fi
[[ -d $T/store/layers/${arm_layers[1]} ]] && pass "gc keeps a layer listed in runs/*/layers" || fail "gc removed a layer in use by a run"
for l in "${bb_layers[@]}"; do [[ -d $T/store/layers/$l ]] || fail "gc removed layer $l of a referenced image"; done
if grep -q "0 blobs fetched" <<<"$(cap pull "${insecure[@]}" "$REG_A/capsules/bb:v1")"; then pass "gc kept every blob of a referenced image"; else fail "gc removed blobs of a referenced image"; fi
rm -r "$T/store/runs/r1"
cap gc >/dev/null
[[ ! -e $T/store/layers/${arm_layers[1]} ]] && pass "gc removes the layer once the run is gone" || fail "layer of a finished run kept"
expect_fail "rmi of an unknown image" "not in the store" cap rmi "$REG_A/capsules/none:v1"
store_clean "$T/store"
finish

#!/usr/bin/env bash
# capsule pull --verify-key and capsule verify against images signed by the
# real cosign CLI (hack/build-cosign) in a real docker-registry on loopback:
# a signed image pulls; an unsigned one, one signed by another key, one
# carrying a signature copied from another image, one whose signed payload
# was altered and one whose signature annotation is gone are refused, each
# with its own message, and none of them is in the node store afterwards;
# two signatures by two keys, and a signed image index.
# cosign talks to nothing but the registry: no transparency log, no Fulcio,
# no TUF (a counting proxy takes anything else, and must see nothing).
# usage: signature_test.sh CAPSULE-BINARY
source "$(dirname "$0")/lib.sh"
CAPSULE=$(realpath "$1")
((EUID == 0)) || { echo "needs root (umoci, store ownership)"; exit 77; }
src=$(cd "$(dirname "$0")/../.." && pwd)
COSIGN=${RECAP_COSIGN:-$("$src/hack/build-cosign")}
SIGTOOL=$(dirname "$FIXTURES")/sigtool.py

# Every connection cosign would make past loopback goes to this proxy, which
# writes one line per connection and closes it; it is cosign's TUF mirror
# too (with an empty TUF cache: `cosign verify` then uses no trusted root).
proxy_port=$(free_port)
: >"$T/proxy.log"
python3 - "$proxy_port" "$T/proxy.log" <<'PY' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
while True:
    c, _ = s.accept()
    line = c.recv(512).split(b"\r\n")[0].decode(errors="replace")
    if line != "probe":  # the test's own check that the proxy listens
        with open(sys.argv[2], "a") as f:
            f.write(line + "\n")
    c.close()
PY
PIDS+=($!)
for i in $(seq 100); do
	if python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),1).sendall(b"probe\r\n")' \
		"$proxy_port" 2>/dev/null; then break; fi
	sleep 0.1
done
mkdir -p "$T/home"
cosign() {
	HOME=$T/home COSIGN_PASSWORD=test-password TUF_ROOT=$T/tuf TUF_MIRROR=http://127.0.0.1:$proxy_port \
		HTTPS_PROXY=http://127.0.0.1:$proxy_port HTTP_PROXY=http://127.0.0.1:$proxy_port \
		https_proxy=http://127.0.0.1:$proxy_port http_proxy=http://127.0.0.1:$proxy_port \
		NO_PROXY=127.0.0.1 no_proxy=127.0.0.1 "$COSIGN" "$@"
}
sign() { # KEY REF
	cosign sign --key "$1" --tlog-upload=false --allow-insecure-registry --allow-http-registry -y "$2" \
		>"$T/sign.log" 2>&1 || { cat "$T/sign.log" >&2; return 1; }
}
cap() { "$CAPSULE" --root "$T/store" "$@"; }

registry_start A
insecure=(--insecure-registry "$REG_A")
repo=$REG_A/sig/app
# One small image per case, each with its own content (so its own digest).
umoci init --layout "$T/src"
for name in v1 unsigned other copied tampered stripped; do
	umoci new --image "$T/src:$name"
	printf '%s\n' "$name" >"$T/content"
	umoci insert --image "$T/src:$name" "$T/content" /content
	push "$T/src:$name" "$repo:$name"
done
digest_of() { # TAG -> the manifest digest the registry serves
	curl -sfI -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REG_A/v2/sig/app/manifests/$1" |
		tr -d '\r' | awk 'tolower($1) == "docker-content-digest:" {print $2}'
}
layer_of() { # TAG -> hex of its (only) layer
	curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REG_A/v2/sig/app/manifests/$1" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][-1]["digest"][7:])'
}
declare -A D
for name in v1 unsigned other copied tampered stripped; do D[$name]=$(digest_of "$name"); done

cosign generate-key-pair --output-key-prefix "$T/k1" >/dev/null 2>&1
cosign generate-key-pair --output-key-prefix "$T/k2" >/dev/null 2>&1
if [[ -s $T/k1.pub && -s $T/k2.pub ]]; then pass "cosign generate-key-pair: two ECDSA P-256 key pairs"; else fail "cosign generate-key-pair"; fi
sign "$T/k1.key" "$repo@${D[v1]}"
sign "$T/k2.key" "$repo@${D[other]}"
sign "$T/k1.key" "$repo@${D[tampered]}"
sign "$T/k1.key" "$repo@${D[stripped]}"
sig_tag() { echo "sha256-${1#sha256:}.sig"; }
# another image's signature, manifest and blobs, under this image's .sig tag
python3 "$SIGTOOL" copy "$REG_A" sig/app "$(sig_tag "${D[v1]}")" sig/app "$(sig_tag "${D[copied]}")"
python3 "$SIGTOOL" tamper "$REG_A" sig/app "$(sig_tag "${D[tampered]}")"
python3 "$SIGTOOL" strip "$REG_A" sig/app "$(sig_tag "${D[stripped]}")"
# The forgeries are what they claim to be: the tampered payload still names
# its own image, the copied one the other image.
if python3 "$SIGTOOL" payload "$REG_A" sig/app "$(sig_tag "${D[tampered]}")" | grep -qF "\"${D[tampered]}\"" &&
	python3 "$SIGTOOL" payload "$REG_A" sig/app "$(sig_tag "${D[tampered]}")" | grep -qF '"tampered":"yes"' &&
	python3 "$SIGTOOL" payload "$REG_A" sig/app "$(sig_tag "${D[copied]}")" | grep -qF "\"${D[v1]}\""; then
	pass "forged signatures in place (tampered payload names its image, the copied one ${D[v1]})"
else
	fail "forged signatures: $(python3 "$SIGTOOL" payload "$REG_A" sig/app "$(sig_tag "${D[tampered]}")")"
fi
# cosign's own verdicts on the same images.
cverify() { cosign verify --key "$1" --insecure-ignore-tlog=true --allow-insecure-registry --allow-http-registry "$2"; }
if cverify "$T/k1.pub" "$repo:v1" >/dev/null 2>"$T/cv.err"; then pass "cosign verify accepts v1"; else fail "cosign verify v1: $(cat "$T/cv.err")"; fi
for name in unsigned other copied tampered stripped; do
	if cverify "$T/k1.pub" "$repo:$name" >/dev/null 2>&1; then fail "cosign verify accepts $name"; else pass "cosign verify refuses $name"; fi
done

# The signed image: verified, pulled, recorded; the key that verified it named.
if out=$(cap pull "${insecure[@]}" --verify-key "$T/k1.pub" "$repo:v1" 2>"$T/err") &&
	grep -qxF "${D[v1]} signature verified with $T/k1.pub (signature 1 of 1)" <<<"$out" &&
	grep -q "^$repo:v1 ${D[v1]} " <<<"$out"; then
	pass "signed image pulled with --verify-key: $(tail -1 <<<"$out")"
else
	fail "signed image: $out $(cat "$T/err")"
fi
if cap images | grep -q "^$repo:v1 "; then pass "the signed image is in the store"; else fail "images: $(cap images)"; fi
if out=$("$CAPSULE" --root "$T/store-d" pull "${insecure[@]}" --verify-key "$T/k1.pub" "$repo@${D[v1]}" 2>&1) &&
	grep -qF "signature verified with $T/k1.pub" <<<"$out"; then
	pass "signed image pulled by digest with --verify-key"
else
	fail "by digest: $out"
fi
if out=$(cap verify "${insecure[@]}" --key "$T/k2.pub" --key "$T/k1.pub" "$repo:v1" 2>&1) &&
	[[ $out == "$repo:v1 ${D[v1]} verified with $T/k1.pub (signature 1 of 1)" ]]; then
	pass "verify names the key that verified the digest: $out"
else
	fail "verify v1: $out"
fi
if out=$(cap verify "${insecure[@]}" --key "$T/k2.pub" "$repo:other" 2>&1) &&
	[[ $out == "$repo:other ${D[other]} verified with $T/k2.pub (signature 1 of 1)" ]]; then
	pass "the other image verifies with the other key: $out"
else
	fail "verify other with k2: $out"
fi

# Refused: each with what is wrong; nothing of it in the store.
refused() { # NAME NEEDLE...: pull and verify both fail naming each needle; the image is absent
	local name=$1 needle
	shift
	for needle in "$@"; do
		expect_fail "pull $name" "$needle" cap pull "${insecure[@]}" --verify-key "$T/k1.pub" "$repo:$name"
		expect_fail "verify $name" "$needle" cap verify "${insecure[@]}" --key "$T/k1.pub" "$repo:$name"
	done
	if cap images | grep -q "^$repo:$name "; then fail "$name: recorded in the store"; else pass "$name: not in the store's images"; fi
	if grep -qF "$repo:$name" "$T/store/index.json"; then fail "$name: in index.json"; else pass "$name: not in index.json"; fi
	local layer
	layer=$(layer_of "$name")
	if [[ -e $T/store/layers/$layer || -e $T/store/blobs/sha256/$layer ]]; then
		fail "$name: its layer was fetched before the signature was checked"
	else
		pass "$name: its layer was never fetched"
	fi
}
refused unsigned "${D[unsigned]} is not signed: $repo has no signature tag $(sig_tag "${D[unsigned]}")"
refused other "${D[other]}: no signature verifies with the given keys" \
	"signature 1: does not verify with $T/k1.pub (signed by another key, or its payload was altered after signing)"
refused copied "${D[copied]}: no signature for this digest" \
	"signature 1: verifies with $T/k1.pub but is for ${D[v1]}, not ${D[copied]} (a signature of another image)"
refused tampered "${D[tampered]}: no signature verifies with the given keys" \
	"signature 1: does not verify with $T/k1.pub"
refused stripped "${D[stripped]}: no usable signature" \
	"signature 1: no dev.cosignproject.cosign/signature annotation"
# Without --verify-key the same unsigned image pulls (the check is the flag's).
if cap pull "${insecure[@]}" "$repo:unsigned" >/dev/null 2>&1; then pass "without --verify-key the unsigned image pulls"; else fail "plain pull of the unsigned image"; fi

# Two signatures by two keys in one .sig: each key finds its own.
sign "$T/k2.key" "$repo@${D[v1]}"
for k in 1 2; do
	if out=$(cap verify "${insecure[@]}" --key "$T/k$k.pub" "$repo:v1" 2>&1) &&
		[[ $out == "$repo:v1 ${D[v1]} verified with $T/k$k.pub (signature $k of 2)" ]]; then
		pass "two signatures, key $k: $out"
	else
		fail "two signatures, key $k: $out"
	fi
done

# Key sets (what caplet passes when several CapsulePolicies require
# signatures): each --verify-key must be met; the keys of one are
# alternatives.
if out=$(cap pull "${insecure[@]}" --verify-key "$T/k1.pub" --verify-key "$T/k2.pub" "$repo:v1" 2>&1) &&
	[[ $out == *"${D[v1]} signature verified by every one of 2 key sets"* ]]; then
	pass "two key sets, both met: $(tail -1 <<<"$out")"
else
	fail "two key sets, both met: $out"
fi
expect_fail "two key sets, the first not met" "key set 1 of 2" \
	cap pull "${insecure[@]}" --verify-key "$T/k1.pub" --verify-key "$T/k2.pub" "$repo:other"
if out=$(cap pull "${insecure[@]}" --verify-key "$T/k1.pub,$T/k2.pub" "$repo:other" 2>&1) &&
	[[ $out == *"${D[other]} signature verified with $T/k2.pub"* ]]; then
	pass "one set of two alternative keys, the second verifies"
else
	fail "alternative keys: $out"
fi
expect_fail "an empty key file name in a set" "an empty file name" \
	cap pull "${insecure[@]}" --verify-key "$T/k1.pub," "$repo:v1"

# An image index: its own digest is what is signed and verified (the
# platform manifest is then fetched by the digest the index lists); the
# platform manifest's digest alone carries no signature.
mdesc() { # TAG ARCH -> descriptor JSON for the index
	curl -sf -o "$T/m.json" -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"http://$REG_A/v2/sig/app/manifests/$1"
	printf '{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"platform":{"os":"linux","architecture":"%s"}}' \
		"$(sha256sum <"$T/m.json" | cut -d' ' -f1)" "$(stat -c %s "$T/m.json")" "$2"
}
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s,%s]}' \
	"$(mdesc other arm64)" "$(mdesc unsigned amd64)" >"$T/index.json"
curl -sSf -X PUT -H 'Content-Type: application/vnd.oci.image.index.v1+json' --data-binary @"$T/index.json" \
	"http://$REG_A/v2/sig/app/manifests/multi" >/dev/null
index_digest=sha256:$(sha256sum <"$T/index.json" | cut -d' ' -f1)
sign "$T/k1.key" "$repo@$index_digest"
if out=$("$CAPSULE" --root "$T/store-index" pull "${insecure[@]}" --platform linux/amd64 --verify-key "$T/k1.pub" \
	"$repo:multi" 2>&1) && grep -q "^$repo:multi ${D[unsigned]} " <<<"$out" &&
	grep -qxF "$index_digest signature verified with $T/k1.pub (signature 1 of 1)" <<<"$out"; then
	pass "index: its signature verified, its linux/amd64 manifest pulled"
else
	fail "index with --verify-key: $out"
fi
expect_fail "index: the platform manifest by its own digest" "${D[unsigned]} is not signed" \
	"$CAPSULE" --root "$T/store-index" pull "${insecure[@]}" --verify-key "$T/k1.pub" "$repo@${D[unsigned]}"

# Keys and references that cannot be used.
expect_fail "a private key as --verify-key" "$T/k1.key holds a private key" \
	cap pull "${insecure[@]}" --verify-key "$T/k1.key" "$repo:v1"
expect_fail "a missing key file" "key /nonexistent/k.pub" \
	cap pull "${insecure[@]}" --verify-key /nonexistent/k.pub "$repo:v1"
expect_fail "verify without --key" "verify needs at least one --key" cap verify "${insecure[@]}" "$repo:v1"
skopeo copy -q --src-tls-verify=false "docker://$repo:v1" "oci:$T/layout:v1" >/dev/null
expect_fail "an OCI layout with --verify-key" "signatures are verified only for a registry" \
	cap pull --verify-key "$T/k1.pub" "oci:$T/layout:v1"

# A registry that wants credentials: the signature is fetched with the same
# ones as the image (cosign signs there with them too).
python3 -W ignore - "$T/htpasswd" <<'PY'
import crypt, sys, warnings
warnings.simplefilter("ignore")
open(sys.argv[1], "w").write("tester:" + crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH)).replace("$2b$", "$2y$", 1) + "\n")
PY
registry_start B "{htpasswd: {realm: recap-test, path: $T/htpasswd}}"
push "$T/src:v1" "$REG_B/private/app:v1" --dest-creds tester:s3cret
printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG_B" "$(printf tester:s3cret | base64)" >"$T/auth.json"
mkdir -p "$T/home/.docker"
cp "$T/auth.json" "$T/home/.docker/config.json"
sign "$T/k1.key" "$REG_B/private/app@${D[v1]}"
if out=$(cap pull --insecure-registry "$REG_B" --auth-file "$T/auth.json" --verify-key "$T/k1.pub" \
	"$REG_B/private/app:v1" 2>&1) && grep -qF "signature verified with $T/k1.pub" <<<"$out"; then
	pass "basic auth: image and signature fetched with the auth file's credentials"
else
	fail "basic auth with --verify-key: $out"
fi
echo '{"auths":{}}' >"$T/empty-auth.json"
expect_fail "basic auth: no credentials" "requires credentials" cap verify --insecure-registry "$REG_B" \
	--auth-file "$T/empty-auth.json" --key "$T/k1.pub" "$REG_B/private/app:v1"

store_clean "$T/store"
if [[ -s $T/proxy.log ]]; then
	fail "cosign reached past loopback: $(head -3 "$T/proxy.log")"
else
	pass "cosign made no connection past loopback (no Rekor, Fulcio or TUF) and fetched no TUF metadata"
fi
finish

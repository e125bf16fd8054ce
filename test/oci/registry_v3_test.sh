#!/usr/bin/env bash
# capsule pull against the registry of github.com/distribution/distribution/v3
# (registry-v3, built from Go modules by hack/build-kube) with `auth: token`:
# a token issuer on another port signs RS256 tokens that name their key by
# kid, published to the registry as a JSON Web Key Set (`jwks:`), and a
# second registry verifies the issuer's x5c certificate (`rootcertbundle:`).
# The issuer logs every token request (user, scope); the registry logs every
# request it authorized (method, path, the token's subject).
# usage: registry_v3_test.sh CAPSULE-BINARY
source "$(dirname "$0")/lib.sh"
CAPSULE=$(realpath "$1")
((EUID == 0)) || { echo "needs root (umoci, store ownership)"; exit 77; }
src=$(cd "$(dirname "$0")/../.." && pwd)

kube_bin=${RECAP_KUBE_BIN:-$("$src/hack/build-kube")}
REGISTRY_BIN=$kube_bin/registry-v3
version=$("$REGISTRY_BIN" --version 2>&1) || { echo "FAIL - setup: $REGISTRY_BIN: $version" >&2; exit 1; }
[[ $version == *" v3."* ]] || { echo "FAIL - setup: $REGISTRY_BIN is not distribution v3: $version" >&2; exit 1; }
pass "setup: $version"
# info level and JSON: the registry's log names every request it authorized
export REGISTRY_LOG_LEVEL=info REGISTRY_LOG_FORMATTER=json

# authorized NAME FROM: "METHOD PATH USER" of each request by capsule pull
# that registry NAME authorized, from line FROM of its log on.
authorized() {
	tail -n +"$2" "$T/registry-$1/log" | python3 -c '
import json, sys
for line in sys.stdin:
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("msg") == "authorized request" and e.get("http.request.useragent", "").startswith("recap/"):
        print(e["http.request.method"], e["http.request.uri"], e.get("auth.user.name", "-"))'
}
lines() { if [[ -e $1 ]]; then wc -l <"$1"; else echo 0; fi; }
# new_tokens FROM: the issuer's log lines from line FROM on
new_tokens() { tail -n +"$1" "$TOKEN_LOG"; }
creds() { printf '"%s":{"auth":"%s"}' "$1" "$(printf %s "$2" | base64 -w0)"; }

# A failing setup command ends the test naming its line and command
# (hack/lib/errtrap.sh).
# The issuer: tester may pull anything, narrow gets tokens for tok/other only.
token_server_start tester:s3cret --jwks "$T/jwks.json" narrow:n4rrow@tok/other
registry_start V "{token: {realm: \"$TOKEN_REALM\", service: recap-test, issuer: recap-issuer, jwks: $T/jwks.json}}"
image_build "$T/src" bb amd64 platform amd64
push "$T/src:bb" "$REG_V/tok/bb:v1" --dest-creds tester:s3cret
push "$T/src:bb" "$REG_V/tok/other:v1" --dest-creds tester:s3cret
cap() { "$CAPSULE" --root "$T/store" pull --insecure-registry "$REG_V" "$@"; }

# Credentials for the registry, and others for the issuer's own host and a
# third host: only the registry's may ever reach the issuer.
echo "{\"auths\":{$(creds "$REG_V" tester:s3cret),$(creds "$TOKEN_HOST" issuer-host:not-for-the-registry),$(creds registry.example other-host:not-for-the-registry)}}" >"$T/auth.json"
echo "{\"auths\":{$(creds "$REG_V" tester:wrong)}}" >"$T/bad-auth.json"
echo "{\"auths\":{$(creds "$REG_V" narrow:n4rrow)}}" >"$T/narrow-auth.json"
echo "{\"auths\":{$(creds "$TOKEN_HOST" issuer-host:not-for-the-registry),$(creds registry.example other-host:not-for-the-registry)}}" >"$T/other-hosts.json"
echo '{"auths":{}}' >"$T/empty-auth.json"
stored() { [[ -e $T/store/index.json ]] && grep -qF "\"$1\"" "$T/store/index.json"; }

# Anonymous: the issuer refuses, capsule names the token endpoint and says
# it had no credentials; nothing is stored.
t0=$(($(lines "$TOKEN_LOG") + 1))
expect_fail "anonymous refused" "token endpoint $TOKEN_REALM answered HTTP 401 (no credentials for this registry)" \
	cap --auth-file "$T/empty-auth.json" "$REG_V/tok/bb:v1"
got=$(new_tokens "$t0")
if [[ $got == "token user=- scope=repository:tok/bb:pull service=recap-test status=401" ]]; then
	pass "anonymous: the issuer saw one request without credentials and refused it"
else
	fail "anonymous: issuer log: $got"
fi
if ! stored "$REG_V/tok/bb:v1"; then pass "anonymous: nothing stored"; else fail "anonymous: the image was stored"; fi

# Right credentials: the manifest and every blob fetched with the Bearer
# token the registry verified against the JWKS, one token for the pull.
t0=$(($(lines "$TOKEN_LOG") + 1))
r0=$(($(lines "$T/registry-V/log") + 1))
if out=$(cap --auth-file "$T/auth.json" "$REG_V/tok/bb:v1" 2>"$T/err") && grep -q "3 blobs fetched" <<<"$out"; then
	pass "right credentials: pulled ($out)"
else
	fail "right credentials: $out $(cat "$T/err")"
fi
got=$(authorized V "$r0")
manifest=$(grep -c "^GET /v2/tok/bb/manifests/v1 tester$" <<<"$got" || true)
blobs=$(grep -c "^GET /v2/tok/bb/blobs/sha256:[0-9a-f]\{64\} tester$" <<<"$got" || true)
if ((manifest == 1 && blobs == 3)) && [[ $(wc -l <<<"$got") == 4 ]]; then
	pass "right credentials: the registry authorized the manifest and 3 blobs by tester's token"
else
	fail "right credentials: the registry authorized: ${got:-nothing}"
fi
got=$(new_tokens "$t0")
if [[ $got == "token user=tester scope=repository:tok/bb:pull service=recap-test status=200" ]]; then
	pass "token cache: one token request for the 4 requests of one pull"
else
	fail "token cache: issuer log of one pull: $got"
fi
if stored "$REG_V/tok/bb:v1"; then pass "right credentials: the image is in the store"; else fail "right credentials: not stored"; fi

# Another repository: a token of its own, asked for once.
t0=$(($(lines "$TOKEN_LOG") + 1))
if out=$(cap --auth-file "$T/auth.json" "$REG_V/tok/other:v1" 2>"$T/err"); then
	pass "another repository: pulled ($out)"
else
	fail "another repository: $(cat "$T/err")"
fi
got=$(new_tokens "$t0")
if [[ $got == "token user=tester scope=repository:tok/other:pull service=recap-test status=200" ]]; then
	pass "token cache: another repository asks for a token of its own, once"
else
	fail "token cache: issuer log of the other repository's pull: $got"
fi
# The same repository again: the blobs are in the store, the manifest is
# fetched with a new token (one per pull).
t0=$(($(lines "$TOKEN_LOG") + 1))
if out=$(cap --auth-file "$T/auth.json" "$REG_V/tok/bb:v1" 2>"$T/err") && grep -q "0 blobs fetched" <<<"$out" &&
	[[ $(new_tokens "$t0") == "token user=tester scope=repository:tok/bb:pull service=recap-test status=200" ]]; then
	pass "token cache: a second pull of tok/bb fetches no blob and asks for one token"
else
	fail "second pull: $out $(cat "$T/err") issuer: $(new_tokens "$t0")"
fi

# Wrong password: the issuer refuses, capsule names the endpoint.
t0=$(($(lines "$TOKEN_LOG") + 1))
expect_fail "wrong password refused" "token endpoint $TOKEN_REALM answered HTTP 401" \
	"$CAPSULE" --root "$T/store-bad" pull --insecure-registry "$REG_V" --auth-file "$T/bad-auth.json" "$REG_V/tok/bb:v1"
if [[ $(new_tokens "$t0") == "token user=tester scope=repository:tok/bb:pull service=recap-test status=401" ]] &&
	! grep -q "answered HTTP 401 (no credentials" "$T/err"; then
	pass "wrong password: the issuer got tester's wrong password and refused it"
else
	fail "wrong password: issuer: $(new_tokens "$t0") err: $(cat "$T/err")"
fi

# A token for another repository: the issuer grants narrow tok/other only;
# the registry refuses that token for tok/bb, and capsule does not retry.
t0=$(($(lines "$TOKEN_LOG") + 1))
r0=$(($(lines "$T/registry-V/log") + 1))
expect_fail "a token scoped to another repository refused" "/v2/tok/bb/manifests/v1: access denied (HTTP 401)" \
	"$CAPSULE" --root "$T/store-narrow" pull --insecure-registry "$REG_V" --auth-file "$T/narrow-auth.json" \
	"$REG_V/tok/bb:v1"
got=$(new_tokens "$t0")
if [[ $got == "token user=narrow scope=repository:tok/bb:pull service=recap-test status=200" ]] &&
	[[ -z $(authorized V "$r0") ]] && tail -n +"$r0" "$T/registry-V/log" | grep -q "error authorizing context: insufficient scope"; then
	pass "scoped token: the issuer granted it, the registry found it insufficient for tok/bb and authorized nothing"
else
	fail "scoped token: issuer: $got registry: $(authorized V "$r0")"
fi
if out=$("$CAPSULE" --root "$T/store-narrow" pull --insecure-registry "$REG_V" --auth-file "$T/narrow-auth.json" \
	"$REG_V/tok/other:v1" 2>&1); then
	pass "scoped token: the same user pulls the repository its token names ($out)"
else
	fail "scoped token: tok/other: $out"
fi
store_clean "$T/store-narrow"

# Credentials for other hosts (the issuer's own host among them) never
# reach the issuer: without an entry for the registry, it gets none.
t0=$(($(lines "$TOKEN_LOG") + 1))
expect_fail "credentials for other hosts only" "answered HTTP 401 (no credentials for this registry)" \
	"$CAPSULE" --root "$T/store-other" pull --insecure-registry "$REG_V" --auth-file "$T/other-hosts.json" \
	"$REG_V/tok/bb:v1"
if [[ $(new_tokens "$t0") == "token user=- scope=repository:tok/bb:pull service=recap-test status=401" ]]; then
	pass "credentials for other hosts: the issuer got no credentials"
else
	fail "credentials for other hosts: issuer: $(new_tokens "$t0")"
fi
users=$(sed -n 's/^token user=\([^ ]*\) .*/\1/p' "$TOKEN_LOG" | sort -u | tr '\n' ' ')
if [[ $users == "- narrow tester " ]]; then
	pass "the issuer only ever saw the registry's users (and none): $users"
else
	fail "the issuer saw users: $users"
fi

# The issuer's x5c certificate chain, verified by a registry-v3 that trusts
# the certificate (rootcertbundle) and has no JWKS.
token_server_start tester:s3cret
registry_start W "{token: {realm: \"$TOKEN_REALM\", service: recap-test, issuer: recap-issuer, rootcertbundle: $TOKEN_CERT}}"
push "$T/src:bb" "$REG_W/tok/bb:v1" --dest-creds tester:s3cret
echo "{\"auths\":{$(creds "$REG_W" tester:s3cret)}}" >"$T/w-auth.json"
r0=$(($(lines "$T/registry-W/log") + 1))
if out=$("$CAPSULE" --root "$T/store-x5c" pull --insecure-registry "$REG_W" --auth-file "$T/w-auth.json" \
	"$REG_W/tok/bb:v1" 2>&1) && [[ $(authorized W "$r0" | grep -c " tester$") == 4 ]]; then
	pass "x5c: pulled with a token whose certificate the registry trusts ($out)"
else
	fail "x5c: $out registry: $(authorized W "$r0")"
fi
store_clean "$T/store"
store_clean "$T/store-x5c"
finish

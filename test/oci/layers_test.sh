#!/usr/bin/env bash
# Layer unpacking through `capsule pull oci:<dir>:<tag>`: whiteouts give the
# right overlay view, and every malicious layer is refused with a clear error,
# leaving nothing in the store and nothing outside it. Then an image of 128
# gzip layers with whiteouts across them, pushed to a docker-registry, pulled
# and run with `capsule run --image` against a sleeping process.
# usage: layers_test.sh CAPSULE-BINARY
source "$(dirname "$0")/lib.sh"
CAPSULE=$(realpath "$1")
((EUID == 0)) || { echo "needs root (device whiteouts, overlay mounts)"; exit 77; }
cgp=recap-oci-layers-$$
layers_cleanup() {
	set +e
	"$CAPSULE" --root "$T/store-many" --cgroup-parent "$cgp" sweep --force >/dev/null 2>&1
	oci_cleanup
	local d
	for d in /sys/fs/cgroup/*/"$cgp" /sys/fs/cgroup/"$cgp"; do [[ ! -d $d ]] || rmdir "$d"; done
}
trap layers_cleanup EXIT
cap() { "$CAPSULE" --root "$T/store" "$@"; }
fx() { python3 "$FIXTURES" "$@"; }

# Whiteouts and opaque directories, checked through a real overlay mount.
fx tar lower "$T/lower.tar"
fx tar upper "$T/upper.tar"
gzip -k "$T/upper.tar"
fx layout "$T/L" good amd64 "$T/lower.tar" "$T/upper.tar.gz" >/dev/null
out=$(cd "$T" && cap pull "oci:L:good")
if grep -q "^oci:$T/L:good " <<<"$out"; then pass "layout pull (relative dir stored absolute): $out"; else fail "layout pull: $out"; fi
lower=$(cap images >/dev/null; python3 -c 'import json,sys; m=json.load(open(sys.argv[1]+"/index.json"))["images"]["oci:"+sys.argv[2]+":good"]["manifest"]
print(" ".join(l["digest"][7:] for l in json.load(open(sys.argv[1]+"/blobs/sha256/"+m[7:]))["layers"]))' "$T/store" "$T/L")
read -r l0 l1 <<<"$lower"
mkdir -p "$T/mnt" "$T/upperdir" "$T/work"
mount -t overlay overlay -o "lowerdir=$T/store/layers/$l1:$T/store/layers/$l0,nosuid,nodev" "$T/mnt"
MOUNTS+=("$T/mnt")
check() { if eval "$2"; then pass "overlay: $1"; else fail "overlay: $1"; fi; }
check "whited-out file is gone" "[[ ! -e $T/mnt/etc/gone ]]"
check "other files stay" "[[ \$(cat $T/mnt/etc/keep) == keep && \$(cat $T/mnt/etc/added) == added ]]"
check "opaque dir hides lower content" "[[ ! -e $T/mnt/opq/old && \$(cat $T/mnt/opq/new) == new ]]"
check "symlink and hard link" "[[ \$(readlink $T/mnt/bin/link) == tool && $T/mnt/bin/hard -ef $T/mnt/bin/tool ]]"
check "setuid bit kept in the layer" "[[ -u $T/store/layers/$l0/bin/tool ]]"
umount "$T/mnt"
MOUNTS=()

# Not a tar at all.
head -c 4096 /dev/urandom >"$T/noise"
fx layout "$T/bad" noise amd64 "$T/noise" >/dev/null
expect_fail "layer that is not a tar" "not a tar archive" cap pull "oci:$T/bad:noise"

# Malicious layers: refused, nothing kept, nothing written outside.
passwd_sum=$(sha256sum /etc/passwd)
rm -f /tmp/recap-abs-escape /tmp/recap-symlink-escape
layers_before=$(ls "$T/store/layers" | wc -l)
bad() { # KIND NEEDLE
	fx tar "$1" "$T/$1.tar"
	fx layout "$T/bad" "$1" amd64 "$T/$1.tar" >/dev/null
	expect_fail "layer $1" "$2" cap pull "oci:$T/bad:$1"
}
bad dotdot "escapes the layer ('..' component)"
bad absolute "has an absolute path"
bad symlink-out "goes through the symlink 'evil'"
bad symlink-dir-out "goes through the symlink 'up'"
bad hardlink-out "escapes the layer"
bad hardlink-abs "has an absolute path"
bad whiteout-dotdot "malformed whiteout '.wh..'"
bad whiteout-empty "malformed whiteout '.wh.'"
bad chardev "is a character device: not allowed"
bad blockdev "is a block device: not allowed"
bad fifo "is a fifo: not allowed"
bad deep "nests deeper than 256 levels"
fx tar bomb-1000000 "$T/bomb.tar.gz"
fx layout "$T/bad" bomb amd64 "$T/bomb.tar.gz" >/dev/null
expect_fail "layer bomb (10^6 entries)" "more than 100000 entries" cap pull "oci:$T/bad:bomb"
fx layout "$T/bad" big amd64 "$T/upper.tar" >/dev/null
expect_fail "blob over --max-blob-size" "over the limit of 1024" cap pull --max-blob-size 1K "oci:$T/bad:big"
expect_fail "layer over --max-layer-size" "larger than 8 bytes" cap pull --max-layer-size 8 "oci:$T/bad:big"
layers_after=$(ls "$T/store/layers" | wc -l)
if ((layers_before == layers_after)); then pass "refused layers left nothing in layers/"; else fail "layers/: $layers_before -> $layers_after"; fi
if [[ ! -e /tmp/recap-abs-escape && ! -e /tmp/recap-symlink-escape && ! -e $T/escaped && ! -e $T/store/escaped ]] &&
	[[ $(sha256sum /etc/passwd) == "$passwd_sum" ]]; then
	pass "nothing written outside the store"
else
	fail "something was written outside the store"
fi
store_clean "$T/store"

# Malformed manifests.
man() { # TAG JSON NEEDLE
	printf '%s' "$2" >"$T/man.json"
	fx manifest "$T/bad" "$1" "$T/man.json" >/dev/null
	expect_fail "manifest $1" "$3" cap pull "oci:$T/bad:$1"
}
man truncated '{"schemaVersion":2,"layers":[' "malformed manifest"
man notobject '[1,2]' "not a JSON object"
man schema1 '{"schemaVersion":1,"fsLayers":[]}' "schemaVersion"
man badlayers '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"sha256:'"$(printf 0%.0s {1..64})"'","size":2},"layers":"x"}' "'layers' is missing or not an array"
man pathdigest '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"sha256:../../../../etc/passwd","size":2},"layers":[]}' "malformed digest"
man nolayers '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"sha256:'"$(printf 0%.0s {1..64})"'","size":2},"layers":[]}' "no layers"
man badmedia '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"sha256:'"$(printf 0%.0s {1..64})"'","size":2},"layers":[{"mediaType":"application/x-encrypted","digest":"sha256:'"$(printf 1%.0s {1..64})"'","size":1}]}' "unsupported media type"
expect_fail "layout: unknown tag" "has no image tagged nope" cap pull "oci:$T/bad:nope"
expect_fail "layout: missing dir" "cannot open layout" cap pull "oci:$T/missing:x"
store_clean "$T/store"

# 128 layers as a registry holds them (gzip, PAX), whiteouts across layers,
# an opaque directory, a file whited out and added again: pushed by skopeo,
# pulled into an empty store, run against a sleeping process.
registry_start A
fx stack "$T/many" many 128 "$(command -v busybox)" >/dev/null
push "$T/many:many" "$REG_A/capsules/many:v1"
many() { "$CAPSULE" --root "$T/store-many" --cgroup-parent "$cgp" "$@"; }
t0=$(date +%s%N)
out=$(many pull --insecure-registry "$REG_A" "$REG_A/capsules/many:v1")
ms=$((($(date +%s%N) - t0) / 1000000))
if grep -q "(128 layers, 129 blobs fetched)" <<<"$out"; then
	pass "128 layers: pulled from the registry in $ms ms ($out)"
else
	fail "128 layers: pull: $out"
fi
sleep 600 &
PIDS+=($!)
target=$!
t0=$(date +%s%N)
out=$(many run --target "$target" --image "$REG_A/capsules/many:v1" -- sh -c '
	for f in /lowest /top /v /l/0 /l/1 /l/127 /opq/new; do echo "$f=$(cat $f)"; done
	for f in /doomed /dir5 /dir5/a /opq/old /l/4 /l/124; do [ -e $f ] && echo "$f present" || echo "$f gone"; done
	echo "l=$(ls /l | sort -n | tr "\n" " ")"' 2>&1) || fail "128 layers: run --image: $out"
ms=$((($(date +%s%N) - t0) / 1000000))
want_l=""
for ((i = 0; i < 128; i++)); do ((i % 3 == 1 && i <= 125 && i != 1)) || want_l+="$i "; done
got() { sed -n "s|^$1||p" <<<"$out"; }
many_check() { # NAME GOT WANT
	if [[ $2 == "$3" ]]; then pass "128 layers: $1"; else fail "128 layers: $1: got '$2', want '$3'"; fi
}
many_check "the lowest layer's file is there (run in $ms ms)" "$(got /lowest=)" lowest
many_check "the highest layer's file is there" "$(got /top=)" top
many_check "a file every layer writes holds the top layer's" "$(got /v=)" 127
many_check "the lowest and highest layers' /l files" "$(got /l/0=) $(got /l/127=)" "0 127"
many_check "a file whited out (layer 3) and added again (layer 127) holds the new content" "$(got /l/1=)" back
many_check "a lower layer's file whited out by layer 64 is gone" "$(got '/doomed ')" gone
many_check "a directory whited out by layer 126 is gone with its file" "$(got '/dir5 ') $(got '/dir5/a ')" "gone gone"
many_check "an opaque directory (layer 118) hides the lowest layer's file" "$(got '/opq/old ') $(got /opq/new=)" "gone new"
many_check "files whited out two layers up are gone" "$(got '/l/4 ') $(got '/l/124 ')" "gone gone"
many_check "/l lists exactly the files no layer above whited out" "$(got l=)" "$want_l"
if [[ -z $(ls "$T/store-many/runs") ]] && ! grep -q " $T/" /proc/self/mountinfo; then
	pass "128 layers: the run left no run directory and no mount"
else
	fail "128 layers: left $(ls "$T/store-many/runs") $(grep " $T/" /proc/self/mountinfo)"
fi
store_clean "$T/store-many"
finish

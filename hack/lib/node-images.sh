# shellcheck shell=bash
# The images of hack/node, made here and imported into its containerd (pods
# use imagePullPolicy: Never): the pod sandbox (a tiny static program that
# only sleeps, also usable as a tool-less application) and a busybox-static
# workload. Each is an OCI layout made with umoci, archived, and cached by
# the hash of its inputs. Sourced by hack/node, and by e2e/lib.sh for the
# image of the node stand-in's containers (a static sleeper of the build,
# image_archive sleeper build_sleeper BINARY with SLEEPER_BIN=BINARY).

readonly PAUSE_IMAGE=recap.local/pause:1
readonly BUSYBOX_IMAGE=recap.local/busybox:1
readonly SLEEPER_IMAGE=recap.local/sleeper:1

# image_archive NAME BUILD_FN INPUT...: the cached archive of NAME, built by
# BUILD_FN ROOTFS_DIR when missing. Prints its path.
image_archive() {
	local name=$1 build=$2 key out work
	shift 2
	key=$(cat "$@" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)
	out=${RECAP_CACHE:-$HOME/.cache/recap}/node-images/$name-$key.tar
	if [[ ! -s $out ]]; then
		mkdir -p "${out%/*}"
		work=$(mktemp -d "${out%/*}/.build.XXXXXX")
		mkdir -p "$work/rootfs"
		"$build" "$work/rootfs" "$work" || { rm -rf "$work"; return 1; }
		(cd "$work" && umoci init --layout img && umoci new --image img:1 &&
			insert_tops img:1 rootfs && image_config "$name" && umoci gc --layout img &&
			tar -C img -cf "$out.tmp" .) >/dev/null || { rm -rf "$work"; return 1; }
		mv "$out.tmp" "$out"
		rm -rf "$work"
		find "${out%/*}" -maxdepth 1 -name "$name-*.tar" ! -path "$out" -delete
	fi
	echo "$out"
}

# insert_tops IMAGE ROOTFS: one insert per top-level entry, so no layer has
# an entry for "/" itself (which strict unpackers refuse).
insert_tops() {
	local e
	for e in "$2"/*; do umoci insert --image "$1" "$e" "/${e##*/}" || return 1; done
}

image_config() {
	case $1 in
	pause) umoci config --image img:1 --config.entrypoint /pause ;;
	busybox) umoci config --image img:1 --config.env PATH=/bin --config.cmd sh ;;
	sleeper) umoci config --image img:1 --config.entrypoint /sleeper ;;
	esac
}

build_pause() { # ROOTFS WORK
	cc -static -Os -s -o "$1/pause" "$here/lib/pause.c" 2>"$2/cc.err" ||
		{ cat "$2/cc.err" >&2; return 1; }
}

build_sleeper() { # ROOTFS WORK
	cp "${SLEEPER_BIN:?}" "$1/sleeper"
}

build_busybox() { # ROOTFS WORK
	local bb a
	bb=$(command -v busybox) || { echo "busybox is missing (hack/deps installs busybox-static)" >&2; return 1; }
	mkdir -p "$1/bin" "$1/tmp"
	cp "$bb" "$1/bin/busybox"
	for a in $("$bb" --list); do [[ $a == busybox ]] || ln -s busybox "$1/bin/$a"; done
}

# images_import: both images into containerd's k8s.io namespace; sets
# PAUSE_ARCHIVE and BUSYBOX_ARCHIVE.
images_import() {
	local pause busybox
	pause=$(image_archive pause build_pause "$here/lib/pause.c") || return 1
	busybox=$(image_archive busybox build_busybox "$(command -v busybox)") || return 1
	PAUSE_ARCHIVE=$pause BUSYBOX_ARCHIVE=$busybox
	ctr_ import --base-name "${PAUSE_IMAGE%:*}" "$pause" >/dev/null &&
		ctr_ import --base-name "${BUSYBOX_IMAGE%:*}" "$busybox" >/dev/null
}

ctr_() { # images import through our containerd
	ctr -a "$dir/containerd/containerd.sock" -n k8s.io images "$@"
}

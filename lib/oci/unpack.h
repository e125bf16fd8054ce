/* Layer unpacking (libarchive: gzip, zstd or plain tar) into
 * layers/<hex>.tmp, renamed to layers/<hex> only when the whole layer was
 * accepted. OCI whiteouts become overlayfs whiteouts (0:0 character
 * devices) and opaque directories (trusted.overlay.opaque=y). Refused: paths
 * that escape the layer ("..", absolute, through a symlink), hard links to
 * anything outside the layer or to a directory, device nodes, fifos and
 * sockets, malformed whiteouts, and archives over the entry or size limits.
 * Setuid/setgid bits are kept: the runtime mounts the overlay nosuid,nodev. */
#pragma once

#include <stdint.h>

#include "base/error.h"
#include "oci/store.h"

struct recap_oci_unpack_limits {
	uint64_t max_entries; /* default 100000 */
	uint64_t max_bytes;   /* sum of file sizes, default 16 GiB */
};

void recap_oci_unpack_limits_default(struct recap_oci_unpack_limits *l);

/* Unpacks the stored blob `digest` into layers/<hex> unless already there.
 * Serialized per layer with a lock file; a refused layer leaves nothing. */
int recap_oci_unpack_layer(struct recap_oci_store *s, const char *digest,
			   const struct recap_oci_unpack_limits *limits, struct recap_error **err);

/* Unpacks an archive read from fd into the directory dirfd (the core of the
 * above; exposed for the fuzzer). */
int recap_oci_unpack_fd(int fd, int dirfd, const struct recap_oci_unpack_limits *limits,
			struct recap_error **err);

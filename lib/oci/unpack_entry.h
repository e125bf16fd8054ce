/* Internal to unpack*.c: applying one archive entry beneath a layer root. */
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <stdint.h>

#include "base/error.h"

struct unpack_ctx {
	struct archive *a;
	int root;
	uint64_t entries;
	uint64_t bytes;
	uint64_t max_entries;
	uint64_t max_bytes;
	int ended; /* the stream ended right after the last file's data */
};

/* Opens the parent directory of the cleaned path `rel` beneath root, never
 * following a symlink; missing directories are created when create is set.
 * *ret_base points into rel. Returns the parent's fd. */
int recap_oci_unpack_open_parent(int root, const char *rel, int create, const char **ret_base,
				 struct recap_error **err);

int recap_oci_unpack_entry(struct unpack_ctx *c, struct archive_entry *e, struct recap_error **err);

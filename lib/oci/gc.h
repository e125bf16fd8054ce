/* Garbage collection of the store: blobs and layers that no image in the
 * index references and no run names in its state (runs/<id>/state, its
 * "layers") are removed, with tmp/ leftovers. Runs under locks/store.lock held exclusively. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "oci/store.h"

struct recap_oci_gc_result {
	size_t blobs_removed;
	size_t layers_removed;
	uint64_t bytes_freed; /* blob bytes */
	size_t blobs_kept;
	size_t layers_kept;
};

int recap_oci_gc(struct recap_oci_store *s, struct recap_oci_gc_result *ret, struct recap_error **err);

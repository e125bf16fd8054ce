/* A run's claim on the node store's layers it mounts, so that `capsule gc`
 * never removes one in use (docs/node-store.md, "The contract with the
 * runtime"). */
#pragma once

#include "base/error.h"
#include "runtime/spec.h"

/* Under <root>/locks/store.lock held shared (gc holds it exclusively; no
 * lock when the root has never been a store), checks that every layer
 * directory is still there, then writes <run_dir>/layers: each layer's
 * directory name, one a line (gc keeps every layer such a file names), to a
 * temporary name renamed into place. A layer that is gone is an error naming
 * it. The file goes with the run directory at escape. */
int recap_layers_pin(const char *root, const char *run_dir, const struct recap_strv *layers,
		     struct recap_error **err);

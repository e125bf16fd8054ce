/* A run's claim on the node store's layers it mounts, so that `capsule gc`
 * never removes one in use (docs/node-store.md, "The contract with the
 * runtime"). The claim is the run's state: it names the layers. */
#pragma once

#include "base/error.h"
#include "runtime/spec.h"

/* Takes <root>/locks/store.lock shared (gc holds it exclusively) and checks
 * that every layer directory is still there; a layer that is gone is an
 * error naming it. *ret_lock is the lock (-1: no lock, the root has never
 * been a store, so gc has nothing to sweep). The caller writes its state,
 * which lists the layers, then closes the lock: a gc either finished before
 * the check or reads the state. */
int recap_layers_pin(const char *root, const struct recap_strv *layers, int *ret_lock,
		     struct recap_error **err);

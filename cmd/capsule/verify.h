/* The signature keys of `capsule pull --verify-key` and `capsule verify
 * --key` (capsule-pull only: they link OpenSSL). */
#pragma once

#include <stddef.h>

#include "oci/signature.h"

struct capsule_keys {
	const char *paths[RECAP_OCI_SIG_KEYS_MAX];
	struct recap_oci_sig_key *keys[RECAP_OCI_SIG_KEYS_MAX];
	size_t n;
	/* pull --verify-key: each option is a set, all of which must verify */
	size_t set_ends[RECAP_OCI_SIG_KEYS_MAX];
	size_t n_sets;
	char *owned[RECAP_OCI_SIG_KEYS_MAX]; /* the paths split out of a set */
};

/* Notes a key file given on the command line; -1 (printed) past
 * RECAP_OCI_SIG_KEYS_MAX. */
int capsule_keys_add(struct capsule_keys *k, const char *path);
/* Notes FILE[,FILE...] as one set of alternative keys (pull --verify-key);
 * -1 (printed) for an empty name or past RECAP_OCI_SIG_KEYS_MAX. */
int capsule_keys_add_set(struct capsule_keys *k, const char *list);
/* Reads and parses every key noted; -1 (printed, naming the file) when one
 * cannot be used. */
int capsule_keys_load(struct capsule_keys *k);
void capsule_keys_free(struct capsule_keys *k);

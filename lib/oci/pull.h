/* Pulling an image into the store: manifest (with platform selection from
 * an index), config and layers, every blob verified, every layer unpacked
 * once; finally the reference is recorded in the store's image index. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "oci/digest.h"
#include "oci/registry.h"
#include "oci/signature.h"
#include "oci/store.h"
#include "oci/unpack.h"

struct recap_oci_pull_opts {
	struct recap_oci_registry_opts registry;
	struct recap_oci_unpack_limits unpack;
	uint64_t max_blob; /* per blob; default 4 GiB */
	const char *os;	   /* default "linux" */
	const char *arch;  /* default: the running architecture */
	const char *variant;
	/* Refuse oci: layouts, before their path is looked at: the reference is
	 * cluster input and the node's files are not the tenant's to read. */
	bool registry_only;
	/* Deadline of the whole pull (every request, retries included); default
	 * RECAP_OCI_PULL_TIMEOUT_S. A pull past it fails and releases the store. */
	long timeout_s;
	/* Keys the image's cosign signature must verify with (docs/signatures.md);
	 * none: no verification. What is verified is the digest the reference
	 * resolves to (an index's when it names an index), before any config or
	 * layer is fetched; the reference is recorded only when it passed.
	 * Registry references only. */
	struct recap_oci_sig_key *const *verify_keys;
	size_t n_verify_keys;
	/* Key sets, each of which must verify (the keys of one set are
	 * alternatives): set i is verify_keys[ends[i-1] .. ends[i]). None: one
	 * set of all the keys. */
	const size_t *verify_set_ends;
	size_t n_verify_sets;
};

#define RECAP_OCI_PULL_TIMEOUT_S 600
/* The exit status of `capsule pull` when the signature check decided
 * against the image (1: any other failure, 2: usage). */
#define RECAP_OCI_PULL_EXIT_SIGNATURE 3

void recap_oci_pull_opts_default(struct recap_oci_pull_opts *o);

struct recap_oci_pull_result {
	char canonical[1200];
	char manifest[RECAP_OCI_DIGEST_MAX];
	size_t n_layers;
	size_t blobs_fetched; /* blobs that were not in the store yet */
	bool credentials;     /* the pull sent the registry credentials */
	/* with verify_keys: which key verified which digest */
	bool verified;
	/* the signature check decided against the image (not signed, another
	 * key or digest, malformed), as opposed to failing to ask */
	bool signature_refused;
	struct recap_oci_sig_result signature;
};

int recap_oci_pull(struct recap_oci_store *s, const char *ref, const struct recap_oci_pull_opts *opts,
		   struct recap_oci_pull_result *ret, struct recap_error **err);

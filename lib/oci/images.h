/* The store's image index (index.json): reference -> manifest digest.
 *
 *   {"images": {"127.0.0.1:5000/capsules/ps:v1":
 *       {"manifest": "sha256:...", "index": "sha256:..." | absent,
 *        "credentials": true | absent}}}
 *
 * "credentials": the last pull of the reference sent the registry
 * credentials (it may hold what only they give access to).
 *
 * Updated under locks/index.lock with write-to-temp + rename. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "base/error.h"
#include "oci/digest.h"
#include "oci/store.h"

#define RECAP_OCI_IMAGES_FILE_MAX (64 * 1024 * 1024)
#define RECAP_OCI_IMAGES_MAX 10000

/* *ret is the "images" object (a new reference; empty when no file). */
int recap_oci_images_load(struct recap_oci_store *s, json_t **ret, struct recap_error **err);
int recap_oci_images_put(struct recap_oci_store *s, const char *canonical, const char *manifest,
			 const char *index, bool credentials, struct recap_error **err);
/* -ENOENT when the reference is not in the index. */
int recap_oci_images_remove(struct recap_oci_store *s, const char *canonical, struct recap_error **err);
/* Resolves a user's reference (any form recap_oci_ref_parse accepts) to the
 * stored manifest digest; a digest reference also matches an image pulled
 * by tag from the same repository. *ret_credentials (may be NULL): the
 * entry it was found by was pulled with credentials. */
int recap_oci_images_resolve(struct recap_oci_store *s, const char *ref, char manifest[RECAP_OCI_DIGEST_MAX],
			     bool *ret_credentials, struct recap_error **err);

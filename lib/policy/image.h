/* Image references as policies see them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

/* Longest reference / pattern considered (the CRDs' own limits). */
#define RECAP_IMAGE_REF_MAX 1024

/* Glob match of a whole string: `**` matches any characters, `*` any
 * characters except '/' (one path segment), every other character itself. */
bool recap_policy_glob_match(const char *pattern, const char *s);

/* The reference with Docker's implicit parts made explicit: "nginx:1" is
 * "docker.io/library/nginx:1", "me/tool" is "docker.io/me/tool". A first
 * component with '.' or ':' or equal to "localhost" is a registry. Returns
 * -ENAMETOOLONG past RECAP_IMAGE_REF_MAX. */
int recap_policy_image_normalize(const char *ref, char *out, size_t size);

/* A reference a cluster object may name: a registry reference, never an
 * oci:<dir> layout (a path on the node, read with the node agent's rights;
 * layouts are for the standalone `capsule` CLI). 0, or -EPERM with a
 * message naming the rule. The syntax is the executor's to check. */
int recap_policy_image_check_cluster(const char *ref, struct recap_error **err);

/* The "sha256:<64 hex>" digest of a reference ("...@sha256:..."), or NULL. */
const char *recap_policy_image_digest(const char *ref);

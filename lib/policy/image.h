/* Image references as policies see them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

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

/* The "sha256:<64 hex>" digest of a reference ("...@sha256:..."), or NULL. */
const char *recap_policy_image_digest(const char *ref);

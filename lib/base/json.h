/* Small jansson helpers: bounded parsing and safe lookups. */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"

/* Parses exactly one JSON value of at most max_bytes bytes. Errors name the
 * line/column and jansson's reason, and the size limit when it is hit. */
int recap_json_parse(const char *data, size_t len, size_t max_bytes, json_t **ret, struct recap_error **err);
/* Reads and parses a file (at most max_bytes). */
int recap_json_load_file(const char *path, size_t max_bytes, json_t **ret, struct recap_error **err);

/* Walks object keys: recap_json_at(obj, "metadata", "labels", "app", NULL).
 * Keys may contain dots or slashes. Returns a borrowed reference or NULL. */
json_t *recap_json_at(json_t *root, ...) __attribute__((sentinel));
/* Same with a dotted path: "metadata.name" (keys with dots need _at). */
json_t *recap_json_path(json_t *root, const char *path);

/* Typed lookups with a dotted path; NULL / fallback when absent or of another type. */
const char *recap_json_str(json_t *root, const char *path);
int64_t recap_json_int(json_t *root, const char *path, int64_t fallback);
int recap_json_bool(json_t *root, const char *path, int fallback);

/* Appends the compact encoding of v to b; -ENOBUFS past b's limit. */
int recap_json_dump(const json_t *v, struct recap_buf *b);

static inline void recap_json_decrefp(json_t **v)
{
	json_decref(*v);
	*v = NULL;
}
#define _cleanup_json_ __attribute__((cleanup(recap_json_decrefp)))

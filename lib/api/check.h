/* Decoding an object of one of the four kinds: whatever reaches RECap from
 * the API server (or a file) is checked against the kind's schema before
 * code reads it with the getters of api/types.h. */
#pragma once

#include <jansson.h>

#include "api/types.h"
#include "base/error.h"

/* Checks obj against kind's schema: JSON types, required fields, string
 * lengths, enums, RFC 3339 times, integer bounds, list and map sizes,
 * quantities. Not checked here: patterns and CEL rules, which the API
 * server enforces; unknown fields, which it prunes. -EINVAL with the path
 * of the first wrong field ("spec.capsule.env[2].name: ..."). */
int recap_api_check(enum recap_api_kind kind, json_t *obj, struct recap_error **err);

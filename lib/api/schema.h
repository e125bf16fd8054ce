/* The schema of each kind as a table (lib/api/schema.c, generated from the
 * CRDs by hack/gen-api), walked by recap_api_check. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "api/types.h"

enum recap_api_jtype {
	RECAP_API_T_ANY,
	RECAP_API_T_STRING,
	RECAP_API_T_TIME, /* an RFC 3339 string */
	RECAP_API_T_INTEGER,
	RECAP_API_T_BOOLEAN,
	RECAP_API_T_OBJECT,
	RECAP_API_T_ARRAY,
	RECAP_API_T_MAP,      /* an object of values of one schema */
	RECAP_API_T_QUANTITY, /* an integer or a string that is a quantity */
};

struct recap_api_node {
	const char *name; /* the property; "" for an item or a map's value */
	unsigned char type;
	unsigned char required; /* in its object */
	/* integer: bounds; string: length; array, map: number of items */
	int64_t min, max;
	const char *const *values;	  /* an enum's values, NULL-terminated; NULL: any */
	const struct recap_api_node *sub; /* properties; an item; a map's value */
	size_t n_sub;
};

extern const struct recap_api_node recap_api_kinds[RECAP_API_KINDS];

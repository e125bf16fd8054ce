/* Internal to hosts*.c: the subset of TOML that hosts.toml files use
 * (hosts.h), read one statement at a time. What the keys mean is hosts.c's. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

#define TOML_STR_MAX 4096
#define TOML_PATH_PARTS 4
#define TOML_ARRAY_MAX 8 /* strings in one array, an inner array's counted, and elements */

struct toml_cursor {
	const char *s, *end;
	int line;
	const char *file;
	struct recap_error **err;
};

enum toml_type { TOML_STR, TOML_BOOL, TOML_ARRAY, TOML_OTHER };

/* An element of an array: a string, or an inner array of strings. */
struct toml_item {
	size_t first, n; /* its strings in toml_value.arr */
	bool array;
};

struct toml_value {
	enum toml_type type;
	char str[TOML_STR_MAX];
	bool b;
	/* an array: every string in file order, and the elements they make */
	char arr[TOML_ARRAY_MAX][TOML_STR_MAX / 4];
	size_t n;
	struct toml_item item[TOML_ARRAY_MAX];
	size_t n_items;
};

enum toml_stmt_kind { TOML_END, TOML_TABLE, TOML_KEY };

/* A line's statement: [a."b".c] or a."b".c = value. */
struct toml_stmt {
	enum toml_stmt_kind kind;
	char path[TOML_PATH_PARTS][TOML_STR_MAX];
	size_t n;
	struct toml_value v; /* TOML_KEY */
};

/* The next statement; TOML_END at the end of the document. */
int recap_oci_toml_next(struct toml_cursor *c, struct toml_stmt *st);
/* "file:line: <what>" as an EINVAL error; returns -EINVAL. */
int recap_oci_toml_fail(struct toml_cursor *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An array of strings with no inner array. */
bool recap_oci_toml_is_strings(const struct toml_value *v);

/* What the project's own HTTP servers (caplet's relay, recap-apiserver) read
 * of a request: a header's value and a query parameter, each bounded by the
 * caller's buffer. Pure; unit-tested. */
#pragma once

#include <stddef.h>

#include "base/error.h"

/* head: the request line and headers up to the blank line. The first
 * header named name (any case) into out, blanks trimmed: 1; 0 when absent
 * (out ""); -1 when the value does not fit. */
int recap_http_header(const char *head, const char *name, char *out, size_t out_len);
/* query: what follows '?'. key's value, %XX and '+' decoded ("" for a bare
 * key): 1; 0 when absent; -1 when malformed (a bad escape, a NUL) or when it
 * does not fit. */
int recap_http_query(const char *query, const char *key, char *out, size_t out_len);
/* The request line "METHOD TARGET HTTP/1.1" of head: the method, and the
 * target split at '?' into path and query (not decoded). 0; -EINVAL when it
 * is not such a line, -E2BIG when a part does not fit its buffer (err says
 * which). */
int recap_http_request_line(const char *head, char *method, size_t method_len, char *path, size_t path_len,
			    char *query, size_t query_len, struct recap_error **err);

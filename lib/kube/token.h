/* A bearer token, static or read from a file that is re-read when it
 * changes (projected service-account tokens rotate). Internal. */
#pragma once

#include <stdint.h>
#include <sys/stat.h>

#include "base/error.h"

struct recap_kube_token {
	char *path;  /* NULL: static token only */
	char *value; /* current token or NULL */
	struct stat st;
	uint64_t checked_ms;
};

int recap_kube_token_init(struct recap_kube_token *t, const char *value, const char *path,
			  struct recap_error **err);
/* The current token (NULL when none); stats the file at most once a second
 * and re-reads it when it changed. A file that became unreadable keeps the
 * last good token. */
const char *recap_kube_token_get(struct recap_kube_token *t);
void recap_kube_token_free(struct recap_kube_token *t);

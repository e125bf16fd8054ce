/* Bounded whole-file reads for configuration input. */
#pragma once

#include <stddef.h>

#include "base/error.h"

/* Reads at most max bytes (more is an EFBIG error naming the limit); the
 * data is NUL-terminated. Messages name the path. */
int recap_kube_read_file(const char *path, size_t max, char **ret, size_t *ret_len, struct recap_error **err);

/* Strict base64 (whitespace ignored, padding optional); result NUL-terminated. */
int recap_kube_base64_decode(const char *in, size_t len, char **ret, size_t *ret_len);

/* Bounded whole-file reads. */
#pragma once

#include <stddef.h>

#include "base/error.h"

/* Reads at most max bytes (more is an EFBIG error naming the path and the
 * limit); the data is NUL-terminated, *ret_len excludes the terminator. */
int recap_read_file(const char *path, size_t max, char **ret, size_t *ret_len, struct recap_error **err);

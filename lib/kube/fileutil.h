/* Configuration input helpers; bounded file reads are base/fileio.h. */
#pragma once

#include "base/fileio.h"

#include <stddef.h>

#include "base/error.h"

/* Strict base64 (whitespace ignored, padding optional); result NUL-terminated. */
int recap_kube_base64_decode(const char *in, size_t len, char **ret, size_t *ret_len);
/* Standard base64 with padding; result NUL-terminated, NULL when out of memory. */
char *recap_kube_base64_encode(const char *in, size_t len);

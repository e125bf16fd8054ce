/* Base64 (RFC 4648, the standard alphabet), for every module that meets it:
 * kubeconfig and Secret data, registry credentials, cosign signatures. */
#pragma once

#include <stddef.h>

/* Lenient, as Kubernetes data is written: whitespace ignored, padding
 * optional; result NUL-terminated. -EINVAL for another character, -ENOMEM. */
int recap_base64_decode(const char *in, size_t len, char **ret, size_t *ret_len);
/* Canonical only (a signature has one encoding): NUL-terminated in, length
 * a multiple of 4, '=' only as the last one or two characters, the bits the
 * padding drops zero. The length decoded into out, or -EBADMSG, or -E2BIG
 * when it needs more than cap bytes. */
long recap_base64_decode_canonical(const char *in, unsigned char *out, size_t cap);
/* With padding; NUL-terminated, NULL when out of memory. */
char *recap_base64_encode(const char *in, size_t len);

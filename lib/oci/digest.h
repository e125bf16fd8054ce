/* Content digests: "sha256:<64 lowercase hex>".
 *
 * A digest names a file in the store, so it is validated before it is ever
 * used as a path: only sha256 and exactly 64 lowercase hex digits.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define RECAP_OCI_DIGEST_HEX_LEN 64
/* "sha256:" + 64 hex + NUL */
#define RECAP_OCI_DIGEST_MAX (7 + RECAP_OCI_DIGEST_HEX_LEN + 1)

/* 0 when d is a valid digest, -EINVAL with a message naming it otherwise. */
int recap_oci_digest_validate(const char *d, struct recap_error **err);
/* The hex part of a validated digest. */
const char *recap_oci_digest_hex(const char *d);

/* "sha256:<hex>" of a raw 32-byte digest into out. */
void recap_oci_digest_format(const uint8_t md[32], char out[RECAP_OCI_DIGEST_MAX]);

/* Streaming sha256 (OpenSSL EVP; the pull half of lib/oci only). */
struct recap_oci_hasher;
int recap_oci_hasher_new(struct recap_oci_hasher **ret);
void recap_oci_hasher_update(struct recap_oci_hasher *h, const void *data, size_t n);
/* Writes "sha256:<hex>" into out (RECAP_OCI_DIGEST_MAX bytes). */
void recap_oci_hasher_final(struct recap_oci_hasher *h, char out[RECAP_OCI_DIGEST_MAX]);
void recap_oci_hasher_free(struct recap_oci_hasher *h);

/* One-shot digest of a memory buffer (sha256.c: no libcrypto). */
int recap_oci_digest_buf(const void *data, size_t n, char out[RECAP_OCI_DIGEST_MAX]);

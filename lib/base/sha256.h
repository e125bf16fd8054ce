/* SHA-256 (FIPS 180-4) in plain C, for the store's read side: hashing the
 * small blobs a run reads (index, manifest, config) must not cost loading
 * and initialising libcrypto (~2.5 ms of CPU per process here). Streaming
 * downloads keep OpenSSL (digest_stream.c), which is faster on large data. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define RECAP_SHA256_LEN 32

struct recap_sha256 {
	uint32_t h[8];
	uint64_t bytes; /* total so far */
	uint8_t block[64];
	size_t used; /* bytes in block */
};

void recap_sha256_init(struct recap_sha256 *c);
void recap_sha256_update(struct recap_sha256 *c, const void *data, size_t n);
void recap_sha256_final(struct recap_sha256 *c, uint8_t out[RECAP_SHA256_LEN]);

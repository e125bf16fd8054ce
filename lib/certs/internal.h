/* What ca.c and issue.c share (build.c): keys, a certificate's frame,
 * extensions, the signature. */
#pragma once

#include "certs/certs.h"

/* An ECDSA P-256 key. */
int recap_certs_keygen(EVP_PKEY **ret, struct recap_error **err);
/* A v3 certificate: subject CN cn, a random 128-bit serial, valid from
 * not_before to not_after, key's public half. Issuer and extensions are
 * the caller's. */
int recap_certs_frame(const char *cn, int64_t not_before, int64_t not_after, EVP_PKEY *key, X509 **ret,
		      struct recap_error **err);
/* Adds an extension given as OpenSSL's config text ("critical,CA:TRUE"),
 * issuer being the signing certificate (for the authority key id). */
int recap_certs_add_ext(X509 *cert, X509 *issuer, int nid, const char *value, struct recap_error **err);
int recap_certs_sign(X509 *cert, EVP_PKEY *key, struct recap_error **err);
/* OpenSSL's last error queued, as text for a message (and the queue emptied). */
const char *recap_certs_ssl_error(char *buf, size_t n);

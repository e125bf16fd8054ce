/* Certificates RECap issues itself: a CA (ECDSA P-256, self-signed) and
 * leaves it signs (serving and client certificates for the relay between
 * recap-apiserver and caplet), PEM encoding, and the renewal decision.
 *
 * Objects are OpenSSL's (X509, EVP_PKEY); a pair owns both. Times are
 * seconds since the epoch. Every certificate's notBefore is backdated
 * RECAP_CERTS_BACKDATE_S (clocks that lag), so its lifetime as the renewal
 * rule measures it runs from notBefore + RECAP_CERTS_BACKDATE_S (issuance)
 * to notAfter.
 */
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define RECAP_CERTS_BACKDATE_S 300
#define RECAP_CERTS_MAX_SANS 16
#define RECAP_CERTS_MAX_BUNDLE 8 /* certificates in one PEM bundle */

struct recap_certs_pair {
	X509 *cert;
	EVP_PKEY *key;
};

/* Frees both and empties the pair. Accepts NULL. */
void recap_certs_pair_clear(struct recap_certs_pair *p);

/* ---- issuing (ca.c, issue.c) ---- */

/* A CA: CN cn, valid from now - RECAP_CERTS_BACKDATE_S to now + validity_s,
 * CA:TRUE (critical), keyCertSign and cRLSign, a random 128-bit serial. */
int recap_certs_ca_new(const char *cn, int64_t now, int64_t validity_s, struct recap_certs_pair *ret,
		       struct recap_error **err);

enum recap_certs_usage {
	RECAP_CERTS_SERVER = 1 << 0, /* extKeyUsage serverAuth */
	RECAP_CERTS_CLIENT = 1 << 1, /* extKeyUsage clientAuth */
};

/* What a leaf is for: its subject and names, usages and validity. */
struct recap_certs_leaf_spec {
	const char *cn;
	const char *const *dns; /* DNS SANs */
	size_t n_dns;
	const char *const *ips; /* IP SANs, IPv4 or IPv6 text */
	size_t n_ips;
	unsigned usages; /* enum recap_certs_usage bits, at least one */
	int64_t validity_s;
};

/* A leaf signed by ca: digitalSignature, CA:FALSE, the usages and SANs of
 * spec, subject and authority key identifiers. notAfter is now + validity_s
 * or the CA's notAfter, whichever comes first. */
int recap_certs_issue(const struct recap_certs_pair *ca, const struct recap_certs_leaf_spec *spec,
		      int64_t now, struct recap_certs_pair *ret, struct recap_error **err);

/* ---- PEM (pem.c) ---- */

/* Newly allocated, NUL-terminated PEM text. */
int recap_certs_cert_pem(X509 *cert, char **ret, struct recap_error **err);
int recap_certs_key_pem(EVP_PKEY *key, char **ret, struct recap_error **err);
/* Exactly one certificate (the first of the text; anything else in it but
 * more certificates is refused). */
int recap_certs_cert_parse(const char *pem, size_t len, X509 **ret, struct recap_error **err);
int recap_certs_key_parse(const char *pem, size_t len, EVP_PKEY **ret, struct recap_error **err);
/* A certificate and its private key; refused unless the key is the
 * certificate's. */
int recap_certs_pair_parse(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
			   struct recap_certs_pair *ret, struct recap_error **err);
/* Every certificate of a bundle, in order: 1 to RECAP_CERTS_MAX_BUNDLE. */
int recap_certs_bundle_parse(const char *pem, size_t len, STACK_OF(X509) * *ret, struct recap_error **err);
/* The PEM of certs, concatenated in order. */
int recap_certs_bundle_pem(STACK_OF(X509) * certs, char **ret, struct recap_error **err);

/* ---- inspecting (inspect.c) ---- */

int recap_certs_times(X509 *cert, int64_t *ret_not_before, int64_t *ret_not_after, struct recap_error **err);
/* The subject's CN into buf (size n); "" without one. */
int recap_certs_cn(X509 *cert, char *buf, size_t n, struct recap_error **err);
/* Whether ca's key signed cert (and ca is cert's issuer by name). */
bool recap_certs_signed_by(X509 *cert, X509 *ca);
bool recap_certs_is_ca(X509 *cert);
/* The usages (enum recap_certs_usage bits) of its extKeyUsage. */
unsigned recap_certs_usages(X509 *cert);
/* Whether its DNS and IP SANs are exactly the spec's (in any order). */
bool recap_certs_sans_equal(X509 *cert, const struct recap_certs_leaf_spec *spec);

/* ---- renewal (renew.c) ----
 * NULL when cert may stay, else why it must be replaced (a static
 * string): past 2/3 of its lifetime, expired, not signed by the current
 * CA, other names or usages than wanted. */
const char *recap_certs_leaf_renewal(X509 *cert, X509 *ca, const struct recap_certs_leaf_spec *want,
				     int64_t now);
/* The same for a CA: not a CA, past 2/3 of its lifetime. */
const char *recap_certs_ca_renewal(X509 *ca, int64_t now);
/* The moment (epoch s) past which a certificate is due: issuance plus
 * 2/3 of its lifetime; < 0 when its times do not parse. */
int64_t recap_certs_due(X509 *cert);

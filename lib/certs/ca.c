/* A self-signed CA (ECDSA P-256). */
#include <errno.h>
#include <openssl/x509v3.h>

#include "certs/internal.h"

void recap_certs_pair_clear(struct recap_certs_pair *p)
{
	if (!p)
		return;
	X509_free(p->cert);
	EVP_PKEY_free(p->key);
	p->cert = NULL;
	p->key = NULL;
}

static int ca_extensions(X509 *x, struct recap_error **err)
{
	int r = recap_certs_add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE", err);
	if (r >= 0)
		r = recap_certs_add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign", err);
	if (r >= 0)
		r = recap_certs_add_ext(x, x, NID_subject_key_identifier, "hash", err);
	if (r >= 0)
		r = recap_certs_add_ext(x, x, NID_authority_key_identifier, "keyid:always", err);
	return r;
}

int recap_certs_ca_new(const char *cn, int64_t now, int64_t validity_s, struct recap_certs_pair *ret,
		       struct recap_error **err)
{
	struct recap_certs_pair p = {0};
	if (validity_s <= 0)
		return recap_error_set(err, EINVAL, "CA %s: validity must be positive", cn ? cn : "");
	int r = recap_certs_keygen(&p.key, err);
	if (r >= 0)
		r = recap_certs_frame(cn, now - RECAP_CERTS_BACKDATE_S, now + validity_s, p.key, &p.cert,
				      err);
	if (r >= 0 && X509_set_issuer_name(p.cert, X509_get_subject_name(p.cert)) != 1)
		r = recap_error_set(err, ENOMEM, "CA %s: issuer name", cn);
	if (r >= 0)
		r = ca_extensions(p.cert, err);
	if (r >= 0)
		r = recap_certs_sign(p.cert, p.key, err);
	if (r < 0) {
		recap_certs_pair_clear(&p);
		return recap_error_wrap(err, r, "creating CA %s", cn ? cn : "");
	}
	*ret = p;
	return 0;
}

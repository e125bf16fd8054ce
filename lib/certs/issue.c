/* Leaves signed by a CA: serving and client certificates. */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "certs/internal.h"

/* A DNS name of letters, digits, '-' and '.' (a leading "*." allowed). */
static bool dns_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253)
		return false;
	if (strncmp(s, "*.", 2) == 0)
		s += 2;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'))
			return false;
	return true;
}

static bool ip_ok(const char *s)
{
	unsigned char a[16];
	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* "DNS:a,DNS:b,IP:1.2.3.4" from checked names: none can add an entry. */
static int san_text(const struct recap_certs_leaf_spec *s, char *buf, size_t n, struct recap_error **err)
{
	size_t off = 0;
	buf[0] = '\0';
	if (s->n_dns + s->n_ips > RECAP_CERTS_MAX_SANS)
		return recap_error_set(err, EINVAL, "more than %d SANs", RECAP_CERTS_MAX_SANS);
	for (size_t i = 0; i < s->n_dns + s->n_ips; i++) {
		bool dns = i < s->n_dns;
		const char *v = dns ? s->dns[i] : s->ips[i - s->n_dns];
		if (!v || !(dns ? dns_ok(v) : ip_ok(v)))
			return recap_error_set(err, EINVAL, "%s SAN \"%s\" is not valid", dns ? "DNS" : "IP",
					       v ? v : "(null)");
		int w = snprintf(buf + off, n - off, "%s%s:%s", off ? "," : "", dns ? "DNS" : "IP", v);
		if (w < 0 || (size_t)w >= n - off)
			return recap_error_set(err, E2BIG, "SANs longer than %zu bytes", n);
		off += (size_t)w;
	}
	return 0;
}

static int leaf_extensions(X509 *x, X509 *ca, const struct recap_certs_leaf_spec *s, struct recap_error **err)
{
	char sans[RECAP_CERTS_MAX_SANS * 260];
	const char *eku = s->usages == (RECAP_CERTS_SERVER | RECAP_CERTS_CLIENT) ? "serverAuth,clientAuth"
			  : s->usages == RECAP_CERTS_SERVER			 ? "serverAuth"
										 : "clientAuth";
	int r = san_text(s, sans, sizeof(sans), err);
	if (r >= 0)
		r = recap_certs_add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE", err);
	if (r >= 0)
		r = recap_certs_add_ext(x, ca, NID_key_usage, "critical,digitalSignature", err);
	if (r >= 0)
		r = recap_certs_add_ext(x, ca, NID_ext_key_usage, eku, err);
	if (r >= 0 && sans[0])
		r = recap_certs_add_ext(x, ca, NID_subject_alt_name, sans, err);
	if (r >= 0)
		r = recap_certs_add_ext(x, ca, NID_subject_key_identifier, "hash", err);
	if (r >= 0)
		r = recap_certs_add_ext(x, ca, NID_authority_key_identifier, "keyid:always", err);
	return r;
}

static int check_spec(const struct recap_certs_pair *ca, const struct recap_certs_leaf_spec *s,
		      struct recap_error **err)
{
	if (!ca || !ca->cert || !ca->key)
		return recap_error_set(err, EINVAL, "no CA to sign with");
	if (!s->usages || (s->usages & ~(unsigned)(RECAP_CERTS_SERVER | RECAP_CERTS_CLIENT)))
		return recap_error_set(err, EINVAL, "usages must be serverAuth, clientAuth or both");
	if (s->validity_s <= 0)
		return recap_error_set(err, EINVAL, "validity must be positive");
	return 0;
}

int recap_certs_issue(const struct recap_certs_pair *ca, const struct recap_certs_leaf_spec *spec,
		      int64_t now, struct recap_certs_pair *ret, struct recap_error **err)
{
	struct recap_certs_pair p = {0};
	int64_t ca_nb, ca_na;
	int r = check_spec(ca, spec, err);
	if (r >= 0)
		r = recap_certs_times(ca->cert, &ca_nb, &ca_na, err);
	if (r >= 0 && ca_na <= now)
		r = recap_error_set(err, EINVAL, "the CA has expired");
	if (r >= 0)
		r = recap_certs_keygen(&p.key, err);
	int64_t na = now + spec->validity_s < ca_na ? now + spec->validity_s : ca_na;
	if (r >= 0)
		r = recap_certs_frame(spec->cn, now - RECAP_CERTS_BACKDATE_S, na, p.key, &p.cert, err);
	if (r >= 0 && X509_set_issuer_name(p.cert, X509_get_subject_name(ca->cert)) != 1)
		r = recap_error_set(err, ENOMEM, "issuer name");
	if (r >= 0)
		r = leaf_extensions(p.cert, ca->cert, spec, err);
	if (r >= 0)
		r = recap_certs_sign(p.cert, ca->key, err);
	if (r < 0) {
		recap_certs_pair_clear(&p);
		return recap_error_wrap(err, r, "issuing %s", spec->cn ? spec->cn : "(no CN)");
	}
	*ret = p;
	return 0;
}

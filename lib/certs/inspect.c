/* What a certificate says: times, names, usages, issuer. */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <time.h>

#include "certs/internal.h"

static int asn1_epoch(const ASN1_TIME *t, int64_t *ret)
{
	struct tm tm;
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return -EINVAL;
	*ret = (int64_t)timegm(&tm);
	return 0;
}

int recap_certs_times(X509 *cert, int64_t *ret_not_before, int64_t *ret_not_after, struct recap_error **err)
{
	int64_t nb, na;
	if (asn1_epoch(X509_get0_notBefore(cert), &nb) < 0 || asn1_epoch(X509_get0_notAfter(cert), &na) < 0)
		return recap_error_set(err, EINVAL, "the certificate's validity times do not parse");
	*ret_not_before = nb;
	*ret_not_after = na;
	return 0;
}

int recap_certs_cn(X509 *cert, char *buf, size_t n, struct recap_error **err)
{
	int len = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, (int)n);
	if (n == 0)
		return recap_error_set(err, EINVAL, "no room for a CN");
	if (len < 0)
		buf[0] = '\0';
	return 0;
}

bool recap_certs_signed_by(X509 *cert, X509 *ca)
{
	if (!cert || !ca)
		return false;
	EVP_PKEY *pub = X509_get0_pubkey(ca);
	bool ok = X509_check_issued(ca, cert) == X509_V_OK && pub && X509_verify(cert, pub) == 1;
	ERR_clear_error();
	return ok;
}

bool recap_certs_is_ca(X509 *cert)
{
	/* 1: CA:TRUE in basicConstraints (3, 4, 5: weaker forms) */
	return cert && X509_check_ca(cert) == 1;
}

unsigned recap_certs_usages(X509 *cert)
{
	uint32_t x = X509_get_extended_key_usage(cert);
	if (x == UINT32_MAX) /* no extKeyUsage: anything, which RECap never issues */
		return 0;
	return ((x & XKU_SSL_SERVER) ? RECAP_CERTS_SERVER : 0) |
	       ((x & XKU_SSL_CLIENT) ? RECAP_CERTS_CLIENT : 0);
}

static bool name_wanted(const GENERAL_NAME *g, const struct recap_certs_leaf_spec *s)
{
	if (g->type == GEN_DNS) {
		const ASN1_IA5STRING *v = g->d.dNSName;
		for (size_t i = 0; i < s->n_dns; i++)
			if ((size_t)v->length == strlen(s->dns[i]) &&
			    memcmp(v->data, s->dns[i], v->length) == 0)
				return true;
		return false;
	}
	if (g->type != GEN_IPADD)
		return false;
	for (size_t i = 0; i < s->n_ips; i++) {
		unsigned char a[16];
		int n = inet_pton(AF_INET, s->ips[i], a) == 1	 ? 4
			: inet_pton(AF_INET6, s->ips[i], a) == 1 ? 16
								 : 0;
		if (n && g->d.iPAddress->length == n && memcmp(g->d.iPAddress->data, a, (size_t)n) == 0)
			return true;
	}
	return false;
}

bool recap_certs_sans_equal(X509 *cert, const struct recap_certs_leaf_spec *spec)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	int n = names ? sk_GENERAL_NAME_num(names) : 0;
	bool ok = (size_t)n == spec->n_dns + spec->n_ips;
	/* as many names as wanted, each one wanted and the wanted ones
	 * distinct: the same set */
	for (int i = 0; ok && i < n; i++)
		ok = name_wanted(sk_GENERAL_NAME_value(names, i), spec);
	GENERAL_NAMES_free(names);
	ERR_clear_error();
	return ok;
}

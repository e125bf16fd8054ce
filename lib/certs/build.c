/* The frame of every certificate RECap issues: key, serial, validity,
 * extensions and signature. */
#include <errno.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "certs/internal.h"

const char *recap_certs_ssl_error(char *buf, size_t n)
{
	unsigned long e = ERR_peek_last_error();
	if (!e)
		snprintf(buf, n, "no detail from OpenSSL");
	else
		ERR_error_string_n(e, buf, n);
	ERR_clear_error();
	return buf;
}

int recap_certs_keygen(EVP_PKEY **ret, struct recap_error **err)
{
	char b[256];
	EVP_PKEY *k = EVP_EC_gen("P-256");
	if (!k)
		return recap_error_set(err, EIO, "generating a P-256 key: %s",
				       recap_certs_ssl_error(b, sizeof(b)));
	*ret = k;
	return 0;
}

static int random_serial(X509 *x, struct recap_error **err)
{
	unsigned char raw[16];
	char b[256];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return recap_error_set(err, EIO, "random serial: %s", recap_certs_ssl_error(b, sizeof(b)));
	raw[0] &= 0x7f; /* positive */
	raw[0] |= 0x40; /* and 16 bytes long */
	BIGNUM *bn = BN_bin2bn(raw, sizeof(raw), NULL);
	int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	return ok ? 0 : recap_error_set(err, ENOMEM, "serial: %s", recap_certs_ssl_error(b, sizeof(b)));
}

static int set_name(X509 *x, const char *cn)
{
	X509_NAME *name = X509_get_subject_name(x);
	return X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
}

int recap_certs_frame(const char *cn, int64_t not_before, int64_t not_after, EVP_PKEY *key, X509 **ret,
		      struct recap_error **err)
{
	char b[256];
	if (!cn || !*cn || strlen(cn) > 64)
		return recap_error_set(err, EINVAL, "a certificate's CN must be 1 to 64 characters");
	if (not_after <= not_before)
		return recap_error_set(err, EINVAL, "certificate for %s: notAfter not after notBefore", cn);
	X509 *x = X509_new();
	if (!x)
		return recap_error_set(err, ENOMEM, "out of memory");
	int r = random_serial(x, err);
	if (r >= 0 &&
	    (X509_set_version(x, 2) != 1 || !ASN1_TIME_set(X509_getm_notBefore(x), (time_t)not_before) ||
	     !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after) || set_name(x, cn) != 1 ||
	     X509_set_pubkey(x, key) != 1))
		r = recap_error_set(err, EINVAL, "certificate for %s: %s", cn,
				    recap_certs_ssl_error(b, sizeof(b)));
	if (r < 0) {
		X509_free(x);
		return r;
	}
	*ret = x;
	return 0;
}

int recap_certs_add_ext(X509 *cert, X509 *issuer, int nid, const char *value, struct recap_error **err)
{
	char b[256];
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return recap_error_set(err, EINVAL, "extension %s = %s: %s", OBJ_nid2sn(nid), value,
				       recap_certs_ssl_error(b, sizeof(b)));
	int ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	if (!ok)
		return recap_error_set(err, ENOMEM, "extension %s: %s", OBJ_nid2sn(nid),
				       recap_certs_ssl_error(b, sizeof(b)));
	return 0;
}

int recap_certs_sign(X509 *cert, EVP_PKEY *key, struct recap_error **err)
{
	char b[256];
	if (X509_sign(cert, key, EVP_sha256()) <= 0)
		return recap_error_set(err, EIO, "signing: %s", recap_certs_ssl_error(b, sizeof(b)));
	return 0;
}

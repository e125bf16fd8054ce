/* PEM text of certificates and keys, both ways. */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "certs/internal.h"

#define PEM_MAX_BYTES (64 * 1024)

static int bio_text(BIO *bio, char **ret, struct recap_error **err)
{
	char *data = NULL;
	long n = BIO_get_mem_data(bio, &data);
	char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (!s)
		return recap_error_set(err, ENOMEM, "out of memory");
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	*ret = s;
	return 0;
}

int recap_certs_cert_pem(X509 *cert, char **ret, struct recap_error **err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int r = bio ? 0 : recap_error_set(err, ENOMEM, "out of memory");
	if (r >= 0 && PEM_write_bio_X509(bio, cert) != 1)
		r = recap_error_set(err, EIO, "certificate to PEM failed");
	if (r >= 0)
		r = bio_text(bio, ret, err);
	BIO_free(bio);
	return r;
}

int recap_certs_key_pem(EVP_PKEY *key, char **ret, struct recap_error **err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int r = bio ? 0 : recap_error_set(err, ENOMEM, "out of memory");
	if (r >= 0 && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1)
		r = recap_error_set(err, EIO, "private key to PEM failed");
	if (r >= 0)
		r = bio_text(bio, ret, err);
	BIO_free(bio);
	return r;
}

static int open_text(const char *pem, size_t len, const char *what, BIO **ret, struct recap_error **err)
{
	if (!pem || len == 0)
		return recap_error_set(err, EINVAL, "%s: empty", what);
	if (len > PEM_MAX_BYTES)
		return recap_error_set(err, E2BIG, "%s: %zu bytes, more than %d", what, len, PEM_MAX_BYTES);
	*ret = BIO_new_mem_buf(pem, (int)len);
	return *ret ? 0 : recap_error_set(err, ENOMEM, "out of memory");
}

/* The end of the text after the last certificate, or a broken one. */
static int bundle_end(size_t n, struct recap_error **err)
{
	char b[256];
	unsigned long e = ERR_peek_last_error();
	if (n > 0 && ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
		ERR_clear_error();
		return 0;
	}
	if (n == 0 && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
		ERR_clear_error();
		return recap_error_set(err, EINVAL, "no PEM certificate (no \"BEGIN CERTIFICATE\" line)");
	}
	return recap_error_set(err, EINVAL, "certificate %zu of the PEM data is not valid: %s", n + 1,
			       recap_certs_ssl_error(b, sizeof(b)));
}

int recap_certs_bundle_parse(const char *pem, size_t len, STACK_OF(X509) * *ret, struct recap_error **err)
{
	BIO *bio = NULL;
	int r = open_text(pem, len, "PEM certificates", &bio, err);
	STACK_OF(X509) *sk = r >= 0 ? sk_X509_new_null() : NULL;
	if (r >= 0 && !sk)
		r = recap_error_set(err, ENOMEM, "out of memory");
	ERR_clear_error();
	while (r >= 0) {
		X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		if (!x) {
			r = bundle_end((size_t)sk_X509_num(sk), err);
			break;
		}
		if (sk_X509_num(sk) >= RECAP_CERTS_MAX_BUNDLE || !sk_X509_push(sk, x)) {
			X509_free(x);
			r = recap_error_set(err, E2BIG, "more than %d certificates in a bundle",
					    RECAP_CERTS_MAX_BUNDLE);
		}
	}
	BIO_free(bio);
	if (r < 0) {
		sk_X509_pop_free(sk, X509_free);
		return r;
	}
	*ret = sk;
	return 0;
}

int recap_certs_cert_parse(const char *pem, size_t len, X509 **ret, struct recap_error **err)
{
	STACK_OF(X509) *sk = NULL;
	int r = recap_certs_bundle_parse(pem, len, &sk, err);
	if (r >= 0 && sk_X509_num(sk) != 1)
		r = recap_error_set(err, EINVAL, "%d certificates where one was expected", sk_X509_num(sk));
	if (r >= 0)
		*ret = sk_X509_shift(sk);
	sk_X509_pop_free(sk, X509_free);
	return r;
}

/* No passphrase: an encrypted key is refused instead of prompting. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return 0;
}

int recap_certs_key_parse(const char *pem, size_t len, EVP_PKEY **ret, struct recap_error **err)
{
	char b[256];
	BIO *bio = NULL;
	int r = open_text(pem, len, "PEM private key", &bio, err);
	ERR_clear_error();
	EVP_PKEY *k = r >= 0 ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
	if (r >= 0 && !k)
		r = recap_error_set(err, EINVAL, "not a PEM private key: %s",
				    recap_certs_ssl_error(b, sizeof(b)));
	BIO_free(bio);
	if (r >= 0)
		*ret = k;
	return r;
}

int recap_certs_pair_parse(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
			   struct recap_certs_pair *ret, struct recap_error **err)
{
	struct recap_certs_pair p = {0};
	int r = recap_certs_cert_parse(cert_pem, cert_len, &p.cert, err);
	if (r >= 0)
		r = recap_certs_key_parse(key_pem, key_len, &p.key, err);
	if (r >= 0 && X509_check_private_key(p.cert, p.key) != 1) {
		ERR_clear_error();
		r = recap_error_set(err, EINVAL, "the private key is not the certificate's");
	}
	if (r < 0) {
		recap_certs_pair_clear(&p);
		return r;
	}
	*ret = p;
	return 0;
}

int recap_certs_bundle_pem(STACK_OF(X509) * certs, char **ret, struct recap_error **err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int r = bio ? 0 : recap_error_set(err, ENOMEM, "out of memory");
	for (int i = 0; r >= 0 && i < sk_X509_num(certs); i++)
		if (PEM_write_bio_X509(bio, sk_X509_value(certs, i)) != 1)
			r = recap_error_set(err, EIO, "certificate to PEM failed");
	if (r >= 0)
		r = bio_text(bio, ret, err);
	BIO_free(bio);
	return r;
}

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/x509v3.h>

#include "certs/certs.h"

#define NOW ((int64_t)1767225600) /* 2026-01-01T00:00:00Z */
#define DAY 86400

static const char *const dns[] = {"recap-apiserver.recap-system.svc",
				  "recap-apiserver.recap-system.svc.cluster.local"};
static const char *const ips[] = {"10.0.0.7", "fd00::7"};

static struct recap_certs_leaf_spec server_spec(void)
{
	return (struct recap_certs_leaf_spec){.cn = "recap-apiserver",
					      .dns = dns,
					      .n_dns = 2,
					      .ips = ips,
					      .n_ips = 2,
					      .usages = RECAP_CERTS_SERVER,
					      .validity_s = 30 * DAY};
}

static void new_ca(struct recap_certs_pair *ca, int64_t now, int64_t validity)
{
	struct recap_error *err = NULL;
	int r = recap_certs_ca_new("recap-ca", now, validity, ca, &err);
	if (r < 0)
		fail_msg("%s", recap_error_message(err));
}

static void issue(struct recap_certs_pair *ca, const struct recap_certs_leaf_spec *s, int64_t now,
		  struct recap_certs_pair *leaf)
{
	struct recap_error *err = NULL;
	int r = recap_certs_issue(ca, s, now, leaf, &err);
	if (r < 0)
		fail_msg("%s", recap_error_message(err));
}

/* OpenSSL's own chain verification at time t for purpose (X509_PURPOSE_*),
 * trusting the certificates of trust: X509_V_OK or the error. */
static int verify(X509 *leaf, X509 **trust, int n, int64_t t, int purpose)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	for (int i = 0; i < n; i++)
		X509_STORE_add_cert(store, trust[i]);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, NULL), 1);
	X509_VERIFY_PARAM *p = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(p, (time_t)t);
	X509_VERIFY_PARAM_set_purpose(p, purpose);
	int ok = X509_verify_cert(ctx);
	int e = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return e;
}

static void ca_is_a_ca(void **state)
{
	struct recap_certs_pair ca = {0};
	new_ca(&ca, NOW, 3 * 365 * DAY);
	assert_true(recap_certs_is_ca(ca.cert));
	assert_true(recap_certs_signed_by(ca.cert, ca.cert));
	int64_t nb, na;
	assert_int_equal(recap_certs_times(ca.cert, &nb, &na, NULL), 0);
	assert_int_equal(nb, NOW - RECAP_CERTS_BACKDATE_S);
	assert_int_equal(na, NOW + 3 * 365 * DAY);
	BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(ca.cert, NID_basic_constraints, NULL, NULL);
	assert_non_null(bc);
	assert_true(bc->ca);
	BASIC_CONSTRAINTS_free(bc);
	int crit = X509_get_ext_by_NID(ca.cert, NID_basic_constraints, -1);
	assert_true(X509_EXTENSION_get_critical(X509_get_ext(ca.cert, crit)));
	uint32_t ku = X509_get_key_usage(ca.cert);
	assert_true(ku & KU_KEY_CERT_SIGN);
	assert_true(ku & KU_CRL_SIGN);
	BIGNUM *serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(ca.cert), NULL);
	assert_int_equal(BN_num_bits(serial), 127); /* 128 bits, positive */
	BN_free(serial);
	char cn[64];
	assert_int_equal(recap_certs_cn(ca.cert, cn, sizeof(cn), NULL), 0);
	assert_string_equal(cn, "recap-ca");
	assert_null(recap_certs_ca_renewal(ca.cert, NOW));
	recap_certs_pair_clear(&ca);
}

static void leaf_chain_sans_usages(void **state)
{
	struct recap_certs_pair ca = {0}, srv = {0}, cli = {0};
	new_ca(&ca, NOW, 365 * DAY);
	struct recap_certs_leaf_spec s = server_spec();
	issue(&ca, &s, NOW, &srv);
	struct recap_certs_leaf_spec c = {
	    .cn = "recap-apiserver", .usages = RECAP_CERTS_CLIENT, .validity_s = DAY};
	issue(&ca, &c, NOW, &cli);

	assert_int_equal(verify(srv.cert, &ca.cert, 1, NOW + 60, X509_PURPOSE_SSL_SERVER), X509_V_OK);
	assert_int_equal(verify(cli.cert, &ca.cert, 1, NOW + 60, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
	/* usages are enforced: the client certificate cannot serve */
	assert_int_not_equal(verify(cli.cert, &ca.cert, 1, NOW + 60, X509_PURPOSE_SSL_SERVER), X509_V_OK);
	assert_int_not_equal(verify(srv.cert, &ca.cert, 1, NOW + 60, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
	assert_int_equal(verify(srv.cert, &ca.cert, 1, NOW + 31 * DAY, X509_PURPOSE_SSL_SERVER),
			 X509_V_ERR_CERT_HAS_EXPIRED);
	assert_int_equal(verify(srv.cert, &ca.cert, 1, NOW - 3600, X509_PURPOSE_SSL_SERVER),
			 X509_V_ERR_CERT_NOT_YET_VALID);

	assert_int_equal(X509_check_host(srv.cert, dns[0], 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(srv.cert, dns[1], 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(srv.cert, "caplet.recap-system.svc", 0, 0, NULL), 0);
	assert_int_equal(X509_check_ip_asc(srv.cert, "10.0.0.7", 0), 1);
	assert_int_equal(X509_check_ip_asc(srv.cert, "fd00::7", 0), 1);
	assert_true(recap_certs_sans_equal(srv.cert, &s));
	assert_int_equal(recap_certs_usages(srv.cert), RECAP_CERTS_SERVER);
	assert_int_equal(recap_certs_usages(cli.cert), RECAP_CERTS_CLIENT);
	assert_false(recap_certs_is_ca(srv.cert));
	assert_true(X509_get_key_usage(srv.cert) & KU_DIGITAL_SIGNATURE);
	assert_non_null(X509_get0_subject_key_id(srv.cert));
	assert_non_null(X509_get0_authority_key_id(srv.cert));
	assert_int_equal(
	    ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(srv.cert), X509_get0_subject_key_id(ca.cert)),
	    0);
	assert_true(recap_certs_signed_by(srv.cert, ca.cert));
	assert_null(recap_certs_leaf_renewal(srv.cert, ca.cert, &s, NOW));
	recap_certs_pair_clear(&ca);
	recap_certs_pair_clear(&srv);
	recap_certs_pair_clear(&cli);
}

/* A leaf never outlives its CA; another CA neither verifies nor counts as
 * the issuer. */
static void clamped_and_other_ca(void **state)
{
	struct recap_certs_pair ca = {0}, other = {0}, leaf = {0};
	new_ca(&ca, NOW, 10 * DAY);
	new_ca(&other, NOW, 10 * DAY);
	struct recap_certs_leaf_spec s = server_spec();
	issue(&ca, &s, NOW, &leaf);
	int64_t nb, na;
	assert_int_equal(recap_certs_times(leaf.cert, &nb, &na, NULL), 0);
	assert_int_equal(na, NOW + 10 * DAY);
	assert_false(recap_certs_signed_by(leaf.cert, other.cert));
	assert_int_not_equal(verify(leaf.cert, &other.cert, 1, NOW, X509_PURPOSE_SSL_SERVER), X509_V_OK);
	assert_string_equal(recap_certs_leaf_renewal(leaf.cert, other.cert, &s, NOW),
			    "it is not signed by the current CA");
	/* both trusted (a rotation's bundle): verifies */
	X509 *both[] = {other.cert, ca.cert};
	assert_int_equal(verify(leaf.cert, both, 2, NOW, X509_PURPOSE_SSL_SERVER), X509_V_OK);
	recap_certs_pair_clear(&ca);
	recap_certs_pair_clear(&other);
	recap_certs_pair_clear(&leaf);
}

/* Due at issuance + 2/3 of the lifetime, to the second. */
static void renewal_boundaries(void **state)
{
	struct recap_certs_pair ca = {0}, leaf = {0};
	new_ca(&ca, NOW, 300 * DAY);
	struct recap_certs_leaf_spec s = server_spec();
	s.validity_s = 30 * DAY;
	issue(&ca, &s, NOW, &leaf);
	int64_t due = NOW + 20 * DAY;
	assert_int_equal(recap_certs_due(leaf.cert), due);
	assert_null(recap_certs_leaf_renewal(leaf.cert, ca.cert, &s, due - 1));
	assert_string_equal(recap_certs_leaf_renewal(leaf.cert, ca.cert, &s, due),
			    "it is past 2/3 of its lifetime");
	assert_string_equal(recap_certs_leaf_renewal(leaf.cert, ca.cert, &s, NOW + 30 * DAY),
			    "it has expired");
	/* the CA: 200 days of 300 */
	assert_int_equal(recap_certs_due(ca.cert), NOW + 200 * DAY);
	assert_null(recap_certs_ca_renewal(ca.cert, NOW + 200 * DAY - 1));
	assert_non_null(recap_certs_ca_renewal(ca.cert, NOW + 200 * DAY));
	assert_string_equal(recap_certs_ca_renewal(leaf.cert, NOW), "it is not a CA");
	assert_string_equal(recap_certs_ca_renewal(NULL, NOW), "it does not parse");
	/* short lifetimes too (the integration test's 12 s) */
	struct recap_certs_pair l2 = {0};
	s.validity_s = 12;
	issue(&ca, &s, NOW, &l2);
	assert_int_equal(recap_certs_due(l2.cert), NOW + 8);
	assert_null(recap_certs_leaf_renewal(l2.cert, ca.cert, &s, NOW + 7));
	assert_non_null(recap_certs_leaf_renewal(l2.cert, ca.cert, &s, NOW + 8));
	recap_certs_pair_clear(&l2);
	recap_certs_pair_clear(&ca);
	recap_certs_pair_clear(&leaf);
}

/* Other names, usages or CN than wanted: renewed. */
static void renewal_on_change(void **state)
{
	struct recap_certs_pair ca = {0}, leaf = {0};
	new_ca(&ca, NOW, 300 * DAY);
	struct recap_certs_leaf_spec s = server_spec();
	issue(&ca, &s, NOW, &leaf);
	struct recap_certs_leaf_spec w = s;
	w.n_dns = 1;
	assert_string_equal(recap_certs_leaf_renewal(leaf.cert, ca.cert, &w, NOW),
			    "its SANs are not the ones wanted");
	const char *const other[] = {"recap-apiserver.other.svc", dns[1]};
	w = s;
	w.dns = other;
	assert_string_equal(recap_certs_leaf_renewal(leaf.cert, ca.cert, &w, NOW),
			    "its SANs are not the ones wanted");
	const char *const swapped[] = {dns[1], dns[0]};
	w = s;
	w.dns = swapped;
	assert_null(recap_certs_leaf_renewal(leaf.cert, ca.cert, &w, NOW));
	w = s;
	w.usages = RECAP_CERTS_SERVER | RECAP_CERTS_CLIENT;
	assert_string_equal(recap_certs_leaf_renewal(leaf.cert, ca.cert, &w, NOW),
			    "its extended key usages are not the ones wanted");
	w = s;
	w.cn = "caplet";
	assert_string_equal(recap_certs_leaf_renewal(leaf.cert, ca.cert, &w, NOW),
			    "its CN is not the one wanted");
	assert_string_equal(recap_certs_leaf_renewal(NULL, ca.cert, &s, NOW), "it does not parse");
	recap_certs_pair_clear(&ca);
	recap_certs_pair_clear(&leaf);
}

static void pem_round_trip(void **state)
{
	struct recap_certs_pair ca = {0}, leaf = {0}, back = {0}, ca2 = {0};
	struct recap_error *err = NULL;
	new_ca(&ca, NOW, 300 * DAY);
	new_ca(&ca2, NOW, 300 * DAY);
	struct recap_certs_leaf_spec s = server_spec();
	issue(&ca, &s, NOW, &leaf);
	char *cp = NULL, *kp = NULL, *bp = NULL;
	assert_int_equal(recap_certs_cert_pem(leaf.cert, &cp, NULL), 0);
	assert_int_equal(recap_certs_key_pem(leaf.key, &kp, NULL), 0);
	assert_non_null(strstr(cp, "-----BEGIN CERTIFICATE-----"));
	assert_non_null(strstr(kp, "-----BEGIN PRIVATE KEY-----"));
	assert_int_equal(recap_certs_pair_parse(cp, strlen(cp), kp, strlen(kp), &back, &err), 0);
	assert_int_equal(X509_cmp(back.cert, leaf.cert), 0);
	assert_int_equal(EVP_PKEY_eq(back.key, leaf.key), 1);
	recap_certs_pair_clear(&back);
	/* a key that is not the certificate's */
	char *k2 = NULL;
	assert_int_equal(recap_certs_key_pem(ca.key, &k2, NULL), 0);
	assert_int_equal(recap_certs_pair_parse(cp, strlen(cp), k2, strlen(k2), &back, &err), -EINVAL);
	assert_string_equal(recap_error_message(err), "the private key is not the certificate's");
	recap_error_free(err);
	err = NULL;
	/* bundles */
	STACK_OF(X509) *sk = sk_X509_new_null(), *got = NULL;
	sk_X509_push(sk, ca2.cert);
	sk_X509_push(sk, ca.cert);
	assert_int_equal(recap_certs_bundle_pem(sk, &bp, NULL), 0);
	assert_int_equal(recap_certs_bundle_parse(bp, strlen(bp), &got, NULL), 0);
	assert_int_equal(sk_X509_num(got), 2);
	assert_int_equal(X509_cmp(sk_X509_value(got, 0), ca2.cert), 0);
	assert_int_equal(X509_cmp(sk_X509_value(got, 1), ca.cert), 0);
	X509 *one = NULL;
	assert_int_equal(recap_certs_cert_parse(bp, strlen(bp), &one, &err), -EINVAL);
	assert_string_equal(recap_error_message(err), "2 certificates where one was expected");
	recap_error_free(err);
	sk_X509_pop_free(got, X509_free);
	sk_X509_free(sk);
	free(cp);
	free(kp);
	free(k2);
	free(bp);
	recap_certs_pair_clear(&ca);
	recap_certs_pair_clear(&ca2);
	recap_certs_pair_clear(&leaf);
}

static void expect_refused(const char *pem, bool key, const char *want)
{
	struct recap_error *err = NULL;
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	int r = key ? recap_certs_key_parse(pem, strlen(pem), &k, &err)
		    : recap_certs_cert_parse(pem, strlen(pem), &x, &err);
	assert_true(r < 0);
	assert_null(x);
	assert_null(k);
	if (!strstr(recap_error_message(err), want))
		fail_msg("\"%s\" does not say \"%s\"", recap_error_message(err), want);
	recap_error_free(err);
}

static void garbage_refused(void **state)
{
	expect_refused("hello", false, "no PEM certificate (no \"BEGIN CERTIFICATE\" line)");
	expect_refused("", false, "PEM certificates: empty");
	expect_refused("-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n", false,
		       "certificate 1 of the PEM data is not valid");
	expect_refused("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", false,
		       "certificate 1 of the PEM data is not valid");
	expect_refused("garbage", true, "not a PEM private key");
	expect_refused("", true, "PEM private key: empty");
	/* a good certificate followed by a broken one */
	struct recap_certs_pair ca = {0};
	new_ca(&ca, NOW, DAY);
	char *cp = NULL;
	assert_int_equal(recap_certs_cert_pem(ca.cert, &cp, NULL), 0);
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", cp);
	STACK_OF(X509) *sk = NULL;
	struct recap_error *err = NULL;
	assert_true(recap_certs_bundle_parse(buf, strlen(buf), &sk, &err) < 0);
	assert_null(sk);
	assert_non_null(strstr(recap_error_message(err), "certificate 2 of the PEM data is not valid"));
	recap_error_free(err);
	free(cp);
	recap_certs_pair_clear(&ca);
}

static void bad_specs(void **state)
{
	struct recap_certs_pair ca = {0}, leaf = {0};
	struct recap_error *err = NULL;
	new_ca(&ca, NOW, DAY);
	struct recap_certs_leaf_spec s = server_spec();
	const char *const evil[] = {"a.svc,DNS:evil.com"};
	s.dns = evil;
	s.n_dns = 1;
	assert_int_equal(recap_certs_issue(&ca, &s, NOW, &leaf, &err), -EINVAL);
	assert_string_equal(recap_error_message(err),
			    "issuing recap-apiserver: DNS SAN \"a.svc,DNS:evil.com\" is not valid");
	recap_error_free(err);
	err = NULL;
	s = server_spec();
	s.usages = 0;
	assert_int_equal(recap_certs_issue(&ca, &s, NOW, &leaf, &err), -EINVAL);
	recap_error_free(err);
	err = NULL;
	s = server_spec();
	assert_int_equal(recap_certs_issue(&ca, &s, NOW + 2 * DAY, &leaf, &err), -EINVAL);
	assert_string_equal(recap_error_message(err), "issuing recap-apiserver: the CA has expired");
	recap_error_free(err);
	err = NULL;
	assert_int_equal(recap_certs_ca_new("recap-ca", NOW, 0, &leaf, &err), -EINVAL);
	recap_error_free(err);
	assert_null(leaf.cert);
	recap_certs_pair_clear(&ca);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ca_is_a_ca),	    cmocka_unit_test(leaf_chain_sans_usages),
	    cmocka_unit_test(clamped_and_other_ca), cmocka_unit_test(renewal_boundaries),
	    cmocka_unit_test(renewal_on_change),    cmocka_unit_test(pem_round_trip),
	    cmocka_unit_test(garbage_refused),	    cmocka_unit_test(bad_specs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

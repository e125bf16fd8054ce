/* What the relay certificates' Secrets must hold (certs.c reads and
 * writes them): the CA and its trust bundle, and each leaf. No loop, no
 * network: from a Secret as read to the object to write, if any. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "controller/ctl.h"
#include "base/base64.h"

/* data.<key> of a Secret, decoded; NULL when absent or not base64. */
static char *secret_data(json_t *secret, const char *key, size_t *len)
{
	const char *b64 = json_string_value(recap_json_at(secret, "data", key, NULL));
	char *out = NULL;
	if (!b64 || recap_base64_decode(b64, strlen(b64), &out, len) < 0)
		return NULL;
	return out;
}

static char *base64(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

char *recap_ctl_certs_base64(const char *s)
{
	return base64(s);
}

/* old (as read, resourceVersion kept: the update's precondition) or a new
 * Secret, with data replaced by the keys and PEM values given. */
static json_t *secret_object(json_t *old, const char *ns, const char *name, const char *type,
			     const char *const *kv, size_t n)
{
	json_t *o = old ? json_deep_copy(old)
			: json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, s:s}", "apiVersion", "v1", "kind",
				    "Secret", "metadata", "name", name, "namespace", ns, "labels",
				    "app.kubernetes.io/name", "recap", "app.kubernetes.io/component",
				    "certificates", "type", type);
	json_t *data = json_object();
	for (size_t i = 0; o && data && i < n; i++) {
		char *v = base64(kv[2 * i + 1]);
		if (!v || json_object_set_new(data, kv[2 * i], json_string(v)) < 0) {
			free(v);
			json_decref(data);
			json_decref(o);
			return NULL;
		}
		free(v);
	}
	if (!o || !data || json_object_set_new(o, "data", data) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The bundle: ca first, then keep (a previous CA) unless NULL or expired. */
static int bundle_of(X509 *ca, X509 *keep, int64_t now, char **ret, struct recap_error **err)
{
	int64_t nb, na;
	STACK_OF(X509) *sk = sk_X509_new_null();
	if (!sk || !sk_X509_push(sk, ca)) {
		sk_X509_free(sk);
		return recap_error_set(err, ENOMEM, "out of memory");
	}
	if (keep && X509_cmp(keep, ca) != 0 && recap_certs_is_ca(keep) &&
	    recap_certs_times(keep, &nb, &na, NULL) >= 0 && na > now)
		sk_X509_push(sk, keep);
	int r = recap_certs_bundle_pem(sk, ret, err);
	sk_X509_free(sk); /* the certificates are the callers' */
	return r;
}

/* The previous CA the bundle of the Secret still trusts: its first
 * certificate that is not current. */
static X509 *previous_of(json_t *secret, X509 *current)
{
	size_t len = 0;
	_cleanup_free_ char *pem = secret_data(secret, "ca.crt", &len);
	STACK_OF(X509) *sk = NULL;
	X509 *prev = NULL;
	if (!pem || recap_certs_bundle_parse(pem, len, &sk, NULL) < 0)
		return NULL;
	for (int i = 0; !prev && i < sk_X509_num(sk); i++)
		if (!current || X509_cmp(sk_X509_value(sk, i), current) != 0)
			prev = X509_dup(sk_X509_value(sk, i));
	sk_X509_pop_free(sk, X509_free);
	return prev;
}

/* The CA the Secret holds, or why it must be replaced. */
static const char *read_ca(json_t *secret, int64_t now, struct recap_certs_pair *ret)
{
	size_t cl = 0, kl = 0;
	_cleanup_free_ char *crt = secret_data(secret, "tls.crt", &cl);
	_cleanup_free_ char *key = secret_data(secret, "tls.key", &kl);
	if (!secret)
		return "there is none";
	if (!crt || !key || recap_certs_pair_parse(crt, cl, key, kl, ret, NULL) < 0)
		return "its certificate or key does not parse";
	const char *why = recap_certs_ca_renewal(ret->cert, now);
	if (why)
		recap_certs_pair_clear(ret);
	return why;
}

static bool data_equal(json_t *secret, const char *key, const char *want)
{
	size_t len = 0;
	_cleanup_free_ char *have = secret_data(secret, key, &len);
	return have && len == strlen(want) && memcmp(have, want, len) == 0;
}

static int ca_write(json_t *secret, const char *ns, struct recap_certs_pair *ca, const char *bundle,
		    json_t **ret, struct recap_error **err)
{
	_cleanup_free_ char *crt = NULL, *key = NULL;
	int r = recap_certs_cert_pem(ca->cert, &crt, err);
	if (r >= 0)
		r = recap_certs_key_pem(ca->key, &key, err);
	if (r < 0)
		return r;
	const char *kv[] = {"tls.crt", crt, "tls.key", key, "ca.crt", bundle};
	*ret = secret_object(secret, ns, CTL_CERTS_CA_SECRET, "Opaque", kv, 3);
	return *ret ? 0 : recap_error_set(err, ENOMEM, "out of memory");
}

int recap_ctl_certs_plan_ca(json_t *secret, const char *ns, int64_t now, int64_t validity_s,
			    struct recap_certs_pair *ca, char **bundle, json_t **ret_write,
			    const char **ret_why, struct recap_error **err)
{
	struct recap_certs_pair cur = {0};
	const char *why = read_ca(secret, now, &cur);
	X509 *prev = why ? NULL : previous_of(secret, cur.cert);
	if (why) { /* a new CA; the one it replaces stays trusted until it expires */
		char cn[64];
		snprintf(cn, sizeof(cn), "recap-ca-%lld", (long long)now);
		size_t cl = 0;
		_cleanup_free_ char *old = secret_data(secret, "tls.crt", &cl);
		if (old)
			recap_certs_cert_parse(old, cl, &prev, NULL);
		int r = recap_certs_ca_new(cn, now, validity_s, &cur, err);
		if (r < 0) {
			X509_free(prev);
			return r;
		}
	}
	char *b = NULL;
	int r = bundle_of(cur.cert, prev, now, &b, err);
	X509_free(prev);
	*ret_write = NULL;
	if (r >= 0 && (why || !data_equal(secret, "ca.crt", b)))
		r = ca_write(secret, ns, &cur, b, ret_write, err);
	if (r < 0) {
		free(b);
		recap_certs_pair_clear(&cur);
		return r;
	}
	*ca = cur;
	*bundle = b;
	*ret_why = why;
	return 0;
}

/* Why the leaf the Secret holds must be replaced; NULL: it may stay. */
static const char *leaf_renewal(json_t *secret, const struct recap_certs_leaf_spec *spec, X509 *ca,
				int64_t now)
{
	struct recap_certs_pair p = {0};
	size_t cl = 0, kl = 0;
	_cleanup_free_ char *crt = secret_data(secret, "tls.crt", &cl);
	_cleanup_free_ char *key = secret_data(secret, "tls.key", &kl);
	if (!secret)
		return "there is none";
	if (!crt || !key || recap_certs_pair_parse(crt, cl, key, kl, &p, NULL) < 0)
		return "its certificate or key does not parse";
	const char *why = recap_certs_leaf_renewal(p.cert, ca, spec, now);
	recap_certs_pair_clear(&p);
	return why;
}

static int leaf_issue(json_t *secret, const char *ns, const char *name,
		      const struct recap_certs_leaf_spec *spec, const struct recap_certs_pair *ca,
		      const char *bundle, int64_t now, json_t **ret, int64_t *ret_not_after,
		      struct recap_error **err)
{
	struct recap_certs_pair leaf = {0};
	_cleanup_free_ char *crt = NULL, *key = NULL;
	int64_t nb;
	int r = recap_certs_issue(ca, spec, now, &leaf, err);
	if (r >= 0)
		r = recap_certs_times(leaf.cert, &nb, ret_not_after, err);
	if (r >= 0)
		r = recap_certs_cert_pem(leaf.cert, &crt, err);
	if (r >= 0)
		r = recap_certs_key_pem(leaf.key, &key, err);
	recap_certs_pair_clear(&leaf);
	if (r < 0)
		return r;
	const char *kv[] = {"tls.crt", crt, "tls.key", key, "ca.crt", bundle};
	*ret = secret_object(secret, ns, name, CTL_CERTS_TLS_TYPE, kv, 3);
	return *ret ? 0 : recap_error_set(err, ENOMEM, "out of memory");
}

int recap_ctl_certs_plan_leaf(json_t *secret, const char *ns, const char *name,
			      const struct recap_certs_leaf_spec *spec, const struct recap_certs_pair *ca,
			      const char *bundle, int64_t now, json_t **ret_write, const char **ret_why,
			      int64_t *ret_not_after, struct recap_error **err)
{
	const char *type = json_string_value(json_object_get(secret, "type"));
	if (secret && (!type || strcmp(type, CTL_CERTS_TLS_TYPE) != 0))
		return recap_error_set(err, EINVAL,
				       "Secret %s/%s has type %s, not %s (the type cannot change: "
				       "delete it to have it made again)",
				       ns, name, type ? type : "(none)", CTL_CERTS_TLS_TYPE);
	const char *why = leaf_renewal(secret, spec, ca->cert, now);
	*ret_write = NULL;
	*ret_why = why;
	if (why)
		return leaf_issue(secret, ns, name, spec, ca, bundle, now, ret_write, ret_not_after, err);
	if (data_equal(secret, "ca.crt", bundle))
		return 0;
	/* the same leaf, the new trust bundle */
	size_t cl = 0, kl = 0;
	_cleanup_free_ char *crt = secret_data(secret, "tls.crt", &cl);
	_cleanup_free_ char *key = secret_data(secret, "tls.key", &kl);
	const char *kv[] = {"tls.crt", crt, "tls.key", key, "ca.crt", bundle};
	*ret_write = secret_object(secret, ns, name, CTL_CERTS_TLS_TYPE, kv, 3);
	return *ret_write ? 0 : recap_error_set(err, ENOMEM, "out of memory");
}

#include "oci/signature.h"

#include <errno.h>
#include <stdarg.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/base64.h"
#include "base/cleanup.h"
#include "base/fileio.h"
#include "base/json.h"
#include "oci/manifest.h"
#include "oci/ref.h"

struct recap_oci_sig_key {
	EVP_PKEY *pkey;
	int pure; /* Ed25519: no digest, the message itself is signed */
	char *name;
};

/* Reasons at most listed in a refusal. */
#define REASONS_MAX 4

void recap_oci_sig_key_free(struct recap_oci_sig_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k->name);
	free(k);
}

const char *recap_oci_sig_key_name(const struct recap_oci_sig_key *k)
{
	return k->name;
}

static int key_type_ok(const char *name, EVP_PKEY *pkey, int *pure, struct recap_error **err)
{
	*pure = 0;
	if (EVP_PKEY_is_a(pkey, "ED25519")) {
		*pure = 1;
		return 0;
	}
	if (EVP_PKEY_is_a(pkey, "RSA")) {
		if (EVP_PKEY_get_bits(pkey) < 2048)
			return recap_error_set(err, EINVAL, "%s: an RSA key of %d bits (at least 2048)", name,
					       EVP_PKEY_get_bits(pkey));
		return 0;
	}
	if (EVP_PKEY_is_a(pkey, "EC")) {
		char curve[64] = "";
		size_t n = 0;
		if (EVP_PKEY_get_utf8_string_param(pkey, "group", curve, sizeof(curve), &n) != 1)
			return recap_error_set(err, EINVAL, "%s: an EC key of an unnamed curve", name);
		if (strcmp(curve, "prime256v1") && strcmp(curve, "P-256") && strcmp(curve, "secp384r1") &&
		    strcmp(curve, "P-384") && strcmp(curve, "secp521r1") && strcmp(curve, "P-521"))
			return recap_error_set(
			    err, EINVAL, "%s: an EC key on %s (P-256, P-384 or P-521 only)", name, curve);
		return 0;
	}
	return recap_error_set(err, EINVAL, "%s: a %s key (EC, RSA or Ed25519 only)", name,
			       EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "unknown");
}

int recap_oci_sig_key_parse(const char *name, const char *pem, size_t len, struct recap_oci_sig_key **ret,
			    struct recap_error **err)
{
	if (len > RECAP_OCI_SIG_KEY_FILE_MAX)
		return recap_error_set(err, EFBIG, "%s: a key file of %zu bytes (limit %d)", name, len,
				       RECAP_OCI_SIG_KEY_FILE_MAX);
	if (memmem(pem, len, "PRIVATE KEY-----", 16))
		return recap_error_set(err, EINVAL,
				       "%s holds a private key: give the public key (cosign.pub, "
				       "-----BEGIN PUBLIC KEY-----)",
				       name);
	if (!memmem(pem, len, "-----BEGIN PUBLIC KEY-----", 26))
		return recap_error_set(err, EINVAL, "%s: no PEM public key (-----BEGIN PUBLIC KEY-----)",
				       name);
	const char *first = memmem(pem, len, "-----BEGIN ", 11);
	if (first && memmem(first + 11, len - (size_t)(first + 11 - pem), "-----BEGIN ", 11))
		return recap_error_set(err, EINVAL,
				       "%s holds more than one PEM block: one public key per file", name);
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return -ENOMEM;
	EVP_PKEY *pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!pkey) {
		ERR_clear_error();
		return recap_error_set(err, EINVAL, "%s: the PEM public key does not parse", name);
	}
	struct recap_oci_sig_key *k = calloc(1, sizeof(*k));
	int r = k ? key_type_ok(name, pkey, &k->pure, err) : -ENOMEM;
	if (r >= 0 && !(k->name = strdup(name)))
		r = -ENOMEM;
	if (r < 0) {
		EVP_PKEY_free(pkey);
		if (k)
			free(k->name);
		free(k);
		return r;
	}
	k->pkey = pkey;
	*ret = k;
	return 0;
}

int recap_oci_sig_key_load(const char *path, struct recap_oci_sig_key **ret, struct recap_error **err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r = recap_read_file(path, RECAP_OCI_SIG_KEY_FILE_MAX, &data, &len, err);
	if (r < 0)
		return recap_error_wrap(err, -r, "key %s", path);
	return recap_oci_sig_key_parse(path, data, len, ret, err);
}

int recap_oci_sig_check(const struct recap_oci_sig_key *key, const void *data, size_t len, const char *b64,
			struct recap_error **err)
{
	if (strlen(b64) > RECAP_OCI_SIG_B64_MAX)
		return recap_error_set(err, E2BIG, "a signature of %zu base64 characters (limit %d)",
				       strlen(b64), RECAP_OCI_SIG_B64_MAX);
	unsigned char sig[RECAP_OCI_SIG_B64_MAX / 4 * 3];
	long n = recap_base64_decode_canonical(b64, sig, sizeof(sig));
	if (n < 0)
		return recap_error_set(err, EBADMSG, "the signature annotation is not base64");
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	int ok = EVP_DigestVerifyInit(ctx, NULL, key->pure ? NULL : EVP_sha256(), NULL, key->pkey) == 1 &&
		 EVP_DigestVerify(ctx, sig, (size_t)n, data, len) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	if (!ok)
		return recap_error_set(err, EKEYREJECTED, "does not verify with %s", key->name);
	return 0;
}

/* Wraps *err with what and makes code its code (a JSON or digest error of
 * what a registry sent is a malformed signature, not a caller's EINVAL). */
static int recode(struct recap_error **err, int code, const char *what)
{
	recap_error_wrap(err, code, "%s", what);
	if (err && *err)
		(*err)->code = code;
	return -code;
}

int recap_oci_sig_payload_check(const char *payload, size_t len, const char *digest, struct recap_error **err)
{
	_cleanup_json_ json_t *j = NULL;
	int r = recap_json_parse(payload, len, RECAP_OCI_SIG_PAYLOAD_MAX, &j, err);
	if (r < 0)
		return recode(err, r == -EFBIG ? EFBIG : EBADMSG, "payload");
	if (!json_is_object(j))
		return recap_error_set(err, EBADMSG, "payload is not a JSON object");
	json_t *critical = json_object_get(j, "critical");
	if (!json_is_object(critical))
		return recap_error_set(err, EBADMSG, "payload has no 'critical' object");
	const char *type = json_string_value(json_object_get(critical, "type"));
	if (!type)
		return recap_error_set(err, EBADMSG, "payload has no critical.type");
	if (strcmp(type, RECAP_OCI_SIG_TYPE) != 0)
		return recap_error_set(err, EBADMSG, "payload's critical.type is '%.64s', not '%s'", type,
				       RECAP_OCI_SIG_TYPE);
	const char *d =
	    json_string_value(recap_json_at(critical, "image", "docker-manifest-digest", (const char *)NULL));
	if (!d)
		return recap_error_set(err, EBADMSG, "payload has no critical.image.docker-manifest-digest");
	r = recap_oci_digest_validate(d, err);
	if (r < 0)
		return recode(err, EBADMSG, "payload's critical.image.docker-manifest-digest");
	if (strcmp(d, digest) != 0)
		return recap_error_set(err, ESTALE, "is for %s, not %s (a signature of another image)", d,
				       digest);
	return 0;
}

static void layer_problem(struct recap_oci_sig_layer *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void layer_problem(struct recap_oci_sig_layer *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->problem, sizeof(l->problem), fmt, ap);
	va_end(ap);
}

static void parse_layer(json_t *j, struct recap_oci_sig_layer *l)
{
	const char *digest = json_string_value(json_object_get(j, "digest"));
	json_t *size = json_object_get(j, "size");
	json_t *ann = json_object_get(j, "annotations");
	const char *b64 = json_string_value(json_object_get(ann, RECAP_OCI_SIG_ANNOTATION));
	if (!digest || recap_oci_digest_validate(digest, NULL) < 0) {
		layer_problem(l, "the payload's descriptor has no valid digest");
		return;
	}
	snprintf(l->digest, sizeof(l->digest), "%s", digest);
	if (!json_is_integer(size) || json_integer_value(size) < 0) {
		layer_problem(l, "the payload's descriptor has no valid size");
		return;
	}
	l->size = json_integer_value(size);
	if (l->size > RECAP_OCI_SIG_PAYLOAD_MAX) {
		layer_problem(l, "a payload of %lld bytes (limit %d)", (long long)l->size,
			      RECAP_OCI_SIG_PAYLOAD_MAX);
		return;
	}
	if (!b64) {
		layer_problem(l, "no %s annotation", RECAP_OCI_SIG_ANNOTATION);
		return;
	}
	if (strlen(b64) > RECAP_OCI_SIG_B64_MAX) {
		layer_problem(l, "a signature of %zu base64 characters (limit %d)", strlen(b64),
			      RECAP_OCI_SIG_B64_MAX);
		return;
	}
	strcpy(l->b64, b64);
}

int recap_oci_sig_manifest_parse(const char *data, size_t len, struct recap_oci_sig_layer **ret, size_t *n,
				 struct recap_error **err)
{
	*ret = NULL;
	*n = 0;
	_cleanup_json_ json_t *j = NULL;
	int r = recap_json_parse(data, len, RECAP_OCI_SIG_MANIFEST_MAX, &j, err);
	if (r < 0)
		return recode(err, r == -EFBIG ? EFBIG : EBADMSG, "signature manifest");
	json_t *layers = json_object_get(j, "layers");
	if (!json_is_array(layers))
		return recap_error_set(err, EBADMSG, "signature manifest has no 'layers' array");
	size_t total = json_array_size(layers);
	if (total > RECAP_OCI_SIG_LAYERS_MAX)
		return recap_error_set(err, E2BIG, "signature manifest has %zu layers (limit %d)", total,
				       RECAP_OCI_SIG_LAYERS_MAX);
	struct recap_oci_sig_layer *out = calloc(total ? total : 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < total; i++) {
		json_t *l = json_array_get(layers, i);
		const char *mt = json_string_value(json_object_get(l, "mediaType"));
		if (!mt || strcmp(mt, RECAP_OCI_SIG_MT_SIMPLESIGNING) != 0)
			continue;
		parse_layer(l, &out[k++]);
	}
	if (k == 0) {
		free(out);
		return recap_error_set(err, EBADMSG, "signature manifest has no layer of type %s",
				       RECAP_OCI_SIG_MT_SIMPLESIGNING);
	}
	*ret = out;
	*n = k;
	return 0;
}

static int buf_sink(void *ud, const void *data, size_t n, struct recap_error **err)
{
	if (recap_buf_append(ud, data, n) < 0)
		return recap_error_set(err, EFBIG, "response larger than %zu bytes",
				       ((struct recap_buf *)ud)->max);
	return 0;
}

static int buf_reset(void *ud, struct recap_error **err)
{
	recap_buf_reset(ud);
	return 0;
}

/* The payload of l: fetched, its size and digest checked. */
static int fetch_payload(struct recap_oci_registry *r, const struct recap_oci_sig_layer *l,
			 struct recap_buf *b, struct recap_error **err)
{
	struct recap_oci_http_resp resp = {0};
	int rc = recap_oci_registry_get(r, "blobs", l->digest, NULL, RECAP_OCI_SIG_PAYLOAD_MAX, buf_sink,
					buf_reset, b, &resp, err);
	if (rc == -ENOENT && resp.status == 404)
		return recap_error_set(err, EBADMSG, "payload %s is not in the repository", l->digest);
	if (rc < 0)
		return recap_error_wrap(err, -rc, "payload %s", l->digest);
	if (b->len != (size_t)l->size)
		return recap_error_set(err, EBADMSG, "payload %s has %zu bytes, its descriptor says %lld",
				       l->digest, b->len, (long long)l->size);
	char got[RECAP_OCI_DIGEST_MAX];
	recap_oci_digest_buf(b->data ? b->data : "", b->len, got);
	if (strcmp(got, l->digest) != 0)
		return recap_error_set(err, EBADMSG, "payload digest mismatch: expected %s, content has %s",
				       l->digest, got);
	return 0;
}

/* Ranks a layer's refusal: the most telling one names the verdict. */
static int rank(int code)
{
	return code == ESTALE ? 3 : code == EKEYREJECTED ? 2 : 1;
}

struct verdict {
	int code; /* positive errno of the most telling refusal so far */
	size_t n; /* refusals */
	struct recap_buf why;
};

static void refuse(struct verdict *v, size_t i, int code, const char *msg)
{
	if (!v->code || rank(code) > rank(v->code))
		v->code = code;
	if (v->n++ < REASONS_MAX)
		recap_buf_printf(&v->why, "%ssignature %zu: %s", v->n > 1 ? "; " : "", i + 1, msg);
}

/* The keys on one payload: 0 when a key verifies the signature and the
 * payload names digest (*key set), else refused into v. */
static int try_keys(const struct recap_oci_sig_layer *l, size_t i, const struct recap_buf *payload,
		    const char *digest, struct recap_oci_sig_key *const *keys, size_t n_keys, size_t *key,
		    struct verdict *v)
{
	const char *data = payload->data ? payload->data : "";
	for (size_t k = 0; k < n_keys; k++) {
		_cleanup_error_ struct recap_error *e = NULL;
		int rc = recap_oci_sig_check(keys[k], data, payload->len, l->b64, &e);
		if (rc == -EBADMSG || rc == -E2BIG) { /* the same for every key */
			refuse(v, i, -rc, recap_error_message(e));
			return 1;
		}
		if (rc < 0)
			continue;
		recap_error_free(steal_ptr(e));
		rc = recap_oci_sig_payload_check(data, payload->len, digest, &e);
		if (rc >= 0) {
			*key = k;
			return 0;
		}
		_cleanup_free_ char *msg = NULL;
		if (asprintf(&msg, "verifies with %s but %s", keys[k]->name, recap_error_message(e)) < 0)
			msg = NULL;
		refuse(v, i, -rc, msg ? msg : recap_error_message(e));
		return 1;
	}
	struct recap_buf names = RECAP_BUF_INIT(4096);
	for (size_t k = 0; k < n_keys; k++)
		recap_buf_printf(&names, "%s%s", k ? ", " : "", keys[k]->name);
	_cleanup_free_ char *msg = NULL;
	if (asprintf(&msg,
		     "does not verify with %s (signed by another key, or its payload was altered after "
		     "signing)",
		     names.data ? names.data : "") < 0)
		msg = NULL;
	recap_buf_free(&names);
	refuse(v, i, EKEYREJECTED, msg ? msg : "does not verify");
	return 1;
}

/* One signature: 0 when accepted (*key set), 1 when refused into v.
 * Errors of the registry itself (not reachable, denied) are returned. */
static int check_layer(struct recap_oci_registry *r, const struct recap_oci_sig_layer *l, size_t i,
		       const char *digest, struct recap_oci_sig_key *const *keys, size_t n_keys, size_t *key,
		       struct verdict *v, struct recap_error **err)
{
	if (l->problem[0]) {
		refuse(v, i, EBADMSG, l->problem);
		return 1;
	}
	struct recap_buf payload = RECAP_BUF_INIT(RECAP_OCI_SIG_PAYLOAD_MAX);
	_cleanup_error_ struct recap_error *e = NULL;
	int rc = fetch_payload(r, l, &payload, &e);
	if (rc == -EBADMSG || rc == -EFBIG) {
		refuse(v, i, -rc, recap_error_message(e));
		rc = 1;
	} else if (rc < 0) {
		if (err && !*err)
			*err = steal_ptr(e);
	} else {
		rc = try_keys(l, i, &payload, digest, keys, n_keys, key, v);
	}
	recap_buf_free(&payload);
	return rc;
}

static int get_sig_manifest(struct recap_oci_registry *r, const char *digest, const char *tag,
			    struct recap_buf *body, struct recap_error **err)
{
	struct recap_oci_http_resp resp = {0};
	_cleanup_error_ struct recap_error *e = NULL;
	int rc = recap_oci_registry_get(r, "manifests", tag,
					RECAP_OCI_MT_MANIFEST ", " RECAP_OCI_MT_DOCKER_MANIFEST,
					RECAP_OCI_SIG_MANIFEST_MAX, buf_sink, buf_reset, body, &resp, &e);
	if (rc == -ENOENT && resp.status == 404)
		return recap_error_set(err, ENOENT, "%s is not signed: %s/%s has no signature tag %s", digest,
				       r->host, r->repository, tag);
	if (rc < 0) {
		if (err && !*err)
			*err = steal_ptr(e);
		return recap_error_wrap(err, -rc, "signature manifest %s/%s:%s", r->host, r->repository, tag);
	}
	return 0;
}

int recap_oci_verify_signature(struct recap_oci_registry *r, const char *digest,
			       struct recap_oci_sig_key *const *keys, size_t n_keys,
			       struct recap_oci_sig_result *ret, struct recap_error **err)
{
	int rc = recap_oci_digest_validate(digest, err);
	if (rc < 0)
		return rc;
	if (n_keys == 0 || n_keys > RECAP_OCI_SIG_KEYS_MAX)
		return recap_error_set(err, EINVAL, "%zu keys to verify with (1 to %d)", n_keys,
				       RECAP_OCI_SIG_KEYS_MAX);
	char tag[RECAP_OCI_DIGEST_MAX + 8];
	snprintf(tag, sizeof(tag), "sha256-%s.sig", recap_oci_digest_hex(digest));
	struct recap_buf body = RECAP_BUF_INIT(RECAP_OCI_SIG_MANIFEST_MAX);
	_cleanup_free_ struct recap_oci_sig_layer *layers = NULL;
	size_t n = 0;
	rc = get_sig_manifest(r, digest, tag, &body, err);
	if (rc >= 0)
		rc = recap_oci_sig_manifest_parse(body.data ? body.data : "", body.len, &layers, &n, err);
	recap_buf_free(&body);
	if (rc == -ENOENT)
		return rc;
	if (rc < 0)
		return recap_error_wrap(err, -rc, "signature of %s", digest);
	struct verdict v = {.why = RECAP_BUF_INIT(4096)};
	for (size_t i = 0; i < n; i++) {
		size_t key = 0;
		rc = check_layer(r, &layers[i], i, digest, keys, n_keys, &key, &v, err);
		if (rc < 0)
			break;
		if (rc == 0) {
			memset(ret, 0, sizeof(*ret));
			snprintf(ret->digest, sizeof(ret->digest), "%s", digest);
			ret->key = key;
			ret->signature = i;
			ret->n_signatures = n;
			recap_buf_free(&v.why);
			return 0;
		}
	}
	if (rc >= 0)
		rc = recap_error_set(err, v.code, "%s: %s (%zu signature%s in %s/%s:%s): %s%s", digest,
				     v.code == ESTALE	      ? "no signature for this digest"
				     : v.code == EKEYREJECTED ? "no signature verifies with the given keys"
							      : "no usable signature",
				     n, n == 1 ? "" : "s", r->host, r->repository, tag,
				     v.why.data ? v.why.data : "", v.n > REASONS_MAX ? "; ..." : "");
	else
		rc = recap_error_wrap(err, -rc, "signature of %s", digest);
	recap_buf_free(&v.why);
	return rc;
}

int recap_oci_verify_ref(const char *refstr, const struct recap_oci_registry_opts *opts,
			 struct recap_oci_sig_key *const *keys, size_t n_keys,
			 struct recap_oci_sig_result *ret, struct recap_error **err)
{
	_cleanup_oci_ref_ struct recap_oci_ref *ref = NULL;
	int rc = recap_oci_ref_parse(refstr, &ref, err);
	if (rc < 0)
		return rc;
	if (ref->kind != RECAP_OCI_REF_REGISTRY)
		return recap_error_set(
		    err, EINVAL, "%s: signatures are verified for registry references only", ref->canonical);
	struct recap_oci_registry *r = NULL;
	rc = recap_oci_registry_new(ref, opts, &r, err);
	if (rc < 0)
		return rc;
	struct recap_buf body = RECAP_BUF_INIT(RECAP_OCI_MANIFEST_MAX);
	struct recap_oci_http_resp resp = {0};
	const char *reference = ref->digest ? ref->digest : ref->tag;
	char digest[RECAP_OCI_DIGEST_MAX];
	rc = recap_oci_registry_get(r, "manifests", reference, RECAP_OCI_ACCEPT_MANIFESTS,
				    RECAP_OCI_MANIFEST_MAX, buf_sink, buf_reset, &body, &resp, err);
	if (rc == -ENOENT && resp.status == 404)
		rc = recap_error_wrap(err, ENOENT, "manifest %s:%s not found in %s", r->repository, reference,
				      r->host);
	if (rc >= 0)
		rc = recap_oci_digest_buf(body.data ? body.data : "", body.len, digest);
	if (rc >= 0 && ref->digest && strcmp(ref->digest, digest) != 0)
		rc = recap_error_set(err, EBADMSG, "manifest digest mismatch: expected %s, content has %s",
				     ref->digest, digest);
	struct recap_oci_manifest *m = NULL;
	if (rc >= 0)
		rc = recap_oci_manifest_parse(body.data ? body.data : "", body.len, resp.content_type, &m,
					      err);
	recap_oci_manifest_free(m);
	recap_buf_free(&body);
	if (rc >= 0)
		rc = recap_oci_verify_signature(r, digest, keys, n_keys, ret, err);
	recap_oci_registry_free(r);
	if (rc < 0)
		return recap_error_wrap(err, -rc, "verifying %s", ref->canonical);
	return 0;
}

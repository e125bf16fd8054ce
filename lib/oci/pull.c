#include "oci/pull.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/timeutil.h"
#include "oci/images.h"
#include "oci/manifest.h"
#include "oci/source.h"

void recap_oci_pull_opts_default(struct recap_oci_pull_opts *o)
{
	memset(o, 0, sizeof(*o));
	recap_oci_unpack_limits_default(&o->unpack);
	o->max_blob = 4ULL << 30;
	o->os = "linux";
	o->arch = recap_oci_platform_arch();
	o->timeout_s = RECAP_OCI_PULL_TIMEOUT_S;
}

/* Fetches a manifest, checks it against `want` (when known) and stores it. */
static int fetch_manifest(struct oci_source *src, struct recap_oci_store *s, const char *reference,
			  const char *want, char digest[RECAP_OCI_DIGEST_MAX],
			  struct recap_oci_manifest **ret, struct recap_error **err)
{
	struct recap_buf body = RECAP_BUF_INIT(RECAP_OCI_MANIFEST_MAX);
	char ct[256] = "";
	int r = src->get_manifest(src, reference, &body, ct, err);
	if (r >= 0)
		r = recap_oci_digest_buf(body.data ? body.data : "", body.len, digest);
	if (r >= 0 && want && strcmp(want, digest) != 0)
		r = recap_error_set(err, EBADMSG, "manifest digest mismatch: expected %s, content has %s",
				    want, digest);
	if (r >= 0)
		r = recap_oci_manifest_parse(body.data ? body.data : "", body.len, ct, ret, err);
	if (r >= 0)
		r = recap_oci_store_put_blob(s, digest, body.data ? body.data : "", body.len, err);
	recap_buf_free(&body);
	if (r < 0)
		recap_oci_manifest_free(steal_ptr(*ret));
	return r;
}

/* Tag or digest -> the platform's manifest (through an index if needed). */
static int resolve(struct oci_source *src, struct recap_oci_store *s, const struct recap_oci_ref *ref,
		   const struct recap_oci_pull_opts *o, char index_digest[RECAP_OCI_DIGEST_MAX],
		   char digest[RECAP_OCI_DIGEST_MAX], struct recap_oci_manifest **ret,
		   struct recap_error **err)
{
	const char *reference = ref->digest ? ref->digest : ref->tag;
	_cleanup_oci_manifest_ struct recap_oci_manifest *top = NULL;
	int r = fetch_manifest(src, s, reference, ref->digest, digest, &top, err);
	if (r < 0)
		return r;
	index_digest[0] = '\0';
	if (top->kind == RECAP_OCI_MANIFEST) {
		*ret = steal_ptr(top);
		return 0;
	}
	const struct recap_oci_descriptor *d;
	r = recap_oci_index_select(top, o->os, o->arch, o->variant, &d, err);
	if (r < 0)
		return r;
	memcpy(index_digest, digest, RECAP_OCI_DIGEST_MAX);
	_cleanup_oci_manifest_ struct recap_oci_manifest *m = NULL;
	r = fetch_manifest(src, s, d->digest, d->digest, digest, &m, err);
	if (r < 0)
		return recap_error_wrap(err, -r, "platform manifest %s", d->digest);
	if (m->kind != RECAP_OCI_MANIFEST)
		return recap_error_set(err, EMEDIUMTYPE, "index entry %s for %s/%s is not an image manifest",
				       d->digest, o->os, o->arch);
	*ret = steal_ptr(m);
	return 0;
}

/* A blob already in the store was verified when it was written. */
static int ensure_blob(struct oci_source *src, struct recap_oci_store *s,
		       const struct recap_oci_descriptor *d, uint64_t max, size_t *fetched,
		       struct recap_error **err)
{
	char name[80];
	snprintf(name, sizeof(name), "blob-%s", recap_oci_digest_hex(d->digest));
	_cleanup_close_ int lock = recap_oci_store_lock(s, name, 1, err);
	if (lock < 0)
		return lock;
	if (recap_oci_store_has_blob(s, d->digest))
		return 0;
	int r = src->get_blob(src, d, s, max, err);
	if (r < 0)
		return recap_error_wrap(err, -r, "blob %s", d->digest);
	(*fetched)++;
	return 0;
}

static int check_config(struct recap_oci_store *s, const struct recap_oci_manifest *m,
			const struct recap_oci_pull_opts *o, struct recap_error **err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r = recap_oci_store_read_blob(s, m->config.digest, RECAP_OCI_CONFIG_MAX, &data, &len, err);
	if (r < 0)
		return r;
	struct recap_oci_config *c = NULL;
	r = recap_oci_config_parse(data, len, &c, err);
	if (r < 0)
		return r;
	if (c->n_diff_ids && c->n_diff_ids != m->n_items)
		r = recap_error_set(err, EBADMSG, "image config lists %zu layers, the manifest %zu",
				    c->n_diff_ids, m->n_items);
	recap_oci_config_free(c);
	return r;
}

static int fetch_content(struct oci_source *src, struct recap_oci_store *s,
			 const struct recap_oci_manifest *m, const struct recap_oci_pull_opts *o,
			 struct recap_oci_pull_result *res, struct recap_error **err)
{
	int r = ensure_blob(src, s, &m->config, RECAP_OCI_CONFIG_MAX, &res->blobs_fetched, err);
	if (r >= 0)
		r = check_config(s, m, o, err);
	for (size_t i = 0; r >= 0 && i < m->n_items; i++) {
		r = ensure_blob(src, s, &m->items[i], o->max_blob, &res->blobs_fetched, err);
		if (r >= 0)
			r = recap_oci_unpack_layer(s, m->items[i].digest, &o->unpack, err);
	}
	res->n_layers = m->n_items;
	return r;
}

static int open_source(const struct recap_oci_ref *ref, const struct recap_oci_pull_opts *o,
		       struct oci_source **ret, struct recap_error **err)
{
	if (ref->kind == RECAP_OCI_REF_LAYOUT)
		return recap_oci_source_layout(ref, ret, err);
	struct recap_oci_registry_opts ro = o->registry;
	ro.deadline_s = o->timeout_s > 0 ? o->timeout_s : RECAP_OCI_PULL_TIMEOUT_S;
	ro.deadline_ms = recap_now_mono_ms() + (uint64_t)ro.deadline_s * 1000;
	return recap_oci_source_registry(ref, &ro, ret, err);
}

/* The signature of what the reference resolved to (the index when it named
 * one: the platform manifest was fetched by its digest from that index). */
static int verify(struct oci_source *src, const char *digest, const struct recap_oci_pull_opts *o,
		  struct recap_oci_pull_result *res, struct recap_error **err)
{
	size_t n_sets = o->n_verify_sets ? o->n_verify_sets : 1, start = 0;
	for (size_t i = 0; i < n_sets; i++) {
		size_t end = o->n_verify_sets ? o->verify_set_ends[i] : o->n_verify_keys;
		if (end <= start || end > o->n_verify_keys)
			return recap_error_set(err, EINVAL, "key set %zu of the signature check is empty",
					       i + 1);
		struct recap_oci_sig_result one;
		int r = recap_oci_verify_signature(src->registry, digest, o->verify_keys + start, end - start,
						   &one, err);
		if (r < 0) {
			res->signature_refused = r == -ENOENT || r == -EKEYREJECTED || r == -ESTALE ||
						 r == -EBADMSG || r == -E2BIG || r == -EFBIG;
			return n_sets > 1 ? recap_error_wrap(err, -r, "key set %zu of %zu", i + 1, n_sets)
					  : r;
		}
		one.key += start;
		if (i == 0)
			res->signature = one;
		start = end;
	}
	res->verified = true;
	return 0;
}

int recap_oci_pull(struct recap_oci_store *s, const char *refstr, const struct recap_oci_pull_opts *o,
		   struct recap_oci_pull_result *res, struct recap_error **err)
{
	_cleanup_oci_ref_ struct recap_oci_ref *ref = NULL;
	int r = recap_oci_ref_parse(refstr, &ref, err);
	if (r >= 0 && o->registry_only && ref->kind != RECAP_OCI_REF_REGISTRY)
		return recap_error_set(
		    err, EPERM,
		    "%s is an OCI layout on the node: only registry references are allowed "
		    "here (--registry-only)",
		    ref->canonical);
	if (r >= 0 && o->n_verify_keys && ref->kind != RECAP_OCI_REF_REGISTRY)
		return recap_error_set(err, EINVAL,
				       "%s is an OCI layout: signatures are verified only for a registry",
				       ref->canonical);
	if (r >= 0)
		r = recap_oci_ref_absolute_layout(ref);
	if (r < 0)
		return r;
	memset(res, 0, sizeof(*res));
	snprintf(res->canonical, sizeof(res->canonical), "%s", ref->canonical);
	/* gc takes this exclusively: nothing we write is collected mid-pull. */
	_cleanup_close_ int store_lock = recap_oci_store_lock(s, "store", 0, err);
	if (store_lock < 0)
		return store_lock;
	struct oci_source *src = NULL;
	r = open_source(ref, o, &src, err);
	if (r < 0)
		return recap_error_wrap(err, -r, "pulling %s", ref->canonical);
	char index_digest[RECAP_OCI_DIGEST_MAX];
	_cleanup_oci_manifest_ struct recap_oci_manifest *m = NULL;
	r = resolve(src, s, ref, o, index_digest, res->manifest, &m, err);
	if (r >= 0 && o->n_verify_keys)
		r = verify(src, index_digest[0] ? index_digest : res->manifest, o, res, err);
	if (r >= 0)
		r = fetch_content(src, s, m, o, res, err);
	res->credentials = src->sent_credentials && src->sent_credentials(src);
	src->free(src);
	if (r >= 0)
		r = recap_oci_images_put(s, ref->canonical, res->manifest,
					 index_digest[0] ? index_digest : NULL, res->credentials, err);
	if (r < 0)
		return recap_error_wrap(err, -r, "pulling %s", ref->canonical);
	return 0;
}

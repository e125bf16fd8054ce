#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "oci/source.h"

struct registry_source {
	struct oci_source base;
	struct recap_oci_registry *reg;
};

static int buf_sink(void *ud, const void *data, size_t n, struct recap_error **err)
{
	if (recap_buf_append(ud, data, n) < 0)
		return recap_error_set(err, EFBIG, "manifest larger than %d bytes", RECAP_OCI_MANIFEST_MAX);
	return 0;
}

static int buf_reset(void *ud, struct recap_error **err)
{
	recap_buf_reset(ud);
	return 0;
}

static int reg_get_manifest(struct oci_source *src, const char *reference, struct recap_buf *body,
			    char content_type[256], struct recap_error **err)
{
	struct registry_source *rs = (struct registry_source *)src;
	struct recap_oci_http_resp resp;
	int r = recap_oci_registry_get(rs->reg, "manifests", reference, RECAP_OCI_ACCEPT_MANIFESTS,
				       RECAP_OCI_MANIFEST_MAX, buf_sink, buf_reset, body, &resp, err);
	if (r == -ENOENT && resp.status == 404)
		return recap_error_wrap(err, ENOENT, "manifest %s:%s not found in %s", rs->reg->repository,
					reference, rs->reg->host);
	if (r < 0)
		return r;
	snprintf(content_type, 256, "%s", resp.content_type);
	return 0;
}

static int writer_sink(void *ud, const void *data, size_t n, struct recap_error **err)
{
	return recap_oci_blob_writer_write(ud, data, n, err);
}

static int writer_reset(void *ud, struct recap_error **err)
{
	return recap_oci_blob_writer_reset(ud, err);
}

static int reg_get_blob(struct oci_source *src, const struct recap_oci_descriptor *d,
			struct recap_oci_store *s, uint64_t max, struct recap_error **err)
{
	struct registry_source *rs = (struct registry_source *)src;
	struct recap_oci_blob_writer *w = NULL;
	int r = recap_oci_blob_writer_open(s, d->digest, d->size, max, &w, err);
	if (r < 0)
		return r;
	struct recap_oci_http_resp resp;
	r = recap_oci_registry_get(rs->reg, "blobs", d->digest, NULL, max, writer_sink, writer_reset, w,
				   &resp, err);
	if (r >= 0)
		r = recap_oci_blob_writer_commit(w, err);
	recap_oci_blob_writer_free(w);
	return r;
}

static bool reg_sent_credentials(struct oci_source *src)
{
	return ((struct registry_source *)src)->reg->sent_credentials;
}

static void reg_free(struct oci_source *src)
{
	struct registry_source *rs = (struct registry_source *)src;
	recap_oci_registry_free(rs->reg);
	free(rs);
}

int recap_oci_source_registry(const struct recap_oci_ref *ref, const struct recap_oci_registry_opts *opts,
			      struct oci_source **ret, struct recap_error **err)
{
	struct registry_source *rs = calloc(1, sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	int r = recap_oci_registry_new(ref, opts, &rs->reg, err);
	if (r < 0) {
		free(rs);
		return r;
	}
	rs->base.get_manifest = reg_get_manifest;
	rs->base.get_blob = reg_get_blob;
	rs->base.sent_credentials = reg_sent_credentials;
	rs->base.free = reg_free;
	rs->base.registry = rs->reg;
	*ret = &rs->base;
	return 0;
}

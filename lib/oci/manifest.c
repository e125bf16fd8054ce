#include "oci/manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"

static int copy_str(char *dst, size_t cap, json_t *v, const char *what, int required,
		    struct recap_error **err)
{
	if (!v) {
		if (required)
			return recap_error_set(err, EBADMSG, "descriptor without %s", what);
		dst[0] = '\0';
		return 0;
	}
	const char *s = json_string_value(v);
	if (!s)
		return recap_error_set(err, EBADMSG, "descriptor %s is not a string", what);
	if (strlen(s) >= cap)
		return recap_error_set(err, EBADMSG, "descriptor %s is over %zu bytes", what, cap - 1);
	strcpy(dst, s);
	return 0;
}

static int parse_descriptor(json_t *j, struct recap_oci_descriptor *d, struct recap_error **err)
{
	if (!json_is_object(j))
		return recap_error_set(err, EBADMSG, "descriptor is not an object");
	int r = copy_str(d->media_type, sizeof(d->media_type), json_object_get(j, "mediaType"), "mediaType",
			 0, err);
	if (r >= 0)
		r = copy_str(d->digest, sizeof(d->digest), json_object_get(j, "digest"), "digest", 1, err);
	if (r < 0)
		return r;
	r = recap_oci_digest_validate(d->digest, err);
	if (r < 0) {
		recap_error_wrap(err, EBADMSG, "descriptor");
		return -EBADMSG;
	}
	json_t *size = json_object_get(j, "size");
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return recap_error_set(err, EBADMSG, "descriptor %s has no valid size", d->digest);
	d->size = json_integer_value(size);
	json_t *p = json_object_get(j, "platform");
	r = copy_str(d->os, sizeof(d->os), json_object_get(p, "os"), "platform.os", 0, err);
	if (r >= 0)
		r = copy_str(d->arch, sizeof(d->arch), json_object_get(p, "architecture"),
			     "platform.architecture", 0, err);
	if (r >= 0)
		r = copy_str(d->variant, sizeof(d->variant), json_object_get(p, "variant"),
			     "platform.variant", 0, err);
	if (r >= 0)
		r = copy_str(d->ref_name, sizeof(d->ref_name),
			     recap_json_at(j, "annotations", "org.opencontainers.image.ref.name", NULL),
			     "ref.name annotation", 0, err);
	return r;
}

static int layer_type_ok(const char *mt)
{
	static const char *const ok[] = {
	    "application/vnd.oci.image.layer.v1.tar",
	    "application/vnd.oci.image.layer.v1.tar+gzip",
	    "application/vnd.oci.image.layer.v1.tar+zstd",
	    "application/vnd.docker.image.rootfs.diff.tar.gzip",
	    "application/vnd.docker.image.rootfs.diff.tar",
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if (strcmp(mt, ok[i]) == 0)
			return 1;
	return 0;
}

static int parse_items(json_t *arr, struct recap_oci_manifest *m, int layers, struct recap_error **err)
{
	const char *what = layers ? "layers" : "manifests";
	size_t max = layers ? RECAP_OCI_LAYERS_MAX : RECAP_OCI_INDEX_ENTRIES_MAX;
	if (!json_is_array(arr))
		return recap_error_set(err, EBADMSG, "'%s' is missing or not an array", what);
	size_t n = json_array_size(arr);
	if (n > max)
		return recap_error_set(err, E2BIG, "%zu %s (limit %zu)", n, what, max);
	if (layers && n == 0)
		return recap_error_set(err, EBADMSG, "manifest has no layers");
	m->items = calloc(n ? n : 1, sizeof(*m->items));
	if (!m->items)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct recap_oci_descriptor *d = &m->items[i];
		int r = parse_descriptor(json_array_get(arr, i), d, err);
		if (r < 0)
			return recap_error_wrap(err, -r, "%s[%zu]", what, i);
		m->n_items++;
		if (layers && !layer_type_ok(d->media_type))
			return recap_error_set(err, EMEDIUMTYPE,
					       "layers[%zu] has unsupported media type '%s'", i,
					       d->media_type);
	}
	return 0;
}

static int kind_of(json_t *j, const char *content_type, enum recap_oci_manifest_kind *ret,
		   struct recap_error **err)
{
	const char *mt = json_string_value(json_object_get(j, "mediaType"));
	if (!mt || !*mt)
		mt = content_type;
	if (json_integer_value(json_object_get(j, "schemaVersion")) != 2)
		return recap_error_set(err, EMEDIUMTYPE, "unsupported manifest schemaVersion (only 2)");
	if (mt && (!strcmp(mt, RECAP_OCI_MT_INDEX) || !strcmp(mt, RECAP_OCI_MT_DOCKER_LIST)))
		*ret = RECAP_OCI_INDEX;
	else if (mt && (!strcmp(mt, RECAP_OCI_MT_MANIFEST) || !strcmp(mt, RECAP_OCI_MT_DOCKER_MANIFEST)))
		*ret = RECAP_OCI_MANIFEST;
	else if (json_object_get(j, "manifests") && !json_object_get(j, "layers"))
		*ret = RECAP_OCI_INDEX;
	else if (json_object_get(j, "layers") && !json_object_get(j, "manifests"))
		*ret = RECAP_OCI_MANIFEST;
	else
		return recap_error_set(err, EMEDIUMTYPE, "unsupported manifest media type '%.100s'",
				       mt ? mt : "");
	return 0;
}

int recap_oci_manifest_parse(const char *data, size_t len, const char *content_type,
			     struct recap_oci_manifest **ret, struct recap_error **err)
{
	_cleanup_json_ json_t *j = NULL;
	int r = recap_json_parse(data, len, RECAP_OCI_MANIFEST_MAX, &j, err);
	if (r < 0) {
		recap_error_wrap(err, EBADMSG, "malformed manifest");
		return -EBADMSG;
	}
	if (!json_is_object(j))
		return recap_error_set(err, EBADMSG, "malformed manifest: not a JSON object");
	struct recap_oci_manifest *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	r = kind_of(j, content_type, &m->kind, err);
	if (r >= 0 && m->kind == RECAP_OCI_MANIFEST) {
		r = parse_descriptor(json_object_get(j, "config"), &m->config, err);
		if (r < 0)
			recap_error_wrap(err, -r, "config");
	}
	if (r >= 0)
		r = parse_items(json_object_get(j, m->kind == RECAP_OCI_INDEX ? "manifests" : "layers"), m,
				m->kind == RECAP_OCI_MANIFEST, err);
	if (r < 0) {
		recap_oci_manifest_free(m);
		return recap_error_wrap(err, -r, "invalid manifest");
	}
	*ret = m;
	return 0;
}

void recap_oci_manifest_free(struct recap_oci_manifest *m)
{
	if (!m)
		return;
	free(m->items);
	free(m);
}

const char *recap_oci_platform_arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__arm__)
	return "arm";
#elif defined(__s390x__)
	return "s390x";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return "ppc64le";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#else
	return "unknown";
#endif
}

int recap_oci_index_select(const struct recap_oci_manifest *idx, const char *os, const char *arch,
			   const char *variant, const struct recap_oci_descriptor **ret,
			   struct recap_error **err)
{
	for (size_t i = 0; i < idx->n_items; i++) {
		const struct recap_oci_descriptor *d = &idx->items[i];
		if (strcmp(d->os, os) != 0 || strcmp(d->arch, arch) != 0)
			continue;
		if (variant && strcmp(d->variant, variant) != 0)
			continue;
		*ret = d;
		return 0;
	}
	return recap_error_set(err, ENOENT, "image index has no manifest for %s/%s%s%s (%zu entries)", os,
			       arch, variant ? "/" : "", variant ? variant : "", idx->n_items);
}

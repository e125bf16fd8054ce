#include "oci/images.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "oci/ref.h"

int recap_oci_images_load(struct recap_oci_store *s, json_t **ret, struct recap_error **err)
{
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/index.json", s->root) < 0)
		return -ENOMEM;
	if (access(path, F_OK) < 0) {
		*ret = json_object();
		return *ret ? 0 : -ENOMEM;
	}
	_cleanup_json_ json_t *j = NULL;
	int r = recap_json_load_file(path, RECAP_OCI_IMAGES_FILE_MAX, &j, err);
	if (r < 0)
		return recap_error_wrap(err, -r, "store index");
	json_t *images = json_object_get(j, "images");
	if (!json_is_object(images))
		return recap_error_set(err, EBADMSG, "store index %s has no 'images' object", path);
	*ret = json_incref(images);
	return 0;
}

static int save(struct recap_oci_store *s, json_t *images, struct recap_error **err)
{
	_cleanup_json_ json_t *doc = json_pack("{sO}", "images", images);
	if (!doc)
		return -ENOMEM;
	struct recap_buf b = RECAP_BUF_INIT(RECAP_OCI_IMAGES_FILE_MAX);
	int r = recap_json_dump(doc, &b);
	if (r < 0) {
		recap_buf_free(&b);
		return recap_error_set(err, EFBIG, "store index over %d bytes", RECAP_OCI_IMAGES_FILE_MAX);
	}
	_cleanup_close_ int fd =
	    openat(s->root_fd, "index.json.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || write(fd, b.data, b.len) != (ssize_t)b.len || fsync(fd) < 0 ||
	    renameat(s->root_fd, "index.json.tmp", s->root_fd, "index.json") < 0)
		r = recap_error_set_errno(err, errno, "cannot write %s/index.json", s->root);
	recap_buf_free(&b);
	return r;
}

int recap_oci_images_put(struct recap_oci_store *s, const char *canonical, const char *manifest,
			 const char *index, bool credentials, struct recap_error **err)
{
	_cleanup_close_ int lock = recap_oci_store_lock(s, "index", 1, err);
	if (lock < 0)
		return lock;
	_cleanup_json_ json_t *images = NULL;
	int r = recap_oci_images_load(s, &images, err);
	if (r < 0)
		return r;
	if (!json_object_get(images, canonical) && json_object_size(images) >= RECAP_OCI_IMAGES_MAX)
		return recap_error_set(err, ENOSPC, "store holds %d images already (limit)",
				       RECAP_OCI_IMAGES_MAX);
	json_t *e = index ? json_pack("{ssss}", "manifest", manifest, "index", index)
			  : json_pack("{ss}", "manifest", manifest);
	if (e && credentials && json_object_set_new(e, "credentials", json_true()) < 0)
		e = NULL;
	if (!e || json_object_set_new(images, canonical, e) < 0)
		return -ENOMEM;
	return save(s, images, err);
}

int recap_oci_images_remove(struct recap_oci_store *s, const char *canonical, struct recap_error **err)
{
	_cleanup_close_ int lock = recap_oci_store_lock(s, "index", 1, err);
	if (lock < 0)
		return lock;
	_cleanup_json_ json_t *images = NULL;
	int r = recap_oci_images_load(s, &images, err);
	if (r < 0)
		return r;
	if (json_object_del(images, canonical) < 0)
		return recap_error_set(err, ENOENT, "image %s is not in the store", canonical);
	return save(s, images, err);
}

static int match_digest(json_t *images, const struct recap_oci_ref *ref, char out[RECAP_OCI_DIGEST_MAX],
			bool *ret_credentials)
{
	const char *key;
	json_t *v;
	size_t plen = strlen(ref->registry) + 1 + strlen(ref->repository);
	json_object_foreach (images, key, v) {
		const char *m = recap_json_str(v, "manifest");
		const char *i = recap_json_str(v, "index");
		if (strncmp(key, ref->canonical, plen) != 0 || (key[plen] != ':' && key[plen] != '@') || !m)
			continue;
		if (strcmp(m, ref->digest) == 0 || (i && strcmp(i, ref->digest) == 0)) {
			snprintf(out, RECAP_OCI_DIGEST_MAX, "%s", m);
			*ret_credentials = json_is_true(json_object_get(v, "credentials"));
			if (!*ret_credentials)
				return 0; /* else one pulled without credentials may match too */
		}
	}
	return out[0] ? 0 : -ENOENT;
}

int recap_oci_images_resolve(struct recap_oci_store *s, const char *ref, char manifest[RECAP_OCI_DIGEST_MAX],
			     bool *ret_credentials, struct recap_error **err)
{
	bool credentials = false;
	if (!ret_credentials)
		ret_credentials = &credentials;
	*ret_credentials = false;
	manifest[0] = '\0';
	_cleanup_oci_ref_ struct recap_oci_ref *r = NULL;
	int rc = recap_oci_ref_parse(ref, &r, err);
	if (rc >= 0)
		rc = recap_oci_ref_absolute_layout(r);
	if (rc < 0)
		return rc;
	_cleanup_json_ json_t *images = NULL;
	rc = recap_oci_images_load(s, &images, err);
	if (rc < 0)
		return rc;
	json_t *e = json_object_get(images, r->canonical);
	const char *m = recap_json_str(e, "manifest");
	if (m && recap_oci_digest_validate(m, err) == 0) {
		snprintf(manifest, RECAP_OCI_DIGEST_MAX, "%s", m);
		*ret_credentials = json_is_true(json_object_get(e, "credentials"));
		return 0;
	}
	if (r->digest && r->kind == RECAP_OCI_REF_REGISTRY &&
	    match_digest(images, r, manifest, ret_credentials) == 0)
		return 0;
	return recap_error_set(err, ENOENT, "image %s is not in the store (pull it first)", r->canonical);
}

/* oci:<dir>[:tag] — an OCI image layout (index.json + blobs/sha256/). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "oci/source.h"

struct layout_source {
	struct oci_source base;
	int dirfd;
	char *dir;
};

#define LAYOUT_CHUNK (128 * 1024)

typedef int (*chunk_fn)(void *ud, const void *data, size_t n, struct recap_error **err);

static int read_file_at(struct layout_source *ls, const char *rel, uint64_t max, chunk_fn fn, void *ud,
			struct recap_error **err)
{
	_cleanup_close_ int fd = openat(ls->dirfd, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return recap_error_set_errno(err, errno, "layout %s: cannot open %s", ls->dir, rel);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return recap_error_set(err, EINVAL, "layout %s: %s is not a regular file", ls->dir, rel);
	if ((uint64_t)st.st_size > max)
		return recap_error_set(err, EFBIG, "layout %s: %s is %lld bytes (limit %llu)", ls->dir, rel,
				       (long long)st.st_size, (unsigned long long)max);
	_cleanup_free_ char *chunk = malloc(LAYOUT_CHUNK);
	if (!chunk)
		return -ENOMEM;
	for (;;) {
		ssize_t k = read(fd, chunk, LAYOUT_CHUNK);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return recap_error_set_errno(err, errno, "layout %s: cannot read %s", ls->dir, rel);
		if (k == 0)
			return 0;
		int r = fn(ud, chunk, k, err);
		if (r < 0)
			return r;
	}
}

static int buf_chunk(void *ud, const void *data, size_t n, struct recap_error **err)
{
	if (recap_buf_append(ud, data, n) < 0)
		return recap_error_set(err, EFBIG, "manifest larger than %d bytes", RECAP_OCI_MANIFEST_MAX);
	return 0;
}

static int pick_from_index(struct layout_source *ls, const char *tag, char digest[RECAP_OCI_DIGEST_MAX],
			   struct recap_error **err)
{
	struct recap_buf b = RECAP_BUF_INIT(RECAP_OCI_MANIFEST_MAX);
	int r = read_file_at(ls, "index.json", RECAP_OCI_MANIFEST_MAX, buf_chunk, &b, err);
	_cleanup_oci_manifest_ struct recap_oci_manifest *idx = NULL;
	if (r >= 0)
		r = recap_oci_manifest_parse(b.data ? b.data : "", b.len, RECAP_OCI_MT_INDEX, &idx, err);
	recap_buf_free(&b);
	if (r >= 0 && idx->kind != RECAP_OCI_INDEX)
		r = recap_error_set(err, EBADMSG, "index.json is not an image index");
	if (r < 0)
		return recap_error_wrap(err, -r, "layout %s", ls->dir);
	const struct recap_oci_descriptor *found = NULL;
	size_t matches = 0;
	for (size_t i = 0; i < idx->n_items; i++)
		if (!tag || strcmp(idx->items[i].ref_name, tag) == 0) {
			found = &idx->items[i];
			matches++;
		}
	if (!tag && matches > 1)
		return recap_error_set(err, EINVAL,
				       "layout %s holds %zu images: name one with oci:<dir>:<tag>", ls->dir,
				       idx->n_items);
	if (!found)
		return recap_error_set(err, ENOENT, "layout %s has no image %s%s", ls->dir,
				       tag ? "tagged " : "", tag ? tag : "");
	snprintf(digest, RECAP_OCI_DIGEST_MAX, "%s", found->digest);
	return 0;
}

static int lay_get_manifest(struct oci_source *src, const char *reference, struct recap_buf *body,
			    char content_type[256], struct recap_error **err)
{
	struct layout_source *ls = (struct layout_source *)src;
	char digest[RECAP_OCI_DIGEST_MAX];
	int r = 0;
	if (reference && strncmp(reference, "sha256:", 7) == 0)
		snprintf(digest, sizeof(digest), "%s", reference);
	else
		r = pick_from_index(ls, reference, digest, err);
	if (r < 0)
		return r;
	if (recap_oci_digest_validate(digest, err) < 0)
		return -EINVAL;
	char rel[96];
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", recap_oci_digest_hex(digest));
	content_type[0] = '\0';
	return read_file_at(ls, rel, RECAP_OCI_MANIFEST_MAX, buf_chunk, body, err);
}

static int writer_chunk(void *ud, const void *data, size_t n, struct recap_error **err)
{
	return recap_oci_blob_writer_write(ud, data, n, err);
}

static int lay_get_blob(struct oci_source *src, const struct recap_oci_descriptor *d,
			struct recap_oci_store *s, uint64_t max, struct recap_error **err)
{
	struct layout_source *ls = (struct layout_source *)src;
	struct recap_oci_blob_writer *w = NULL;
	int r = recap_oci_blob_writer_open(s, d->digest, d->size, max, &w, err);
	if (r < 0)
		return r;
	char rel[96];
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", recap_oci_digest_hex(d->digest));
	r = read_file_at(ls, rel, max, writer_chunk, w, err);
	if (r >= 0)
		r = recap_oci_blob_writer_commit(w, err);
	recap_oci_blob_writer_free(w);
	return r;
}

static void lay_free(struct oci_source *src)
{
	struct layout_source *ls = (struct layout_source *)src;
	if (ls->dirfd >= 0)
		close(ls->dirfd);
	free(ls->dir);
	free(ls);
}

int recap_oci_source_layout(const struct recap_oci_ref *ref, struct oci_source **ret,
			    struct recap_error **err)
{
	int fd = open(ref->layout_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return recap_error_set_errno(err, errno, "cannot open layout %s", ref->layout_dir);
	struct layout_source *ls = calloc(1, sizeof(*ls));
	if (!ls || !(ls->dir = strdup(ref->layout_dir))) {
		free(ls);
		close(fd);
		return -ENOMEM;
	}
	ls->dirfd = fd;
	ls->base.get_manifest = lay_get_manifest;
	ls->base.get_blob = lay_get_blob;
	ls->base.free = lay_free;
	*ret = &ls->base;
	return 0;
}

/* Blobs: written to tmp/, hashed while streaming, renamed into place only
 * when the digest matches. Nothing partially written is ever visible.
 * (The pull half of lib/oci: the streaming hash is OpenSSL's.) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "oci/store.h"

struct recap_oci_blob_writer {
	struct recap_oci_store *store;
	struct recap_oci_hasher *hasher;
	char digest[RECAP_OCI_DIGEST_MAX];
	char tmp[64];
	int fd;
	int64_t expected;
	uint64_t max;
	uint64_t written;
};

int recap_oci_blob_writer_open(struct recap_oci_store *s, const char *digest, int64_t expected_size,
			       uint64_t max_size, struct recap_oci_blob_writer **ret,
			       struct recap_error **err)
{
	if (recap_oci_digest_validate(digest, err) < 0)
		return -EINVAL;
	if (expected_size >= 0 && (uint64_t)expected_size > max_size)
		return recap_error_set(err, EFBIG, "blob %s is %lld bytes, over the limit of %llu", digest,
				       (long long)expected_size, (unsigned long long)max_size);
	struct recap_oci_blob_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->store = s;
	w->expected = expected_size;
	w->max = max_size;
	w->fd = -1;
	snprintf(w->digest, sizeof(w->digest), "%s", digest);
	snprintf(w->tmp, sizeof(w->tmp), "tmp/blob-XXXXXX");
	int r = recap_oci_hasher_new(&w->hasher);
	if (r < 0) {
		recap_oci_blob_writer_free(w);
		return r;
	}
	/* mkostemp works on a path: build it relative to the root fd's path. */
	_cleanup_free_ char *abs = NULL;
	if (asprintf(&abs, "%s/%s", s->root, w->tmp) < 0) {
		recap_oci_blob_writer_free(w);
		return -ENOMEM;
	}
	w->fd = mkostemp(abs, O_CLOEXEC);
	if (w->fd < 0) {
		r = recap_error_set_errno(err, errno, "cannot create a temp file in %s/tmp", s->root);
		recap_oci_blob_writer_free(w);
		return r;
	}
	snprintf(w->tmp, sizeof(w->tmp), "tmp/%s", strrchr(abs, '/') + 1);
	*ret = w;
	return 0;
}

int recap_oci_blob_writer_write(struct recap_oci_blob_writer *w, const void *data, size_t n,
				struct recap_error **err)
{
	if (n > w->max - w->written)
		return recap_error_set(err, EFBIG, "blob %s is larger than the limit of %llu bytes",
				       w->digest, (unsigned long long)w->max);
	if (w->expected >= 0 && w->written + n > (uint64_t)w->expected)
		return recap_error_set(err, EBADMSG, "blob %s is larger than its descriptor's size %lld",
				       w->digest, (long long)w->expected);
	const char *p = data;
	size_t left = n;
	while (left > 0) {
		ssize_t k = write(w->fd, p, left);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return recap_error_set_errno(err, errno, "cannot write blob %s", w->digest);
		p += k;
		left -= k;
	}
	recap_oci_hasher_update(w->hasher, data, n);
	w->written += n;
	return 0;
}

int recap_oci_blob_writer_reset(struct recap_oci_blob_writer *w, struct recap_error **err)
{
	if (ftruncate(w->fd, 0) < 0 || lseek(w->fd, 0, SEEK_SET) < 0)
		return recap_error_set_errno(err, errno, "cannot truncate temp blob");
	recap_oci_hasher_free(w->hasher);
	w->hasher = NULL;
	w->written = 0;
	return recap_oci_hasher_new(&w->hasher);
}

int recap_oci_blob_writer_commit(struct recap_oci_blob_writer *w, struct recap_error **err)
{
	char got[RECAP_OCI_DIGEST_MAX];
	if (w->expected >= 0 && w->written != (uint64_t)w->expected)
		return recap_error_set(err, EBADMSG, "blob %s: got %llu bytes, its descriptor says %lld",
				       w->digest, (unsigned long long)w->written, (long long)w->expected);
	recap_oci_hasher_final(w->hasher, got);
	if (strcmp(got, w->digest) != 0)
		return recap_error_set(err, EBADMSG, "digest mismatch: expected %s, content has %s",
				       w->digest, got);
	if (fchmod(w->fd, 0644) < 0 || fsync(w->fd) < 0)
		return recap_error_set_errno(err, errno, "cannot finish blob %s", w->digest);
	char dst[64 + RECAP_OCI_DIGEST_MAX];
	snprintf(dst, sizeof(dst), "blobs/sha256/%s", recap_oci_digest_hex(w->digest));
	if (renameat(w->store->root_fd, w->tmp, w->store->root_fd, dst) < 0)
		return recap_error_set_errno(err, errno, "cannot move blob %s into place", w->digest);
	w->tmp[0] = '\0';
	return 0;
}

void recap_oci_blob_writer_free(struct recap_oci_blob_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0) {
		close(w->fd);
		if (w->tmp[0])
			unlinkat(w->store->root_fd, w->tmp, 0);
	}
	recap_oci_hasher_free(w->hasher);
	free(w);
}

int recap_oci_store_put_blob(struct recap_oci_store *s, const char *digest, const void *data, size_t n,
			     struct recap_error **err)
{
	if (recap_oci_store_has_blob(s, digest))
		return 0;
	struct recap_oci_blob_writer *w = NULL;
	int r = recap_oci_blob_writer_open(s, digest, (int64_t)n, (uint64_t)n, &w, err);
	if (r >= 0)
		r = recap_oci_blob_writer_write(w, data, n, err);
	if (r >= 0)
		r = recap_oci_blob_writer_commit(w, err);
	recap_oci_blob_writer_free(w);
	return r;
}

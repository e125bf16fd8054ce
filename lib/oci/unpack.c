#include "oci/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "oci/unpack_entry.h"

#define UNPACK_BLOCK (128 * 1024)

void recap_oci_unpack_limits_default(struct recap_oci_unpack_limits *l)
{
	l->max_entries = 100000;
	l->max_bytes = 16ULL << 30;
}

static struct archive *open_reader(int fd, struct recap_error **err)
{
	struct archive *a = archive_read_new();
	if (!a)
		return NULL;
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_none(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_fd(a, fd, UNPACK_BLOCK) != ARCHIVE_OK) {
		recap_error_set(err, EINVAL, "not a tar archive (plain, gzip or zstd): %s",
				archive_error_string(a));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

int recap_oci_unpack_fd(int fd, int dirfd, const struct recap_oci_unpack_limits *limits,
			struct recap_error **err)
{
	struct unpack_ctx c = {
	    .root = dirfd, .max_entries = limits->max_entries, .max_bytes = limits->max_bytes};
	c.a = open_reader(fd, err);
	if (!c.a)
		return err && *err ? -EINVAL : -ENOMEM;
	int r = 0;
	for (;;) {
		struct archive_entry *e;
		int ar = archive_read_next_header(c.a, &e);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar < ARCHIVE_WARN) {
			r = recap_error_set(err, EINVAL, "corrupt archive after %llu entries: %s",
					    (unsigned long long)c.entries, archive_error_string(c.a));
			break;
		}
		if (++c.entries > c.max_entries) {
			r = recap_error_set(err, EFBIG, "layer has more than %llu entries",
					    (unsigned long long)c.max_entries);
			break;
		}
		r = recap_oci_unpack_entry(&c, e, err);
		if (r < 0 || c.ended)
			break;
	}
	archive_read_free(c.a);
	return r;
}

static int unpack_into_tmp(struct recap_oci_store *s, const char *digest, const char *tmp,
			   const struct recap_oci_unpack_limits *limits, struct recap_error **err)
{
	char blob[64 + RECAP_OCI_DIGEST_MAX];
	snprintf(blob, sizeof(blob), "blobs/sha256/%s", recap_oci_digest_hex(digest));
	_cleanup_close_ int bfd = openat(s->root_fd, blob, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (bfd < 0)
		return recap_error_set_errno(err, errno, "layer blob %s is not in the store", digest);
	if (mkdirat(s->root_fd, tmp, 0755) < 0)
		return recap_error_set_errno(err, errno, "cannot create %s/%s", s->root, tmp);
	_cleanup_close_ int dfd = openat(s->root_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return recap_error_set_errno(err, errno, "cannot open %s/%s", s->root, tmp);
	if (fchmod(dfd, 0755) < 0)
		return recap_error_set_errno(err, errno, "cannot chmod %s/%s", s->root, tmp);
	return recap_oci_unpack_fd(bfd, dfd, limits, err);
}

int recap_oci_unpack_layer(struct recap_oci_store *s, const char *digest,
			   const struct recap_oci_unpack_limits *limits, struct recap_error **err)
{
	if (recap_oci_digest_validate(digest, err) < 0)
		return -EINVAL;
	const char *hex = recap_oci_digest_hex(digest);
	char name[80], tmp[96], dst[96];
	snprintf(name, sizeof(name), "layer-%s", hex);
	snprintf(tmp, sizeof(tmp), "layers/%s.tmp", hex);
	snprintf(dst, sizeof(dst), "layers/%s", hex);
	_cleanup_close_ int lock = recap_oci_store_lock(s, name, 1, err);
	if (lock < 0)
		return lock;
	if (recap_oci_store_has_layer(s, hex))
		return 0;
	/* A crash may have left a half-unpacked tree: it is never used. */
	int r = recap_oci_rm_rf_at(s->root_fd, tmp);
	if (r < 0)
		return recap_error_set_errno(err, -r, "cannot remove stale %s/%s", s->root, tmp);
	r = unpack_into_tmp(s, digest, tmp, limits, err);
	if (r >= 0 && renameat(s->root_fd, tmp, s->root_fd, dst) < 0)
		r = recap_error_set_errno(err, errno, "cannot move layer %s into place", hex);
	if (r < 0) {
		recap_oci_rm_rf_at(s->root_fd, tmp);
		return recap_error_wrap(err, -r, "layer %s", digest);
	}
	return 0;
}

/* One archive entry: a directory, file, symlink, hard link or whiteout. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "oci/path.h"
#include "oci/store.h"
#include "oci/unpack_entry.h"
#include "oci/whiteout.h"

/* Later entries replace earlier ones, as tar does; an existing directory
 * stays when a directory is extracted again. */
static int clear_name(int pfd, const char *base, int keep_dir, const char *rel, struct recap_error **err)
{
	struct stat st;
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (keep_dir && S_ISDIR(st.st_mode))
		return 1;
	int r = recap_oci_rm_rf_at(pfd, base);
	if (r < 0)
		return recap_error_set_errno(err, -r, "entry '%.300s': cannot replace the earlier entry",
					     rel);
	return 0;
}

static int set_meta_fd(int fd, struct archive_entry *e, const char *rel, struct recap_error **err)
{
	/* chown first: it clears setuid bits that fchmod then restores. */
	if (fchown(fd, archive_entry_uid(e), archive_entry_gid(e)) < 0)
		return recap_error_set_errno(err, errno, "entry '%.300s': cannot set owner", rel);
	if (fchmod(fd, archive_entry_mode(e) & 07777) < 0)
		return recap_error_set_errno(err, errno, "entry '%.300s': cannot set mode", rel);
	struct timespec ts[2] = {{.tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e)}};
	ts[1] = ts[0];
	futimens(fd, ts);
	return 0;
}

static int extract_dir(int pfd, const char *base, struct archive_entry *e, const char *rel,
		       struct recap_error **err)
{
	int r = clear_name(pfd, base, 1, rel, err);
	if (r < 0)
		return r;
	if (r == 0 && mkdirat(pfd, base, 0700) < 0)
		return recap_error_set_errno(err, errno, "entry '%.300s': cannot create directory", rel);
	_cleanup_close_ int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return recap_error_set_errno(err, errno, "entry '%.300s': cannot open directory", rel);
	return set_meta_fd(fd, e, rel, err);
}

static int write_data(struct unpack_ctx *c, int fd, struct archive_entry *e, const char *rel,
		      struct recap_error **err)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	uint64_t got = 0;
	for (;;) {
		int ar = archive_read_data_block(c->a, &buf, &size, &off);
		if (ar == ARCHIVE_EOF)
			return 0;
		/* Some writers (umoci insert) end the stream right after the last
		 * file's data, without padding or end-of-archive blocks: the
		 * content is complete (and digest-verified), so it ends here. */
		if (ar < ARCHIVE_WARN && archive_entry_size_is_set(e) &&
		    got == (uint64_t)archive_entry_size(e)) {
			c->ended = 1;
			return 0;
		}
		if (ar < ARCHIVE_WARN)
			return recap_error_set(err, EIO, "entry '%.300s': %s", rel,
					       archive_error_string(c->a));
		got += size;
		if (size > c->max_bytes - c->bytes)
			return recap_error_set(err, EFBIG, "layer unpacks to more than %llu bytes",
					       (unsigned long long)c->max_bytes);
		c->bytes += size;
		const char *p = buf;
		while (size > 0) {
			ssize_t k = pwrite(fd, p, size, off);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return recap_error_set_errno(err, errno, "entry '%.300s': write failed", rel);
			p += k;
			size -= k;
			off += k;
		}
	}
}

static int extract_file(struct unpack_ctx *c, int pfd, const char *base, struct archive_entry *e,
			const char *rel, struct recap_error **err)
{
	int r = clear_name(pfd, base, 0, rel, err);
	if (r < 0)
		return r;
	_cleanup_close_ int fd =
	    openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return recap_error_set_errno(err, errno, "entry '%.300s': cannot create file", rel);
	r = write_data(c, fd, e, rel, err);
	if (r < 0)
		return r;
	if (archive_entry_size_is_set(e) && ftruncate(fd, archive_entry_size(e)) < 0)
		return recap_error_set_errno(err, errno, "entry '%.300s': cannot size file", rel);
	return set_meta_fd(fd, e, rel, err);
}

static int extract_symlink(int pfd, const char *base, struct archive_entry *e, const char *rel,
			   struct recap_error **err)
{
	const char *target = archive_entry_symlink(e);
	if (!target || !*target)
		return recap_error_set(err, EINVAL, "entry '%.300s': symlink without a target", rel);
	if (strlen(target) > RECAP_OCI_PATH_MAX)
		return recap_error_set(err, ENAMETOOLONG, "entry '%.300s': symlink target too long", rel);
	int r = clear_name(pfd, base, 0, rel, err);
	if (r < 0)
		return r;
	/* The target is only text: nothing here ever follows it. */
	if (symlinkat(target, pfd, base) < 0)
		return recap_error_set_errno(err, errno, "entry '%.300s': cannot create symlink", rel);
	if (fchownat(pfd, base, archive_entry_uid(e), archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
		return recap_error_set_errno(err, errno, "entry '%.300s': cannot set owner", rel);
	return 0;
}

static int extract_hardlink(struct unpack_ctx *c, int pfd, const char *base, const char *link,
			    const char *rel, struct recap_error **err)
{
	char trel[RECAP_OCI_PATH_MAX + 1];
	int r = recap_oci_path_clean(link, trel, sizeof(trel), err);
	if (r < 0)
		return recap_error_wrap(err, -r, "hard link '%.300s'", rel);
	if (!*trel)
		return recap_error_set(err, EPERM, "hard link '%.300s' points at the layer root", rel);
	const char *tbase;
	_cleanup_close_ int tfd = recap_oci_unpack_open_parent(c->root, trel, 0, &tbase, err);
	if (tfd < 0)
		return recap_error_wrap(err, -tfd, "hard link '%.300s'", rel);
	struct stat st;
	if (fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return recap_error_set(err, ENOENT, "hard link '%.300s' points at '%.300s', not in the layer",
				       rel, link);
	if (S_ISDIR(st.st_mode))
		return recap_error_set(err, EPERM, "hard link '%.300s' points at a directory", rel);
	if (strcmp(trel, rel) == 0)
		return recap_error_set(err, EINVAL, "hard link '%.300s' points at itself", rel);
	r = clear_name(pfd, base, 0, rel, err);
	if (r < 0)
		return r;
	if (linkat(tfd, tbase, pfd, base, 0) < 0)
		return recap_error_set_errno(err, errno, "entry '%.300s': cannot create hard link", rel);
	return 0;
}

static const char *refused_type(mode_t type)
{
	switch (type) {
	case AE_IFCHR:
		return "a character device";
	case AE_IFBLK:
		return "a block device";
	case AE_IFIFO:
		return "a fifo";
	case AE_IFSOCK:
		return "a socket";
	default:
		return "of an unknown type";
	}
}

static int extract_at(struct unpack_ctx *c, int pfd, const char *base, struct archive_entry *e,
		      const char *rel, struct recap_error **err)
{
	enum recap_oci_whiteout wh;
	const char *hidden = NULL;
	int r = recap_oci_whiteout_classify(base, &wh, &hidden, err);
	if (r < 0)
		return recap_error_wrap(err, -r, "entry '%.300s'", rel);
	if (wh != RECAP_OCI_WHITEOUT_NONE)
		return recap_oci_whiteout_apply(pfd, wh, hidden, rel, err);
	const char *link = archive_entry_hardlink(e);
	if (link)
		return extract_hardlink(c, pfd, base, link, rel, err);
	mode_t type = archive_entry_filetype(e);
	switch (type) {
	case AE_IFDIR:
		return extract_dir(pfd, base, e, rel, err);
	case AE_IFREG:
		return extract_file(c, pfd, base, e, rel, err);
	case AE_IFLNK:
		return extract_symlink(pfd, base, e, rel, err);
	default:
		return recap_error_set(err, EPERM, "entry '%.300s' is %s: not allowed in a layer", rel,
				       refused_type(type));
	}
}

int recap_oci_unpack_entry(struct unpack_ctx *c, struct archive_entry *e, struct recap_error **err)
{
	const char *name = archive_entry_pathname(e);
	char rel[RECAP_OCI_PATH_MAX + 1];
	int r = recap_oci_path_clean(name, rel, sizeof(rel), err);
	if (r < 0)
		return r;
	if (!*rel)
		return 0; /* "./": the layer root itself keeps 0755 root:root */
	if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0 &&
	    (uint64_t)archive_entry_size(e) > c->max_bytes - c->bytes)
		return recap_error_set(err, EFBIG, "entry '%.300s' makes the layer larger than %llu bytes",
				       rel, (unsigned long long)c->max_bytes);
	const char *base;
	_cleanup_close_ int pfd = recap_oci_unpack_open_parent(c->root, rel, 1, &base, err);
	if (pfd < 0)
		return pfd;
	return extract_at(c, pfd, base, e, rel, err);
}

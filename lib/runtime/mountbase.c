/* The store's mount-point layer: one read-only directory holding the capsule
 * root's mount points, the lowest layer of every run's overlay. Made once and
 * shared, so a run makes (and its escape removes) no mount-point directories
 * of its own; an image's own entry of the same name still wins. */
#include "runtime/mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "runtime/rmtree.h"

static const char *const names[] = RECAP_MOUNTPOINTS;

static bool owned_dir(const struct stat *st)
{
	return S_ISDIR(st->st_mode) && st->st_uid == 0 && !(st->st_mode & 022);
}

/* 0 when path is a root-owned directory writable by root only, holding every
 * mount point as such a directory; -errno otherwise. */
static int check(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!owned_dir(&st))
		return -EPERM;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (!owned_dir(&st))
			return -EPERM;
	}
	return 0;
}

static int make(const char *path, const char *tmp, struct recap_error **err)
{
	if (mkdir(tmp, 0755) < 0)
		return recap_error_set_errno(err, errno, "cannot create %s", tmp);
	int r = 0;
	_cleanup_close_ int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchmod(fd, 0755) < 0)
		r = recap_error_set_errno(err, errno, "cannot open %s", tmp);
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(names); i++)
		if (mkdirat(fd, names[i], 0755) < 0 || fchmodat(fd, names[i], 0755, 0) < 0)
			r = recap_error_set_errno(err, errno, "cannot create %s/%s", tmp, names[i]);
	/* another run may have made it first: then that one is used */
	if (r >= 0 && rename(tmp, path) < 0 && errno != EEXIST && errno != ENOTEMPTY)
		r = recap_error_set_errno(err, errno, "cannot rename %s to %s", tmp, path);
	(void)recap_rmtree(tmp, NULL);
	return r;
}

int recap_mountbase_ensure(const char *path, const char *run_id, struct recap_error **err)
{
	int r = check(path);
	if (r == -ENOENT) {
		char tmp[4200];
		snprintf(tmp, sizeof(tmp), "%s.tmp-%s", path, run_id);
		if ((r = make(path, tmp, err)) < 0)
			return r;
		r = check(path);
	}
	if (r < 0)
		return recap_error_set_errno(err, r,
					     "%s is not the store's mount-point layer (root-owned "
					     "directories, writable by root only)",
					     path);
	return 0;
}

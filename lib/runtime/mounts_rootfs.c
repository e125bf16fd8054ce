/* The capsule's root filesystem: the store's mount-point layer at the
 * bottom, the image's layers, the run's writable layer on top, overlaid. */
#include "runtime/mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "runtime/escape.h"

/* The store's mount-point layer: one read-only directory holding the capsule
 * root's mount points, the lowest layer of every run's overlay. Made once and
 * shared, so a run makes (and its escape removes) no mount-point directories
 * of its own; an image's own entry of the same name still wins. */
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

/* The run's writable layer: a tmpfs of its own, size-bounded, mounted over
 * the run directory inside the run's private mount namespace only. The
 * upper and work directories of the overlay and its mount point live there,
 * so the host's disk sees none of a run's writes, its pages are charged to
 * the run's memory cgroup (they are faulted in by its processes), and the
 * whole layer is gone with the namespace when the run's last process ends:
 * escape deletes nothing of it, and a crashed executor leaves nothing of it
 * once sweep has killed the run's cgroup. */
/* one inode per 4 KiB of the layer, at least this many */
#define UPPER_MIN_INODES 4096

int recap_mounts_upper(const struct recap_run_paths *p, int64_t bytes, struct recap_error **err)
{
	char source[96], opts[128];
	long long inodes = bytes / 4096 > UPPER_MIN_INODES ? bytes / 4096 : UPPER_MIN_INODES;
	/* the source names the run in the mount table of whoever looks */
	snprintf(source, sizeof(source), "recap-run-%s", p->id);
	snprintf(opts, sizeof(opts), "size=%lld,nr_inodes=%lld,mode=0700", (long long)bytes, inodes);
	if (mount(source, p->run_dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		return recap_error_set_errno(err, errno, "cannot mount the run's writable layer at %s",
					     p->run_dir);
	const char *dirs[] = {p->upper, p->work, p->rootfs};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (mkdir(dirs[i], 0755) < 0)
			return recap_error_set_errno(err, errno, "cannot create %s", dirs[i]);
	return 0;
}

/* The copy-on-write root: read-only layers below a fresh per-run upper.
 * Through the new mount API, one layer at a time ("lowerdir+", Linux 6.8):
 * no limit but overlayfs' own (500 layers) and no escaping of ':' or ','
 * in paths. On an older kernel, mount(2) with one string of options, which
 * holds at most a page. */

/* mount(2) takes at most one page of options */
#define OPTIONS_MAX 4095

static int config(int fs, const char *key, const char *value)
{
	return fsconfig(fs, FSCONFIG_SET_STRING, key, value, 0) < 0 ? -errno : 0;
}

/* 0 mounted; -EOPNOTSUPP when this kernel has no "lowerdir+" (use mount(2));
 * else < 0 with *err. */
static int overlay_fsmount(const char *base, const struct recap_strv *layers, const char *upper,
			   const char *work, const char *rootfs, struct recap_error **err)
{
	_cleanup_close_ int fs = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0)
		return errno == ENOSYS ? -EOPNOTSUPP
				       : recap_error_set_errno(err, errno, "cannot open overlayfs");
	int r = config(fs, "source", "overlay");
	/* overlayfs lists the top layer first; the base is the lowest */
	for (size_t i = layers->n + 1; r >= 0 && i > 0; i--) {
		const char *dir = i > 1 ? layers->v[i - 2] : base;
		r = config(fs, "lowerdir+", dir);
		if (r == -EINVAL && i == layers->n + 1)
			return -EOPNOTSUPP; /* before Linux 6.8 */
		if (r < 0)
			return recap_error_set_errno(err, -r, "overlay: layer %s", dir);
	}
	if (r >= 0 && ((r = config(fs, "upperdir", upper)) < 0 || (r = config(fs, "workdir", work)) < 0))
		return recap_error_set_errno(err, -r, "overlay: the writable layer %s", upper);
	if (r < 0)
		return recap_error_set_errno(err, -r, "cannot configure the overlay root");
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return recap_error_set_errno(err, errno, "cannot create the overlay root of %zu layers",
					     layers->n);
	_cleanup_close_ int m = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (m < 0 || move_mount(m, "", AT_FDCWD, rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return recap_error_set_errno(err, errno, "cannot mount the overlay root at %s", rootfs);
	return 0;
}

static int overlay_mount_options(const char *base, const struct recap_strv *layers, const char *upper,
				 const char *work, const char *rootfs, struct recap_error **err)
{
	struct recap_buf o = RECAP_BUF_INIT(OPTIONS_MAX);
	int r = recap_buf_appends(&o, "lowerdir=");
	for (size_t i = layers->n; r >= 0 && i > 0; i--)
		r = recap_buf_printf(&o, "%s:", layers->v[i - 1]);
	if (r >= 0)
		r = recap_buf_appends(&o, base);
	if (r >= 0)
		r = recap_buf_printf(&o, ",upperdir=%s,workdir=%s", upper, work);
	if (r < 0) {
		recap_buf_free(&o);
		return recap_error_set(err, E2BIG,
				       "overlay options for %zu layers exceed %d bytes (this kernel has no "
				       "\"lowerdir+\", Linux 6.8, which has no such limit)",
				       layers->n, OPTIONS_MAX);
	}
	r = mount("overlay", rootfs, "overlay", MS_NOSUID | MS_NODEV, o.data);
	int e = errno;
	recap_buf_free(&o);
	if (r < 0)
		return recap_error_set_errno(err, e, "cannot mount the overlay root at %s", rootfs);
	return 0;
}

int recap_overlay_mount(const char *base, const struct recap_strv *layers, const char *upper,
			const char *work, const char *rootfs, struct recap_error **err)
{
	int r = overlay_fsmount(base, layers, upper, work, rootfs, err);
	return r == -EOPNOTSUPP ? overlay_mount_options(base, layers, upper, work, rootfs, err) : r;
}

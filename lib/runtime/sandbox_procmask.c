/* The kernel's knobs hidden or frozen in a capsule's /proc and /sys: the
 * OCI runtime spec's default maskedPaths and readonlyPaths (what runc and
 * crun apply to every container). Without them a tool reaches the node:
 * /proc/sys/kernel/core_pattern is global and runs a program as root on the
 * next crash; /proc/sysrq-trigger reboots or crashes the node; /proc/kcore
 * and /proc/keys show its memory and keyrings. */
#include <errno.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "base/cleanup.h"
#include "runtime/sandbox.h"

static const char *const masked[] = {
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
};

static const char *const readonly[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

/* Only what this kernel has; a symlink (none of these is one in a fresh
 * procfs or sysfs) would carry the mount elsewhere and is refused. */
static int kind(const char *path, mode_t *ret, struct recap_error **err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : recap_error_set_errno(err, errno, "cannot inspect %s", path);
	if (S_ISLNK(st.st_mode))
		return recap_error_set(err, ELOOP, "cannot protect %s: it is a symlink", path);
	*ret = st.st_mode & S_IFMT;
	return 1;
}

static int remount_ro(const char *path, unsigned long flags, struct recap_error **err)
{
	if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | flags, NULL) < 0)
		return recap_error_set_errno(err, errno, "cannot make %s read-only", path);
	return 0;
}

/* A directory: an empty read-only tmpfs over it. Anything else: /dev/null,
 * read-only (nodev would make it unreadable). */
static int mask(const char *path, struct recap_error **err)
{
	mode_t m = 0;
	int r = kind(path, &m, err);
	if (r <= 0)
		return r;
	if (m == S_IFDIR) {
		if (mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "mode=0555,size=4k") < 0)
			return recap_error_set_errno(err, errno, "cannot mask %s", path);
		return 0;
	}
	if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0)
		return recap_error_set_errno(err, errno, "cannot mask %s", path);
	return remount_ro(path, MS_NOSUID | MS_NOEXEC, err);
}

static int freeze(const char *path, struct recap_error **err)
{
	mode_t m = 0;
	int r = kind(path, &m, err);
	if (r <= 0)
		return r;
	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return recap_error_set_errno(err, errno, "cannot bind %s", path);
	return remount_ro(path, MS_NOSUID | MS_NODEV | MS_NOEXEC, err);
}

int recap_mounts_protect_kernel(struct recap_error **err)
{
	for (size_t i = 0; i < ARRAY_SIZE(readonly); i++) {
		int r = freeze(readonly[i], err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(masked); i++) {
		int r = mask(masked[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

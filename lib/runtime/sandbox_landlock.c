/* Landlock for a ReadOnly or None target filesystem (sandbox.h). */
#include "runtime/sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"

/* the kernel's ABI 3 value, for headers older than it */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

/* IOCTL_DEV (ABI 5) is not handled: /target is nodev, the capsule's /dev
 * holds only harmless nodes, and handling it would refuse terminal ioctls on
 * a /dev/pts opened by the tool. */
#define DIR_WRITE_V1                                                                                         \
	(LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |    \
	 LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |          \
	 LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |       \
	 LANDLOCK_ACCESS_FS_MAKE_SYM)

struct access {
	__u64 dir;  /* beneath a writable directory; also the handled set */
	__u64 file; /* on a writable file */
};

int recap_landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	return v < 0 ? -errno : (int)v;
}

enum recap_landlock_plan recap_landlock_plan(int abi, enum recap_target_fs fs, unsigned join)
{
	if (fs == RECAP_TARGET_FS_RW)
		return RECAP_LANDLOCK_SKIP;
	if (abi > 0)
		return RECAP_LANDLOCK_APPLY;
	return (join & RECAP_JOIN_PID) ? RECAP_LANDLOCK_REFUSE : RECAP_LANDLOCK_SKIP;
}

static struct access access_for(int abi)
{
	struct access a = {.dir = DIR_WRITE_V1, .file = LANDLOCK_ACCESS_FS_WRITE_FILE};
	if (abi >= 2)
		a.dir |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3) {
		a.dir |= LANDLOCK_ACCESS_FS_TRUNCATE;
		a.file |= LANDLOCK_ACCESS_FS_TRUNCATE;
	}
	return a;
}

/* Allows a's writes beneath dirfd/name: a directory gets a.dir, a regular
 * file or device a.file; symlinks and what is absent are skipped (a symlink
 * is reached through what it points to, never on its own). */
static int allow(int ruleset, int dirfd, const char *name, struct access a)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return errno == ENOENT || errno == ELOOP ? 0 : -errno;
	__u64 allowed = S_ISDIR(st.st_mode) ? a.dir : S_ISREG(st.st_mode) || S_ISCHR(st.st_mode) ? a.file : 0;
	if (!allowed)
		return 0;
	struct landlock_path_beneath_attr pb = {.allowed_access = allowed, .parent_fd = fd};
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
		return -errno;
	return 0;
}

/* The top-level entries of / but the target's and the kernel's. */
static int allow_root(int ruleset, struct access a)
{
	static const char *const skip[] = {".", "..", "target", "proc", "sys", "dev"};
	_cleanup_close_ int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = root < 0 ? NULL : opendir("/");
	if (!d)
		return -errno;
	int r = 0;
	struct dirent *de;
	while (r >= 0 && (errno = 0, de = readdir(d))) {
		bool skipped = false;
		for (size_t i = 0; i < ARRAY_SIZE(skip); i++)
			skipped = skipped || strcmp(de->d_name, skip[i]) == 0;
		if (!skipped)
			r = allow(ruleset, root, de->d_name, a);
	}
	if (r >= 0 && errno)
		r = -errno;
	closedir(d);
	return r;
}

/* /dev: its files (null, tty, pts/N, ...) for writing, nothing made or
 * removed there but in shm and mqueue. */
static int allow_dev(int ruleset, struct access a)
{
	struct access files = {.dir = a.file, .file = a.file};
	int r = allow(ruleset, AT_FDCWD, "/dev", files);
	if (r >= 0)
		r = allow(ruleset, AT_FDCWD, "/dev/shm", a);
	if (r >= 0)
		r = allow(ruleset, AT_FDCWD, "/dev/mqueue", a);
	return r;
}

int recap_landlock_confine(enum recap_target_fs fs, unsigned join, struct recap_error **err)
{
	int abi = recap_landlock_abi();
	switch (recap_landlock_plan(abi, fs, join)) {
	case RECAP_LANDLOCK_SKIP:
		return 0;
	case RECAP_LANDLOCK_REFUSE:
		return recap_error_set(
		    err, EOPNOTSUPP,
		    "targetFilesystem %s with pid joined needs Landlock, which this kernel "
		    "lacks (%s): the target's processes would lead past the read-only "
		    "/target; join no pid namespace, or use a kernel with Landlock",
		    fs == RECAP_TARGET_FS_NONE ? "None" : "ReadOnly", strerror(-abi));
	case RECAP_LANDLOCK_APPLY:
		break;
	}
	struct access a = access_for(abi);
	struct landlock_ruleset_attr attr = {.handled_access_fs = a.dir};
	_cleanup_close_ int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (ruleset < 0)
		return recap_error_set_errno(err, errno, "cannot create a Landlock ruleset");
	int r = allow_root(ruleset, a);
	if (r >= 0)
		r = allow_dev(ruleset, a);
	if (r < 0)
		return recap_error_set_errno(err, -r, "cannot add the capsule's writable places to Landlock");
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		return recap_error_set_errno(err, errno, "cannot apply the Landlock ruleset");
	return 0;
}

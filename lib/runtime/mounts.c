/* The capsule's mount namespace: made private, the target's tree cloned
 * into it, the root assembled (/target, /out, a minimal /dev), pivot_root,
 * /proc and /sys; and, from the executor, held and emptied at escape. */
#include "runtime/mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "runtime/sandbox.h"

int recap_mounts_private_ns(struct recap_error **err)
{
	if (unshare(CLONE_NEWNS) < 0)
		return recap_error_set_errno(err, errno, "cannot create a mount namespace");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return recap_error_set_errno(err, errno, "cannot make mounts private");
	return 0;
}

int recap_mounts_clone_target(int pidfd, bool rw, int *ret, struct recap_error **err)
{
	/* A mount of another namespace cannot be bind-mounted directly; a
	 * detached clone made from inside it can be attached anywhere. */
	_cleanup_close_ int self = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return recap_error_set_errno(err, errno, "cannot open own mount namespace");
	if (setns(pidfd, CLONE_NEWNS) < 0)
		return recap_error_set_errno(err, errno, "cannot enter the target's mount namespace");
	int tree = open_tree(AT_FDCWD, "/", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	int e = errno;
	if (setns(self, CLONE_NEWNS) < 0)
		return recap_error_set_errno(err, errno, "cannot return to own mount namespace");
	if (tree < 0)
		return recap_error_set_errno(err, e, "cannot clone the target's mount tree");
	struct mount_attr a = {
	    .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (rw ? 0 : MOUNT_ATTR_RDONLY),
	    .propagation = MS_PRIVATE,
	};
	if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0) {
		e = errno;
		close(tree);
		return recap_error_set_errno(err, e, "cannot make the target's tree %s",
					     rw ? "private" : "read-only");
	}
	*ret = tree;
	return 0;
}

/* Mount points are created in the upper layer; one that exists in the image
 * as anything but a directory (a symlink out, say) is refused. */
static int mountpoint_dir(int rootfd, const char *name, struct recap_error **err)
{
	if (mkdirat(rootfd, name, 0755) < 0 && errno != EEXIST)
		return recap_error_set_errno(err, errno, "cannot create /%s in the capsule root", name);
	struct stat st;
	if (fstatat(rootfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return recap_error_set_errno(err, errno, "/%s in the capsule root", name);
	if (!S_ISDIR(st.st_mode))
		return recap_error_set(err, ENOTDIR, "/%s in the capsule image is not a directory", name);
	return 0;
}

static int attach_out(const char *rootfs, int out_fd, struct recap_error **err)
{
	char dst[4200];
	snprintf(dst, sizeof(dst), "%s/out", rootfs);
	if (move_mount(out_fd, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return recap_error_set_errno(err, errno, "cannot attach the run's tmpfs at /out");
	return 0;
}

static int attach_target(const char *rootfs, int tree_fd, struct recap_error **err)
{
	char dst[4200];
	snprintf(dst, sizeof(dst), "%s/target", rootfs);
	if (move_mount(tree_fd, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return recap_error_set_errno(err, errno, "cannot attach the target's root at /target");
	return 0;
}

int recap_mounts_setup_root(const char *rootfs, int tree_fd, int out_fd, struct recap_error **err)
{
	_cleanup_close_ int rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (rootfd < 0)
		return recap_error_set_errno(err, errno, "cannot open %s", rootfs);
	static const char *const dirs[] = RECAP_MOUNTPOINTS;
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		int r = mountpoint_dir(rootfd, dirs[i], err);
		if (r < 0)
			return r;
	}
	int r = tree_fd >= 0 ? attach_target(rootfs, tree_fd, err) : 0;
	if (r >= 0)
		r = attach_out(rootfs, out_fd, err);
	if (r >= 0)
		r = recap_mounts_dev(rootfs, err);
	return r;
}

int recap_mounts_pivot(const char *rootfs, struct recap_error **err)
{
	_cleanup_close_ int fd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fchdir(fd) < 0)
		return recap_error_set_errno(err, errno, "cannot enter %s", rootfs);
	/* stack the old root under the new one, then detach it */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return recap_error_set_errno(err, errno, "pivot_root into %s", rootfs);
	if (umount2(".", MNT_DETACH) < 0)
		return recap_error_set_errno(err, errno, "cannot detach the old root");
	if (chdir("/") < 0)
		return recap_error_set_errno(err, errno, "chdir /");
	return 0;
}

int recap_mounts_proc_sys(struct recap_error **err)
{
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return recap_error_set_errno(err, errno, "cannot mount /proc");
	if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL) < 0)
		return recap_error_set_errno(err, errno, "cannot mount /sys");
	int r = recap_mounts_protect_kernel(err);
	if (r < 0)
		return r;
	/* POSIX message queues of the (joined) IPC namespace */
	if ((mkdir("/dev/mqueue", 0755) < 0 && errno != EEXIST) ||
	    mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return recap_error_set_errno(err, errno, "cannot mount /dev/mqueue");
	return 0;
}

/* A minimal /dev: a small tmpfs with the harmless host devices bound in,
 * a private devpts instance and the usual symlinks. */
static int bind_device(const char *dev, const char *name, struct recap_error **err)
{
	char src[64], dst[4400];
	snprintf(src, sizeof(src), "/dev/%s", name);
	snprintf(dst, sizeof(dst), "%s/%s", dev, name);
	_cleanup_close_ int fd = open(dst, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0666);
	if (fd < 0)
		return recap_error_set_errno(err, errno, "cannot create /dev/%s", name);
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
		return recap_error_set_errno(err, errno, "cannot bind /dev/%s", name);
	return 0;
}

static int links(const char *dev, struct recap_error **err)
{
	static const char *const l[][2] = {{"/proc/self/fd", "fd"},
					   {"/proc/self/fd/0", "stdin"},
					   {"/proc/self/fd/1", "stdout"},
					   {"/proc/self/fd/2", "stderr"},
					   {"pts/ptmx", "ptmx"}};
	_cleanup_close_ int fd = open(dev, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; fd >= 0 && i < ARRAY_SIZE(l); i++)
		if (symlinkat(l[i][0], fd, l[i][1]) < 0)
			return recap_error_set_errno(err, errno, "cannot link /dev/%s", l[i][1]);
	return fd < 0 ? recap_error_set_errno(err, errno, "cannot open %s", dev) : 0;
}

int recap_mounts_dev(const char *rootfs, struct recap_error **err)
{
	static const char *const devices[] = {"null", "zero", "full", "random", "urandom", "tty"};
	char dev[4200], path[4300];
	snprintf(dev, sizeof(dev), "%s/dev", rootfs);
	if (mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0755,size=64k,nr_inodes=64") < 0)
		return recap_error_set_errno(err, errno, "cannot mount /dev");
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
		int r = bind_device(dev, devices[i], err);
		if (r < 0)
			return r;
	}
	snprintf(path, sizeof(path), "%s/pts", dev);
	if (mkdir(path, 0755) < 0 ||
	    mount("devpts", path, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") < 0)
		return recap_error_set_errno(err, errno, "cannot mount /dev/pts");
	snprintf(path, sizeof(path), "%s/shm", dev);
	if (mkdir(path, 01777) < 0 ||
	    mount("shm", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=64m") < 0)
		return recap_error_set_errno(err, errno, "cannot mount /dev/shm");
	return links(dev, err);
}

/* The run's mount namespace, seen from the executor: held from the moment
 * the supervisor reports it built, emptied at escape. */
int recap_mounts_ns_open(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int recap_mounts_ns_empty(int ns_fd, struct recap_error **err)
{
	/* setns(CLONE_NEWNS) needs a process that shares no fs state: a child,
	 * which then only detaches "/" (the namespace's root, no other path is
	 * resolved in it) and exits */
	pid_t pid = fork();
	if (pid < 0)
		return recap_error_set_errno(err, errno, "cannot fork to empty the run's mount namespace");
	if (pid == 0) {
		if (setns(ns_fd, CLONE_NEWNS) < 0)
			_exit(10);
		_exit(umount2("/", MNT_DETACH) < 0 ? 11 : 0);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return recap_error_set_errno(err, errno,
						     "cannot wait for the mount namespace's cleaner");
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	return recap_error_set(err, EBUSY, "the run's mount namespace could not be %s (status %d)",
			       WIFEXITED(st) && WEXITSTATUS(st) == 10 ? "entered" : "emptied", st);
}

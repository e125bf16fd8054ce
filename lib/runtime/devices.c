/* A minimal /dev: a small tmpfs with the harmless host devices bound in,
 * a private devpts instance and the usual symlinks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "runtime/mounts.h"

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

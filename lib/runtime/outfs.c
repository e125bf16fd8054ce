/* The run's /out: a tmpfs of its own, made by the executor (fsopen and
 * fsmount: a detached mount it holds an fd of), attached at /out in the
 * run's mount namespace. Its size is the limit on artifacts; its pages are
 * charged to the run's memory cgroup like the writable layer's (its
 * processes fault them in); it is nosuid, nodev and noexec. The executor's
 * fd keeps it readable after the run's namespace is gone, so at the end of
 * the run its regular files and directories are copied into out/<id> on the
 * store (outcopy.c) and nothing the capsule made is live on the node's disk
 * as it made it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "runtime/mounts.h"

/* one inode per 4 KiB of /out, at least this many */
#define OUT_MIN_INODES 1024

static int config(int fs, const char *key, const char *value, struct recap_error **err)
{
	if (fsconfig(fs, FSCONFIG_SET_STRING, key, value, 0) < 0)
		return recap_error_set_errno(err, errno, "cannot set %s=%s on the /out tmpfs", key, value);
	return 0;
}

int recap_out_make(const char *id, int64_t bytes, int *ret, struct recap_error **err)
{
	_cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return recap_error_set_errno(err, errno, "cannot create the /out tmpfs");
	char source[96], size[32], inodes[32];
	long long n = bytes / 4096 > OUT_MIN_INODES ? bytes / 4096 : OUT_MIN_INODES;
	/* the source names the run in the mount table of whoever looks */
	snprintf(source, sizeof(source), "recap-out-%s", id);
	snprintf(size, sizeof(size), "%lld", (long long)bytes);
	snprintf(inodes, sizeof(inodes), "%lld", n);
	int r = config(fs, "source", source, err);
	if (r >= 0)
		r = config(fs, "size", size, err);
	if (r >= 0)
		r = config(fs, "nr_inodes", inodes, err);
	if (r >= 0)
		r = config(fs, "mode", "0755", err);
	if (r < 0)
		return r;
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return recap_error_set_errno(err, errno, "cannot create the /out tmpfs");
	int m = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (m < 0)
		return recap_error_set_errno(err, errno, "cannot mount the /out tmpfs");
	*ret = m;
	return 0;
}

/* The run's writable layer: a tmpfs of its own, size-bounded, mounted over
 * the run directory inside the run's private mount namespace only. The
 * upper and work directories of the overlay and its mount point live there,
 * so the host's disk sees none of a run's writes, its pages are charged to
 * the run's memory cgroup (they are faulted in by its processes), and the
 * whole layer is gone with the namespace when the run's last process ends:
 * escape deletes nothing of it, and a crashed executor leaves nothing of it
 * once sweep has killed the run's cgroup. */
#include <errno.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "runtime/mounts.h"
#include "runtime/state.h"

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

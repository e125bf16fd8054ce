/* Tree removal that never follows a symlink and never leaves the device it
 * started on: safe on content unpacked from untrusted layers. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/store.h"

#define RM_MAX_DEPTH 512

static int rm_children(int dfd, dev_t dev, int depth);

static int rm_entry(int dirfd, const char *name, dev_t dev, int depth)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (st.st_dev != dev)
		return -EXDEV;
	if (depth > RM_MAX_DEPTH)
		return -ELOOP;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = rm_children(fd, dev, depth + 1);
	if (r < 0)
		return r;
	return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

/* Takes ownership of dfd. */
static int rm_children(int dfd, dev_t dev, int depth)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		r = rm_entry(dirfd(d), de->d_name, dev, depth);
		if (r < 0)
			break;
	}
	closedir(d);
	return r;
}

int recap_oci_rm_rf_at(int dirfd, const char *name)
{
	struct stat st;
	if (fstat(dirfd, &st) < 0)
		return -errno;
	return rm_entry(dirfd, name, st.st_dev, 0);
}

#include "runtime/spare.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int spare_name(const char *path, int k, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');
	int dl = slash ? (int)(slash - path) : 0;
	int n = snprintf(out, size, "%.*s%s.spare-%d", dl, path, slash ? "/" : "", k);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int recap_spare_take(const char *path, mode_t mode)
{
	char spare[4200];
	for (int k = 0; k < RECAP_SPARES; k++) {
		if (spare_name(path, k, spare, sizeof(spare)) < 0)
			return -ENAMETOOLONG;
		/* fresh mtime: sweep leaves a run directory without a state
		 * alone for a while, as one just made */
		if (renameat2(AT_FDCWD, spare, AT_FDCWD, path, RENAME_NOREPLACE) == 0) {
			(void)utimensat(AT_FDCWD, path, NULL, 0);
			return 0;
		}
		if (errno == EEXIST)
			return -EEXIST;
	}
	return mkdir(path, mode) < 0 ? -errno : 0;
}

int recap_spare_give(const char *path, const char *keep)
{
	char spare[4200];
	for (int k = 0; k < RECAP_SPARES; k++) {
		if (spare_name(path, k, spare, sizeof(spare)) < 0)
			break;
		if (renameat2(AT_FDCWD, path, AT_FDCWD, spare, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno == ENOENT)
			return 0;
		if (errno != EEXIST)
			break;
	}
	if (keep) {
		char file[4400];
		snprintf(file, sizeof(file), "%s/%s", path, keep);
		if (unlink(file) < 0 && errno != ENOENT)
			return -errno;
	}
	return rmdir(path) < 0 && errno != ENOENT ? -errno : 0;
}

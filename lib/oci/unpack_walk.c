/* Resolving entry paths beneath the layer root one component at a time with
 * O_NOFOLLOW: a symlink created earlier in the layer can never redirect a
 * later entry outside of it. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "oci/path.h"
#include "oci/unpack_entry.h"

static int open_dir_nofollow(int dirfd, const char *name, int create, const char *rel,
			     struct recap_error **err)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (errno == ENOENT && create) {
		if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
			return recap_error_set_errno(
			    err, errno, "entry '%.300s': cannot create directory '%s'", rel, name);
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			return fd;
	}
	if (errno == ELOOP || errno == ENOTDIR) {
		struct stat st;
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
			return recap_error_set(err, EPERM, "entry '%.300s' goes through the symlink '%s'",
					       rel, name);
		return recap_error_set(err, ENOTDIR, "entry '%.300s': '%s' is not a directory", rel, name);
	}
	return recap_error_set_errno(err, errno, "entry '%.300s': cannot open '%s'", rel, name);
}

int recap_oci_unpack_open_parent(int root, const char *rel, int create, const char **ret_base,
				 struct recap_error **err)
{
	_cleanup_close_ int cur = fcntl(root, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return recap_error_set_errno(err, errno, "cannot dup layer root");
	char name[RECAP_OCI_NAME_MAX + 1];
	const char *p = rel;
	for (;;) {
		const char *slash = strchr(p, '/');
		if (!slash)
			break;
		size_t n = slash - p;
		memcpy(name, p, n);
		name[n] = '\0';
		int next = open_dir_nofollow(cur, name, create, rel, err);
		if (next < 0)
			return next;
		close(cur);
		cur = next;
		p = slash + 1;
	}
	*ret_base = p;
	return steal_fd(cur);
}

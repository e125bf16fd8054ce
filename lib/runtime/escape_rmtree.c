/* Deleting a tree that untrusted code wrote (escape.h). */
#include "runtime/escape.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"

/* Deeper directories are moved up to the top instead of recursed into, so
 * the stack stays bounded whatever the tree. */
#define MAX_DEPTH 64

struct walk {
	int top;      /* the tree's root dir */
	dev_t dev;    /* its filesystem */
	unsigned seq; /* names for moved-up dirs */
	int moved;    /* something was moved up: walk again */
	struct recap_error **err;
};

static int empty_dir(struct walk *w, int dirfd, int depth);

static int remove_entry(struct walk *w, int dirfd, const char *name, int depth)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : recap_error_set_errno(w->err, errno, "stat %s", name);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
			return recap_error_set_errno(w->err, errno, "cannot remove %s", name);
		return 0;
	}
	if (st.st_dev != w->dev)
		return recap_error_set(w->err, EXDEV, "%s is a mount point: refusing to cross it", name);
	if (depth >= MAX_DEPTH) {
		char moved[64];
		int r;
		do { /* a name left by an interrupted earlier removal is skipped */
			snprintf(moved, sizeof(moved), ".rmtree-%u", w->seq++);
			r = renameat2(dirfd, name, w->top, moved, RENAME_NOREPLACE);
		} while (r < 0 && errno == EEXIST && w->seq < 1u << 20);
		if (r < 0)
			return recap_error_set_errno(w->err, errno, "cannot move %s up", name);
		w->moved = 1;
		return 0;
	}
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return recap_error_set_errno(w->err, errno, "cannot open %s", name);
	int r = empty_dir(w, fd, depth + 1);
	if (r < 0)
		return r;
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && errno != ENOTEMPTY)
		return recap_error_set_errno(w->err, errno, "cannot remove directory %s", name);
	return 0;
}

static int empty_dir(struct walk *w, int dirfd, int depth)
{
	/* overlay work dirs can be mode 000: root reads them anyway (DAC_OVERRIDE) */
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return recap_error_set_errno(w->err, errno, "fcntl(F_DUPFD_CLOEXEC)");
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return recap_error_set_errno(w->err, errno, "fdopendir");
	}
	rewinddir(d); /* the dup shares its offset with earlier passes */
	int r = 0;
	struct dirent *de;
	while (r >= 0 && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		r = remove_entry(w, dirfd, de->d_name, depth);
	}
	closedir(d);
	return r;
}

int recap_rmtree(const char *path, struct recap_error **err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ENOTDIR || errno == ELOOP)
			return unlink(path) < 0 ? recap_error_set_errno(err, errno, "cannot remove %s", path)
						: 0;
		return recap_error_set_errno(err, errno, "cannot open %s", path);
	}
	struct stat st;
	if (fstat(fd, &st) < 0)
		return recap_error_set_errno(err, errno, "stat %s", path);
	struct walk w = {.top = fd, .dev = st.st_dev, .err = err};
	int r;
	do {
		w.moved = 0;
		r = empty_dir(&w, fd, 0);
	} while (r >= 0 && w.moved);
	if (r < 0)
		return recap_error_wrap(err, r, "removing %s", path);
	if (rmdir(path) < 0 && errno != ENOENT)
		return recap_error_set_errno(err, errno, "cannot remove %s", path);
	return 0;
}

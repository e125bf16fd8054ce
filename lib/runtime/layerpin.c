#include "runtime/layerpin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cleanup.h"

/* -ENOENT: no locks directory, so no store that gc could be sweeping. */
static int lock_store_shared(const char *root, struct recap_error **err)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/locks/store.lock", root);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : recap_error_set_errno(err, errno, "cannot open %s", path);
	while (flock(fd, LOCK_SH) < 0) {
		if (errno == EINTR)
			continue;
		int e = errno;
		close(fd);
		return recap_error_set_errno(err, e, "cannot lock %s", path);
	}
	return fd;
}

static int write_list(const char *run_dir, const struct recap_strv *layers, struct recap_error **err)
{
	struct recap_buf b = RECAP_BUF_INIT(1 << 20);
	int r = 0;
	for (size_t i = 0; r >= 0 && i < layers->n; i++) {
		const char *slash = strrchr(layers->v[i], '/');
		r = recap_buf_printf(&b, "%s\n", slash ? slash + 1 : layers->v[i]);
	}
	char tmp[4200], path[4200];
	snprintf(tmp, sizeof(tmp), "%s/layers.tmp", run_dir);
	snprintf(path, sizeof(path), "%s/layers", run_dir);
	int fd = r < 0 ? -1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (r >= 0 && fd < 0)
		r = -errno;
	if (r >= 0 && write(fd, b.data, b.len) != (ssize_t)b.len)
		r = -EIO;
	if (fd >= 0)
		close(fd);
	recap_buf_free(&b);
	if (r >= 0 && rename(tmp, path) < 0)
		r = -errno;
	return r < 0 ? recap_error_set_errno(err, -r, "cannot write %s", path) : 0;
}

int recap_layers_pin(const char *root, const char *run_dir, const struct recap_strv *layers,
		     struct recap_error **err)
{
	_cleanup_close_ int lock = lock_store_shared(root, err);
	if (lock < 0 && lock != -ENOENT)
		return lock;
	for (size_t i = 0; i < layers->n; i++) {
		struct stat st;
		if (stat(layers->v[i], &st) < 0 || !S_ISDIR(st.st_mode))
			return recap_error_set(err, ENOENT,
					       "capsule layer %s is gone (removed by capsule rmi and gc?)",
					       layers->v[i]);
	}
	return write_list(run_dir, layers, err);
}

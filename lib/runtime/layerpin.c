#include "runtime/layerpin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

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

int recap_layers_pin(const char *root, const struct recap_strv *layers, int *ret_lock,
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
	*ret_lock = lock < 0 ? -1 : steal_fd(lock);
	return 0;
}

#include "oci/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"

static const char *const store_dirs[] = {"blobs", "blobs/sha256", "layers", "locks", "tmp", "runs", "out"};

static int mkdir_p(const char *path)
{
	_cleanup_free_ char *p = strdup(path);
	if (!p)
		return -ENOMEM;
	for (char *c = p + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*c = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int recap_oci_store_open(const char *root, struct recap_oci_store **ret, struct recap_error **err)
{
	if (!root || root[0] != '/')
		return recap_error_set(err, EINVAL, "store root '%s' must be an absolute path",
				       root ? root : "");
	int r = mkdir_p(root);
	if (r < 0)
		return recap_error_set_errno(err, -r, "cannot create store root %s", root);
	_cleanup_close_ int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return recap_error_set_errno(err, errno, "cannot open store root %s", root);
	for (size_t i = 0; i < ARRAY_SIZE(store_dirs); i++)
		if (mkdirat(fd, store_dirs[i], 0700) < 0 && errno != EEXIST)
			return recap_error_set_errno(err, errno, "cannot create %s/%s", root, store_dirs[i]);
	struct recap_oci_store *s = calloc(1, sizeof(*s));
	if (!s || !(s->root = strdup(root))) {
		free(s);
		return -ENOMEM;
	}
	s->root_fd = steal_fd(fd);
	*ret = s;
	return 0;
}

void recap_oci_store_close(struct recap_oci_store *s)
{
	if (!s)
		return;
	if (s->root_fd >= 0)
		close(s->root_fd);
	free(s->root);
	free(s);
}

char *recap_oci_store_blob_path(const struct recap_oci_store *s, const char *digest)
{
	char *p = NULL;
	if (asprintf(&p, "%s/blobs/sha256/%s", s->root, recap_oci_digest_hex(digest)) < 0)
		return NULL;
	return p;
}

char *recap_oci_store_layer_path(const struct recap_oci_store *s, const char *layer_id)
{
	char *p = NULL;
	if (asprintf(&p, "%s/layers/%s", s->root, layer_id) < 0)
		return NULL;
	return p;
}

static int exists_at(int dirfd, const char *rel, mode_t type)
{
	struct stat st;
	if (fstatat(dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	return (st.st_mode & S_IFMT) == type;
}

int recap_oci_store_has_blob(const struct recap_oci_store *s, const char *digest)
{
	char rel[64 + RECAP_OCI_DIGEST_MAX];
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", recap_oci_digest_hex(digest));
	return exists_at(s->root_fd, rel, S_IFREG);
}

int recap_oci_store_has_layer(const struct recap_oci_store *s, const char *layer_id)
{
	char rel[64 + RECAP_OCI_DIGEST_MAX];
	snprintf(rel, sizeof(rel), "layers/%s", layer_id);
	return exists_at(s->root_fd, rel, S_IFDIR);
}

int recap_oci_store_lock(const struct recap_oci_store *s, const char *name, int exclusive,
			 struct recap_error **err)
{
	char rel[128];
	if (snprintf(rel, sizeof(rel), "locks/%s.lock", name) >= (int)sizeof(rel))
		return recap_error_set(err, ENAMETOOLONG, "lock name too long");
	int fd = openat(s->root_fd, rel, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return recap_error_set_errno(err, errno, "cannot open lock %s/%s", s->root, rel);
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
		if (errno == EINTR)
			continue;
		int e = errno;
		close(fd);
		return recap_error_set_errno(err, e, "cannot lock %s/%s", s->root, rel);
	}
	return fd;
}

/* Opening a run's artifacts beneath out/<id> (artifacts.h): the artifact
 * paths, the checks the node's relay makes before it streams anything.
 * The tar stream itself is artifacts_tar.c, run by the helper caplet-tar so
 * that libarchive is not in the agent's process. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "caplet/artifacts.h"
#include "caplet/artifacts_internal.h"

int recap_caplet_artifacts_path(const char *path, size_t len, char out[RECAP_CAPLET_ARTIFACT_PATH_MAX],
				struct recap_error **err)
{
	if (memchr(path, '\0', len))
		return recap_error_set(err, EINVAL, "the artifact path holds a NUL byte");
	if (len >= RECAP_CAPLET_ARTIFACT_PATH_MAX)
		return recap_error_set(err, EINVAL, "the artifact path is longer than %d bytes",
				       RECAP_CAPLET_ARTIFACT_PATH_MAX - 1);
	const char *p = path, *end = path + len;
	if (len && path[0] == '/') {
		if (len < 4 || memcmp(path, "/out", 4) != 0 || (len > 4 && path[4] != '/'))
			return recap_error_set(err, EINVAL, "the artifact path '%.*s' is outside /out",
					       (int)len, path);
		p += 4;
	}
	size_t n = 0;
	while (p < end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *c_end = slash ? slash : end;
		size_t c = (size_t)(c_end - p);
		if (c == 2 && p[0] == '.' && p[1] == '.')
			return recap_error_set(err, EINVAL, "the artifact path '%.*s' has a '..' component",
					       (int)len, path);
		if (c > 255)
			return recap_error_set(err, EINVAL,
					       "the artifact path has a component longer than 255 bytes");
		if (c && !(c == 1 && p[0] == '.')) {
			if (n)
				out[n++] = '/';
			memcpy(out + n, p, c);
			n += c;
		}
		p = c_end + (slash ? 1 : 0);
	}
	out[n] = '\0';
	return 0;
}

int recap_caplet_artifacts_beneath(int dir, const char *name, int flags)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dir, name, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

/* out/<id> of root, without following a symlink in its last two names. */
int recap_caplet_artifacts_open_run(const char *root, const char *run_id, struct recap_error **err)
{
	if (!recap_caplet_artifacts_id_ok(run_id))
		return recap_error_set(err, EINVAL, "'%s' is not a run id", run_id ? run_id : "");
	char path[4200];
	snprintf(path, sizeof(path), "%s/out", root);
	_cleanup_close_ int out = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int fd = out < 0 ? -errno : recap_caplet_artifacts_beneath(out, run_id, O_RDONLY | O_DIRECTORY);
	if (fd == -ENOENT)
		return recap_error_set(err, ENOENT, "run %s kept no artifacts on this node", run_id);
	if (fd < 0)
		return recap_error_set_errno(err, -fd, "cannot open the artifacts of run %s", run_id);
	return fd;
}

int recap_caplet_artifacts_check(const char *root, const char *run_id, const char *path, int64_t now,
				 enum recap_caplet_artifacts_state *ret, struct recap_error **err)
{
	char rel[RECAP_CAPLET_ARTIFACT_PATH_MAX];
	int r = recap_caplet_artifacts_path(path ? path : "", path ? strlen(path) : 0, rel, err);
	enum recap_caplet_artifacts_state s;
	if (r >= 0)
		r = recap_caplet_artifacts_state(root, run_id, now, &s, NULL, err);
	if (r < 0)
		return r;
	if (s == RECAP_CAPLET_ARTIFACTS_PRESENT && rel[0]) {
		struct recap_error *e = NULL;
		_cleanup_close_ int run = recap_caplet_artifacts_open_run(root, run_id, &e);
		recap_error_free(e);
		int fd = run < 0 ? run : recap_caplet_artifacts_beneath(run, rel, O_PATH);
		if (fd < 0)
			s = RECAP_CAPLET_ARTIFACTS_NONE;
		else
			close(fd);
	}
	*ret = s;
	return 0;
}

/* The run on disk: its paths and id, its state file (which is also its
 * claim on the store's layers) and the spare directories runs are made from. */
#include "runtime/escape.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/json.h"

int recap_run_id_new(char out[33])
{
	unsigned char b[16];
	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		return -EIO;
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

int recap_paths_init(const char *root, const char *id, struct recap_run_paths *ret)
{
	struct recap_run_paths p = {0};
	int ok = (p.id = strdup(id)) && asprintf(&p.run_dir, "%s/runs/%s", root, id) >= 0 &&
		 asprintf(&p.upper, "%s/upper", p.run_dir) >= 0 &&
		 asprintf(&p.work, "%s/work", p.run_dir) >= 0 &&
		 asprintf(&p.rootfs, "%s/rootfs", p.run_dir) >= 0 &&
		 asprintf(&p.state, "%s/state", p.run_dir) >= 0 &&
		 asprintf(&p.out_dir, "%s/out/%s", root, id) >= 0 &&
		 asprintf(&p.mountbase, "%s/mountpoints", root) >= 0;
	if (!ok) {
		recap_paths_free(&p);
		return -ENOMEM;
	}
	*ret = p;
	return 0;
}

void recap_paths_free(struct recap_run_paths *p)
{
	free(p->id);
	free(p->run_dir);
	free(p->upper);
	free(p->work);
	free(p->rootfs);
	free(p->state);
	free(p->out_dir);
	free(p->mountbase);
	*p = (struct recap_run_paths){0};
}

/* The layers' directory names: what gc keeps (docs/node-store.md). */
static json_t *layer_names(const struct recap_strv *layers)
{
	json_t *a = json_array();
	for (size_t i = 0; a && layers && i < layers->n; i++) {
		const char *slash = strrchr(layers->v[i], '/');
		json_array_append_new(a, json_string(slash ? slash + 1 : layers->v[i]));
	}
	return a;
}

static json_t *state_json(const struct recap_run_state *s)
{
	json_t *cg = json_array();
	for (size_t i = 0; s->cgroup && i < s->cgroup->n; i++)
		json_array_append_new(cg, json_string(s->cgroup->dirs[i]));
	/* what changes between phases comes last (see recap_state_update), so
	 * the layers stay byte for byte where they are at every rewrite */
	return json_pack("{s:s, s:i, s:I, s:i, s:s?, s:s?, s:o, s:I, s:s, s:o, s:i, s:s}", "id", s->id,
			 "executorPid", (int)s->executor, "executorStartTime", (json_int_t)s->executor_start,
			 "targetPid", (int)s->target, "image", s->image, "command", s->command, "cgroups", cg,
			 "created", (json_int_t)s->created, "cgroupParent",
			 s->cgroup ? s->cgroup->parent : "", "layers", layer_names(s->layers),
			 "supervisorPid", (int)s->supervisor, "phase", s->phase);
}

static int encode(const struct recap_run_state *s, struct recap_buf *b)
{
	_cleanup_json_ json_t *j = state_json(s);
	return j && recap_json_dump(j, b) >= 0 ? 0 : -ENOMEM;
}

int recap_state_create(const struct recap_run_paths *p, const struct recap_run_state *s,
		       struct recap_state_file *ret, struct recap_error **err)
{
	struct recap_buf b = RECAP_BUF_INIT(RECAP_STATE_MAX);
	if (encode(s, &b) < 0) {
		recap_buf_free(&b);
		return recap_error_set(err, ENOMEM, "cannot encode the run state");
	}
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", p->state);
	/* a spare's state.tmp (recap_spare_take) is overwritten, not truncated:
	 * on the store's ext4 a truncate frees the inode's block and the write
	 * allocates one again, 0.5 ms and up to 3 ms against 25 us for a pwrite
	 * over it (bench/README.md); spaces cover the old document's tail */
	int fd = open(tmp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	int r = fd < 0 ? -errno : 0;
	struct stat st;
	if (r >= 0 && fstat(fd, &st) < 0)
		r = -errno;
	else if (r >= 0 && !S_ISREG(st.st_mode))
		r = -EINVAL;
	else if (r >= 0 && st.st_size > RECAP_STATE_MAX && ftruncate(fd, 0) < 0)
		r = -errno;
	while (r >= 0 && st.st_size <= RECAP_STATE_MAX && b.len < (size_t)st.st_size)
		r = recap_buf_appends(&b, " ");
	if (r >= 0 && pwrite(fd, b.data, b.len, 0) != (ssize_t)b.len)
		r = -EIO;
	/* rename: the state appears whole or not at all */
	if (r >= 0 && rename(tmp, p->state) < 0)
		r = -errno;
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		recap_buf_free(&b);
		return recap_error_set_errno(err, r, "cannot write %s", p->state);
	}
	*ret = (struct recap_state_file){.fd = fd, .len = b.len};
	recap_buf_free(&b);
	return 0;
}

int recap_state_update(struct recap_state_file *f, const struct recap_run_state *s)
{
	if (f->fd < 0)
		return -EBADF;
	struct recap_buf b = RECAP_BUF_INIT(RECAP_STATE_MAX);
	int r = encode(s, &b);
	/* one pwrite over the same inode, padded with spaces (JSON whitespace)
	 * to cover the previous document: no new file, whose inode allocation
	 * costs an ext4 allocator scan per phase */
	while (r >= 0 && b.len < f->len)
		r = recap_buf_appends(&b, " ");
	if (r >= 0 && pwrite(f->fd, b.data, b.len, 0) != (ssize_t)b.len)
		r = -EIO;
	if (r >= 0)
		f->len = b.len;
	recap_buf_free(&b);
	return r;
}

void recap_state_close(struct recap_state_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

/* The run's claim on the store's layers (escape.h). */
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

/* Spare run directories (escape.h): taken by the next run, given back at escape. */
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

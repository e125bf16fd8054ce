/* The node's artifacts: quota, records of expiry, removal (artifacts.h). */
#include "caplet/artifacts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "runtime/runtime.h"

#define META_MAX 4096
#define TREE_MAX_DEPTH 64

bool recap_caplet_artifacts_id_ok(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0 || n > 64)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return false;
	return true;
}

int64_t recap_caplet_quota_reserve(struct recap_caplet_quota *q, int64_t want)
{
	int64_t left = q->limit - q->used - q->reserved;
	int64_t grant = want < left ? want : left;
	if (grant < RECAP_CAPLET_OUT_MIN)
		grant = 0;
	q->reserved += grant;
	return grant;
}

void recap_caplet_quota_release(struct recap_caplet_quota *q, int64_t granted, int64_t kept)
{
	q->reserved -= granted;
	if (q->reserved < 0)
		q->reserved = 0;
	q->used += kept > 0 ? kept : 0;
}

static int meta_path(char *buf, size_t size, const char *root, const char *id, const char *suffix)
{
	int n = snprintf(buf, size, "%s/out/%s.meta%s", root, id, suffix);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static json_t *meta_json(const char *id, const struct recap_caplet_artifacts_meta *m)
{
	char end[40], expire[40];
	recap_time_format((time_t)m->end, end, sizeof(end));
	recap_time_format((time_t)m->expire, expire, sizeof(expire));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:b}", "runId", id, "namespace", m->ns, "name",
			 m->name, "endTime", end, "expireTime", expire, "expireUnix", (json_int_t)m->expire,
			 "removed", m->removed);
}

/* replace: rename over a record there; else keep the one there (EEXIST) */
static int meta_put(const char *root, const char *id, const struct recap_caplet_artifacts_meta *m,
		    bool replace, struct recap_error **err)
{
	if (!recap_caplet_artifacts_id_ok(id))
		return recap_error_set(err, EINVAL, "'%s' is not a run id", id ? id : "");
	char path[4200], tmp[4200], dir[4200];
	snprintf(dir, sizeof(dir), "%s/out", root);
	if (meta_path(path, sizeof(path), root, id, "") < 0 ||
	    meta_path(tmp, sizeof(tmp), root, id, ".tmp") < 0)
		return recap_error_set(err, ENAMETOOLONG, "the store path %s is too long", root);
	if (mkdir(dir, 0711) < 0 && errno != EEXIST)
		return recap_error_set_errno(err, errno, "cannot create %s", dir);
	_cleanup_json_ json_t *j = meta_json(id, m);
	_cleanup_free_ char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (!text)
		return recap_error_set(err, ENOMEM, "out of memory");
	/* O_EXCL: a temporary file another writer left (or a planted link) is
	 * replaced, never written through */
	(void)unlink(tmp);
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return recap_error_set_errno(err, errno, "cannot create %s", tmp);
	size_t n = strlen(text);
	if (write(fd, text, n) != (ssize_t)n) {
		int e = errno ? errno : EIO;
		(void)unlink(tmp);
		return recap_error_set_errno(err, e, "cannot write %s", tmp);
	}
	int r = replace ? rename(tmp, path) : renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE);
	if (r < 0) {
		int e = errno;
		(void)unlink(tmp);
		return e == EEXIST ? -EEXIST : recap_error_set_errno(err, e, "cannot rename %s", tmp);
	}
	return 0;
}

int recap_caplet_artifacts_meta_write(const char *root, const char *run_id,
				      const struct recap_caplet_artifacts_meta *m, struct recap_error **err)
{
	return meta_put(root, run_id, m, true, err);
}

int recap_caplet_artifacts_meta_read(const char *root, const char *run_id,
				     struct recap_caplet_artifacts_meta *ret, struct recap_error **err)
{
	if (!recap_caplet_artifacts_id_ok(run_id))
		return recap_error_set(err, EINVAL, "'%s' is not a run id", run_id ? run_id : "");
	char path[4200];
	if (meta_path(path, sizeof(path), root, run_id, "") < 0)
		return recap_error_set(err, ENAMETOOLONG, "the store path %s is too long", root);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return -ENOENT;
	char buf[META_MAX + 1];
	ssize_t n = fd < 0 ? -1 : read(fd, buf, META_MAX);
	if (n < 0)
		return recap_error_set_errno(err, errno, "cannot read %s", path);
	_cleanup_json_ json_t *j = NULL;
	int r = recap_json_parse(buf, (size_t)n, META_MAX, &j, err);
	if (r < 0)
		return recap_error_wrap(err, r, "%s", path);
	json_t *exp = json_object_get(j, "expireUnix");
	if (!json_is_integer(exp))
		return recap_error_set(err, EINVAL, "%s: expireUnix is not an integer", path);
	struct recap_caplet_artifacts_meta m = {.expire = json_integer_value(exp),
						.removed = recap_json_bool(j, "removed", 0) == 1};
	time_t end;
	const char *s = recap_json_str(j, "endTime");
	m.end = s && recap_time_parse(s, &end) >= 0 ? (int64_t)end : 0;
	snprintf(m.ns, sizeof(m.ns), "%s", recap_json_str(j, "namespace") ?: "");
	snprintf(m.name, sizeof(m.name), "%s", recap_json_str(j, "name") ?: "");
	*ret = m;
	return 0;
}

static bool exists_at(const char *root, const char *sub, const char *id, struct stat *st)
{
	char path[4200];
	struct stat tmp;
	snprintf(path, sizeof(path), "%s/%s/%s", root, sub, id);
	return lstat(path, st ? st : &tmp) == 0;
}

int recap_caplet_artifacts_state(const char *root, const char *run_id, int64_t now,
				 enum recap_caplet_artifacts_state *ret, int64_t *ret_expire,
				 struct recap_error **err)
{
	struct recap_caplet_artifacts_meta m;
	int r = recap_caplet_artifacts_meta_read(root, run_id, &m, err);
	if (r < 0 && r != -ENOENT)
		return r;
	struct stat st;
	bool dir = exists_at(root, "out", run_id, &st) && S_ISDIR(st.st_mode);
	enum recap_caplet_artifacts_state s;
	if (exists_at(root, "runs", run_id, NULL))
		s = RECAP_CAPLET_ARTIFACTS_RUNNING;
	else if (r >= 0 && (m.removed || now >= m.expire))
		s = RECAP_CAPLET_ARTIFACTS_EXPIRED;
	else
		s = dir ? RECAP_CAPLET_ARTIFACTS_PRESENT : RECAP_CAPLET_ARTIFACTS_NONE;
	*ret = s;
	if (ret_expire)
		*ret_expire = r >= 0 ? m.expire : 0;
	return 0;
}

/* The bytes of the regular files at dirfd/name (a file or a tree), links
 * not followed, at most TREE_MAX_DEPTH deep. */
static int64_t tree_bytes(int at, const char *name, int depth)
{
	struct stat st;
	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (S_ISREG(st.st_mode))
		return st.st_size;
	if (!S_ISDIR(st.st_mode) || depth >= TREE_MAX_DEPTH)
		return 0;
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	int64_t sum = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			sum += tree_bytes(dirfd(d), de->d_name, depth + 1);
	closedir(d);
	return sum;
}

struct sweep {
	const char *root;
	int64_t now, retention;
	struct recap_caplet_artifacts_sweep *st;
	struct recap_error **err;
};

static int remove_one(struct sweep *w, const char *sub, const char *id)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s/%s", w->root, sub, id);
	int64_t bytes = tree_bytes(AT_FDCWD, path, 0);
	int r = recap_rmtree(path, w->err);
	if (r >= 0)
		w->st->removed_bytes += bytes;
	return r;
}

/* A record: its run's files removed at expiry (the record kept, marked),
 * the record itself RECAP_CAPLET_TOMBSTONE_SECONDS later. */
static int expire_one(struct sweep *w, const char *id)
{
	struct recap_caplet_artifacts_meta m;
	struct recap_error *e = NULL;
	int r = recap_caplet_artifacts_meta_read(w->root, id, &m, &e);
	recap_error_free(e);
	if (r == -ENOENT)
		return 0;
	if (r < 0) { /* torn by a crash (it is not synced): recorded again, as a run without one */
		struct stat st;
		int64_t t = 0;
		const char *subs[] = {"out", "logs"};
		for (size_t i = 0; i < 2; i++)
			if (exists_at(w->root, subs[i], id, &st) && st.st_mtime > t)
				t = st.st_mtime;
		m = (struct recap_caplet_artifacts_meta){.end = t ? t : w->now,
							 .expire = (t ? t : w->now) + w->retention};
		if ((r = meta_put(w->root, id, &m, true, w->err)) < 0)
			return r;
	}
	if (exists_at(w->root, "runs", id, NULL) || w->now < m.expire)
		return 0;
	if (!m.removed) {
		if ((r = remove_one(w, "out", id)) < 0 || (r = remove_one(w, "logs", id)) < 0)
			return r;
		w->st->removed_runs++;
		m.removed = true;
		return meta_put(w->root, id, &m, true, w->err);
	}
	if (w->now - m.expire >= RECAP_CAPLET_TOMBSTONE_SECONDS) {
		char path[4200];
		meta_path(path, sizeof(path), w->root, id, "");
		if (unlink(path) < 0 && errno != ENOENT)
			return recap_error_set_errno(w->err, errno, "cannot remove %s", path);
	}
	return 0;
}

/* A run's files without a record (its caplet stopped first, or a run of
 * the CLI): recorded, expiring at their mtime + the default retention. */
static int record_orphan(struct sweep *w, const char *sub, int at, const char *id)
{
	struct stat st;
	if (!recap_caplet_artifacts_id_ok(id) || fstatat(at, id, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    exists_at(w->root, "runs", id, NULL))
		return 0;
	char path[4200];
	meta_path(path, sizeof(path), w->root, id, "");
	struct stat mst;
	if (lstat(path, &mst) == 0)
		return 0;
	struct recap_caplet_artifacts_meta m = {.end = st.st_mtime, .expire = st.st_mtime + w->retention};
	int r = meta_put(w->root, id, &m, false, w->err);
	if (r == -EEXIST) /* written meanwhile, by the agent */
		return 0;
	return r < 0 ? recap_error_wrap(w->err, r, "%s/%s", sub, id) : expire_one(w, id);
}

/* Calls fn on each entry of root/sub; ENOENT: none. */
static int each_entry(struct sweep *w, const char *sub,
		      int (*fn)(struct sweep *, const char *, int, const char *))
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", w->root, sub);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return e == ENOENT ? 0 : recap_error_set_errno(w->err, e, "cannot read %s", path);
	}
	/* one entry that cannot be handled does not stop the others: the
	 * first failure is reported */
	struct recap_error **outer = w->err;
	int first = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		struct recap_error *e = NULL;
		w->err = &e;
		int r = fn(w, sub, dirfd(d), de->d_name);
		if (r < 0 && first == 0) {
			first = r;
			if (outer && !*outer)
				*outer = steal_ptr(e);
		}
		recap_error_free(e);
	}
	w->err = outer;
	closedir(d);
	return first;
}

static int on_out_entry(struct sweep *w, const char *sub, int at, const char *name)
{
	size_t n = strlen(name);
	if (n > 5 && strcmp(name + n - 5, ".meta") == 0) {
		char id[72];
		if (n - 5 >= sizeof(id))
			return 0;
		memcpy(id, name, n - 5);
		id[n - 5] = '\0';
		return recap_caplet_artifacts_id_ok(id) ? expire_one(w, id) : 0;
	}
	if (strchr(name, '.'))
		return 0; /* a record's temporary file */
	return record_orphan(w, sub, at, name);
}

static int on_log_entry(struct sweep *w, const char *sub, int at, const char *name)
{
	return record_orphan(w, sub, at, name);
}

static int count_entry(struct sweep *w, const char *sub, int at, const char *name)
{
	if (recap_caplet_artifacts_id_ok(name) && !exists_at(w->root, "runs", name, NULL))
		w->st->used_bytes += tree_bytes(at, name, 0);
	return 0;
}

int recap_caplet_artifacts_sweep(const char *root, int64_t now, int64_t default_retention,
				 struct recap_caplet_artifacts_sweep *ret, struct recap_error **err)
{
	struct recap_caplet_artifacts_sweep st = {0};
	struct sweep w = {.root = root, .now = now, .retention = default_retention, .st = &st, .err = err};
	int r = each_entry(&w, "out", on_out_entry);
	if (r >= 0)
		r = each_entry(&w, "logs", on_log_entry);
	if (r >= 0)
		r = each_entry(&w, "out", count_entry);
	if (r >= 0)
		r = each_entry(&w, "logs", count_entry);
	*ret = st; /* what was removed, also when something failed */
	return r;
}

int recap_caplet_artifacts_discard(const char *root, const char *run_id, struct recap_error **err)
{
	if (!recap_caplet_artifacts_id_ok(run_id))
		return recap_error_set(err, EINVAL, "'%s' is not a run id", run_id ? run_id : "");
	char path[4200];
	snprintf(path, sizeof(path), "%s/out/%s", root, run_id);
	return recap_rmtree(path, err);
}

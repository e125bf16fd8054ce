/* Making a run's cgroup: where the hierarchies are mounted, the run's directories
 * and limits in them, and its processes forked or moved into it. */
#include "runtime/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/failpoint.h"

/* The mounted hierarchies. */
struct recap_cgroup_hier {
	char *v2; /* cgroup2 mount, NULL if none */
	bool v2_memory, v2_pids, v2_cpu;
	char *v1_memory, *v1_pids, *v1_cpu, *v1_freezer; /* v1 mounts */
};

/* Where the cgroup hierarchies are mounted, from /proc/self/mountinfo. */
static int has_option(const char *opts, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = opts; p && *p;) {
		const char *e = strchrnul(p, ',');
		if ((size_t)(e - p) == n && strncmp(p, name, n) == 0)
			return 1;
		p = *e ? e + 1 : NULL;
	}
	return 0;
}

static void v1_mount(struct recap_cgroup_hier *h, const char *mnt, const char *opts)
{
	static const char *const ctrls[] = {"memory", "pids", "cpu", "freezer"};
	char **slots[] = {&h->v1_memory, &h->v1_pids, &h->v1_cpu, &h->v1_freezer};
	for (size_t i = 0; i < ARRAY_SIZE(ctrls); i++)
		if (has_option(opts, ctrls[i]) && !*slots[i])
			*slots[i] = strdup(mnt);
}

static void v2_controllers(struct recap_cgroup_hier *h)
{
	char path[4200], buf[512] = "";
	snprintf(path, sizeof(path), "%s/cgroup.controllers", h->v2);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f || !fgets(buf, sizeof(buf), f))
		return;
	buf[strcspn(buf, "\n")] = 0;
	for (char *save = NULL, *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		h->v2_memory |= strcmp(t, "memory") == 0;
		h->v2_pids |= strcmp(t, "pids") == 0;
		h->v2_cpu |= strcmp(t, "cpu") == 0;
	}
}

static void hier_free(struct recap_cgroup_hier *h);

static bool is_fs(const char *path, long magic)
{
	struct statfs s;
	return statfs(path, &s) == 0 && s.f_type == magic;
}

/* One hierarchy of /proc/self/cgroup ("ID:CONTROLLERS:PATH") where the
 * usual layout (systemd's, and a kubelet node's) has it: v2 at
 * /sys/fs/cgroup or /sys/fs/cgroup/unified, v1 at
 * /sys/fs/cgroup/CONTROLLERS, each a filesystem of its version. false: not
 * so. (A hierarchy mounted under another's name would be a broken host: the
 * limits written to it would fail, and so would the run.) */
static bool usual_mount(struct recap_cgroup_hier *h, const char *ctrls)
{
	if (!*ctrls) {
		const char *v2 = is_fs("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC) ? "/sys/fs/cgroup"
				 : is_fs("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC)
				     ? "/sys/fs/cgroup/unified"
				     : NULL;
		return v2 && (h->v2 || (h->v2 = strdup(v2)));
	}
	static const char *const names[] = {"memory", "pids", "cpu", "freezer"};
	char **slots[] = {&h->v1_memory, &h->v1_pids, &h->v1_cpu, &h->v1_freezer};
	char mnt[256];
	if (strchr(ctrls, '/') || snprintf(mnt, sizeof(mnt), "/sys/fs/cgroup/%s", ctrls) >= (int)sizeof(mnt))
		return false;
	bool checked = false;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!has_option(ctrls, names[i]) || *slots[i])
			continue;
		if (!checked && !is_fs(mnt, CGROUP_SUPER_MAGIC))
			return false;
		checked = true;
		if (!(*slots[i] = strdup(mnt)))
			return false;
	}
	return true;
}

/* The hierarchies without the mount table, which the kernel generates at 5
 * us a mount or more (0.3-0.6 ms on the development VM's 68 mounts, more on
 * a node with many pods): -ENOENT where the layout is not the usual one. */
static int hier_usual(struct recap_cgroup_hier *h)
{
	*h = (struct recap_cgroup_hier){0};
	_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -errno;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	int r = 0;
	while (r >= 0 && getline(&line, &cap, f) > 0) {
		char *ctrls = strchr(line, ':'), *end = ctrls ? strchr(ctrls + 1, ':') : NULL;
		if (!end)
			r = -ENOENT;
		else if (*end = 0, strncmp(ctrls + 1, "name=", 5) != 0 && !usual_mount(h, ctrls + 1))
			r = -ENOENT;
	}
	if (r < 0)
		hier_free(h);
	return r;
}

static int hier_discover(struct recap_cgroup_hier *h)
{
	if (hier_usual(h) >= 0) {
		if (h->v2)
			v2_controllers(h);
		return 0;
	}
	*h = (struct recap_cgroup_hier){0};
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		char mnt[4096], fstype[64], opts[1024];
		const char *sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep, " - %63s %*s %1023s", fstype, opts) != 2)
			continue;
		if (strcmp(fstype, "cgroup2") == 0 && !h->v2)
			h->v2 = strdup(mnt);
		else if (strcmp(fstype, "cgroup") == 0)
			v1_mount(h, mnt, opts);
	}
	if (h->v2)
		v2_controllers(h);
	return 0;
}

static void hier_free(struct recap_cgroup_hier *h)
{
	free(h->v2);
	free(h->v1_memory);
	free(h->v1_pids);
	free(h->v1_cpu);
	free(h->v1_freezer);
	*h = (struct recap_cgroup_hier){0};
}

int recap_cgroup_write(const char *dir, const char *file, const char *value)
{
	char path[4400];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t n = strlen(value);
	ssize_t w = write(fd, value, n);
	if (w < 0)
		return -errno;
	return (size_t)w == n ? 0 : -EIO;
}

bool recap_cgroup_parent_valid(const char *p)
{
	size_t n = strlen(p);
	if (n == 0 || n >= sizeof(((struct recap_cgroup *)0)->parent) || p[0] == '/' || p[n - 1] == '/')
		return false;
	if (strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/") != n)
		return false;
	/* every component: not empty, not "." or ".." */
	for (const char *c = p; *c;) {
		size_t len = strcspn(c, "/");
		if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += len;
		c += *c == '/';
	}
	return true;
}

static int add_dir(struct recap_cgroup *cg, const char *mount, const char *id, struct recap_error **err)
{
	char parent[4200];
	snprintf(parent, sizeof(parent), "%s/%s", mount, cg->parent);
	if (mkdir(parent, 0755) < 0 && errno != EEXIST)
		return recap_error_set_errno(err, errno, "cannot create cgroup %s", parent);
	char *dir = NULL;
	if (asprintf(&dir, "%s/%s", parent, id) < 0)
		return -ENOMEM;
	if (mkdir(dir, 0755) < 0) {
		int e = errno;
		free(dir);
		return recap_error_set_errno(err, e, "cannot create cgroup %s/%s", parent, id);
	}
	cg->dirs[cg->n] = dir;
	return (int)cg->n++;
}

static int v2_enable(const char *mount, const char *name, const char *ctrls)
{
	char parent[4200];
	snprintf(parent, sizeof(parent), "%s/%s", mount, name);
	int r = recap_cgroup_write(mount, "cgroup.subtree_control", ctrls);
	if (r >= 0)
		r = recap_cgroup_write(parent, "cgroup.subtree_control", ctrls);
	return r;
}

static int set_limit(const char *dir, const char *file, int64_t v, struct recap_error **err)
{
	char s[64];
	snprintf(s, sizeof(s), "%" PRId64, v);
	int r = recap_cgroup_write(dir, file, s);
	return r < 0 ? recap_error_set_errno(err, r, "cannot set %s/%s to %s", dir, file, s) : 0;
}

static int cpu_limit(struct recap_cgroup *cg, bool v2, const char *mount, const char *id, int64_t millis,
		     struct recap_error **err)
{
	int i = v2 ? cg->v2 : add_dir(cg, mount, id, err);
	if (i < 0)
		return i;
	if (v2) {
		char s[64];
		snprintf(s, sizeof(s), "%" PRId64 " 100000", millis * 100);
		int r = recap_cgroup_write(cg->dirs[i], "cpu.max", s);
		return r < 0 ? recap_error_set_errno(err, r, "cannot set cpu.max") : 0;
	}
	int r = set_limit(cg->dirs[i], "cpu.cfs_period_us", 100000, err);
	return r < 0 ? r : set_limit(cg->dirs[i], "cpu.cfs_quota_us", millis * 100, err);
}

static int memory_limit(struct recap_cgroup *cg, const struct recap_cgroup_hier *h, const char *id,
			int64_t bytes, struct recap_error **err)
{
	if (h->v2_memory) {
		cg->memory = cg->v2;
		int r = set_limit(cg->dirs[cg->v2], "memory.max", bytes, err);
		if (r >= 0) /* absent without swap accounting; memory.max still holds */
			(void)set_limit(cg->dirs[cg->v2], "memory.swap.max", 0, NULL);
		return r;
	}
	if (!h->v1_memory)
		return recap_error_set(err, ENOTSUP,
				       "a memory limit was asked for but no memory controller is mounted");
	int i = add_dir(cg, h->v1_memory, id, err);
	if (i < 0)
		return i;
	cg->memory = i;
	int r = set_limit(cg->dirs[i], "memory.limit_in_bytes", bytes, err);
	/* without swap accounting the file is absent: the limit above still holds */
	(void)set_limit(cg->dirs[i], "memory.memsw.limit_in_bytes", bytes, NULL);
	return r;
}

static int limits(struct recap_cgroup *cg, const struct recap_cgroup_hier *h, const char *id,
		  const struct recap_cgroup_limits *l, struct recap_error **err)
{
	int r = 0;
	if (l->memory_bytes > 0)
		r = memory_limit(cg, h, id, l->memory_bytes, err);
	if (r >= 0 && l->pids > 0) {
		if (!h->v2_pids && !h->v1_pids)
			return recap_error_set(
			    err, ENOTSUP, "a pids limit was asked for but no pids controller is mounted");
		int i = h->v2_pids ? cg->v2 : add_dir(cg, h->v1_pids, id, err);
		r = i < 0 ? i : set_limit(cg->dirs[i], "pids.max", l->pids, err);
	}
	if (r >= 0 && l->cpu_millis > 0) {
		if (!h->v2_cpu && !h->v1_cpu)
			return recap_error_set(err, ENOTSUP,
					       "a cpu limit was asked for but no cpu controller is mounted");
		r = cpu_limit(cg, h->v2_cpu, h->v1_cpu, id, l->cpu_millis, err);
	}
	return r;
}

static int create(struct recap_cgroup *cg, const struct recap_cgroup_hier *h, const char *id,
		  const struct recap_cgroup_limits *l, struct recap_error **err)
{
	int r;
	if (h->v2) {
		char ctrls[64] = "";
		if (h->v2_memory || h->v2_pids || h->v2_cpu)
			snprintf(ctrls, sizeof(ctrls), "%s%s%s", h->v2_memory ? "+memory " : "",
				 h->v2_pids ? "+pids " : "", h->v2_cpu ? "+cpu" : "");
		if ((r = add_dir(cg, h->v2, id, err)) < 0)
			return r;
		cg->v2 = r;
		if (*ctrls && (r = v2_enable(h->v2, cg->parent, ctrls)) < 0)
			return recap_error_set_errno(err, r, "cannot enable cgroup controllers %s", ctrls);
	} else if (h->v1_freezer) {
		/* v1 only: the freezer hierarchy tracks and freezes the run */
		if ((r = add_dir(cg, h->v1_freezer, id, err)) < 0)
			return r;
		cg->freezer = r;
	} else if (!h->v1_pids && !h->v1_memory) {
		return recap_error_set(err, ENOTSUP, "no cgroup hierarchy to track the run in");
	}
	if ((r = limits(cg, h, id, l, err)) < 0)
		return r;
	if (cg->n == 0 && (r = add_dir(cg, h->v1_pids ? h->v1_pids : h->v1_memory, id, err)) < 0)
		return r;
	return 0;
}

int recap_cgroup_create(const char *parent, const char *id, const struct recap_cgroup_limits *l,
			struct recap_cgroup *ret, struct recap_error **err)
{
	struct recap_cgroup_hier h;
	int r = hier_discover(&h);
	if (r < 0)
		return recap_error_set_errno(err, r, "cannot read /proc/self/mountinfo");
	struct recap_cgroup cg = {.v2 = -1, .memory = -1, .freezer = -1};
	if (parent && !recap_cgroup_parent_valid(parent)) {
		hier_free(&h);
		return recap_error_set(err, EINVAL, "bad cgroup parent '%s'", parent);
	}
	snprintf(cg.parent, sizeof(cg.parent), "%s", parent ? parent : RECAP_CGROUP_PARENT);
	r = create(&cg, &h, id, l, err);
	hier_free(&h);
	if (r < 0) {
		(void)recap_cgroup_remove(&cg, NULL);
		recap_cgroup_free(&cg);
		return recap_error_wrap(err, r, "cgroup of run %s", id);
	}
	*ret = cg;
	return 0;
}

int recap_cgroup_open_existing(const char *parent, const char *id, struct recap_cgroup *ret)
{
	if (parent && !recap_cgroup_parent_valid(parent))
		return -EINVAL;
	struct recap_cgroup_hier h;
	int r = hier_discover(&h);
	if (r < 0)
		return r;
	struct recap_cgroup cg = {.v2 = -1, .memory = -1, .freezer = -1};
	snprintf(cg.parent, sizeof(cg.parent), "%s", parent ? parent : RECAP_CGROUP_PARENT);
	const char *mounts[] = {h.v2, h.v1_freezer, h.v1_memory, h.v1_pids, h.v1_cpu};
	for (size_t i = 0; i < ARRAY_SIZE(mounts) && cg.n < RECAP_CGROUP_MAX_DIRS; i++) {
		char *dir = NULL;
		if (!mounts[i] || asprintf(&dir, "%s/%s/%s", mounts[i], cg.parent, id) < 0)
			continue;
		struct stat st;
		if (stat(dir, &st) < 0) {
			free(dir);
			continue;
		}
		if (i == 0)
			cg.v2 = (int)cg.n;
		if (i == 1)
			cg.freezer = (int)cg.n;
		cg.dirs[cg.n++] = dir;
	}
	hier_free(&h);
	*ret = cg;
	return 0;
}

pid_t recap_cgroup_fork(const struct recap_cgroup *cg, uint64_t clone_flags)
{
	if (cg->v2 < 0)
		return -ENOSYS;
	int fd = open(cg->dirs[cg->v2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -ENOSYS;
	struct clone_args a = {
	    .flags = CLONE_INTO_CGROUP | clone_flags, .exit_signal = SIGCHLD, .cgroup = (uint64_t)fd};
	long pid = syscall(SYS_clone3, &a, sizeof(a));
	int e = errno;
	/* the child too: a directory of the host's cgroup tree left open in
	 * the run is a way out of its root (CVE-2024-21626) */
	close(fd);
	if (pid < 0)
		return e == EPERM || e == EBUSY || e == EACCES ? -e : -ENOSYS;
	return (pid_t)pid;
}

int recap_cgroup_enter_self(const struct recap_cgroup *cg, bool skip_v2, struct recap_error **err)
{
	for (size_t i = 0; i < cg->n; i++) {
		if (skip_v2 && (int)i == cg->v2)
			continue;
		int r = recap_failpoint("capsule.cgroup-enter");
		/* v1: the calling thread (all of this single-threaded process);
		 * v2 knows no such file for a domain cgroup: the whole process */
		if (r >= 0)
			r = recap_cgroup_write(cg->dirs[i], (int)i == cg->v2 ? "cgroup.procs" : "tasks", "0");
		if (r < 0)
			return recap_error_set_errno(err, r, "cannot move process into %s", cg->dirs[i]);
	}
	return 0;
}

void recap_cgroup_free(struct recap_cgroup *cg)
{
	for (size_t i = 0; i < cg->n; i++)
		free(cg->dirs[i]);
	*cg = (struct recap_cgroup){.v2 = -1, .memory = -1, .freezer = -1};
	snprintf(cg->parent, sizeof(cg->parent), "%s", RECAP_CGROUP_PARENT);
}

/* The target: the container's init process found (by container id or pid)
 * and held by a pidfd and its start time, so that a reused pid is never
 * taken for it. */
#include "runtime/target.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"

static const char *const id_prefixes[] = {"cri-containerd-", "crio-", "docker-", "libpod-", ""};

static int component_matches(const char *c, size_t len, const char *id, size_t idlen)
{
	/* systemd-driver notation kept verbatim: "<slice>:cri-containerd:<id>" */
	if (len > idlen && c[len - idlen - 1] == ':' && memcmp(c + len - idlen, id, idlen) == 0)
		return 1;
	static const char scope[] = ".scope";
	if (len > sizeof(scope) - 1 && memcmp(c + len - (sizeof(scope) - 1), scope, sizeof(scope) - 1) == 0)
		len -= sizeof(scope) - 1;
	for (size_t i = 0; i < sizeof(id_prefixes) / sizeof(id_prefixes[0]); i++) {
		size_t pl = strlen(id_prefixes[i]);
		if (len == pl + idlen && memcmp(c, id_prefixes[i], pl) == 0 && memcmp(c + pl, id, idlen) == 0)
			return 1;
	}
	return 0;
}

int recap_target_cgroup_matches(const char *text, const char *id)
{
	size_t idlen = strlen(id);
	if (idlen == 0)
		return 0;
	for (const char *line = text; line && *line;) {
		const char *eol = strchrnul(line, '\n');
		const char *path = memchr(line, ':', (size_t)(eol - line));
		path = path ? memchr(path + 1, ':', (size_t)(eol - path - 1)) : NULL;
		for (const char *c = path ? path + 1 : eol; c < eol;) {
			const char *slash = memchr(c, '/', (size_t)(eol - c));
			const char *end = slash ? slash : eol;
			if (component_matches(c, (size_t)(end - c), id, idlen))
				return 1;
			c = end + 1;
		}
		line = *eol ? eol + 1 : NULL;
	}
	return 0;
}

static int read_small(int dirfd, const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return (int)n;
}

static int find_container(const char *proc_root, const char *id, pid_t *ret, uint64_t *ret_start,
			  struct recap_error **err)
{
	DIR *d = opendir(proc_root);
	if (!d)
		return recap_error_set_errno(err, errno, "cannot list %s", proc_root);
	pid_t best = 0;
	uint64_t best_start = UINT64_MAX;
	struct dirent *de;
	char buf[8192], path[300];
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "%s/cgroup", de->d_name);
		if (read_small(dirfd(d), path, buf, sizeof(buf)) <= 0 ||
		    !recap_target_cgroup_matches(buf, id))
			continue;
		pid_t pid = (pid_t)atoi(de->d_name);
		uint64_t st;
		if (recap_pid_start_time(pid, &st) < 0)
			st = UINT64_MAX - 1;
		if (st < best_start || best == 0) {
			best = pid;
			best_start = st;
		}
	}
	closedir(d);
	if (!best)
		return recap_error_set(err, ESRCH, "no process of container '%s' found", id);
	*ret = best;
	*ret_start = best_start;
	return 0;
}

int recap_target_find_container(const char *proc_root, const char *id, pid_t *ret, struct recap_error **err)
{
	uint64_t start;
	return find_container(proc_root, id, ret, &start, err);
}

static int parse_pid(const char *s, pid_t *ret)
{
	if (!*s || strlen(s) > 10)
		return -EINVAL;
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
	long v = strtol(s, NULL, 10);
	if (v <= 0 || v > INT_MAX)
		return -EINVAL;
	*ret = (pid_t)v;
	return 0;
}

int recap_target_resolve(const char *target, struct recap_target *ret, struct recap_error **err)
{
	pid_t pid;
	uint64_t seen = 0; /* start time when found by container id */
	int r;
	if (parse_pid(target, &pid) < 0) {
		r = find_container("/proc", target, &pid, &seen, err);
		if (r < 0)
			return r;
	}
	int fd = recap_pidfd_open(pid);
	if (fd < 0)
		return recap_error_set_errno(err, fd, "target process %d", (int)pid);
	uint64_t st;
	r = recap_pid_start_time(pid, &st);
	/* the pidfd holds the process from here on; a pid that was reused
	 * between the scan and pidfd_open has another start time */
	if (r < 0 || (seen && seen != UINT64_MAX - 1 && st != seen)) {
		close(fd);
		return recap_error_set(err, ESRCH, "target process %d exited", (int)pid);
	}
	*ret = (struct recap_target){.pid = pid, .pidfd = fd, .start_time = st};
	return 0;
}

int recap_target_resolve_pid(const char *id, pid_t pid, struct recap_target *ret, struct recap_error **err)
{
	char path[64], buf[8192];
	_cleanup_close_ int fd = recap_pidfd_open(pid);
	if (fd < 0)
		return recap_error_set_errno(err, -fd, "target process %d of container '%s'", (int)pid, id);
	/* the pidfd holds the process: while it is alive, /proc/<pid> is its */
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	int r = read_small(AT_FDCWD, path, buf, sizeof(buf));
	uint64_t st;
	if (r >= 0)
		r = recap_pid_start_time(pid, &st);
	struct recap_target t = {.pid = pid, .pidfd = fd};
	if (r < 0 || recap_target_alive(&t) < 0)
		return recap_error_set(err, ESRCH, "target process %d of container '%s' exited", (int)pid,
				       id);
	if (!recap_target_cgroup_matches(buf, id))
		return recap_error_set(err, ESRCH,
				       "process %d is not in container '%s' (its cgroups do not name it): "
				       "refused",
				       (int)pid, id);
	*ret = (struct recap_target){.pid = pid, .pidfd = steal_fd(fd), .start_time = st};
	return 0;
}

int recap_target_alive(const struct recap_target *t)
{
	/* a pidfd becomes readable when its process exits */
	struct pollfd p = {.fd = t->pidfd, .events = POLLIN};
	if (poll(&p, 1, 0) > 0)
		return -ESRCH;
	return 0;
}

void recap_target_release(struct recap_target *t)
{
	if (t->pidfd >= 0)
		close(t->pidfd);
	t->pidfd = -1;
}

/* pidfds and process start times: how a pid is held against reuse. */
int recap_pidfd_open(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	return fd < 0 ? -errno : fd;
}

int recap_pid_start_time(pid_t pid, uint64_t *ret)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return n < 0 ? -errno : -ESRCH;
	buf[n] = 0;
	/* the command name may hold spaces and parentheses: skip to the last ')' */
	char *p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	/* p at the space before field 3 (state): 19 more to field 22, starttime */
	p++;
	/* a zombie (or a dying task) is gone: it only waits to be reaped, by a
	 * parent that may itself be gone (an executor whose caplet was killed) */
	if (p[1] == 'Z' || p[1] == 'X')
		return -ESRCH;
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -EIO;
	}
	*ret = strtoull(p + 1, NULL, 10);
	return 0;
}

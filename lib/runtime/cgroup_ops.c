/* Acting on a run's cgroup: listing, signalling, killing, OOM, removal. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/timeutil.h"
#include "runtime/cgroup.h"

int recap_cgroup_pids(const struct recap_cgroup *cg, pid_t *pids, size_t max)
{
	if (cg->n == 0)
		return 0;
	char path[4400];
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg->dirs[0]);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	size_t n = 0;
	long v;
	while (fscanf(f, "%ld", &v) == 1) {
		if (v <= 0)
			continue;
		if (n == max)
			return -ENOBUFS;
		pids[n++] = (pid_t)v;
	}
	return (int)n;
}

static int freeze(const struct recap_cgroup *cg, bool on)
{
	if (cg->v2 >= 0)
		return recap_cgroup_write(cg->dirs[cg->v2], "cgroup.freeze", on ? "1" : "0");
	if (cg->freezer >= 0)
		return recap_cgroup_write(cg->dirs[cg->freezer], "freezer.state", on ? "FROZEN" : "THAWED");
	return -ENOTSUP;
}

int recap_cgroup_signal(const struct recap_cgroup *cg, int sig, pid_t spare)
{
	if (cg->n == 0)
		return 0;
	char path[4400];
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg->dirs[0]);
	/* frozen, nothing can fork between the listing and the signal; a
	 * SIGKILL still lands on a frozen task */
	bool frozen = freeze(cg, true) >= 0;
	FILE *f = fopen(path, "re");
	int r = f ? 0 : -errno;
	long v;
	while (f && fscanf(f, "%ld", &v) == 1)
		if (v > 0 && v != spare)
			kill((pid_t)v, sig);
	if (f)
		fclose(f);
	if (frozen)
		freeze(cg, false);
	return r;
}

static void sleep_us(unsigned us)
{
	struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000L};
	nanosleep(&ts, NULL);
}

int recap_cgroup_kill(const struct recap_cgroup *cg, unsigned timeout_ms)
{
	if (cg->n == 0)
		return 0;
	uint64_t deadline = recap_now_mono_ms() + timeout_ms;
	pid_t one;
	for (;;) {
		int n = recap_cgroup_pids(cg, &one, 1);
		if (n == 0 || n == -ENOENT)
			return 0;
		if (cg->v2 < 0 || recap_cgroup_write(cg->dirs[cg->v2], "cgroup.kill", "1") < 0)
			recap_cgroup_signal(cg, SIGKILL, 0);
		if (recap_now_mono_ms() > deadline)
			return -EBUSY;
		sleep_us(1000);
	}
}

static long long field(const char *dir, const char *file, const char *key)
{
	char path[4400], k[64];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	long long v;
	while (f && fscanf(f, "%63s %lld", k, &v) == 2)
		if (strcmp(k, key) == 0)
			return v;
	return -1;
}

bool recap_cgroup_oom_killed(const struct recap_cgroup *cg)
{
	if (cg->memory < 0)
		return false;
	const char *dir = cg->dirs[cg->memory];
	if (cg->memory == cg->v2)
		return field(dir, "memory.events", "oom_kill") > 0;
	return field(dir, "memory.oom_control", "oom_kill") > 0;
}

int recap_cgroup_remove(const struct recap_cgroup *cg, struct recap_error **err)
{
	int ret = 0;
	/* children first would matter only for nested dirs; ours are flat */
	for (size_t i = 0; i < cg->n; i++) {
		/* the last task leaves a cgroup a moment after it was reaped */
		uint64_t deadline = recap_now_mono_ms() + 2000;
		while (rmdir(cg->dirs[i]) < 0 && errno != ENOENT) {
			if (errno != EBUSY || recap_now_mono_ms() > deadline) {
				ret =
				    recap_error_set_errno(err, errno, "cannot remove cgroup %s", cg->dirs[i]);
				break;
			}
			sleep_us(200);
		}
	}
	return ret;
}

int recap_cgroup_verify_gone(const struct recap_cgroup *cg, struct recap_error **err)
{
	struct stat st;
	for (size_t i = 0; i < cg->n; i++)
		if (stat(cg->dirs[i], &st) == 0)
			return recap_error_set(err, EEXIST, "cgroup %s still exists", cg->dirs[i]);
	return 0;
}

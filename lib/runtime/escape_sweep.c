/* Runs on disk: listing them (ps) and escaping the ones a crash left (sweep). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "runtime/escape.h"
#include "runtime/runtime.h"
#include "runtime/target.h"

static void copy(char *dst, size_t size, const char *s)
{
	snprintf(dst, size, "%s", s ? s : "");
}

/* The executor rewrites its state in place: a document caught half written
 * does not parse, so it is read again. One that still does not parse is
 * busy if it was written just now, else damaged (and its run sweepable). */
static json_t *load_state(const char *path, bool *ret_busy)
{
	json_t *j = NULL;
	for (int i = 0; i < 3; i++) {
		if (recap_json_load_file(path, RECAP_STATE_MAX, &j, NULL) >= 0)
			return j;
		if (access(path, F_OK) < 0)
			return NULL;
		usleep(2000);
	}
	struct stat st;
	*ret_busy = stat(path, &st) == 0 && time(NULL) - st.st_mtime < 10;
	return NULL;
}

static void read_info(const char *root, const char *id, struct recap_run_info *info)
{
	char path[4400];
	*info = (struct recap_run_info){0};
	copy(info->id, sizeof(info->id), id);
	copy(info->phase, sizeof(info->phase), "Unknown");
	snprintf(path, sizeof(path), "%s/runs/%s/state", root, id);
	_cleanup_json_ json_t *j = load_state(path, &info->state_busy);
	if (!j)
		return;
	copy(info->phase, sizeof(info->phase), recap_json_str(j, "phase"));
	copy(info->image, sizeof(info->image), recap_json_str(j, "image"));
	copy(info->command, sizeof(info->command), recap_json_str(j, "command"));
	info->executor = (pid_t)recap_json_int(j, "executorPid", 0);
	info->target = (pid_t)recap_json_int(j, "targetPid", 0);
	info->supervisor = (pid_t)recap_json_int(j, "supervisorPid", 0);
	info->created = recap_json_int(j, "created", 0);
	copy(info->cgroup_parent, sizeof(info->cgroup_parent), recap_json_str(j, "cgroupParent"));
	uint64_t want = (uint64_t)recap_json_int(j, "executorStartTime", 0), st;
	/* the same pid with the same start time: that executor still runs */
	info->executor_alive =
	    info->executor > 0 && recap_pid_start_time(info->executor, &st) == 0 && st == want;
}

static bool valid_id(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

int recap_runtime_list(const char *root, int (*fn)(const struct recap_run_info *, void *), void *data,
		       struct recap_error **err)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/runs", root);
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : recap_error_set_errno(err, errno, "cannot list %s", path);
	struct dirent *de;
	int r = 0;
	while (r >= 0 && (de = readdir(d))) {
		if (!valid_id(de->d_name))
			continue;
		struct recap_run_info info;
		read_info(root, de->d_name, &info);
		r = fn(&info, data);
	}
	closedir(d);
	return r < 0 ? r : 0;
}

struct sweep {
	const char *root;
	bool force;
	const char *cgroup_parent;
	void (*report)(const char *, int, const struct recap_error *, void *);
	void *data;
	int failed;
};

/* A run directory without a state yet may belong to an executor that is
 * just starting (it writes the state right after the directories). */
static bool just_created(const char *root, const char *id)
{
	char path[4400];
	struct stat st;
	snprintf(path, sizeof(path), "%s/runs/%s", root, id);
	return stat(path, &st) == 0 && time(NULL) - st.st_mtime < 10;
}

static int sweep_one(const struct recap_run_info *info, void *data)
{
	struct sweep *s = data;
	if ((info->executor_alive || info->state_busy) && !s->force)
		return 0;
	if (!s->force && info->executor == 0 && just_created(s->root, info->id))
		return 0;
	struct recap_run_paths p;
	struct recap_cgroup cg;
	if (recap_paths_init(s->root, info->id, &p) < 0)
		return -ENOMEM;
	struct recap_error *e = NULL;
	int r = recap_cgroup_open_existing(*info->cgroup_parent ? info->cgroup_parent : s->cgroup_parent,
					   info->id, &cg);
	if (r >= 0)
		r = recap_escape(&p, &cg, &e);
	else
		r = recap_error_set_errno(&e, r, "cannot find the cgroups of run %s", info->id);
	if (r < 0)
		s->failed++;
	if (s->report)
		s->report(info->id, r, e, s->data);
	recap_error_free(e);
	recap_cgroup_free(&cg);
	recap_paths_free(&p);
	return 0;
}

/* A mount-point layer being made is renamed into place within microseconds:
 * one older than that was left by a crash. */
static void sweep_mountbase_tmp(const char *root, bool force)
{
	DIR *d = opendir(root);
	if (!d)
		return;
	struct dirent *de;
	char path[4400];
	struct stat st;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "mountpoints.tmp-", 16) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, de->d_name);
		if (force || (lstat(path, &st) == 0 && time(NULL) - st.st_mtime >= 10))
			(void)recap_rmtree(path, NULL);
	}
	closedir(d);
}

int recap_runtime_sweep(const char *root, const char *cgroup_parent, bool force,
			void (*report)(const char *id, int r, const struct recap_error *e, void *data),
			void *data, struct recap_error **err)
{
	struct sweep s = {
	    .root = root, .cgroup_parent = cgroup_parent, .force = force, .report = report, .data = data};
	int r = recap_runtime_list(root, sweep_one, &s, err);
	if (r < 0)
		return r;
	sweep_mountbase_tmp(root, force);
	if (s.failed)
		return recap_error_set(err, EBUSY, "%d run(s) could not be cleaned up", s.failed);
	return 0;
}

/* Escape: every process of the run killed, its files removed, its cgroup
 * removed, and then checked that nothing of it is left (escape.h). */
#include "runtime/escape.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/failpoint.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void unescape(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '7' && p[2] && p[3]) {
			*o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		} else {
			*o++ = *p;
		}
	}
	*o = 0;
}

/* Calls fn on every mount point at or below dir, deepest last in file order. */
static int for_mounts_under(const char *dir, int (*fn)(const char *mnt))
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0, dl = strlen(dir);
	int n = 0;
	while (getline(&line, &cap, f) > 0) {
		char mnt[4096];
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		unescape(mnt);
		if (strncmp(mnt, dir, dl) == 0 && (mnt[dl] == 0 || mnt[dl] == '/')) {
			n++;
			if (fn)
				fn(mnt);
		}
	}
	return n;
}

/* Whether dir holds no mount point, known without the mount table: dir is
 * not a mount's root and holds only non-directories that are not either (a
 * run's directory in the executor's namespace holds its state, at most a
 * session socket: the run mounts only in its own namespace). Anything else,
 * or a kernel without STATX_ATTR_MOUNT_ROOT (5.8), is false, and the caller
 * reads the mount table, which the kernel generates at 5 us a mount or more
 * (0.3-0.6 ms on the development VM's 68, bench/README.md). */
static bool no_mount_under(const char *dir)
{
	struct statx stx;
	if (statx(AT_FDCWD, dir, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &stx) < 0 ||
	    !(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) ||
	    (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) || !S_ISDIR(stx.stx_mode))
		return false;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	bool clean = true;
	struct dirent *de;
	while (clean && (de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			clean = statx(dirfd(d), de->d_name, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &stx) == 0 &&
				!S_ISDIR(stx.stx_mode) && !(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
	closedir(d);
	return clean;
}

static int detach(const char *mnt)
{
	return umount2(mnt, MNT_DETACH | UMOUNT_NOFOLLOW);
}

int recap_mounts_count_under(const char *dir)
{
	return for_mounts_under(dir, NULL);
}

/* A run's upper, work and root directories live on its own tmpfs, gone with
 * its namespace; on disk they are only what an older executor left. */
static int remove_files(const struct recap_run_paths *p, struct recap_error **err)
{
	const char *dirs[] = {p->upper, p->work, p->rootfs};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		int r = recap_rmtree(dirs[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* mounts_left: what the last scan of the mount table found (0: none, and
 * none can appear: the run mounts only in its own namespace). */
static int verify(const struct recap_run_paths *p, const struct recap_cgroup *cg, int mounts_left,
		  struct recap_error **err)
{
	pid_t one;
	if (mounts_left != 0 && recap_mounts_count_under(p->run_dir) != 0)
		return recap_error_set(err, EBUSY, "a mount under %s is left", p->run_dir);
	if (cg->n && recap_cgroup_pids(cg, &one, 1) > 0)
		return recap_error_set(err, EBUSY, "process %d of the run is left", (int)one);
	int r = recap_cgroup_verify_gone(cg, err);
	if (r < 0)
		return r;
	const char *dirs[] = {p->upper, p->work, p->rootfs};
	struct stat st;
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (lstat(dirs[i], &st) == 0)
			return recap_error_set(err, EEXIST, "%s is left", dirs[i]);
	return 0;
}

/* Whether dir holds nothing but `name` (or nothing at all). */
static bool holds_only(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	bool only = true;
	struct dirent *e;
	while (only && (e = readdir(d)))
		only = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		       strcmp(e->d_name, name) == 0;
	closedir(d);
	return only;
}

/* The state, the claim on the store's layers (recap_layers_pin), goes only once
 * nothing mounts them: renamed to state.tmp, its inode stays in the run
 * directory, which becomes a spare for the next run (recap_spare_give). "layers" was
 * the claim of older executors, whose runs sweep may meet. */
static int release_run_dir(const struct recap_run_paths *p, struct recap_error **err)
{
	char path[4200];
	/* session.sock: a session's socket an executor that crashed left */
	const char *files[] = {"layers.tmp", "layers", "session.sock"};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", p->run_dir, files[i]);
		if (unlink(path) < 0 && errno != ENOENT)
			return recap_error_set_errno(err, errno, "cannot remove %s", path);
	}
	snprintf(path, sizeof(path), "%s/state.tmp", p->run_dir);
	if (rename(p->state, path) < 0 && errno != ENOENT)
		return recap_error_set_errno(err, errno, "cannot remove %s", p->state);
	/* Anything else in it (put there from outside the run, e.g. by
	 * something on the node) must not reach the next run: such a
	 * directory is removed, not kept as a spare. */
	if (!holds_only(p->run_dir, "state.tmp"))
		return recap_rmtree(p->run_dir, err);
	int r = recap_spare_give(p->run_dir, "state.tmp");
	return r < 0 ? recap_error_set_errno(err, -r, "cannot remove %s", p->run_dir) : 0;
}

/* out/<id> stays when the run left artifacts in it; an empty one is removed.
 * It is never handed to another run: a process of this run may have passed
 * a handle of its /out to a process outside the run (a target's, over a
 * socket in the joined network namespace), and that handle must not reach
 * a later run's artifacts. */
static int release_out_dir(const struct recap_run_paths *p, struct recap_error **err)
{
	if (rmdir(p->out_dir) == 0 || errno == ENOENT || errno == ENOTEMPTY || errno == EEXIST)
		return 0;
	return recap_error_set_errno(err, errno, "cannot remove %s", p->out_dir);
}

int recap_escape(const struct recap_run_paths *p, const struct recap_cgroup *cg, struct recap_error **err)
{
	int r = recap_cgroup_kill(cg, 10000);
	if (r < 0)
		return recap_error_set_errno(err, r, "cannot kill the processes of run %s", p->id);
	/* the mount table is long on a busy node: read only when the run's
	 * directory may hold a mount, and then once when clean */
	int left = 0;
	for (int i = 0;
	     i < 8 && !no_mount_under(p->run_dir) && (left = for_mounts_under(p->run_dir, detach)) > 0; i++)
		;
	recap_failpoint("capsule.during-escape");
	if ((r = remove_files(p, err)) < 0)
		return recap_error_wrap(err, r, "escape of run %s", p->id);
	if ((r = recap_cgroup_remove(cg, err)) < 0)
		return recap_error_wrap(err, r, "escape of run %s", p->id);
	if ((r = verify(p, cg, left, err)) < 0)
		return recap_error_wrap(err, r, "escape of run %s not verified", p->id);
	if ((r = release_out_dir(p, err)) < 0)
		return r;
	return release_run_dir(p, err);
}

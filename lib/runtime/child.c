#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "runtime/launch.h"
#include "runtime/mounts.h"
#include "runtime/nsjoin.h"
#include "runtime/sync.h"

static int build_root(const struct recap_launch *l, struct recap_error **err)
{
	const struct recap_run_paths *p = l->paths;
	int tree = -1;
	int r = recap_cgroup_enter(l->cgroup, 0, l->born_in_cgroup, err);
	if (r >= 0)
		r = recap_mounts_private_ns(err);
	if (r >= 0)
		r = recap_mounts_upper(p, l->spec->upper_bytes, err);
	if (r >= 0 && l->spec->target_fs != RECAP_TARGET_FS_NONE)
		r = recap_mounts_clone_target(l->target->pidfd, l->spec->target_fs == RECAP_TARGET_FS_RW,
					      &tree, err);
	if (r >= 0)
		r = recap_overlay_mount(p->mountbase, &l->spec->layers, p->upper, p->work, p->rootfs, err);
	if (r >= 0)
		r = recap_mounts_setup_root(p->rootfs, tree, p->out_dir, err);
	if (tree >= 0)
		close(tree);
	/* joined before pivot_root: the fallback opens /proc/<pid>/ns/ paths;
	 * the PID namespace is the one this process was born in */
	if (r >= 0)
		r = recap_nsjoin(l->target->pidfd, l->target->pid, l->spec->join & ~RECAP_JOIN_PID, err);
	if (r >= 0)
		r = recap_mounts_pivot(p->rootfs, err);
	return r;
}

_Noreturn void recap_launch_child(const struct recap_launch *l)
{
	struct recap_error *err = NULL;
	for (size_t i = 0; i < sizeof(l->close_fds) / sizeof(l->close_fds[0]); i++)
		if (l->close_fds[i] >= 0)
			close(l->close_fds[i]);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGWINCH, SIG_DFL);
	signal(SIGPIPE, SIG_DFL); /* ignored dispositions would survive exec */
	sigprocmask(SIG_SETMASK, &l->mask, NULL);
	if (build_root(l, &err) < 0) {
		recap_sync_send(l->exec.sync_fd, RECAP_SYNC_ERROR, err->code, 0, err->msg);
		_exit(1);
	}
	/* attached: from here on this process is the run's supervisor (its pid
	 * in the executor's view is the one the executor forked) */
	recap_sync_send(l->exec.sync_fd, RECAP_SYNC_PID, 0, 0, NULL);
	recap_exec_supervise(&l->exec);
}

#include <errno.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "runtime/fds.h"
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
		r = recap_mounts_setup_root(p->rootfs, tree, l->out_fd, err);
	if (tree >= 0)
		close(tree);
	close(l->out_fd); /* the executor keeps its own, to collect the artifacts */
	/* joined before pivot_root: the fallback opens /proc/<pid>/ns/ paths;
	 * the PID namespace is the one this process was born in (the target's,
	 * or a new one) */
	if (r >= 0)
		r = recap_nsjoin(l->target->pidfd, l->target->pid, l->spec->join & ~RECAP_JOIN_PID, err);
	/* after the cgroups were entered: a new cgroup namespace is rooted at the run's */
	if (r >= 0)
		r = recap_nsjoin_unshare_rest(l->spec->join, err);
	/* the last fd of the executor's: nothing of the host is open in the new root */
	close(l->target->pidfd);
	if (r >= 0)
		r = recap_mounts_pivot(p->rootfs, err);
	return r;
}

_Noreturn void recap_launch_child(const struct recap_launch *l)
{
	struct recap_error *err = NULL;
	/* every fd of the executor's but stdio, the run's channels and the
	 * target's pidfd (closed once the namespaces are joined) */
	const struct recap_exec_ctx *x = &l->exec;
	const int keep[] = {0,
			    1,
			    2,
			    x->stdin_fd,
			    x->stdout_fd,
			    x->stderr_fd,
			    x->sync_fd,
			    x->status_fd,
			    x->procs_fd,
			    x->pty_sock,
			    l->out_fd,
			    l->target->pidfd};
	int r = recap_fds_close_except(keep, ARRAY_SIZE(keep));
	if (r < 0) {
		recap_sync_sendf(x->sync_fd, RECAP_SYNC_ERROR, -r, "cannot close the executor's fds: %s",
				 strerror(-r));
		_exit(1);
	}
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

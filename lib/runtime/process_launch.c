/* The run's first child: born in the target's PID namespace and the run's
 * v2 cgroup, it moves itself into the run's other cgroups, builds the
 * capsule's root, joins the other namespaces and becomes the supervisor;
 * and the command line and environment it runs. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "runtime/mounts.h"
#include "runtime/process.h"

static int build_root(const struct recap_launch *l, struct recap_exec_ctx *x, struct recap_error **err)
{
	const struct recap_run_paths *p = l->paths;
	int tree = -1;
	int r = recap_mounts_private_ns(err);
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
	struct recap_exec_ctx ctx = l->exec, *x = &ctx;
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
	/* in every cgroup of the run before it allocates, mounts or joins
	 * anything; the target's cgroup namespace is joined with the others
	 * below, a namespace of the run's own made in the supervisor */
	r = recap_cgroup_enter_self(l->cgroup, l->born_in_cgroup, &err);
	if (r < 0)
		recap_error_wrap(&err, r, "the run's first process is not in the run's cgroups");
	if (r < 0 || build_root(l, x, &err) < 0) {
		recap_sync_send(x->sync_fd, RECAP_SYNC_ERROR, err->code, 0, err->msg);
		_exit(1);
	}
	/* attached: from here on this process is the run's supervisor (its pid
	 * in the executor's view is the one the executor forked) */
	recap_sync_send(x->sync_fd, RECAP_SYNC_PID, 0, 0, NULL);
	recap_exec_supervise(x);
}

/* The command line and environment of a run: image config merged with the spec. */
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Kubernetes semantics: a command replaces the image's Entrypoint and Cmd. */
int recap_launch_argv(const struct recap_run_spec *s, struct recap_strv *ret)
{
	struct recap_strv a = {0};
	int r = 0;
	if (s->command.n) {
		for (size_t i = 0; r >= 0 && i < s->command.n; i++)
			r = recap_strv_push(&a, s->command.v[i]);
	} else {
		for (size_t i = 0; r >= 0 && i < s->entrypoint.n; i++)
			r = recap_strv_push(&a, s->entrypoint.v[i]);
		for (size_t i = 0; r >= 0 && i < s->image_cmd.n; i++)
			r = recap_strv_push(&a, s->image_cmd.v[i]);
	}
	if (r < 0 || a.n == 0) {
		recap_strv_free(&a);
		return r < 0 ? r : -EINVAL;
	}
	*ret = a;
	return 0;
}

static int set(struct recap_strv *e, const char *kv)
{
	size_t klen = strcspn(kv, "=");
	for (size_t i = 0; i < e->n; i++) {
		if (strncmp(e->v[i], kv, klen) == 0 && e->v[i][klen] == '=') {
			char *d = strdup(kv);
			if (!d)
				return -ENOMEM;
			free(e->v[i]);
			e->v[i] = d;
			return 0;
		}
	}
	return recap_strv_push(e, kv);
}

static int has(const struct recap_strv *e, const char *key)
{
	size_t n = strlen(key);
	for (size_t i = 0; i < e->n; i++)
		if (strncmp(e->v[i], key, n) == 0 && e->v[i][n] == '=')
			return 1;
	return 0;
}

int recap_launch_env(const struct recap_run_spec *s, struct recap_strv *ret)
{
	struct recap_strv e = {0};
	int r = 0;
	for (size_t i = 0; r >= 0 && i < s->image_env.n; i++)
		if (strchr(s->image_env.v[i], '='))
			r = set(&e, s->image_env.v[i]);
	for (size_t i = 0; r >= 0 && i < s->env.n; i++)
		r = set(&e, s->env.v[i]);
	if (r >= 0 && !has(&e, "PATH"))
		r = recap_strv_push(&e, DEFAULT_PATH);
	if (r >= 0 && !has(&e, "HOME"))
		r = recap_strv_push(&e, "HOME=/root");
	if (r >= 0 && s->tty && !has(&e, "TERM")) {
		const char *t = getenv("TERM");
		char *kv = NULL;
		r = asprintf(&kv, "TERM=%s", t && *t && strlen(t) < 64 ? t : "xterm") < 0 ? -ENOMEM : 0;
		if (r >= 0)
			r = recap_strv_push(&e, kv);
		free(kv);
	}
	if (r < 0 || !e.v) {
		recap_strv_free(&e);
		return r < 0 ? r : -ENOMEM;
	}
	*ret = e;
	return 0;
}

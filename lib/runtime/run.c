/* One run, as the executor sees it: prepare, launch, loop, escape. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/timeutil.h"
#include "runtime/escape.h"
#include "runtime/mounts.h"
#include "runtime/process.h"
#include "runtime/sandbox.h"

static int fail(struct recap_run *r, const char *reason, int code, struct recap_error **err)
{
	r->res->reason = reason;
	if (err && *err && !r->res->message)
		r->res->message = strdup(recap_error_message(*err));
	return code;
}

static int make_dirs(struct recap_run *r, struct recap_error **err)
{
	const struct recap_run_paths *p = &r->paths;
	char buf[4200];
	const char *subs[] = {"runs", "out"};
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
		snprintf(buf, sizeof(buf), "%s/%s", r->opts->root, subs[i]);
		if (mkdir(r->opts->root, 0711) < 0 && errno != EEXIST)
			return recap_error_set_errno(err, errno, "cannot create %s", r->opts->root);
		if (mkdir(buf, 0711) < 0 && errno != EEXIST)
			return recap_error_set_errno(err, errno, "cannot create %s", buf);
	}
	/* the state only: the run's writable layer is a tmpfs mounted over it in
	 * the run's own namespace (mounts_upper); recycled (recap_spare_take) */
	int ret = recap_spare_take(p->run_dir, 0700);
	if (ret < 0)
		return recap_error_set_errno(err, -ret, "cannot create run directory %s", p->run_dir);
	r->have_dirs = true;
	return 0; /* out/<id>: made at escape, when /out holds anything (recap_out_collect) */
}

static int prepare_sandbox(struct recap_run *r, struct recap_error **err)
{
	r->caps = (recap_caps_default() & ~r->spec->cap_drop) | r->spec->cap_add;
	/* a profile is built (and so checked) now; the default profile is
	 * taken by the run's supervisor (recap_exec_prepare), built into the
	 * executor for the usual capabilities (runtime/seccomp_builtin.h) */
	int ret = r->spec->seccomp == RECAP_SECCOMP_PROFILE
		      ? recap_seccomp_build(r->spec, r->caps, &r->seccomp, err)
		      : 0;
	if (ret < 0)
		return ret;
	if (recap_launch_argv(r->spec, &r->argv) < 0 || recap_launch_env(r->spec, &r->env) < 0)
		return recap_error_set(err, EINVAL, "cannot build the command line and environment");
	if (recap_tail_init(&r->out, r->spec->tail_bytes) < 0 ||
	    recap_tail_init(&r->err, r->spec->tail_bytes) < 0)
		return recap_error_set(err, ENOMEM, "cannot allocate output tails");
	return 0;
}

void recap_run_write_state(struct recap_run *r, const char *phase)
{
	r->state.phase = phase;
	r->state.supervisor = r->sup;
	(void)recap_state_update(&r->state_file, &r->state);
}

/* The first state, written under the store lock: it is the run's claim on
 * its layers (recap_layers_pin), so it must exist before anything mounts them. */
static int write_first_state(struct recap_run *r, struct recap_error **err)
{
	uint64_t st = 0;
	(void)recap_pid_start_time(getpid(), &st);
	r->state = (struct recap_run_state){.id = r->res->id,
					    .phase = "Attaching",
					    .executor = getpid(),
					    .executor_start = st,
					    .target = r->target.pid,
					    .image = r->spec->image,
					    .command = r->argv.v[0],
					    .cgroup = &r->cg,
					    .layers = &r->spec->layers,
					    .created = time(NULL)};
	_cleanup_close_ int lock = -1;
	int ret = recap_layers_pin(r->opts->root, &r->spec->layers, &lock, err);
	if (ret >= 0)
		ret = recap_state_create(&r->paths, &r->state, &r->state_file, err);
	return ret;
}

static int prepare(struct recap_run *r, struct recap_error **err)
{
	/* a confirmed PID (caplet's, from the CRI) is checked, never searched for */
	int ret = r->spec->target_pid
		      ? recap_target_resolve_pid(r->spec->target, r->spec->target_pid, &r->target, err)
		      : recap_target_resolve(r->spec->target, &r->target, err);
	if (ret < 0)
		return fail(r, RECAP_REASON_TARGET_NOT_FOUND, ret, err);
	r->res->target_pid = r->target.pid;
	if ((ret = prepare_sandbox(r, err)) < 0)
		return fail(r, RECAP_REASON_INVALID_SPEC, ret, err);
	if (recap_paths_init(r->opts->root, r->res->id, &r->paths) < 0)
		return fail(r, RECAP_REASON_ATTACH_FAILED, -ENOMEM, err);
	if ((ret = make_dirs(r, err)) < 0 ||
	    (ret = recap_run_log_open(r->opts->root, r->res->id, r->spec->log_bytes, &r->log, err)) < 0 ||
	    (ret = recap_mountbase_ensure(r->paths.mountbase, r->res->id, err)) < 0)
		return fail(r, RECAP_REASON_ATTACH_FAILED, ret, err);
	const struct recap_run_spec *s = r->spec;
	struct recap_cgroup_limits lim = {s->memory_bytes ? s->memory_bytes : RECAP_MEMORY_DEFAULT,
					  s->pids ? s->pids : RECAP_PIDS_DEFAULT,
					  s->cpu_millis ? s->cpu_millis : RECAP_CPU_MILLIS_DEFAULT};
	if ((ret = recap_cgroup_create(r->opts->cgroup_parent, r->res->id, &lim, &r->cg, err)) < 0)
		return fail(r, RECAP_REASON_ATTACH_FAILED, ret, err);
	r->have_cgroup = true;
	if ((ret = recap_out_make(r->res->id, s->out_bytes, &r->out_mnt, err)) < 0)
		return fail(r, RECAP_REASON_ATTACH_FAILED, ret, err);
	if ((ret = write_first_state(r, err)) < 0)
		return fail(r, RECAP_REASON_ATTACH_FAILED, ret, err);
	return 0;
}

static int launch(struct recap_run *r, struct recap_error **err)
{
	int ret = recap_run_pipes(r, err);
	if (ret < 0)
		return fail(r, RECAP_REASON_ATTACH_FAILED, ret, err);
	/* a session: the command starts once its client is there (the state
	 * stays Attaching meanwhile) */
	const char *reason;
	if (r->spec->session && (ret = recap_session_accept(r, &reason, err)) < 0)
		return fail(r, reason, ret, err);
	struct recap_launch l = {
	    .spec = r->spec,
	    .paths = &r->paths,
	    .target = &r->target,
	    .cgroup = &r->cg,
	    .exec = {.argv = r->argv.v,
		     .envp = r->env.v,
		     .workdir = r->spec->workdir,
		     .caps = r->caps,
		     .confined = r->spec->seccomp != RECAP_SECCOMP_UNCONFINED,
		     .seccomp = r->seccomp,
		     .stdin_fd = r->child_in,
		     .stdout_fd = r->child_out >= 0 ? r->child_out : r->child_in,
		     .stderr_fd = r->child_err >= 0 ? r->child_err : r->child_in,
		     .tty = r->opts->tty,
		     .uid = r->spec->uid,
		     .gid = r->spec->gid,
		     .user_caps = r->spec->cap_add,
		     .sync_fd = r->child_sync,
		     .status_fd = r->child_status,
		     .procs_fd = r->procs_fd,
		     .pty_sock = r->child_pty_sock,
		     .target_fs = r->spec->target_fs,
		     .join = r->spec->join},
	};
	l.mask = r->old_mask;
	l.out_fd = r->out_mnt;
	/* the command's terminal has the caller's size before the command runs;
	 * later changes follow through SIGWINCH (recap_tty_resize) */
	if (r->opts->tty && !r->spec->session)
		ioctl(STDIN_FILENO, TIOCGWINSZ, &l.exec.winsize);
	/* the first child is born in the target's PID namespace and becomes
	 * the supervisor: no intermediate process to fork and reap */
	int own_pidns = -1;
	if ((r->spec->join & RECAP_JOIN_PID) &&
	    (ret = recap_nsjoin_pid_for_children(r->target.pidfd, r->target.pid, &own_pidns, err)) < 0)
		return fail(r, ret == -ESRCH ? RECAP_REASON_TARGET_NOT_FOUND : RECAP_REASON_ATTACH_FAILED,
			    ret, err);
	/* not joined: a PID namespace of the run's own, never the executor's */
	unsigned long newpid = (r->spec->join & RECAP_JOIN_PID) ? 0 : CLONE_NEWPID;
	l.born_in_cgroup = true;
	r->c1 = recap_cgroup_fork(&r->cg, newpid);
	if (r->c1 == -ENOSYS) {
		l.born_in_cgroup = false;
		r->c1 = recap_nsjoin_fork(newpid);
	} else if (r->c1 < 0) {
		errno = -r->c1;
		r->c1 = -1;
	}
	int e = errno;
	if (r->c1 == 0)
		recap_launch_child(&l);
	if (own_pidns >= 0)
		recap_nsjoin_pid_restore(own_pidns);
	if (r->c1 < 0) /* ENOMEM: the target's PID namespace is dying */
		return fail(r, e == ENOMEM ? RECAP_REASON_TARGET_NOT_FOUND : RECAP_REASON_ATTACH_FAILED,
			    recap_error_set_errno(err, e, "fork into the run"), err);
	return 0;
}

static void reap(struct recap_run *r)
{
	if (r->c1 > 0)
		waitpid(r->c1, NULL, 0);
	if (r->sup > 0 && !r->sup_exited)
		waitpid(r->sup, NULL, 0);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void exec_failure(struct recap_run *r)
{
	struct recap_run_result *res = r->res;
	res->message = strdup(r->fail_msg);
	if (r->fail_kind == RECAP_SYNC_EXEC_ERROR) {
		res->reason =
		    r->fail_code == ENOENT ? RECAP_REASON_COMMAND_NOT_FOUND : RECAP_REASON_START_FAILED;
		res->exit_code = r->fail_code == ENOENT ? 127 : 126;
	} else {
		res->reason =
		    r->fail_code == ESRCH ? RECAP_REASON_TARGET_NOT_FOUND : RECAP_REASON_ATTACH_FAILED;
	}
}

/* A dying PID namespace init finishes exiting only after the run's
 * supervisor (a member) was reaped: give it a moment to be seen gone. */
static bool target_gone(struct recap_run *r)
{
	struct pollfd p = {.fd = r->target.pidfd, .events = POLLIN};
	return poll(&p, 1, 500) > 0;
}

/* What happened, from the wait status and the run's flags. */
static void conclude(struct recap_run *r)
{
	struct recap_run_result *res = r->res;
	bool oom = r->have_cgroup && recap_cgroup_oom_killed(&r->cg);
	if (r->fail_kind) {
		exec_failure(r);
	} else if (!r->have_status && target_gone(r)) {
		res->reason = RECAP_REASON_TARGET_NOT_FOUND;
		res->message = strdup("the target exited during the run");
	} else if (!r->have_status) {
		res->reason = RECAP_REASON_ATTACH_FAILED;
		res->message = strdup("the run ended without reporting the command's status");
	} else if (WIFEXITED(r->status)) {
		res->exit_code = WEXITSTATUS(r->status);
		res->reason = res->exit_code == 0 ? RECAP_REASON_COMPLETED : RECAP_REASON_FAILED;
	} else if (WIFSIGNALED(r->status)) {
		res->signal = WTERMSIG(r->status);
		res->exit_code = 128 + res->signal;
		res->reason = RECAP_REASON_KILLED;
	}
	if (r->have_status && !(WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0)) {
		if (oom)
			res->reason = RECAP_REASON_OOM_KILLED;
		else if (r->timed_out)
			res->reason = RECAP_REASON_DEADLINE_EXCEEDED;
		else if (r->cancelled)
			res->reason = RECAP_REASON_CANCELLED;
	}
	/* a session that ended while the command ran ended the run */
	if (r->sess.cancelled && !r->fail_kind && !oom && !r->timed_out) {
		res->reason = RECAP_REASON_CANCELLED;
		free(res->message);
		res->message = strdup(r->sess.end_msg);
	}
	if (r->upper_full && !res->message &&
	    asprintf(&res->message,
		     "the capsule's writable layer (upperSize %lld bytes) is full: writes outside /out and "
		     "/target failed with ENOSPC",
		     (long long)r->spec->upper_bytes) < 0)
		res->message = NULL;
	res->stdout_tail = recap_tail_dup(&r->out, &res->stdout_len);
	res->stderr_tail = recap_tail_dup(&r->err, &res->stderr_len);
	res->stdout_total = r->out.total;
	res->stderr_total = r->err.total;
}

static void add_message(struct recap_run_result *res, const char *text)
{
	char *m = NULL;
	if (asprintf(&m, "%s%s%s", res->message ? res->message : "", res->message ? "; " : "", text) >= 0) {
		free(res->message);
		res->message = m;
	}
}

/* The artifacts, copied out of the run's /out (mounts_out.c) once the run's
 * processes are gone; the tmpfs goes with the executor's fd. */
static void collect_out(struct recap_run *r)
{
	if (r->out_mnt < 0)
		return;
	struct recap_out_stats st;
	struct recap_error *e = NULL;
	int ret = recap_out_collect(r->out_mnt, r->paths.out_dir, r->spec->out_bytes, &st, &e);
	close(r->out_mnt);
	r->out_mnt = -1;
	r->res->out_bytes = st.bytes;
	r->res->out_files = st.files;
	r->res->out_skipped = st.skipped;
	r->res->out_list = steal_ptr(st.list);
	r->res->out_listed = st.listed;
	r->res->out_unlisted = st.unlisted;
	st.listed = 0;
	char *m = NULL;
	if (ret < 0)
		add_message(r->res, recap_error_message(e));
	else if (st.over && asprintf(&m,
				     "/out held more than its limit (outSize %lld bytes): not every "
				     "file was kept in out/%s",
				     (long long)r->spec->out_bytes, r->res->id) >= 0)
		add_message(r->res, m);
	free(m);
	recap_out_stats_free(&st);
	recap_error_free(e);
}

/* The output ended with the run's processes: the log is whole. */
static void finish_log(struct recap_run *r)
{
	if (r->log.fd < 0)
		return;
	r->res->log_bytes = r->log.written;
	r->res->log_dropped = r->log.dropped;
	char *m = NULL;
	if (r->log.dropped &&
	    asprintf(&m,
		     "the output passed its log limit (logBytes %lld bytes): the log "
		     "on the node holds the first %lld bytes, %lld more were not kept",
		     (long long)r->log.max, (long long)r->log.written, (long long)r->log.dropped) >= 0)
		add_message(r->res, m);
	free(m);
	recap_run_log_finish(&r->log);
}

static void escape(struct recap_run *r, struct recap_error **err)
{
	uint64_t t = recap_now_mono_ms();
	if (!r->have_dirs) {
		r->res->escaped = true; /* nothing was created */
		return;
	}
	recap_run_write_state(r, "Escaping");
	if (r->have_cgroup && !r->sup_exited)
		(void)recap_cgroup_kill(&r->cg, 10000);
	reap(r);
	finish_log(r);
	collect_out(r);
	struct recap_error *e = NULL;
	int ret = 0;
	if (r->mnt_ns >= 0) {
		ret = recap_mounts_ns_empty(r->mnt_ns, &e);
		close(r->mnt_ns);
		r->mnt_ns = -1;
	}
	recap_state_close(&r->state_file); /* escape removes it */
	if (ret < 0)			   /* the rest is cleaned up all the same */
		(void)recap_escape(&r->paths, &r->cg, NULL);
	else
		ret = recap_escape(&r->paths, &r->cg, &e);
	r->res->escaped = ret >= 0;
	if (ret < 0) {
		add_message(r->res, recap_error_message(e));
		if (err && !*err)
			*err = e;
		else
			recap_error_free(e);
	}
	r->res->escape_ms = recap_now_mono_ms() - t;
}

static void release(struct recap_run *r)
{
	recap_tty_restore(r);
	recap_session_close(&r->sess);
	recap_run_close_fds(r);
	if (r->out_mnt >= 0)
		close(r->out_mnt);
	recap_state_close(&r->state_file);
	recap_target_release(&r->target);
	if (r->seccomp)
		seccomp_release(r->seccomp);
	recap_strv_free(&r->argv);
	recap_strv_free(&r->env);
	recap_tail_free(&r->out);
	recap_tail_free(&r->err);
	recap_run_log_free(&r->log);
	recap_cgroup_free(&r->cg);
	recap_paths_free(&r->paths);
}

int recap_runtime_run(const struct recap_run_spec *spec, const struct recap_run_opts *o,
		      struct recap_run_result *res, struct recap_error **err)
{
	*res = (struct recap_run_result){.exit_code = -1, .reason = RECAP_REASON_ATTACH_FAILED};
	struct recap_run r = {.spec = spec,
			      .opts = o,
			      .res = res,
			      .target = {.pidfd = -1},
			      .state_file = {.fd = -1},
			      .log = RECAP_RUN_LOG_INIT,
			      .out_mnt = -1};
	recap_run_init_fds(&r);
	recap_session_init(&r.sess);
	/* a session's command runs on a terminal, the socket's client's */
	struct recap_run_opts so = *o;
	if (spec->session) {
		so.tty = true;
		so.stream_out = so.stream_err = -1;
	}
	r.opts = &so;
	r.cg = (struct recap_cgroup){.v2 = -1, .memory = -1, .freezer = -1};
	r.t_start = recap_now_mono_ms();
	int ret = recap_spec_validate(spec, err);
	if (ret < 0) {
		res->reason = RECAP_REASON_INVALID_SPEC;
		res->message = strdup(recap_error_message(*err));
		res->escaped = true;
		return ret;
	}
	/* not dumpable before anything of the target is touched, and so every
	 * child is born: a target process that can ptrace its own kind must not
	 * reach the executor's fds and memory while it joins (CVE-2016-9962) */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		res->escaped = true;
		return recap_error_set_errno(err, errno, "cannot make the executor non-dumpable");
	}
	char gen[33];
	if (!spec->id && recap_run_id_new(gen) < 0)
		return recap_error_set(err, EIO, "cannot generate a run id");
	snprintf(res->id, sizeof(res->id), "%s", spec->id ? spec->id : gen);
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	/* a closed terminal or pipe must not kill the executor before escape */
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
	sigaction(SIGPIPE, &ign, &old_pipe);
	ret = prepare(&r, err);
	if (ret >= 0)
		ret = launch(&r, err);
	if (ret >= 0)
		ret = recap_run_loop(&r, err);
	recap_tty_restore(&r);
	if (ret >= 0) {
		conclude(&r);
		res->attach_ms = (r.t_attached ? r.t_attached : r.t_end) - r.t_start;
		res->run_ms = r.t_attached ? r.t_end - r.t_attached : 0;
		if (r.fail_kind && r.fail_kind != RECAP_SYNC_EXEC_ERROR)
			ret = recap_error_set(err, r.fail_code, "%s", r.fail_msg);
	} else {
		res->attach_ms = recap_now_mono_ms() - r.t_start;
	}
	escape(&r, err);
	recap_session_finish(&r); /* the Status once the run escaped */
	release(&r);
	sigaction(SIGPIPE, &old_pipe, NULL);
	return ret;
}

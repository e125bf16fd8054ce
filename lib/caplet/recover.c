/* Leftovers of a previous agent: a sweep at startup, and for each execution
 * found started (Attaching, Running, Escaping) without an executor of ours:
 * kill the orphaned executor if it still runs, sweep its run, and mark the
 * execution Failed, NodeAgentRestarted. It is never started again. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/names.h"
#include "api/types.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "caplet/agent.h"
#include "runtime/runtime.h"

struct find {
	const char *id;
	pid_t executor;
};

static int find_run(const struct recap_run_info *info, void *data)
{
	struct find *f = data;
	if (strcmp(info->id, f->id) == 0 && info->executor_alive)
		f->executor = info->executor;
	return 0;
}

/* SIGKILL through a pidfd (no PID reuse race) and wait up to 5 s. */
static void kill_executor(pid_t pid)
{
	_cleanup_close_ int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return;
	syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	poll(&p, 1, 5000);
}

static void sweep_argv(struct recap_caplet *c, struct caplet_argv *a)
{
	caplet_argv_executor(a, c, true);
	caplet_argv_add(a, "sweep");
}

int caplet_sweep_blocking(struct recap_caplet *c, struct recap_error **err)
{
	struct caplet_argv a;
	sweep_argv(c, &a);
	const char *const *argv = a.v;
	pid_t pid = fork();
	if (pid < 0)
		return recap_error_set_errno(err, errno, "fork");
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null >= 0)
			dup2(null, STDOUT_FILENO); /* its summary line; errors stay on stderr */
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return recap_error_set(err, EIO, "%s sweep failed (status %d)", argv[0], status);
	return 0;
}

static void on_swept(struct caplet_proc *p, int64_t status, int sig, const struct recap_buf *out,
		     const char *errtail, void *data)
{
	struct caplet_exec *x = data;
	x->proc = NULL;
	caplet_exec_step(x, CAPLET_EV_SWEPT, &(struct caplet_event_arg){.status = status});
}

static enum caplet_event swept(struct caplet_exec *x, const char *reason, int64_t status)
{
	char dir[4200];
	struct stat st;
	snprintf(dir, sizeof(dir), "%s/runs/%s", x->agent->o.root, x->run_id);
	bool escaped = status == 0 && stat(dir, &st) < 0 && errno == ENOENT;
	const char *phase = recap_json_str(x->obj, RECAP_API_EXEC_STATUS_PHASE);
	char msg[256];
	bool restarted = strcmp(reason, RECAP_REASON_NODE_AGENT_RESTARTED) == 0;
	snprintf(msg, sizeof(msg), "%s while the execution was %s; it is not started again (at most once)%s",
		 restarted ? "the node agent restarted" : "the executor ended without a result",
		 phase ? phase : "starting", escaped ? "" : "; cleanup could not be verified");
	json_t *s = recap_caplet_status_refused(reason, msg);
	json_object_set_new(s, "escaped", json_boolean(escaped));
	caplet_exec_end(x, s);
	return caplet_act_write_final(x, NULL);
}

enum caplet_event caplet_act_swept_restarted(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	return swept(x, RECAP_REASON_NODE_AGENT_RESTARTED, arg->status);
}

enum caplet_event caplet_act_swept_failed(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	return swept(x, RECAP_REASON_EXECUTOR_FAILED, arg->status);
}

enum caplet_event caplet_act_recover(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	caplet_recover_exec(x);
	return CAPLET_EV_NONE;
}

void caplet_recover_exec(struct caplet_exec *x)
{
	struct recap_caplet *c = x->agent;
	_cleanup_error_ struct recap_error *err = NULL;
	struct find f = {.id = x->run_id};
	recap_runtime_list(c->o.root, find_run, &f, NULL);
	if (f.executor > 0)
		kill_executor(f.executor);
	struct caplet_argv a;
	sweep_argv(c, &a);
	if (caplet_proc_spawn(c->loop, (char *const *)a.v, NULL, 0, on_swept, x, &x->proc, &err) < 0) {
		caplet_logf(c, RECAP_LOG_ERROR, "execution %s: %s", x->key, recap_error_message(err));
		on_swept(NULL, 1, 0, NULL, "", x);
	}
}

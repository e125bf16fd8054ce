/* Inside the target's namespaces: the supervisor and the command. */
#include "runtime/process.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "runtime/mounts.h"
#include "runtime/sandbox.h"

char *recap_exec_lookup(const char *name, const char *path)
{
	if (!*name)
		return NULL;
	if (strchr(name, '/'))
		return strdup(name);
	for (const char *p = path ? path : ""; *p;) {
		size_t len = strcspn(p, ":");
		char *cand = NULL;
		if (asprintf(&cand, "%.*s/%s", (int)(len ? len : 1), len ? p : ".", name) < 0)
			return NULL;
		struct stat st;
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
			return cand;
		free(cand);
		p += len;
		if (*p == ':')
			p++;
	}
	return NULL;
}

static const char *env_get(char **envp, const char *key)
{
	size_t n = strlen(key);
	for (; envp && *envp; envp++)
		if (strncmp(*envp, key, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static int stdio(const struct recap_exec_ctx *c)
{
	if (setsid() < 0)
		return -errno;
	if (c->tty && ioctl(c->stdin_fd, TIOCSCTTY, 0) < 0)
		return -errno;
	if (dup2(c->stdin_fd, 0) < 0 || dup2(c->stdout_fd, 1) < 0 || dup2(c->stderr_fd, 2) < 0)
		return -errno;
	return 0;
}

/* Only stdio and the sync channel stay open, then the working directory is
 * entered, resolved inside the root: no fd of the host's is left to lead a
 * path out of it (CVE-2024-21626), and a magic link such as /proc/self/fd/N
 * or /proc/1/cwd is refused. The executable is looked up only then. */
static int enter_workdir(const struct recap_exec_ctx *c, const char *wd)
{
	const int keep[] = {0, 1, 2, c->sync_fd};
	int r = recap_fds_close_except(keep, ARRAY_SIZE(keep));
	if (r < 0) {
		recap_sync_sendf(c->sync_fd, RECAP_SYNC_ERROR, -r, "cannot close inherited fds: %s",
				 strerror(-r));
		return r;
	}
	r = recap_fds_enter_workdir(wd);
	if (r < 0)
		recap_sync_sendf(c->sync_fd, RECAP_SYNC_EXEC_ERROR, -r,
				 "cannot enter working directory %s (resolved inside the capsule's root, "
				 "magic links refused): %s",
				 wd, strerror(-r));
	return r;
}

int recap_exec_prepare(struct recap_exec_ctx *c, struct recap_error **err)
{
	int r = 0;
	if (c->confined && !c->seccomp)
		r = recap_seccomp_default_bpf(c->caps, &c->filter, err);
	else if (c->confined && (r = recap_bpf_compile(c->seccomp, &c->filter)) < 0)
		r = recap_error_set_errno(err, -r, "cannot compile the seccomp filter");
	if (r < 0)
		return r;
	/* rooted at the cgroups this process is in: the run's */
	if (!(c->join & RECAP_JOIN_CGROUP) && unshare(CLONE_NEWCGROUP) < 0)
		return recap_error_set_errno(err, errno, "cannot create the run's own cgroup namespace");
	return 0;
}

/* The command's process: last steps of the sandbox, then exec. */
static _Noreturn void command(const struct recap_exec_ctx *c)
{
	struct recap_error *err = NULL;
	const char *wd = c->workdir && *c->workdir ? c->workdir : "/";
	_cleanup_free_ char *exe = NULL;
	/* ignored signals would stay ignored across exec */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	if (stdio(c) < 0)
		recap_sync_sendf(c->sync_fd, RECAP_SYNC_ERROR, errno, "cannot set up stdio: %m");
	else if (enter_workdir(c, wd) < 0)
		; /* reported */
	else if (!(exe = recap_exec_lookup(c->argv[0], env_get(c->envp, "PATH"))))
		recap_sync_sendf(c->sync_fd, RECAP_SYNC_EXEC_ERROR, ENOENT,
				 "executable '%s' not found in the capsule", c->argv[0]);
	else if (recap_caps_apply(c->caps, &err) < 0)
		recap_sync_send(c->sync_fd, RECAP_SYNC_ERROR, err->code, 0, err->msg);
	else if ((c->uid > 0 || c->gid > 0) &&
		 recap_caps_become((uid_t)c->uid, (gid_t)c->gid, c->uid > 0 ? c->user_caps : c->caps, &err) <
		     0)
		recap_sync_send(c->sync_fd, RECAP_SYNC_ERROR, err->code, 0, err->msg);
	else if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		recap_sync_sendf(c->sync_fd, RECAP_SYNC_ERROR, errno, "prctl: %m");
	else if (recap_landlock_confine(c->target_fs, c->join, &err) < 0)
		recap_sync_send(c->sync_fd, RECAP_SYNC_ERROR, err->code, 0, err->msg);
	else if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		recap_sync_sendf(c->sync_fd, RECAP_SYNC_ERROR, errno, "close_range: %m");
	else if (c->confined && (!c->filter.insns || recap_bpf_load(&c->filter) < 0))
		recap_sync_sendf(c->sync_fd, RECAP_SYNC_ERROR, EPERM, "cannot load the seccomp filter");
	else {
		execve(exe, c->argv, c->envp);
		recap_sync_sendf(c->sync_fd, RECAP_SYNC_EXEC_ERROR, errno, "cannot execute %s: %m", exe);
	}
	_exit(127);
}

/* Kills every process of the run but the supervisor and reaps them. */
static void kill_leftovers(int procs_fd)
{
	char buf[65536];
	pid_t self = getpid();
	for (int round = 0; round < 2000; round++) {
		int others = 0;
		ssize_t n = procs_fd >= 0 ? pread(procs_fd, buf, sizeof(buf) - 1, 0) : -1;
		buf[n > 0 ? n : 0] = 0;
		for (char *p = buf, *end; *p; p = end) {
			long v = strtol(p, &end, 10);
			if (end == p)
				break;
			if (v > 0 && v != self) {
				kill((pid_t)v, SIGKILL);
				others++;
			}
		}
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (others == 0 && waitpid(-1, NULL, WNOHANG) < 0)
			return;
		usleep(1000);
	}
}

/* Reports err, and ends the command if it was started. */
static _Noreturn void supervisor_failed(const struct recap_exec_ctx *c, struct recap_error *err,
					pid_t command)
{
	recap_sync_send(c->sync_fd, RECAP_SYNC_ERROR, err->code, 0, err->msg);
	if (command > 0)
		kill(command, SIGKILL);
	_exit(1);
}

_Noreturn void recap_exec_supervise(const struct recap_exec_ctx *c)
{
	struct recap_error *err = NULL;
	/* the executor times the run out: the supervisor stays to reap */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	/* how it shows in the target's ps */
	prctl(PR_SET_NAME, "capsule-init", 0, 0, 0);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		recap_sync_sendf(c->sync_fd, RECAP_SYNC_ERROR, errno, "prctl: %m");
		_exit(1);
	}
	if (recap_mounts_proc_sys(&err) < 0) {
		recap_sync_send(c->sync_fd, RECAP_SYNC_ERROR, err->code, 0, err->msg);
		_exit(1);
	}
	struct recap_exec_ctx cc = *c;
	if (c->tty) {
		int slave = recap_exec_pty(c->pty_sock);
		if (slave < 0) {
			recap_sync_sendf(c->sync_fd, RECAP_SYNC_ERROR, -slave,
					 "cannot open a terminal in the capsule: %s", strerror(-slave));
			_exit(1);
		}
		cc.stdin_fd = cc.stdout_fd = cc.stderr_fd = slave;
		/* the size the caller's terminal had: `stty size` as the first
		 * command must not see 0x0 while the executor gets the master */
		if (c->winsize.ws_row && c->winsize.ws_col)
			ioctl(slave, TIOCSWINSZ, &c->winsize);
	}
	if (recap_exec_prepare(&cc, &err) < 0)
		supervisor_failed(c, err, 0);
	if (recap_confine_guard(&cc, &err) < 0)
		supervisor_failed(c, err, 0);
	pid_t pid = fork();
	if (pid < 0) {
		recap_sync_sendf(c->sync_fd, RECAP_SYNC_ERROR, errno, "fork: %m");
		_exit(1);
	}
	if (pid == 0)
		command(&cc);
	if (recap_confine_supervisor(c, &err) < 0)
		supervisor_failed(c, err, pid);
	close(c->sync_fd); /* EOF for the executor once the command exec'd */
	close(cc.stdin_fd);
	if (cc.stdout_fd != cc.stdin_fd)
		close(cc.stdout_fd);
	if (cc.stderr_fd != cc.stdin_fd && cc.stderr_fd != cc.stdout_fd)
		close(cc.stderr_fd);
	int status = 0;
	for (;;) {
		int st;
		pid_t w = waitpid(-1, &st, 0);
		if (w == pid) {
			status = st;
			break;
		}
		if (w < 0 && errno != EINTR)
			break;
	}
	kill_leftovers(c->procs_fd);
	/* statfs of the overlay root is its upper's: the run's tmpfs */
	struct statvfs fs;
	struct recap_exec_status st = {.wait_status = status,
				       .upper_full = statvfs("/", &fs) == 0 && fs.f_bavail == 0};
	ssize_t wr = write(c->status_fd, &st, sizeof(st));
	_exit(wr == sizeof(st) ? 0 : 1);
}

/* The run's processes (the process stage). The executor's first child
 * joins the target's namespaces, builds the capsule's root and becomes the
 * supervisor, which starts the command; each reports to the executor over a
 * sync pipe. The executor relays their output, keeps its tails, and waits. */
#pragma once

#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <termios.h>

#include "base/error.h"
#include "runtime/run_log.h"
#include "runtime/cgroup.h"
#include "runtime/escape.h"
#include "runtime/runtime.h"
#include "runtime/spec.h"
#include "runtime/target.h"

/* Messages from the run's child processes to the executor, one write each
 * (smaller than PIPE_BUF, so never interleaved). */

enum recap_sync_kind {
	RECAP_SYNC_PID = 1,    /* attached: the first child is the supervisor now */
	RECAP_SYNC_ERROR,      /* attaching failed */
	RECAP_SYNC_EXEC_ERROR, /* the command could not be started */
};

struct recap_sync_msg {
	int kind;
	int code; /* positive errno */
	int pid;
	char text[1024];
};

void recap_sync_send(int fd, enum recap_sync_kind kind, int code, int pid, const char *text);
void recap_sync_sendf(int fd, enum recap_sync_kind kind, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Joining the target's namespaces. */

/* setns(pidfd, flags) for the RECAP_JOIN_* set, atomically; on kernels
 * without pidfd setns, one /proc/<pid>/ns/<name> fd per namespace, each
 * checked against the pidfd so a reused pid is never joined. PID takes effect
 * for children only: the caller forks afterwards. */
int recap_nsjoin(int pidfd, pid_t pid, unsigned join, struct recap_error **err);
/* The executor's children are born in the target's PID namespace from now
 * on; *ret_saved is the caller's own, for recap_nsjoin_pid_restore (which
 * closes it) right after the fork. */
int recap_nsjoin_pid_for_children(int pidfd, pid_t pid, int *ret_saved, struct recap_error **err);
void recap_nsjoin_pid_restore(int saved);
/* Every namespace of net, ipc and uts that join does not name is made new
 * (unshare), never left the executor's (the node's); a new network
 * namespace gets its loopback up. The PID namespace is the caller's to make
 * (CLONE_NEWPID at the fork, recap_nsjoin_fork), the cgroup namespace too
 * (recap_exec_prepare: rooted at the run's cgroups). */
int recap_nsjoin_unshare_rest(unsigned join, struct recap_error **err);
/* fork(), with extra clone flags (CLONE_NEWPID); a pid, 0 in the child, or
 * -1 with errno. */
pid_t recap_nsjoin_fork(unsigned long clone_flags);

/* The run's processes hold only the fds they were handed: nothing of the
 * executor's (a directory fd of the host is a way out of the capsule's root,
 * CVE-2024-21626). */

/* Closes every fd of the calling process but those in keep (n entries,
 * negative ones ignored); 0 or -errno. */
int recap_fds_close_except(const int *keep, size_t n);
/* Enters wd, resolved inside the caller's root as if it were "/" (openat2
 * RESOLVE_IN_ROOT): ".." and absolute symlinks stay inside, magic links
 * (/proc/self/fd/N, /proc/<pid>/cwd) are refused; 0 or -errno. */
int recap_fds_enter_workdir(const char *wd);

/* Inside the target's namespaces: the supervisor and the command. */

/* A seccomp filter compiled to BPF ahead of its load (sandbox.h): an OCI
 * profile's, which libseccomp generates in the supervisor before it forks
 * the command (recap_exec_prepare), or a copy of the default profile's,
 * generated at build time (runtime/seccomp_builtin.h; about 0.9 ms of
 * libseccomp's work when it is not). */
struct recap_bpf {
	struct sock_filter *insns; /* NULL: none compiled */
	unsigned short len;
};

struct recap_exec_ctx {
	char **argv;
	char **envp;
	const char *workdir; /* NULL or "": / */
	uint64_t caps;
	bool confined;		 /* the command gets a seccomp filter (the guard too) */
	scmp_filter_ctx seccomp; /* a profile's, built by the executor (it checked it);
				    NULL with confined: the default (recap_seccomp_default_bpf) */
	int stdin_fd, stdout_fd, stderr_fd;
	bool tty;
	int64_t uid, gid;	 /* < 0: stay root */
	uint64_t user_caps;	 /* a non-root user keeps only these (the added ones) */
	int sync_fd;		 /* struct recap_sync_msg to the executor */
	int status_fd;		 /* struct recap_exec_status when the command ended */
	int procs_fd;		 /* cgroup.procs of the run, to kill leftovers */
	int pty_sock;		 /* tty: where the PTY master made in the capsule goes */
	struct winsize winsize;	 /* tty: the size the command starts with (0x0: unknown) */
	int target_fs;		 /* enum recap_target_fs: Landlock for ReadOnly and None */
	unsigned join;		 /* RECAP_JOIN_* */
	struct recap_bpf filter; /* seccomp, compiled in the child */
};

/* In the supervisor, before the command is forked: takes (the default
 * profile) or compiles the command's filter, and, when the cgroup
 * namespace is not joined, makes the run's own (rooted at the run's
 * cgroups, which this process entered first of all). */
int recap_exec_prepare(struct recap_exec_ctx *c, struct recap_error **err);

struct recap_exec_status {
	int wait_status; /* the command's */
	int upper_full;	 /* the writable layer (upperSize) had no space left */
};

/* The supervisor, first process of the run in the target's PID namespace:
 * mounts /proc and /sys, starts the command, reaps everything reparented to
 * it, and when the command ends kills what it left and reports its status.
 * Never returns. */
_Noreturn void recap_exec_supervise(const struct recap_exec_ctx *c);

/* Opens a PTY on the caller's /dev/ptmx, sends the master over sock and
 * returns the slave (or -errno). */
int recap_exec_pty(int sock);

/* The executable for name: itself when it holds a '/', else the first
 * executable regular file on path. Caller frees; NULL when not found. */
char *recap_exec_lookup(const char *name, const char *path);

/* How the executor starts the run's first child. */

int recap_launch_argv(const struct recap_run_spec *s, struct recap_strv *ret);
int recap_launch_env(const struct recap_run_spec *s, struct recap_strv *ret);

struct recap_launch {
	const struct recap_run_spec *spec;
	const struct recap_run_paths *paths;
	const struct recap_target *target;
	const struct recap_cgroup *cgroup;
	struct recap_exec_ctx exec;
	sigset_t mask;	     /* restored in the child */
	int out_fd;	     /* the run's /out tmpfs (recap_out_make) */
	bool born_in_cgroup; /* clone3 put the child in the run's v2 cgroup */
};

/* The run's first process, born in the target's PID namespace (when it is
 * joined) and the run's v2 cgroup: it moves itself into the run's other
 * cgroups before anything else (recap_cgroup_enter_self), then private
 * mount namespace, the run's tmpfs, overlay root, /target, /out, /dev, the
 * other namespaces joined, pivot_root; then it reports RECAP_SYNC_PID (or
 * an error) on exec.sync_fd and becomes the supervisor. Never returns. */
_Noreturn void recap_launch_child(const struct recap_launch *l);

/* A bounded tail of a stream: keeps the last `cap` bytes, counts them all. */

struct recap_tail {
	char *data;
	size_t cap, len, start;
	uint64_t total;
};

int recap_tail_init(struct recap_tail *t, size_t cap);
void recap_tail_push(struct recap_tail *t, const char *p, size_t n);
/* The kept bytes in order, NUL-terminated (caller frees). */
char *recap_tail_dup(const struct recap_tail *t, size_t *ret_len);
void recap_tail_free(struct recap_tail *t);

/* An interactive session (spec.session, process_session.c): the command's
 * terminal relayed to the one client of runs/<id>/session.sock, a
 * SOCK_SEQPACKET socket whose every message is one message of the Kubernetes
 * channel protocol (docs/executor-spec.md, "Sessions"). */

#define RECAP_SESSION_MSG_MAX 32768  /* one message, its channel byte included */
#define RECAP_SESSION_FINISH_MS 5000 /* the last output and the Status, at most */

struct recap_session {
	int listen_fd, fd; /* -1: none */
	char *path;	   /* the socket's path while it exists */
	/* one output message the client could not take yet: the PTY is not
	 * read meanwhile, so the command blocks on its terminal, not the executor */
	char out[RECAP_SESSION_MSG_MAX];
	size_t out_len;
	uint64_t out_since; /* when it began to wait */
	/* stdin bytes the terminal could not take yet: the socket is not read
	 * meanwhile */
	char in[RECAP_SESSION_MSG_MAX + 1];
	size_t in_len, in_off;
	bool stdin_closed;
	uint64_t last_activity; /* a message either way */
	char end_msg[160];	/* why the session ended ("" while it goes on) */
	bool hung_up;		/* the end was acted on (the loop's session_hangup) */
	bool cancelled;		/* ... while the command ran: the run is Cancelled */
};

/* One run in the executor: its channels to the run's processes, the loop
 * that watches them, the attach terminal. */

struct recap_run {
	const struct recap_run_spec *spec;
	const struct recap_run_opts *opts;
	struct recap_run_result *res;
	struct recap_run_paths paths;
	struct recap_target target;
	struct recap_cgroup cg;
	bool have_cgroup, have_dirs;
	struct recap_run_state state;
	struct recap_state_file state_file;
	scmp_filter_ctx seccomp;
	struct recap_strv argv, env;
	uint64_t caps;
	int out_mnt; /* the run's /out tmpfs (mounts_out.c), -1 when none */

	/* the executor's ends */
	int sync_fd, status_fd, out_fd, err_fd, sig_fd, sup_pidfd, procs_fd;
	int mnt_ns;	/* the run's mount namespace, emptied at escape (mounts.c) */
	int pty_master; /* tty mode: out_fd == pty_master */
	int pty_sock;	/* tty mode: the master arrives here */
	/* the children's ends */
	int child_in, child_out, child_err, child_sync, child_status, child_pty_sock;
	sigset_t old_mask; /* before the executor blocked its signals */
	struct termios saved_tty;
	bool tty_raw;

	pid_t c1, sup;
	bool sync_eof, sup_exited, out_eof, err_eof, stdin_eof;
	int status;
	bool have_status, upper_full;
	int fail_kind, fail_code; /* a RECAP_SYNC_* error from a child */
	char fail_msg[1024];
	bool cancelled, timed_out;
	struct recap_tail out, err;
	struct recap_run_log log;
	struct recap_session sess;
	uint64_t t_start, t_attached, t_end, deadline, kill_at, hard_kill_at, drain_until;
};

/* Rewrites the state with phase (and the supervisor's pid once known). */
void recap_run_write_state(struct recap_run *r, const char *phase);
void recap_run_init_fds(struct recap_run *r);
void recap_run_close_child_ends(struct recap_run *r);
int recap_run_pipes(struct recap_run *r, struct recap_error **err);
void recap_run_close_fds(struct recap_run *r);
int recap_run_loop(struct recap_run *r, struct recap_error **err);
int recap_tty_open(struct recap_run *r, struct recap_error **err);
/* Receives the PTY master the supervisor made inside the capsule. */
void recap_tty_receive(struct recap_run *r);
void recap_tty_restore(struct recap_run *r);
void recap_tty_resize(struct recap_run *r);

/* The session socket (process_session.c). */
void recap_session_init(struct recap_session *s);
/* Makes runs/<id>/session.sock (mode 0600, nothing there replaced) and
 * waits for its one client up to session.attachTimeoutSeconds (and the run's
 * deadline, and the executor's signals), then stops listening: the socket's
 * path is removed. 0 with a client; else negative with *err, and
 * *ret_reason the result's reason (Cancelled when no one attached). */
int recap_session_accept(struct recap_run *r, const char **ret_reason, struct recap_error **err);
/* What the loop polls: the socket's events, and whether the PTY master is
 * read (not while an output message waits) or written (stdin waits). */
short recap_session_sock_events(const struct recap_run *r);
short recap_session_pty_events(const struct recap_run *r);
void recap_session_on_sock(struct recap_run *r, short revents, uint64_t now);
void recap_session_on_pty_writable(struct recap_run *r, short revents);
/* Output from the PTY (at most RECAP_SESSION_MSG_MAX - 1 bytes): one
 * channel-1 message, sent now or kept until the client takes it. */
void recap_session_output(struct recap_run *r, const char *p, size_t n, uint64_t now);
/* Ends the session when it was idle too long; the next idle check (0: none). */
void recap_session_timers(struct recap_run *r, uint64_t now);
uint64_t recap_session_idle_at(const struct recap_run *r);
/* After escape: the output still kept, then one Status on channel 3, then
 * the socket closed (bounded by RECAP_SESSION_FINISH_MS). */
void recap_session_finish(struct recap_run *r);
void recap_session_close(struct recap_session *s);

/* Internal: one run in the executor. */
#pragma once

#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <termios.h>

#include "runtime/cgroup.h"
#include "runtime/escape.h"
#include "runtime/runtime.h"
#include "runtime/tail.h"
#include "runtime/target.h"

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

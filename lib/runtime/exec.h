/* Inside the target's namespaces: the supervisor and the command. */
#pragma once

#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>

struct recap_exec_ctx {
	char **argv;
	char **envp;
	const char *workdir; /* NULL or "": / */
	uint64_t caps;
	scmp_filter_ctx seccomp; /* NULL: unconfined */
	int stdin_fd, stdout_fd, stderr_fd;
	bool tty;
	int64_t uid, gid;	/* < 0: stay root */
	uint64_t user_caps;	/* a non-root user keeps only these (the added ones) */
	int sync_fd;		/* struct recap_sync_msg to the executor */
	int status_fd;		/* struct recap_exec_status when the command ended */
	int procs_fd;		/* cgroup.procs of the run, to kill leftovers */
	int pty_sock;		/* tty: where the PTY master made in the capsule goes */
	struct winsize winsize; /* tty: the size the command starts with (0x0: unknown) */
	int target_fs;		/* enum recap_target_fs: Landlock for ReadOnly and None */
	unsigned join;		/* RECAP_JOIN_* */
};

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

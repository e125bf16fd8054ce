/* A run's artifacts for the node's relay: a status for what cannot be
 * served, else the tar, which the helper caplet-tar writes to a pipe (so
 * libarchive is not in the agent's process). Runs on a relay thread:
 * blocking reads and a wait for that one child. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "caplet/artifacts.h"

extern char **environ;

#define CHUNK (64 * 1024)
#define STDERR_MAX 1024

/* Starts `helper ROOT RUN_ID PATH` with its stdout on *out and its stderr
 * on *diag (the read ends). */
static int spawn_helper(char *const argv[], pid_t *pid, int *out, int *diag, struct recap_error **err)
{
	int o[2], d[2];
	if (pipe2(o, O_CLOEXEC) < 0)
		return recap_error_set_errno(err, errno, "caplet-tar: pipe");
	if (pipe2(d, O_CLOEXEC) < 0) {
		int e = errno;
		close(o[0]), close(o[1]);
		return recap_error_set_errno(err, e, "caplet-tar: pipe");
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, o[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, d[1], STDERR_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	int r = posix_spawn(pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(o[1]), close(d[1]);
	if (r != 0) {
		close(o[0]), close(d[0]);
		return recap_error_set_errno(err, r, "cannot start %s", argv[0]);
	}
	*out = o[0];
	*diag = d[0];
	return 0;
}

/* Forwards what fd gives until its end: 0, -EPIPE when write refused a
 * chunk, -ENOMEM. */
static int pump(int fd, recap_caplet_write_fn write, void *stream)
{
	char *buf = malloc(CHUNK);
	int r = buf ? 0 : -ENOMEM;
	while (buf) {
		ssize_t n = read(fd, buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (write(buf, (size_t)n, stream) < 0) {
			r = -EPIPE;
			break;
		}
	}
	free(buf);
	return r;
}

/* What the helper said on stderr (its last newline dropped), at most size - 1 bytes. */
static size_t read_diag(int fd, char *msg, size_t size)
{
	size_t got = 0;
	while (got < size - 1) {
		ssize_t n = read(fd, msg + got, size - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got && msg[got - 1] == '\n')
		got--;
	msg[got] = '\0';
	return got;
}

/* The helper's output through write(); its exit says whether the archive
 * is whole. */
static int stream_helper(const char *helper, const char *root, const char *run_id, const char *path,
			 recap_caplet_write_fn write, void *stream, struct recap_error **err)
{
	char *argv[] = {(char *)helper, (char *)root, (char *)run_id, (char *)path, NULL};
	pid_t pid = 0;
	int out = -1, diag = -1;
	int r = spawn_helper(argv, &pid, &out, &diag, err);
	if (r < 0)
		return r;
	int broke = pump(out, write, stream);
	if (broke < 0)
		kill(pid, SIGKILL);
	close(out);
	char msg[STDERR_MAX];
	size_t said = read_diag(diag, msg, sizeof(msg));
	close(diag);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (broke == -ENOMEM)
		return recap_error_set(err, ENOMEM, "out of memory for run %s's artifacts", run_id);
	if (broke < 0)
		return recap_error_set(err, EPIPE, "the reader of run %s's artifacts went away", run_id);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return recap_error_set(err, EIO, "%s", said ? msg : "caplet-tar failed");
	return 0;
}

int recap_caplet_artifacts_serve(const char *root, const char *run_id, const char *path,
				 recap_caplet_write_fn write, void *stream, int (*begin)(void *stream),
				 struct recap_error **err, void *userdata)
{
	enum recap_caplet_artifacts_state st;
	int r = recap_caplet_artifacts_check(root, run_id, path, time(NULL), &st, err);
	if (r == -EINVAL)
		return 400;
	if (r < 0)
		return 500;
	switch (st) {
	case RECAP_CAPLET_ARTIFACTS_NONE:
		recap_error_set(err, ENOENT, "run %s kept %s%s on this node", run_id,
				*path ? "no " : "no artifacts", *path ? path : "");
		return 404;
	case RECAP_CAPLET_ARTIFACTS_EXPIRED:
		recap_error_set(err, ESTALE,
				"the artifacts of run %s expired and were removed (output.retentionSeconds)",
				run_id);
		return 410;
	case RECAP_CAPLET_ARTIFACTS_RUNNING:
		recap_error_set(err, EBUSY, "run %s has not ended: its artifacts are kept when it does",
				run_id);
		return 409;
	default:
		break;
	}
	if (begin(stream) < 0)
		return -EPIPE;
	r = stream_helper(userdata, root, run_id, path, write, stream, err);
	return r < 0 ? r : 0;
}

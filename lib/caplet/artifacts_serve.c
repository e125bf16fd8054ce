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

/* The helper's output through write(); its exit says whether the archive
 * is whole. */
static int stream_helper(const char *helper, const char *root, const char *run_id, const char *path,
			 recap_caplet_write_fn write, void *stream, struct recap_error **err)
{
	int out[2], diag[2];
	if (pipe2(out, O_CLOEXEC) < 0)
		return recap_error_set_errno(err, errno, "caplet-tar: pipe");
	if (pipe2(diag, O_CLOEXEC) < 0) {
		int e = errno;
		close(out[0]), close(out[1]);
		return recap_error_set_errno(err, e, "caplet-tar: pipe");
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, diag[1], STDERR_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	char *argv[] = {(char *)helper, (char *)root, (char *)run_id, (char *)path, NULL};
	pid_t pid;
	int r = posix_spawn(&pid, helper, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]), close(diag[1]);
	if (r != 0) {
		close(out[0]), close(diag[0]);
		return recap_error_set_errno(err, r, "cannot start %s", helper);
	}
	char *buf = malloc(CHUNK);
	int broke = buf ? 0 : -ENOMEM;
	for (; buf;) {
		ssize_t n = read(out[0], buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (write(buf, (size_t)n, stream) < 0) {
			broke = -EPIPE;
			kill(pid, SIGKILL);
			break;
		}
	}
	free(buf);
	if (broke == -ENOMEM)
		kill(pid, SIGKILL);
	close(out[0]);
	char msg[STDERR_MAX];
	size_t got = 0;
	for (ssize_t n;
	     got < sizeof(msg) - 1 && (n = read(diag[0], msg + got, sizeof(msg) - 1 - got)) != 0;) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	msg[got] = '\0';
	close(diag[0]);
	if (got && msg[got - 1] == '\n')
		msg[got - 1] = '\0';
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (broke == -ENOMEM)
		return recap_error_set(err, ENOMEM, "out of memory for run %s's artifacts", run_id);
	if (broke < 0)
		return recap_error_set(err, EPIPE, "the reader of run %s's artifacts went away", run_id);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return recap_error_set(err, EIO, "%s", got ? msg : "caplet-tar failed");
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

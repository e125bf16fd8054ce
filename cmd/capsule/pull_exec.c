/* The pull stack is a separate program, capsule-pull, installed beside
 * capsule: `capsule pull` becomes it, `capsule run --image` runs it when the
 * image is not in the store yet. A run of a cached image thus never loads
 * libcurl, libarchive and their libraries (~9 ms of every start), and the
 * code that parses what a registry sends runs in a process that holds no
 * target and joins no namespace. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "pull_exec.h"

#define HELPER "capsule-pull"
#define CRI_HELPER "capsule-cri"
#define GLOBALS_MAX 7 /* --root R --log-level L --log-format F --registry-only */

/* <directory of this executable>/<name> */
static int helper_path(char path[PATH_MAX], const char *name)
{
	ssize_t n = readlink("/proc/self/exe", path, PATH_MAX - strlen(name) - 2);
	if (n < 0)
		return -errno;
	path[n] = 0;
	char *slash = strrchr(path, '/');
	if (!slash)
		return -ENOENT;
	strcpy(slash + 1, name);
	return 0;
}

static int globals(const struct capsule_globals *g, const char **argv)
{
	int n = 0;
	argv[n++] = "--root";
	argv[n++] = g->root;
	if (g->log_level) {
		argv[n++] = "--log-level";
		argv[n++] = g->log_level;
	}
	if (g->log_format) {
		argv[n++] = "--log-format";
		argv[n++] = g->log_format;
	}
	if (g->registry_only)
		argv[n++] = "--registry-only";
	return n;
}

static int exec_helper(const char *name, const struct capsule_globals *g, int argc, char **argv)
{
	char path[PATH_MAX];
	_cleanup_free_ const char **args = calloc(1 + GLOBALS_MAX + (size_t)argc + 1, sizeof(*args));
	if (!args) {
		log_error("out of memory");
		return 1;
	}
	int n = 0;
	int r = helper_path(path, name);
	args[n++] = path;
	n += globals(g, args + n);
	for (int i = 0; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	if (r >= 0)
		execv(path, (char *const *)args);
	log_error("cannot run %s: %s", r >= 0 ? path : name, strerror(r < 0 ? -r : errno));
	return 1;
}

int capsule_verb_pull_exec(const struct capsule_globals *g, int argc, char **argv)
{
	return exec_helper(HELPER, g, argc, argv);
}

int capsule_verb_cri_exec(const struct capsule_globals *g, int argc, char **argv)
{
	return exec_helper(CRI_HELPER, g, argc, argv);
}

int capsule_pull_image(const struct capsule_globals *g, const char *const *opts, const char *ref)
{
	char path[PATH_MAX];
	int r = helper_path(path, HELPER);
	if (r < 0) {
		log_error("cannot find %s: %s", HELPER, strerror(-r));
		return r;
	}
	const char *args[1 + GLOBALS_MAX + 1 + CAPSULE_OCI_FORWARD_MAX + 3];
	int n = 0;
	args[n++] = path;
	n += globals(g, args + n);
	args[n++] = "pull";
	for (int i = 0; opts[i]; i++)
		args[n++] = opts[i];
	args[n++] = "--";
	args[n++] = ref;
	args[n] = NULL;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		log_error("cannot run %s: %s", path, strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		/* stdout is the run's (its output, or -o json's result) */
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execv(path, (char *const *)args);
		fprintf(stderr, "capsule: cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	/* capsule-pull said why it failed */
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

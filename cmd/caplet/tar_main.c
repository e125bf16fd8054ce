/* caplet-tar ROOT RUN_ID [PATH]: writes the tar of out/<RUN_ID>/[PATH] of
 * the node store at ROOT to stdout (lib/caplet/artifacts.h). The node's
 * relay in caplet runs it per stream and forwards what it writes, so
 * libarchive is never loaded in the agent. Exit 0 when the whole archive
 * was written; else 1 with the reason on stderr (the stream is then cut,
 * without the archive's end). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "caplet/artifacts.h"

static int to_stdout(const void *buf, size_t len, void *userdata)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: caplet-tar ROOT RUN_ID [PATH]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN); /* a reader that went away is an error, not a signal */
	struct recap_error *err = NULL;
	int r = recap_caplet_artifacts_tar(argv[1], argv[2], argc == 4 ? argv[3] : "", to_stdout, NULL, &err);
	if (r < 0) {
		fprintf(stderr, "caplet-tar: %s\n", err ? recap_error_message(err) : strerror(-r));
		recap_error_free(err);
		return 1;
	}
	return 0;
}

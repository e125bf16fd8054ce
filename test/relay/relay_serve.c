/* Runs the relay on a store until SIGTERM, for relay.sh:
 *   relay-serve ADDRESS CERT KEY CA ROOT NODE [MAX_STREAMS]
 * prints the port, then one line per log message; on SIGUSR1 a line
 * "relay-serve: N streams" (recap_relay_streams). Artifacts: a tar of
 * nothing but the requested path's name, enough to test the framing. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay/relay.h"

static void log_line(int level, const char *msg, void *data)
{
	fprintf(stderr, "relay-serve: %s\n", msg);
}

static int artifacts(const char *root, const char *run_id, const char *path, recap_relay_write_fn write,
		     void *stream, int (*begin)(void *), struct recap_error **err, void *data)
{
	if (strcmp(path, "missing") == 0)
		return recap_error_set(err, 404, "no such artifact"), 404;
	if (begin(stream) < 0)
		return -1;
	return write(path, strlen(path), stream) < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 7) {
		fprintf(stderr, "usage: relay-serve ADDRESS CERT KEY CA ROOT NODE [MAX_STREAMS]\n");
		return 2;
	}
	struct recap_relay_options o = {.address = argv[1],
					.cert_file = argv[2],
					.key_file = argv[3],
					.ca_file = argv[4],
					.root = argv[5],
					.node = argv[6],
					.max_streams = argc > 7 ? atoi(argv[7]) : 0,
					.write_timeout_s = 3,
					.artifacts = artifacts,
					.log = log_line};
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct recap_relay *r;
	struct recap_error *err = NULL;
	if (recap_relay_start(&o, &r, &err) < 0) {
		fprintf(stderr, "relay-serve: %s\n", recap_error_message(err));
		return 1;
	}
	printf("%d\n", recap_relay_port(r));
	fflush(stdout);
	int sig;
	while (sigwait(&set, &sig) == 0 && sig == SIGUSR1)
		fprintf(stderr, "relay-serve: %d streams\n", recap_relay_streams(r));
	recap_relay_stop(r);
	return 0;
}

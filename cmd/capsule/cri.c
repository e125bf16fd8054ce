/* capsule-cri cri-status --endpoint SOCKET ID: one JSON line on stdout,
 * {"id","state","pid","podName","podNamespace","podUID","container"}.
 * Exit 0; 3 when the CRI does not know the container; 1 on any other
 * error (the CRI unreachable, a malformed reply), said on stderr. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "base/log.h"
#include "cri/container.h"
#include "verbs.h"

#define DEFAULT_ENDPOINT "/run/containerd/containerd.sock"
#define EXIT_NOT_FOUND 3

static void usage(FILE *f)
{
	fprintf(f, "usage: capsule cri-status [--endpoint SOCKET] [--timeout-ms N] CONTAINER_ID\n\n"
		   "  --endpoint SOCKET   the CRI's unix socket (default " DEFAULT_ENDPOINT
		   ";\n                      unix:// prefix accepted)\n"
		   "  --timeout-ms N      deadline of the call (default 5000)\n");
}

static const char *endpoint_path(const char *e)
{
	return strncmp(e, "unix://", 7) == 0 ? e + 7 : e;
}

static int print_container(const struct recap_cri_container *c)
{
	_cleanup_json_ json_t *j = json_pack(
	    "{s:s, s:s, s:i, s:i, s:s?, s:s?, s:s?, s:s?}", "id", c->id, "state",
	    recap_cri_state_name(c->state), "stateCode", c->state, "pid", (int)c->pid, "podName", c->pod_name,
	    "podNamespace", c->pod_namespace, "podUID", c->pod_uid, "container", c->container_name);
	if (!j || json_dumpf(j, stdout, JSON_COMPACT) < 0 || fputc('\n', stdout) == EOF || fflush(stdout))
		return -EIO;
	return 0;
}

int capsule_verb_cri_status(const struct capsule_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {{"endpoint", required_argument, NULL, 'e'},
					     {"timeout-ms", required_argument, NULL, 't'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	const char *endpoint = DEFAULT_ENDPOINT;
	long timeout_ms = 5000;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'e') {
			endpoint = optarg;
		} else if (c == 't') {
			char *end;
			timeout_ms = strtol(optarg, &end, 10);
			if (*end || timeout_ms < 1 || timeout_ms > 60000) {
				log_error("--timeout-ms: 1..60000");
				return 2;
			}
		} else {
			usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	_cleanup_error_ struct recap_error *err = NULL;
	struct recap_cri_container ct = {0};
	int r = recap_cri_container_status(endpoint_path(endpoint), argv[optind], timeout_ms, &ct, &err);
	if (r >= 0)
		r = print_container(&ct);
	recap_cri_container_free(&ct);
	if (r < 0) {
		log_error("%s", err ? recap_error_message(err) : strerror(-r));
		return r == -ENOENT ? EXIT_NOT_FOUND : 1;
	}
	return 0;
}

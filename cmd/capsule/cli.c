#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/failpoint.h"
#include "base/log.h"

#define CAPSULE_DEFAULT_ROOT "/var/lib/recap"

static void usage(FILE *f, const char *prog, const struct capsule_verb *verbs, size_t n)
{
	fprintf(f,
		"usage: %s [--root DIR] [--cgroup-parent NAME] [--log-level L] [--log-format F]\n    "
		"   [--registry-only] VERB [ARGS...]\n\n"
		"--registry-only: refuse oci:<dir> image references (the node agent passes it)\n\nverbs:\n",
		prog);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f, "\nRun '%s VERB --help' for a verb's options.\n", prog);
}

/* optind of the verb, 0 after --help, -1 on a bad option (printed). */
static int parse_globals(int argc, char **argv, struct capsule_globals *g)
{
	static const struct option opts[] = {
	    {"root", required_argument, NULL, 'r'},
	    {"log-level", required_argument, NULL, 'l'},
	    {"log-format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {"cgroup-parent", required_argument, NULL, 'c'},
	    {"registry-only", no_argument, NULL, 'R'},
	    {NULL, 0, NULL, 0},
	};
	enum recap_log_level level = RECAP_LOG_INFO;
	enum recap_log_format format = RECAP_LOG_TEXT;
	int c;
	/* '+': stop at the verb, its options are its own. */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			g->root = optarg;
			break;
		case 'c':
			g->cgroup_parent = optarg;
			break;
		case 'l':
			if (recap_log_parse_level(optarg, &level) < 0) {
				fprintf(stderr, "capsule: bad --log-level '%s' (error|warn|info|debug)\n",
					optarg);
				return -1;
			}
			g->log_level = optarg;
			break;
		case 'f':
			if (recap_log_parse_format(optarg, &format) < 0) {
				fprintf(stderr, "capsule: bad --log-format '%s' (text|json)\n", optarg);
				return -1;
			}
			g->log_format = optarg;
			break;
		case 'R':
			g->registry_only = true;
			break;
		case 'h':
			return 0;
		default:
			return -1;
		}
	}
	recap_log_setup("capsule", level, format);
	return optind;
}

int capsule_cli_main(const char *prog, const struct capsule_verb *verbs, size_t n_verbs, int argc,
		     char **argv)
{
	struct capsule_globals g = {.root = CAPSULE_DEFAULT_ROOT};
	_cleanup_error_ struct recap_error *fperr = NULL;
	if (recap_failpoints_init(&fperr) < 0) {
		fprintf(stderr, "%s: %s\n", prog, recap_error_message(fperr));
		return 2;
	}
	int first = parse_globals(argc, argv, &g);
	if (first == 0) {
		usage(stdout, prog, verbs, n_verbs);
		return 0;
	}
	if (first < 0 || first >= argc) {
		usage(stderr, prog, verbs, n_verbs);
		return 2;
	}
	const char *name = argv[first];
	for (size_t i = 0; i < n_verbs; i++) {
		if (strcmp(verbs[i].name, name) == 0) {
			optind = 1; /* verbs parse their own argv from the start */
			return verbs[i].fn(&g, argc - first, argv + first);
		}
	}
	fprintf(stderr, "%s: unknown verb '%s'\n", prog, name);
	usage(stderr, prog, verbs, n_verbs);
	return 2;
}

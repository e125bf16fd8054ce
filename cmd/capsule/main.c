/* capsule: the executor the node agent spawns, and a standalone CLI. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "verbs.h"

#define CAPSULE_DEFAULT_ROOT "/var/lib/recap"

struct verb {
	const char *name;
	capsule_verb_fn fn;
	const char *summary;
};

/* One line per verb; each lives in its own file. */
static const struct verb verbs[] = {
    {"run", capsule_verb_run, "run a command attached to a container, then escape"},
    {"attach", capsule_verb_attach, "interactive shell attached to a container, then escape"},
    {"ps", capsule_verb_ps, "list runs in progress"},
    {"sweep", capsule_verb_sweep, "clean up runs left behind by a crash"},
#ifndef CAPSULE_EXECUTOR_ONLY /* capsule-exec: no image store, a fast start */
    {"pull", capsule_verb_pull, "fetch an image into the node store"},
    {"images", capsule_verb_images, "list the images in the node store"},
    {"rmi", capsule_verb_rmi, "remove image references from the node store"},
    {"gc", capsule_verb_gc, "remove content no image or run references"},
#endif
};

static void usage(FILE *f)
{
	fprintf(f, "usage: capsule [--root DIR] [--cgroup-parent NAME] [--log-level L] [--log-format F]\n    "
		   "   VERB [ARGS...]\n\nverbs:\n");
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f, "\nRun 'capsule VERB --help' for a verb's options.\n");
}

static int parse_globals(int argc, char **argv, struct capsule_globals *g)
{
	static const struct option opts[] = {
	    {"root", required_argument, NULL, 'r'},	     {"log-level", required_argument, NULL, 'l'},
	    {"log-format", required_argument, NULL, 'f'},    {"help", no_argument, NULL, 'h'},
	    {"cgroup-parent", required_argument, NULL, 'c'}, {NULL, 0, NULL, 0},
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
			break;
		case 'f':
			if (recap_log_parse_format(optarg, &format) < 0) {
				fprintf(stderr, "capsule: bad --log-format '%s' (text|json)\n", optarg);
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	recap_log_setup("capsule", level, format);
	return optind;
}

int main(int argc, char **argv)
{
	struct capsule_globals g = {.root = CAPSULE_DEFAULT_ROOT};
	int first = parse_globals(argc, argv, &g);
	if (first < 0) {
		usage(stderr);
		return 2;
	}
	if (first >= argc) {
		usage(stderr);
		return 2;
	}
	const char *name = argv[first];
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
		if (strcmp(verbs[i].name, name) == 0) {
			optind = 1; /* verbs parse their own argv from the start */
			return verbs[i].fn(&g, argc - first, argv + first);
		}
	}
	fprintf(stderr, "capsule: unknown verb '%s'\n", name);
	usage(stderr);
	return 2;
}

/* capsule sweep: escape every run whose executor is gone (after a crash). */
#include <getopt.h>
#include <stdio.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "runtime/runtime.h"
#include "verbs.h"

static void report(const char *id, int r, const struct recap_error *e, void *data)
{
	int *n = data;
	if (r < 0) {
		log_error("sweep: run %s: %s", id, recap_error_message(e));
		return;
	}
	(*n)++;
	log_info("sweep: run %s cleaned up", id);
}

int capsule_verb_sweep(const struct capsule_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {{"root", required_argument, NULL, 'r'},
					     {"force", no_argument, NULL, 'f'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *root = g->root;
	bool force = false;
	int c;
	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		if (c == 'r') {
			root = optarg;
		} else if (c == 'f') {
			force = true;
		} else {
			fprintf(c == 'h' ? stdout : stderr,
				"usage: capsule sweep [--root DIR] [--force]\n"
				"  cleans up runs whose executor is gone; --force: every run\n");
			return c == 'h' ? 0 : 2;
		}
	}
	_cleanup_error_ struct recap_error *err = NULL;
	int n = 0;
	if (recap_runtime_sweep(root, g->cgroup_parent, force, report, &n, &err) < 0) {
		log_error("sweep: %s", recap_error_message(err));
		return 1;
	}
	printf("swept %d run(s)\n", n);
	return 0;
}

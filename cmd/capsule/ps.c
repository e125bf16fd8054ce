/* capsule ps: runs in progress, from runs/<id>/state. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "runtime/runtime.h"
#include "verbs.h"

struct ps {
	bool json;
	json_t *list;
};

static int row(const struct recap_run_info *i, void *data)
{
	struct ps *p = data;
	const char *status = i->executor_alive ? i->phase : "Orphaned";
	if (p->json) {
		json_array_append_new(
		    p->list, json_pack("{s:s, s:s, s:i, s:i, s:s, s:s, s:I}", "id", i->id, "phase", status,
				       "executorPid", (int)i->executor, "targetPid", (int)i->target, "image",
				       i->image, "command", i->command, "created", (json_int_t)i->created));
		return 0;
	}
	long age = i->created ? (long)(time(NULL) - i->created) : 0;
	printf("%-32s  %-10s  %8d  %8d  %6lds  %s\n", i->id, status, (int)i->executor, (int)i->target, age,
	       i->command);
	return 0;
}

int capsule_verb_ps(const struct capsule_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {{"root", required_argument, NULL, 'r'},
					     {"output", required_argument, NULL, 'o'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *root = g->root;
	struct ps p = {0};
	int c;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (c == 'r')
			root = optarg;
		else if (c == 'o' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "text") == 0))
			p.json = strcmp(optarg, "json") == 0;
		else {
			fprintf(c == 'h' ? stdout : stderr,
				"usage: capsule ps [--root DIR] [-o text|json]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	_cleanup_error_ struct recap_error *err = NULL;
	_cleanup_json_ json_t *list = p.list = json_array();
	if (!p.json)
		printf("%-32s  %-10s  %8s  %8s  %7s  %s\n", "ID", "PHASE", "EXECUTOR", "TARGET", "AGE",
		       "COMMAND");
	if (recap_runtime_list(root, row, &p, &err) < 0) {
		fprintf(stderr, "capsule ps: %s\n", recap_error_message(err));
		return 1;
	}
	if (p.json) {
		char *s = json_dumps(list, JSON_COMPACT);
		printf("%s\n", s ? s : "[]");
		free(s);
	}
	return 0;
}

/* capsule run: a command attached to a container, its output streamed, its
 * status returned, then escape. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/names.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "base/log.h"
#include "runopts.h"
#include "runtime/runtime.h"
#include "verbs.h"

static void print_json(const struct recap_run_result *res)
{
	_cleanup_json_ json_t *j = recap_runtime_result_json(res);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (s)
		printf("%s\n", s);
	free(s);
	fflush(stdout);
}

int capsule_run_execute(struct run_cli *c, bool tty)
{
	_cleanup_error_ struct recap_error *err = NULL;
	uint64_t pull_ms = 0;
	if (c->spec.image && c->spec.layers.n == 0 && capsule_image_resolve(c, &pull_ms) < 0)
		return 125;
	struct recap_run_opts o = {
	    .root = c->root,
	    .cgroup_parent = c->cgroup_parent,
	    .stream_out = c->json ? -1 : STDOUT_FILENO,
	    .stream_err = c->json ? -1 : STDERR_FILENO,
	    .tty = tty,
	};
	struct recap_run_result res;
	int r = recap_runtime_run(&c->spec, &o, &res, &err);
	res.pull_ms = pull_ms;
	if (c->json)
		print_json(&res);
	else if (r < 0 || !res.escaped)
		log_error("run %s: %s: %s", res.id, res.reason,
			  err ? recap_error_message(err) : "escape failed");
	else if (res.exit_code < 0 || strcmp(res.reason, RECAP_REASON_COMMAND_NOT_FOUND) == 0 ||
		 strcmp(res.reason, RECAP_REASON_START_FAILED) == 0)
		log_error("run %s: %s: %s", res.id, res.reason, res.message ? res.message : "");
	else if (strcmp(res.reason, RECAP_REASON_COMPLETED) != 0 &&
		 strcmp(res.reason, RECAP_REASON_FAILED) != 0)
		log_warn("run %s: %s", res.id, res.reason);
	int status = recap_runtime_exit_status(&res);
	recap_runtime_result_free(&res);
	return status;
}

int capsule_verb_run(const struct capsule_globals *g, int argc, char **argv)
{
	struct run_cli c = {0};
	int r = run_cli_parse(&c, g, argc, argv, false);
	if (r == 0)
		r = capsule_run_execute(&c, c.spec.tty);
	run_cli_free(&c);
	return r < 0 ? 0 : r;
}

/* kubectl-capsule's verbs, one file each. Each parses its own flags (the
 * connection flags included) and returns the process exit status: 0 done,
 * 1 failed (an error, or a run that did not succeed), 2 bad usage. */
#pragma once

#include <jansson.h>

#include "args.h"
#include "base/error.h"

struct plugin_verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};
/* Every verb, as `kubectl capsule --help` lists them; ends with a NULL name. */
extern const struct plugin_verb plugin_verbs[];

int plugin_verb_run(int argc, char **argv);
int plugin_verb_ls(int argc, char **argv);
int plugin_verb_logs(int argc, char **argv);
int plugin_verb_cancel(int argc, char **argv);
int plugin_verb_attach(int argc, char **argv);
int plugin_verb_cp(int argc, char **argv);
int plugin_verb_describe(int argc, char **argv);
int plugin_verb_version(int argc, char **argv);
int plugin_verb_completion(int argc, char **argv);
/* kubectl_complete-capsule ARGS... PARTIAL, as kubectl's plugin completion
 * calls it: candidates, one a line, then ":DIRECTIVE" (cobra's). */
int plugin_verb_complete(int argc, char **argv);

/* "error: <message>" on stderr; returns `status`. Frees err. */
int plugin_fail(struct recap_error *err, int status);
/* The results of one run (its executions), printed as -o asks, and a
 * summary line on stderr. 0 when the run succeeded, 1 when it did not, -1
 * when the results could not be read (the error is printed). raw: the
 * capsule's output as it is (sanitize.h). */
struct session;
int plugin_show_results(struct session *s, json_t *run, enum plugin_output output, bool raw);
/* The CapsuleRun (under a fresh name) and, for an ad hoc run, its generated
 * Capsule owned by it (objects.h); the run is deleted again when the Capsule
 * cannot be created. *ret gets the run as created. Shared by run and attach. */
int plugin_create_objects(struct session *s, const struct run_args *a, json_t **ret,
			  struct recap_error **err);
/* After a run's output was streamed: each target's header line and the
 * summary line, on stderr; 0, 1 or -1 as plugin_show_results. */
int plugin_show_summary(struct session *s, json_t *run);
/* The executions of run (its recap.dev/run label): a finished run's from the
 * API server's cache when that has every end the run counts, else (and for
 * a run not finished) a consistent list. */
int plugin_list_executions(struct session *s, json_t *run, json_t **ret, struct recap_error **err);

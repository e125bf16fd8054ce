/* A run's results, shared by `run` (after waiting) and `logs`. */
#include <stdio.h>

#include "api/names.h"
#include "api/types.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "format.h"
#include "objects.h"
#include "sanitize.h"
#include "session.h"
#include "verbs.h"

/* The summary line on stderr: phase, counts, and why when it did not succeed. */
static void summary(json_t *run)
{
	char line[256];
	plugin_format_progress(run, line, sizeof(line));
	const char *why = plugin_run_message(run);
	plugin_printf_safe(stderr, "%s%s%s\n", line, why ? ": " : "", why ?: ""); /* a message: escaped */
}

/* The executions of run. First from the API server's cache as it is: the
 * controller wrote a finished run's status only once its watch, fed by that
 * cache, had seen each execution end, so the cache has them, and a
 * consistent list would only wait (bench/README.md, "What a user waits
 * for"). Another API server's cache may lag behind that one: when the
 * answer lacks an end the run counts, or the run is not finished, the list
 * is asked again, consistently. */
int plugin_list_executions(struct session *s, json_t *run, json_t **ret, struct recap_error **err)
{
	char selector[320];
	snprintf(selector, sizeof(selector), RECAP_LABEL_RUN "=%s", recap_api_meta_name(run));
	if (plugin_run_finished(run)) {
		json_t *execs = NULL;
		struct recap_error *e = NULL;
		if (session_list_cached(s, &plugin_res_executions, s->ns, selector, &execs, &e) >= 0 &&
		    plugin_executions_cover(run, execs)) {
			*ret = execs;
			return 0;
		}
		json_decref(execs);
		recap_error_free(e);
	}
	return session_list(s, &plugin_res_executions, s->ns, selector, NULL, ret, err);
}

int plugin_show_summary(struct session *s, json_t *run)
{
	const char *name = recap_api_meta_name(run);
	_cleanup_json_ json_t *execs = NULL, *doc = NULL;
	struct recap_error *err = NULL;
	int r = plugin_list_executions(s, run, &execs, &err);
	if (r < 0) {
		recap_error_wrap(&err, r, "listing the executions of run %s", name);
		return plugin_fail(err, -1);
	}
	if (!(doc = plugin_results_doc(run, execs)))
		return plugin_fail(NULL, -1);
	size_t i;
	json_t *res;
	json_array_foreach (json_object_get(doc, "results"), i, res)
		plugin_print_result_header(stderr, res);
	summary(run);
	return recap_api_run_status_phase(run) == RECAP_API_RUN_PHASE_SUCCEEDED ? 0 : 1;
}

int plugin_show_results(struct session *s, json_t *run, enum plugin_output output, bool raw)
{
	const char *name = recap_api_meta_name(run);
	_cleanup_json_ json_t *execs = NULL, *doc = NULL;
	struct recap_error *err = NULL;
	int r = plugin_list_executions(s, run, &execs, &err);
	if (r < 0) {
		recap_error_wrap(&err, r, "listing the executions of run %s", name);
		return plugin_fail(err, -1);
	}
	doc = plugin_results_doc(run, execs);
	if (!doc)
		return plugin_fail(NULL, -1);
	if (output == PLUGIN_OUT_TEXT)
		plugin_print_results(stdout, doc, raw);
	else
		plugin_print_doc(stdout, doc, output, raw);
	fflush(stdout);
	summary(run);
	return recap_api_run_status_phase(run) == RECAP_API_RUN_PHASE_SUCCEEDED ? 0 : 1;
}

/* What kubectl-capsule prints: see format.h. */
#include "format.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/names.h"
#include "api/types.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "sanitize.h"
#include "yamlout.h"

bool plugin_run_finished(json_t *run)
{
	return recap_run_phase_final(recap_json_str(run, RECAP_API_RUN_STATUS_PHASE));
}

void plugin_format_counts(json_t *run, char *out, size_t size)
{
	if (!recap_json_path(run, RECAP_API_RUN_STATUS_TARGETS)) {
		snprintf(out, size, "waiting for the controller");
		return;
	}
	int n = snprintf(
	    out, size, "%lld targets: %lld pending, %lld running, %lld succeeded, %lld failed",
	    (long long)recap_api_run_status_targets(run), (long long)recap_api_run_status_pending(run),
	    (long long)recap_api_run_status_running(run), (long long)recap_api_run_status_succeeded(run),
	    (long long)recap_api_run_status_failed(run));
	long long cancelled = recap_api_run_status_cancelled(run);
	if (cancelled && n >= 0 && (size_t)n < size)
		snprintf(out + n, size - n, ", %lld cancelled", cancelled);
}

void plugin_format_progress(json_t *run, char *out, size_t size)
{
	char counts[192];
	plugin_format_counts(run, counts, sizeof(counts));
	const char *phase = recap_json_str(run, RECAP_API_RUN_STATUS_PHASE);
	snprintf(out, size, "run %s: %s, %s", recap_api_meta_name(run) ?: "?", phase ?: RECAP_PHASE_PENDING,
		 counts);
}

static const char *condition_message(json_t *run, const char *type, bool only_false)
{
	size_t i;
	json_t *c;
	json_array_foreach (recap_api_run_status_conditions(run), i, c) {
		const char *t = recap_api_condition_type(c);
		if (t && strcmp(t, type) == 0 &&
		    (!only_false || recap_api_condition_status(c) == RECAP_API_CONDITION_STATUS_FALSE))
			return recap_api_condition_message(c);
	}
	return NULL;
}

const char *plugin_run_message(json_t *run)
{
	if (recap_api_run_status_phase(run) == RECAP_API_RUN_PHASE_SUCCEEDED)
		return NULL;
	const char *m = condition_message(run, RECAP_CONDITION_ADMITTED, true);
	if (!m || !*m)
		m = condition_message(run, RECAP_CONDITION_COMPLETE, false);
	return m && *m ? m : NULL;
}

static void copy_field(json_t *to, const char *key, json_t *from, const char *path)
{
	json_t *v = recap_json_path(from, path);
	if (v && !json_is_null(v))
		json_object_set(to, key, v);
}

static json_t *result_of(json_t *e)
{
	json_t *r = json_pack("{s:s?,s:s?,s:s?,s:s?,s:s}", "execution", recap_api_meta_name(e), "pod",
			      recap_api_exec_spec_target_pod(e), "container",
			      recap_api_exec_spec_target_container(e), "node", recap_api_exec_spec_node(e),
			      "phase", recap_json_str(e, RECAP_API_EXEC_STATUS_PHASE) ?: RECAP_PHASE_PENDING);
	if (!r)
		return NULL;
	copy_field(r, "exitCode", e, RECAP_API_EXEC_STATUS_EXIT_CODE);
	copy_field(r, "signal", e, RECAP_API_EXEC_STATUS_SIGNAL);
	copy_field(r, "reason", e, RECAP_API_EXEC_STATUS_REASON);
	copy_field(r, "message", e, RECAP_API_EXEC_STATUS_MESSAGE);
	json_object_set_new(r, "stdout", json_string(recap_api_exec_status_stdout_tail(e) ?: ""));
	json_object_set_new(r, "stderr", json_string(recap_api_exec_status_stderr_tail(e) ?: ""));
	json_object_set_new(r, "stdoutBytes", json_integer(recap_api_exec_status_stdout_bytes(e)));
	json_object_set_new(r, "stderrBytes", json_integer(recap_api_exec_status_stderr_bytes(e)));
	return r;
}

static int by_target(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(recap_json_str(x, "pod") ?: "", recap_json_str(y, "pod") ?: "");
	return c ? c : strcmp(recap_json_str(x, "container") ?: "", recap_json_str(y, "container") ?: "");
}

static json_t *sorted_results(json_t *executions)
{
	json_t *items = json_is_array(executions) ? executions : json_object_get(executions, "items");
	size_t n = json_array_size(items), i;
	json_t **v = calloc(n ? n : 1, sizeof(*v));
	json_t *out = json_array();
	if (!v || !out) {
		free(v);
		json_decref(out);
		return NULL;
	}
	for (i = 0; i < n; i++)
		v[i] = result_of(json_array_get(items, i));
	qsort(v, n, sizeof(*v), by_target);
	for (i = 0; i < n; i++)
		json_array_append_new(out, v[i]);
	free(v);
	return out;
}

bool plugin_executions_cover(json_t *run, json_t *executions)
{
	json_t *items = json_object_get(executions, "items"), *e;
	long long succeeded = 0, failed = 0, deleted = 0;
	size_t i;
	if (!json_is_array(items))
		return false;
	json_array_foreach (items, i, e) {
		enum recap_api_exec_phase p = recap_api_exec_status_phase(e);
		if (p == RECAP_API_EXEC_PHASE_SUCCEEDED)
			succeeded++;
		else if (p == RECAP_API_EXEC_PHASE_FAILED)
			failed++;
		else
			return false;
	}
	/* a failure for an execution deleted before it ended has none to list */
	json_array_foreach (recap_api_run_status_failures(run), i, e)
		deleted += strcmp(recap_json_str(e, "reason") ?: "", RECAP_REASON_EXECUTION_DELETED) == 0;
	return succeeded >= recap_api_run_status_succeeded(run) &&
	       failed >= recap_api_run_status_failed(run) - deleted;
}

json_t *plugin_results_doc(json_t *run, json_t *executions)
{
	json_t *doc =
	    json_pack("{s:s?,s:s?,s:s?,s:s,s:I,s:I,s:I,s:I}", "run", recap_api_meta_name(run), "namespace",
		      recap_api_meta_namespace(run), "capsule", recap_api_run_spec_capsule_ref_name(run),
		      "phase", recap_json_str(run, RECAP_API_RUN_STATUS_PHASE) ?: RECAP_PHASE_PENDING,
		      "targets", (json_int_t)recap_api_run_status_targets(run), "succeeded",
		      (json_int_t)recap_api_run_status_succeeded(run), "failed",
		      (json_int_t)recap_api_run_status_failed(run), "cancelled",
		      (json_int_t)recap_api_run_status_cancelled(run));
	if (!doc)
		return NULL;
	const char *m = plugin_run_message(run);
	if (m)
		json_object_set_new(doc, "message", json_string(m));
	json_t *results = sorted_results(executions);
	if (!results) {
		json_decref(doc);
		return NULL;
	}
	json_object_set_new(doc, "results", results);
	return doc;
}

/* stdout follows its header directly; stderr gets a "--- stderr" line, and
 * either says so when the tail is shorter than what was written. The tail is
 * the capsule's: escaped unless raw (sanitize.h). */
static void print_tail(FILE *f, const char *stream, json_t *r, bool always_mark, bool raw)
{
	char key[16];
	snprintf(key, sizeof(key), "%sBytes", stream);
	const char *s = recap_json_str(r, stream);
	size_t len = s ? strlen(s) : 0;
	long long total = recap_json_int(r, key, 0);
	if (!len)
		return;
	bool cut = (long long)len < total;
	if (always_mark || cut)
		fprintf(f, "--- %s", stream);
	if (cut)
		fprintf(f, " (last %zu of %lld bytes)", len, total);
	if (always_mark || cut)
		fputc('\n', f);
	plugin_write_safe(f, s, len, raw);
	if (s[len - 1] != '\n')
		fputc('\n', f);
}

/* Names, reason and message come from objects a tenant can write: escaped. */
void plugin_print_result_header(FILE *f, json_t *r)
{
	plugin_printf_safe(f, "=== pod %s, container %s (node %s): %s", recap_json_str(r, "pod") ?: "?",
			   recap_json_str(r, "container") ?: "?", recap_json_str(r, "node") ?: "?",
			   recap_json_str(r, "phase") ?: RECAP_PHASE_PENDING);
	json_t *v;
	if ((v = json_object_get(r, "exitCode")))
		fprintf(f, ", exit %lld", (long long)json_integer_value(v));
	if ((v = json_object_get(r, "signal")))
		fprintf(f, ", signal %lld", (long long)json_integer_value(v));
	const char *phase = recap_json_str(r, "phase");
	if ((v = json_object_get(r, "reason")) && !(phase && strcmp(phase, RECAP_PHASE_SUCCEEDED) == 0))
		plugin_printf_safe(f, ", %s", json_string_value(v)); /* "Completed" says nothing more */
	if ((v = json_object_get(r, "message")) && *json_string_value(v))
		plugin_printf_safe(f, ": %s", json_string_value(v));
	fputc('\n', f);
}

void plugin_print_results(FILE *f, json_t *doc, bool raw)
{
	size_t i;
	json_t *r;
	json_array_foreach (json_object_get(doc, "results"), i, r) {
		plugin_print_result_header(f, r);
		print_tail(f, "stdout", r, false, raw);
		print_tail(f, "stderr", r, true, raw);
	}
}

void plugin_format_age(time_t then, time_t now, char *out, size_t size)
{
	long long d = now > then ? (long long)(now - then) : 0;
	if (d < 120)
		snprintf(out, size, "%llds", d);
	else if (d < 2 * 3600)
		snprintf(out, size, "%lldm", d / 60);
	else if (d < 2 * 86400)
		snprintf(out, size, "%lldh", d / 3600);
	else
		snprintf(out, size, "%lldd", d / 86400);
}

#define RUN_COLUMNS PLUGIN_RUN_COLUMNS

static const char *const run_head[RUN_COLUMNS] = {"NAMESPACE", "NAME",	    "CAPSULE", "TRIGGER", "STRATEGY",
						  "TARGETS",   "SUCCEEDED", "FAILED",  "PHASE",	  "AGE"};

static void run_row(json_t *run, time_t now, char cells[RUN_COLUMNS][64])
{
	json_t *capsule = recap_api_run_status_capsule_spec(run);
	time_t t;
	/* Strings as the object spells them: a run not yet admitted has no
	 * strategy, and a value this version does not know still shows. */
	snprintf(cells[0], 64, "%s", recap_api_meta_namespace(run) ?: "");
	snprintf(cells[1], 64, "%s", recap_api_meta_name(run) ?: "?");
	snprintf(cells[2], 64, "%s", recap_api_run_spec_capsule_ref_name(run) ?: "?");
	snprintf(cells[3], 64, "%s",
		 recap_json_str(run, RECAP_API_RUN_SPEC_TRIGGER)
		     ?: recap_api_trigger_names[RECAP_API_TRIGGER_MANUAL]);
	snprintf(cells[4], 64, "%s", recap_json_str(capsule, RECAP_API_CAPSULE_SPEC_STRATEGY_TYPE) ?: "");
	snprintf(cells[5], 64, "%lld", (long long)recap_api_run_status_targets(run));
	snprintf(cells[6], 64, "%lld", (long long)recap_api_run_status_succeeded(run));
	snprintf(cells[7], 64, "%lld", (long long)recap_api_run_status_failed(run));
	snprintf(cells[8], 64, "%s", recap_json_str(run, RECAP_API_RUN_STATUS_PHASE) ?: RECAP_PHASE_PENDING);
	snprintf(cells[9], 64, "<unknown>");
	if (recap_time_parse(recap_api_meta_creation_timestamp(run) ?: "", &t) >= 0)
		plugin_format_age(t, now, cells[9], 64);
}

static void print_row(FILE *f, char cells[RUN_COLUMNS][64], const int *width, int first)
{
	for (int c = first; c + 1 < RUN_COLUMNS; c++)
		plugin_printf_safe(f, "%-*s   ", width[c], cells[c]);
	plugin_printf_safe(f, "%s\n", cells[RUN_COLUMNS - 1]);
}

static void widen(int *width, char cells[RUN_COLUMNS][64])
{
	for (int c = 0; c < RUN_COLUMNS; c++)
		if ((int)strlen(cells[c]) > width[c])
			width[c] = (int)strlen(cells[c]);
}

/* Columns as wide as their widest cell, three spaces apart (kubectl's look). */
void plugin_print_runs(FILE *f, json_t *list, time_t now, bool namespaces, int *widths)
{
	json_t *items = json_object_get(list, "items");
	size_t n = json_array_size(items);
	char(*rows)[RUN_COLUMNS][64] = calloc(n + 1, sizeof(*rows));
	int width[RUN_COLUMNS] = {0};
	if (!rows)
		return;
	for (int c = 0; c < RUN_COLUMNS; c++)
		snprintf(rows[0][c], 64, "%s", run_head[c]);
	for (size_t i = 0; i < n; i++)
		run_row(json_array_get(items, i), now, rows[i + 1]);
	for (size_t i = 0; i <= n; i++)
		widen(width, rows[i]);
	for (size_t i = 0; i <= n; i++)
		print_row(f, rows[i], width, namespaces ? 0 : 1);
	if (widths)
		memcpy(widths, width, sizeof(width));
	free(rows);
}

void plugin_print_run_row(FILE *f, json_t *run, time_t now, bool namespaces, int *widths, bool header)
{
	char cells[RUN_COLUMNS][64], head[RUN_COLUMNS][64];
	run_row(run, now, cells);
	for (int c = 0; c < RUN_COLUMNS; c++)
		snprintf(head[c], 64, "%s", run_head[c]);
	if (header)
		widen(widths, head);
	widen(widths, cells);
	if (header)
		print_row(f, head, widths, namespaces ? 0 : 1);
	print_row(f, cells, widths, namespaces ? 0 : 1);
}

/* libyaml itself escapes what YAML calls non-printable (C0, DEL, C1) in a
 * double-quoted scalar; bidi controls are left to plugin_write_doc_safe. */
int plugin_print_doc(FILE *f, json_t *doc, enum plugin_output output, bool raw)
{
	char *s = NULL;
	size_t n = 0;
	int r = 0;
	if (output == PLUGIN_OUT_YAML) {
		FILE *m = open_memstream(&s, &n);
		if (!m)
			return -ENOMEM;
		r = plugin_yaml_write(m, doc);
		if (fclose(m) != 0 && r >= 0)
			r = -ENOMEM;
	} else if ((s = json_dumps(doc, JSON_INDENT(2)))) {
		n = strlen(s);
	} else {
		r = -ENOMEM;
	}
	if (r >= 0) {
		plugin_write_doc_safe(f, s, n, raw);
		if (output != PLUGIN_OUT_YAML)
			fputc('\n', f);
	}
	free(s);
	return r;
}

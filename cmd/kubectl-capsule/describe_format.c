/* kubectl capsule describe's text: see describe.h. */
#include "describe.h"

#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "format.h"
#include "sanitize.h"

#define COLS 7
#define CELL 256

/* A table of at most PLUGIN_DESCRIBE_MAX_ROWS rows under a header, columns
 * as wide as their widest cell, as kubectl describe lays them out. */
struct table {
	int ncols;
	size_t n;
	char (*rows)[COLS][CELL];
};

static void table_init(struct table *t, int ncols, const char *const *head)
{
	t->ncols = ncols;
	t->n = 0;
	t->rows = calloc(PLUGIN_DESCRIBE_MAX_ROWS + 1, sizeof(*t->rows));
	for (int c = 0; t->rows && c < ncols; c++)
		snprintf(t->rows[0][c], CELL, "%s", head[c]);
}

static char (*table_row(struct table *t))[CELL]
{
	if (!t->rows || t->n >= PLUGIN_DESCRIBE_MAX_ROWS)
		return NULL;
	return t->rows[++t->n];
}

static void table_print(FILE *f, struct table *t)
{
	int width[COLS] = {0};
	for (size_t i = 0; t->rows && i <= t->n; i++)
		for (int c = 0; c < t->ncols; c++)
			if ((int)strlen(t->rows[i][c]) > width[c])
				width[c] = (int)strlen(t->rows[i][c]);
	for (size_t i = 0; t->rows && i <= t->n; i++) {
		fputs("  ", f);
		for (int c = 0; c + 1 < t->ncols; c++)
			plugin_printf_safe(f, "%-*s  ", width[c], t->rows[i][c]);
		plugin_printf_safe(f, "%s\n", t->rows[i][t->ncols - 1]);
	}
	free(t->rows);
	t->rows = NULL;
}

static void field(FILE *f, const char *label, const char *value)
{
	char l[32];
	snprintf(l, sizeof(l), "%s:", label);
	plugin_printf_safe(f, "%-14s%s\n", l, value && *value ? value : "<none>");
}

/* "2026-12-07T08:51:49Z (5m ago)" */
static void time_field(FILE *f, const char *label, const char *stamp, time_t now)
{
	time_t t;
	char age[32], v[96];
	if (!stamp || recap_time_parse(stamp, &t) < 0) {
		if (stamp)
			field(f, label, stamp);
		return;
	}
	plugin_format_age(t, now, age, sizeof(age));
	snprintf(v, sizeof(v), "%s (%s ago)", stamp, age);
	field(f, label, v);
}

/* A JSON value as one line: strings as they are, the rest compact JSON. */
static char *value_text(json_t *v)
{
	if (!v || json_is_null(v))
		return NULL;
	if (json_is_string(v))
		return strdup(json_string_value(v));
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* An argv as a shell would read it back: words with a space or a quote
 * in single quotes. */
static char *argv_text(json_t *argv)
{
	size_t i;
	json_t *w;
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	if (!m)
		return NULL;
	json_array_foreach (argv, i, w) {
		const char *s = json_string_value(w) ?: "";
		if (i)
			fputc(' ', m);
		if (*s && strcspn(s, " \t\n'\"\\$`*?;&|<>()") == strlen(s)) {
			fputs(s, m);
			continue;
		}
		fputc('\'', m);
		for (; *s; s++)
			fputs(*s == '\'' ? "'\\''" : (char[]){*s, 0}, m);
		fputc('\'', m);
	}
	fclose(m);
	return out;
}

static char *list_text(json_t *arr)
{
	size_t i;
	json_t *w;
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	if (!m)
		return NULL;
	json_array_foreach (arr, i, w)
		fprintf(m, "%s%s", i ? ", " : "", json_string_value(w) ?: "?");
	fclose(m);
	return out;
}

static void labels(FILE *f, json_t *run)
{
	json_t *l = recap_json_path(run, "metadata.labels");
	const char *k;
	json_t *v;
	bool first = true;
	if (json_object_size(l) == 0)
		field(f, "Labels", NULL);
	json_object_foreach (l, k, v) {
		plugin_printf_safe(f, "%-14s%s=%s\n", first ? "Labels:" : "", k, json_string_value(v) ?: "");
		first = false;
	}
}

static void counts(FILE *f, json_t *run)
{
	char v[192];
	plugin_format_counts(run, v, sizeof(v));
	field(f, "Targets", v);
}

static void run_fields(FILE *f, json_t *run, time_t now)
{
	field(f, "Name", recap_json_str(run, "metadata.name"));
	field(f, "Namespace", recap_json_str(run, "metadata.namespace"));
	labels(f, run);
	field(f, "Capsule", recap_json_str(run, "spec.capsuleRef.name"));
	_cleanup_free_ char *trigger = value_text(recap_json_path(run, "spec.trigger"));
	field(f, "Trigger", trigger ?: "Manual");
	if (recap_json_path(run, "spec.scheduledTime"))
		time_field(f, "Scheduled", recap_json_str(run, "spec.scheduledTime"), now);
	if (recap_json_path(run, "spec.targets")) {
		_cleanup_free_ char *pods = list_text(recap_json_path(run, "spec.targets"));
		field(f, "Target Pods", pods);
	}
	if (json_is_true(recap_json_path(run, "spec.cancel")))
		field(f, "Cancel", "requested");
	field(f, "Phase", recap_json_str(run, "status.phase") ?: "Pending");
	counts(f, run);
	time_field(f, "Created", recap_json_str(run, "metadata.creationTimestamp"), now);
	time_field(f, "Started", recap_json_str(run, "status.startTime"), now);
	time_field(f, "Completed", recap_json_str(run, "status.completionTime"), now);
	const char *message = plugin_run_message(run);
	if (message)
		field(f, "Message", message);
}

/* The digest the nodes pulled, when the spec names a tag. */
static const char *pulled_digest(json_t *executions)
{
	json_t *items = json_is_array(executions) ? executions : json_object_get(executions, "items"), *e;
	size_t i;
	json_array_foreach (items, i, e) {
		const char *d = recap_json_str(e, "status.imageDigest");
		if (d && *d)
			return d;
	}
	return NULL;
}

static void capsule_spec(FILE *f, json_t *run, json_t *executions)
{
	json_t *spec = recap_json_path(run, "status.capsuleSpec");
	if (!spec) {
		field(f, "Capsule Spec", "<not yet admitted>");
		return;
	}
	fputs("Capsule Spec:\n", f);
	const char *image = recap_json_str(spec, "image"), *digest = pulled_digest(executions);
	plugin_printf_safe(f, "  %-12s%s\n", "Image:", image ?: "<none>");
	if (digest && !(image && strstr(image, digest)))
		plugin_printf_safe(f, "  %-12s%s\n", "Digest:", digest);
	_cleanup_free_ char *cmd = argv_text(recap_json_path(spec, "command"));
	_cleanup_free_ char *join = list_text(recap_json_path(spec, "join"));
	_cleanup_free_ char *add = list_text(recap_json_path(spec, "security.capabilities.add"));
	plugin_printf_safe(f, "  %-12s%s\n", "Command:", cmd && *cmd ? cmd : "<the image's>");
	if (join && *join)
		plugin_printf_safe(f, "  %-12s%s\n", "Join:", join);
	if (recap_json_str(spec, "targetFilesystem"))
		plugin_printf_safe(f, "  %-12s%s\n", "Target FS:", recap_json_str(spec, "targetFilesystem"));
	if (add && *add)
		plugin_printf_safe(f, "  %-12s%s\n", "Cap Add:", add);
	if (recap_json_str(spec, "strategy.type"))
		plugin_printf_safe(f, "  %-12s%s\n", "Strategy:", recap_json_str(spec, "strategy.type"));
	if (recap_json_path(spec, "timeoutSeconds"))
		plugin_printf_safe(f, "  %-12s%llds\n", "Timeout:",
				   (long long)json_integer_value(recap_json_path(spec, "timeoutSeconds")));
	if (json_is_true(recap_json_path(spec, "interactive")))
		plugin_printf_safe(f, "  %-12s%s\n", "Interactive:", "true");
}

static void conditions(FILE *f, json_t *run)
{
	json_t *list = recap_json_path(run, "status.conditions"), *c;
	if (json_array_size(list) == 0)
		return;
	static const char *const head[] = {"Type", "Status", "Reason", "Message"};
	struct table t;
	table_init(&t, 4, head);
	size_t i;
	json_array_foreach (list, i, c) {
		char(*row)[CELL] = table_row(&t);
		if (!row)
			break;
		snprintf(row[0], CELL, "%s", recap_json_str(c, "type") ?: "");
		snprintf(row[1], CELL, "%s", recap_json_str(c, "status") ?: "");
		snprintf(row[2], CELL, "%s", recap_json_str(c, "reason") ?: "");
		snprintf(row[3], CELL, "%s", recap_json_str(c, "message") ?: "");
	}
	fputs("Conditions:\n", f);
	table_print(f, &t);
}

/* "3", "signal 9", or "" */
static void exit_text(json_t *o, char *out)
{
	json_t *code = json_object_get(o, "exitCode");
	if (!code)
		code = recap_json_path(o, "status.exitCode");
	json_t *sig = recap_json_path(o, "status.signal");
	if (json_is_integer(code))
		snprintf(out, CELL, "%lld", (long long)json_integer_value(code));
	else if (json_is_integer(sig))
		snprintf(out, CELL, "signal %lld", (long long)json_integer_value(sig));
	else
		out[0] = '\0';
}

static void failures(FILE *f, json_t *run)
{
	json_t *list = recap_json_path(run, "status.failures"), *x;
	if (json_array_size(list) == 0)
		return;
	static const char *const head[] = {"Pod", "Container", "Node", "Reason", "Exit", "Message"};
	struct table t;
	table_init(&t, 6, head);
	size_t i;
	json_array_foreach (list, i, x) {
		char(*row)[CELL] = table_row(&t);
		if (!row)
			break;
		snprintf(row[0], CELL, "%s", recap_json_str(x, "pod") ?: "");
		snprintf(row[1], CELL, "%s", recap_json_str(x, "container") ?: "");
		snprintf(row[2], CELL, "%s", recap_json_str(x, "node") ?: "");
		snprintf(row[3], CELL, "%s", recap_json_str(x, "reason") ?: "");
		exit_text(x, row[4]);
		snprintf(row[5], CELL, "%s", recap_json_str(x, "message") ?: "");
	}
	fputs("Failures:\n", f);
	table_print(f, &t);
}

static int by_target(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c =
	    strcmp(recap_json_str(x, "spec.target.pod") ?: "", recap_json_str(y, "spec.target.pod") ?: "");
	return c ? c
		 : strcmp(recap_json_str(x, "spec.target.container") ?: "",
			  recap_json_str(y, "spec.target.container") ?: "");
}

static void executions_table(FILE *f, json_t *executions)
{
	json_t *items = json_is_array(executions) ? executions : json_object_get(executions, "items");
	size_t n = json_array_size(items);
	if (n == 0) {
		field(f, "Executions", NULL);
		return;
	}
	json_t **v = calloc(n, sizeof(*v));
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(items, i);
	qsort(v, n, sizeof(*v), by_target);
	static const char *const head[] = {"Pod", "Container", "Node", "Phase", "Exit", "Reason"};
	struct table t;
	table_init(&t, 6, head);
	for (size_t i = 0; i < n; i++) {
		char(*row)[CELL] = table_row(&t);
		if (!row)
			break;
		snprintf(row[0], CELL, "%s", recap_json_str(v[i], "spec.target.pod") ?: "");
		snprintf(row[1], CELL, "%s", recap_json_str(v[i], "spec.target.container") ?: "");
		snprintf(row[2], CELL, "%s", recap_json_str(v[i], "spec.node") ?: "");
		snprintf(row[3], CELL, "%s", recap_json_str(v[i], "status.phase") ?: "Pending");
		exit_text(v[i], row[4]);
		snprintf(row[5], CELL, "%s", recap_json_str(v[i], "status.reason") ?: "");
	}
	free(v);
	fputs("Executions:\n", f);
	table_print(f, &t);
	if (n > PLUGIN_DESCRIBE_MAX_ROWS)
		fprintf(f, "  ... and %zu more\n", n - PLUGIN_DESCRIBE_MAX_ROWS);
}

/* When an event last happened, whichever API wrote it. */
static time_t event_last(json_t *e)
{
	static const char *const paths[] = {"series.lastObservedTime", "lastTimestamp", "eventTime",
					    "firstTimestamp", "metadata.creationTimestamp"};
	time_t t;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (recap_time_parse(recap_json_str(e, paths[i]) ?: "", &t) >= 0)
			return t;
	return 0;
}

static int by_time(const void *a, const void *b)
{
	time_t x = event_last(*(json_t *const *)a), y = event_last(*(json_t *const *)b);
	return x < y ? -1 : x > y;
}

static void event_row(json_t *e, time_t now, char (*row)[CELL])
{
	long long count = json_integer_value(recap_json_path(e, "series.count"));
	if (!count)
		count = json_integer_value(json_object_get(e, "count"));
	time_t first = 0, last = event_last(e);
	char age[32], over[32];
	plugin_format_age(last, now, age, sizeof(age));
	if (count > 1 && recap_time_parse(recap_json_str(e, "firstTimestamp") ?: "", &first) >= 0) {
		plugin_format_age(first, now, over, sizeof(over));
		snprintf(row[2], CELL, "%s (x%lld over %s)", age, count, over);
	} else if (count > 1) {
		snprintf(row[2], CELL, "%s (x%lld)", age, count);
	} else {
		snprintf(row[2], CELL, "%s", age);
	}
	snprintf(row[0], CELL, "%s", recap_json_str(e, "type") ?: "");
	snprintf(row[1], CELL, "%s", recap_json_str(e, "reason") ?: "");
	snprintf(row[3], CELL, "%s",
		 recap_json_str(e, "source.component") ?: recap_json_str(e, "reportingComponent") ?: "");
	snprintf(row[4], CELL, "%s", recap_json_str(e, "message") ?: "");
}

/* The most recent PLUGIN_DESCRIBE_MAX_ROWS events, oldest first. */
static void events_table(FILE *f, json_t *events, time_t now)
{
	json_t *items = json_object_get(events, "items");
	size_t n = json_array_size(items);
	if (n == 0) {
		field(f, "Events", NULL);
		return;
	}
	json_t **v = calloc(n, sizeof(*v));
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(items, i);
	qsort(v, n, sizeof(*v), by_time);
	size_t from = n > PLUGIN_DESCRIBE_MAX_ROWS ? n - PLUGIN_DESCRIBE_MAX_ROWS : 0;
	static const char *const head[] = {"Type", "Reason", "Age", "From", "Message"};
	struct table t;
	table_init(&t, 5, head);
	for (size_t i = from; i < n; i++) {
		char(*row)[CELL] = table_row(&t);
		if (row)
			event_row(v[i], now, row);
	}
	free(v);
	fputs("Events:\n", f);
	if (from)
		fprintf(f, "  (the last %d of %zu)\n", PLUGIN_DESCRIBE_MAX_ROWS, n);
	table_print(f, &t);
}

void plugin_print_describe(FILE *f, json_t *run, json_t *executions, json_t *events, time_t now)
{
	run_fields(f, run, now);
	capsule_spec(f, run, executions);
	conditions(f, run);
	failures(f, run);
	executions_table(f, executions);
	events_table(f, events, now);
}

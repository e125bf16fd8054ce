/* kubectl-capsule's pure parts besides flags: the objects it creates, what
 * it prints (text, JSON, YAML). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "format.h"
#include "kube/yamlconv.h"
#include "objects.h"
#include "sanitize.h"
#include "yamlout.h"

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	if (!j)
		fail_msg("bad test JSON: %s", e.text);
	return j;
}

static void assert_json(json_t *got, const char *want)
{
	json_t *w = J(want);
	if (!json_equal(got, w)) {
		char *g = json_dumps(got, JSON_SORT_KEYS);
		fail_msg("got %s", g);
	}
	json_decref(w);
}

/* Runs fn(f, arg) on a memory stream and returns what it wrote. */
static char *capture(void (*fn)(FILE *, void *), void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	fn(f, arg);
	fclose(f);
	return buf;
}

static void run_names(void **state)
{
	char *n = plugin_run_name("127.0.0.1:5000/capsules/BusyBox_1:v1@sha256:ab", "x7k2p");
	assert_string_equal(n, "busybox-1-x7k2p");
	free(n);
	n = plugin_run_name("whoami", "bcdfg");
	assert_string_equal(n, "whoami-bcdfg");
	free(n);
	n = plugin_run_name("reg/___:tag", "bcdfg");
	assert_string_equal(n, "capsule-bcdfg");
	free(n);
	char long_name[200];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	n = plugin_run_name(long_name, "bcdfg");
	assert_int_equal(strlen(n), PLUGIN_NAME_MAX);
	free(n);
	char s[PLUGIN_SUFFIX_LEN + 1];
	plugin_random_suffix(s);
	assert_int_equal(strlen(s), PLUGIN_SUFFIX_LEN);
	assert_int_equal(strspn(s, "bcdfghjklmnpqrstvwxz2456789"), PLUGIN_SUFFIX_LEN);
}

static void selectors(void **state)
{
	json_t *j = NULL;
	struct recap_error *err = NULL;
	assert_int_equal(plugin_selector_json("app=web,tier!=db,env in (a,b),x,!y,app=other", &j, &err), 0);
	assert_json(j,
		    "{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":["
		    "{\"key\":\"tier\",\"operator\":\"NotIn\",\"values\":[\"db\"]},"
		    "{\"key\":\"env\",\"operator\":\"In\",\"values\":[\"a\",\"b\"]},"
		    "{\"key\":\"x\",\"operator\":\"Exists\"},{\"key\":\"y\",\"operator\":\"DoesNotExist\"},"
		    "{\"key\":\"app\",\"operator\":\"In\",\"values\":[\"other\"]}]}");
	json_decref(j);
	assert_int_equal(plugin_selector_json("app=", &j, &err), 0);
	assert_json(j, "{\"matchLabels\":{\"app\":\"\"}}");
	json_decref(j);
	assert_true(plugin_selector_json("app in (", &j, &err) < 0);
	assert_non_null(strstr(recap_error_message(err), "-l 'app in ('"));
	recap_error_free(err);
}

static void adhoc_objects(void **state)
{
	char *cmd[] = {"sh", "-c", "ps"};
	json_t *caps = J("[\"NET_RAW\"]"), *drop = J("[\"ALL\"]"), *pods = J("[\"web-1\"]"),
	       *secrets = J("[{\"name\":\"regcred\"}]");
	struct run_args a = {.image = "img:1",
			     .pull_secrets = secrets,
			     .pods = pods,
			     .container = "app",
			     .target_fs = "None",
			     .caps = caps,
			     .caps_drop = drop,
			     .timeout_s = 5,
			     .command = cmd,
			     .ncommand = 3};
	json_t *c = NULL;
	struct recap_error *err = NULL;
	assert_int_equal(plugin_adhoc_capsule(&a, "img-1-abcde", "uid-1", &c, &err), 0);
	assert_json(
	    c,
	    "{\"apiVersion\":\"recap.dev/v1alpha1\",\"kind\":\"Capsule\",\"metadata\":{"
	    "\"name\":\"img-1-abcde\",\"labels\":{\"app.kubernetes.io/managed-by\":\"kubectl-capsule\","
	    "\"recap.dev/run\":\"img-1-abcde\"},\"ownerReferences\":[{\"apiVersion\":\"recap.dev/v1alpha1\","
	    "\"kind\":\"CapsuleRun\",\"name\":\"img-1-abcde\",\"uid\":\"uid-1\"}]},\"spec\":{"
	    "\"image\":\"img:1\",\"command\":[\"sh\",\"-c\",\"ps\"],"
	    "\"imagePullSecrets\":[{\"name\":\"regcred\"}],\"targetFilesystem\":\"None\","
	    "\"security\":{\"capabilities\":{\"add\":[\"NET_RAW\"],\"drop\":[\"ALL\"]}},\"timeoutSeconds\":5,"
	    "\"targets\":{\"container\":\"app\",\"selector\":{\"matchLabels\":{"
	    "\"recap.dev/adhoc-run\":\"img-1-abcde\"}}}}}");
	json_decref(c);
	json_t *run = plugin_run_object("img-1-abcde", "img-1-abcde", pods);
	assert_json(
	    run,
	    "{\"apiVersion\":\"recap.dev/v1alpha1\",\"kind\":\"CapsuleRun\",\"metadata\":{"
	    "\"name\":\"img-1-abcde\",\"labels\":{\"app.kubernetes.io/managed-by\":\"kubectl-capsule\","
	    "\"recap.dev/capsule\":\"img-1-abcde\"}},\"spec\":{\"capsuleRef\":{\"name\":\"img-1-abcde\"},"
	    "\"targets\":[\"web-1\"]}}");
	json_decref(run);
	json_decref(caps);
	json_decref(drop);
	json_decref(pods);
	json_decref(secrets);
}

static const char RUN[] =
    "{\"metadata\":{\"name\":\"r1\",\"namespace\":\"shop\",\"creationTimestamp\":\"2026-01-01T00:00:00Z\"},"
    "\"spec\":{\"capsuleRef\":{\"name\":\"c1\"}},"
    "\"status\":{\"phase\":\"PartiallyFailed\",\"targets\":2,\"pending\":0,\"running\":0,\"succeeded\":1,"
    "\"failed\":1,\"conditions\":[{\"type\":\"Admitted\",\"status\":\"True\",\"message\":\"ok\"},"
    "{\"type\":\"Complete\",\"status\":\"True\",\"message\":\"1 of 2 targets failed\"}]}}";
static const char EXECS[] =
    "{\"items\":[{\"metadata\":{\"name\":\"e2\"},\"spec\":{\"node\":\"n2\",\"target\":{\"pod\":\"web-2\","
    "\"container\":\"app\"}},\"status\":{\"phase\":\"Failed\",\"exitCode\":3,\"reason\":\"Error\","
    "\"stdoutTail\":\"\",\"stderrTail\":\"tail of err\",\"stderrBytes\":5000}},"
    "{\"metadata\":{\"name\":\"e1\"},\"spec\":{\"node\":\"n1\",\"target\":{\"pod\":\"web-1\","
    "\"container\":\"app\"}},\"status\":{\"phase\":\"Succeeded\",\"exitCode\":0,"
    "\"stdoutTail\":\"hello\\n\",\"stdoutBytes\":6}}]}";

static void print_doc(FILE *f, void *doc)
{
	plugin_print_results(f, doc, false);
}

static void results(void **state)
{
	json_t *run = J(RUN), *execs = J(EXECS);
	assert_true(plugin_run_finished(run));
	char line[256];
	plugin_format_progress(run, line, sizeof(line));
	assert_string_equal(
	    line, "run r1: PartiallyFailed, 2 targets: 0 pending, 0 running, 1 succeeded, 1 failed");
	assert_string_equal(plugin_run_message(run), "1 of 2 targets failed");
	json_t *doc = plugin_results_doc(run, execs);
	assert_string_equal(json_string_value(json_object_get(doc, "message")), "1 of 2 targets failed");
	json_t *first = json_array_get(json_object_get(doc, "results"), 0);
	assert_string_equal(json_string_value(json_object_get(first, "pod")), "web-1"); /* sorted */
	char *text = capture(print_doc, doc);
	assert_string_equal(text, "=== pod web-1, container app (node n1): Succeeded, exit 0\n"
				  "hello\n"
				  "=== pod web-2, container app (node n2): Failed, exit 3, Error\n"
				  "--- stderr (last 11 of 5000 bytes)\n"
				  "tail of err\n");
	free(text);
	json_decref(doc);
	json_decref(run);
	json_decref(execs);
}

/* A list from the API server's cache stands for a finished run's only when
 * it has every end the run counts. */
static void cached_list_covers_the_run(void **state)
{
	json_t *run = J(RUN), *execs = J(EXECS);
	assert_true(plugin_executions_cover(run, execs));
	/* one execution still Running in the cache */
	json_t *lagging = J(EXECS);
	json_t *second = json_array_get(json_object_get(lagging, "items"), 1);
	json_object_set_new(json_object_get(second, "status"), "phase", json_string("Running"));
	assert_false(plugin_executions_cover(run, lagging));
	/* the succeeded one not in the cache yet */
	json_t *short_list = J(EXECS);
	json_t *items = json_object_get(short_list, "items");
	for (size_t i = json_array_size(items); i-- > 0;)
		if (strcmp(json_string_value(
			       json_object_get(json_object_get(json_array_get(items, i), "status"), "phase")),
			   "Succeeded") == 0)
			json_array_remove(items, i);
	assert_false(plugin_executions_cover(run, short_list));
	/* a failure whose execution was deleted has none to list */
	json_t *deleted_run = J(RUN);
	json_object_set_new(json_object_get(deleted_run, "status"), "failures",
			    json_pack("[{s:s}]", "reason", "ExecutionDeleted"));
	json_t *only_succeeded = J(EXECS);
	json_array_remove(json_object_get(only_succeeded, "items"), 0); /* e2, the Failed one */
	assert_true(plugin_executions_cover(deleted_run, only_succeeded));
	assert_false(plugin_executions_cover(run, only_succeeded));
	json_decref(deleted_run);
	json_decref(only_succeeded);
	json_t *empty = J("{}");
	assert_false(plugin_executions_cover(run, empty));
	json_decref(empty);
	json_decref(run);
	json_decref(execs);
	json_decref(lagging);
	json_decref(short_list);
}

static void progress_before_the_controller(void **state)
{
	json_t *run = J("{\"metadata\":{\"name\":\"r\"}}");
	char line[256];
	plugin_format_progress(run, line, sizeof(line));
	assert_string_equal(line, "run r: Pending, waiting for the controller");
	assert_false(plugin_run_finished(run));
	json_decref(run);
}

static void print_runs(FILE *f, void *list)
{
	plugin_print_runs(f, list, 1767225600 + 150, false, NULL); /* 2026-01-01 00:02:30 */
}

static void print_runs_all(FILE *f, void *list)
{
	plugin_print_runs(f, list, 1767225600 + 150, true, NULL);
}

/* ls -w: the table's widths, then a later row lined up under them, and a
 * row without a table before it (no run at first) gets the header. */
static void print_watch_rows(FILE *f, void *list)
{
	int widths[PLUGIN_RUN_COLUMNS];
	plugin_print_runs(f, list, 1767225600 + 150, false, widths);
	json_t *later = json_deep_copy(json_array_get(json_object_get(list, "items"), 0));
	json_object_set_new(json_object_get(later, "metadata"), "name", json_string("r2"));
	plugin_print_run_row(f, later, 1767225600 + 150, false, widths, false);
	int fresh[PLUGIN_RUN_COLUMNS] = {0};
	plugin_print_run_row(f, later, 1767225600 + 150, true, fresh, true);
	json_decref(later);
}

static void runs_table_and_ages(void **state)
{
	char age[16];
	plugin_format_age(100, 100 + 119, age, sizeof(age));
	assert_string_equal(age, "119s");
	plugin_format_age(100, 100 + 3 * 3600, age, sizeof(age));
	assert_string_equal(age, "3h");
	plugin_format_age(100, 100 + 3 * 86400, age, sizeof(age));
	assert_string_equal(age, "3d");
	json_t *list = json_pack("{s:[o]}", "items", J(RUN));
	char *text = capture(print_runs, list);
	assert_string_equal(
	    text,
	    "NAME   CAPSULE   TRIGGER   STRATEGY   TARGETS   SUCCEEDED   FAILED   PHASE             AGE\n"
	    "r1     c1        Manual               2         1           1        PartiallyFailed   2m\n");
	free(text);
	text = capture(print_runs_all, list);
	assert_string_equal(
	    text, "NAMESPACE   NAME   CAPSULE   TRIGGER   STRATEGY   TARGETS   SUCCEEDED   FAILED   PHASE"
		  "             AGE\n"
		  "shop        r1     c1        Manual               2         1           1        "
		  "PartiallyFailed   2m\n");
	free(text);
	text = capture(print_watch_rows, list);
	assert_string_equal(
	    text,
	    "NAME   CAPSULE   TRIGGER   STRATEGY   TARGETS   SUCCEEDED   FAILED   PHASE             AGE\n"
	    "r1     c1        Manual               2         1           1        PartiallyFailed   2m\n"
	    "r2     c1        Manual               2         1           1        PartiallyFailed   2m\n"
	    "NAMESPACE   NAME   CAPSULE   TRIGGER   STRATEGY   TARGETS   SUCCEEDED   FAILED   PHASE"
	    "             AGE\n"
	    "shop        r2     c1        Manual               2         1           1        "
	    "PartiallyFailed   2m\n");
	free(text);
	json_decref(list);
}

static void write_yaml(FILE *f, void *doc)
{
	assert_int_equal(plugin_yaml_write(f, doc), 0);
}

static void yaml_round_trip(void **state)
{
	json_t *doc =
	    J("{\"s\":\"plain\",\"t\":\"true\",\"n\":\"42\",\"e\":\"\",\"nul\":\"null\",\"f\":\"1.5\","
	      "\"ml\":\"line 1\\nline 2\\n\",\"colon\":\"a: b\",\"dash\":\"- x\",\"i\":7,\"b\":false,"
	      "\"z\":null,\"empty\":{},\"list\":[],\"nested\":[{\"k\":[1,\"2\"]}],\"u\":\"\\u00e9\"}");
	char *text = capture(write_yaml, doc);
	json_t *back = NULL;
	struct recap_error *err = NULL;
	if (recap_kube_yaml_parse(text, strlen(text), &back, &err) < 0)
		fail_msg("%s\n%s", recap_error_message(err), text);
	/* The parser reads plain integers, true/false and null as JSON values:
	 * equality means every string that looks like one was quoted. */
	json_t *f = json_object_get(back, "f");
	assert_true(json_is_string(f));
	json_object_del(doc, "f");
	json_object_del(back, "f");
	if (!json_equal(doc, back))
		fail_msg("YAML did not read back:\n%s", text);
	assert_non_null(strstr(text, "ml: |"));
	free(text);
	json_decref(back);
	json_decref(doc);
}

/* What a capsule prints, escaped: every control a terminal acts on is
 * visible text; UTF-8 text, \t, \n and \r\n are kept. */
static const char HOSTILE[] = "gr\xc3\xbc\xc3\x9f"
			      "e\t\x1b]52;c;eA==\x07\x1b[2J\xc2\x9b"
			      "1;1H\x7f"
			      "\xe2\x80\xae"
			      "a\rb\r\n\x9b\xc3\xff\xed\xa0\x80\n";

static void write_hostile(FILE *f, void *raw)
{
	plugin_write_safe(f, HOSTILE, sizeof(HOSTILE) - 1, raw != NULL);
}

static void write_hostile_doc(FILE *f, void *output)
{
	json_t *doc = json_pack("{s:s}", "out",
				"gr\xc3\xbc\xc3\x9f"
				"e \x1b[2J \xc2\x9b \x7f \xe2\x80\xae"
				"x");
	assert_int_equal(plugin_print_doc(f, doc, (enum plugin_output)(intptr_t)output, false), 0);
	json_decref(doc);
}

static void sanitize(void **state)
{
	char *text = capture(write_hostile, NULL);
	assert_string_equal(text, "gr\xc3\xbc\xc3\x9f"
				  "e\t^[]52;c;eA==^G^[[2J\\u009b1;1H^?\\u202ea^Mb\r\n"
				  "\\x9b\\xc3\\xff\\xed\\xa0\\x80\n");
	free(text);
	text = capture(write_hostile, "raw");
	assert_memory_equal(text, HOSTILE, sizeof(HOSTILE));
	free(text);
	for (intptr_t o = PLUGIN_OUT_JSON; o <= PLUGIN_OUT_YAML; o++) {
		text = capture(write_hostile_doc, (void *)o);
		for (const char *p = text; *p; p++)
			if ((unsigned char)*p < 0x20 && *p != '\n' && *p != ' ')
				fail_msg("control 0x%02x in\n%s", *p, text);
		if (strstr(text, "\x7f") || strstr(text, "\xc2\x9b") || strstr(text, "\xe2\x80\xae"))
			fail_msg("DEL, C1 or bidi left in\n%s", text);
		json_t *back = NULL;
		struct recap_error *err = NULL;
		if (recap_kube_yaml_parse(text, strlen(text), &back, &err) < 0) /* JSON is YAML */
			fail_msg("%s\n%s", recap_error_message(err), text);
		assert_string_equal(json_string_value(json_object_get(back, "out")),
				    "gr\xc3\xbc\xc3\x9f"
				    "e \x1b[2J \xc2\x9b \x7f \xe2\x80\xae"
				    "x");
		json_decref(back);
		free(text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(run_names),
	    cmocka_unit_test(selectors),
	    cmocka_unit_test(adhoc_objects),
	    cmocka_unit_test(results),
	    cmocka_unit_test(progress_before_the_controller),
	    cmocka_unit_test(runs_table_and_ages),
	    cmocka_unit_test(cached_list_covers_the_run),
	    cmocka_unit_test(yaml_round_trip),
	    cmocka_unit_test(sanitize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

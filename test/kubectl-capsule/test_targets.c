/* A workload's pods, as kubectl resolves deploy/NAME: its spec.selector as
 * a list query, the pods that can be targets, and the one attach picks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/json.h"
#include "targets.h"

static json_t *load(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	if (!j)
		fail_msg("bad JSON in the test: %s", e.text);
	return j;
}

static void selector_of_workload(void **state)
{
	_cleanup_json_ json_t *d =
	    load("{\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"web\",\"tier\":\"fe\"},"
		 "\"matchExpressions\":[{\"key\":\"track\",\"operator\":\"NotIn\","
		 "\"values\":[\"canary\"]},{\"key\":\"gone\",\"operator\":\"DoesNotExist\"}]}}}");
	char *s = NULL;
	struct recap_error *err = NULL;
	assert_int_equal(plugin_workload_selector(d, "deployment/web", &s, &err), 0);
	assert_string_equal(s, "app=web,tier=fe,track notin (canary),!gone");
	free(s);

	static const struct {
		const char *json, *message;
	} bad[] = {
	    {"{\"spec\":{}}", "deployment/web has no spec.selector"},
	    {"{\"spec\":{\"selector\":{}}}",
	     "the spec.selector of deployment/web selects every pod: refused"},
	    {"{\"spec\":{\"selector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Near\"}]}}}",
	     "the spec.selector of deployment/web"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		_cleanup_json_ json_t *w = load(bad[i].json);
		s = NULL;
		assert_true(plugin_workload_selector(w, "deployment/web", &s, &err) < 0);
		assert_null(s);
		if (!strstr(recap_error_message(err), bad[i].message))
			fail_msg("case %zu: '%s' lacks '%s'", i, recap_error_message(err), bad[i].message);
		recap_error_free(err);
		err = NULL;
	}
}

static void live_pods_sorted(void **state)
{
	_cleanup_json_ json_t *list =
	    load("{\"items\":[{\"metadata\":{\"name\":\"w-c\"},\"status\":{\"phase\":\"Running\"}},"
		 "{\"metadata\":{\"name\":\"w-done\"},\"status\":{\"phase\":\"Succeeded\"}},"
		 "{\"metadata\":{\"name\":\"w-a\"},\"status\":{\"phase\":\"Pending\"}},"
		 "{\"metadata\":{\"name\":\"w-bad\"},\"status\":{\"phase\":\"Failed\"}},"
		 "{\"metadata\":{\"name\":\"w-old\",\"deletionTimestamp\":\"2025-01-01T00:00:00Z\"},"
		 "\"status\":{\"phase\":\"Running\"}},"
		 "{\"metadata\":{\"name\":\"w-b\"}}]}");
	_cleanup_json_ json_t *pods = plugin_live_pods(list);
	assert_int_equal(json_array_size(pods), 3);
	assert_string_equal(recap_json_str(json_array_get(pods, 0), "metadata.name"), "w-a");
	assert_string_equal(recap_json_str(json_array_get(pods, 1), "metadata.name"), "w-b");
	assert_string_equal(recap_json_str(json_array_get(pods, 2), "metadata.name"), "w-c");
	_cleanup_json_ json_t *empty = load("{\"items\":[]}");
	_cleanup_json_ json_t *none = plugin_live_pods(empty);
	assert_int_equal(json_array_size(none), 0);
	assert_null(plugin_pick_pod(none));
}

#define POD(name, node, phase, ready, since, restarts, created)                                              \
	"{\"metadata\":{\"name\":\"" name "\",\"creationTimestamp\":\"" created "\"},"                       \
	"\"spec\":{" node "},\"status\":{\"phase\":\"" phase "\",\"conditions\":[{\"type\":\"Ready\","       \
	"\"status\":\"" ready "\",\"lastTransitionTime\":\"" since "\"}],"                                   \
	"\"containerStatuses\":[{\"restartCount\":" restarts "}]}}"
#define T0 "2025-01-01T00:00:00Z"
#define T1 "2025-01-02T00:00:00Z"

/* Each pair: the first is kubectl's pick over the second by one rule. */
static void pick_as_kubectl(void **state)
{
	static const char *const pairs[][2] = {
	    /* scheduled before unscheduled */
	    {POD("b", "\"nodeName\":\"n\"", "Pending", "False", T0, "0", T1),
	     POD("a", "", "Pending", "False", T0, "0", T0)},
	    /* running before pending */
	    {POD("b", "\"nodeName\":\"n\"", "Running", "False", T0, "0", T1),
	     POD("a", "\"nodeName\":\"n\"", "Pending", "False", T0, "0", T0)},
	    /* ready before not ready */
	    {POD("b", "\"nodeName\":\"n\"", "Running", "True", T1, "5", T1),
	     POD("a", "\"nodeName\":\"n\"", "Running", "False", T0, "0", T0)},
	    /* ready the longest */
	    {POD("b", "\"nodeName\":\"n\"", "Running", "True", T0, "5", T1),
	     POD("a", "\"nodeName\":\"n\"", "Running", "True", T1, "0", T0)},
	    /* fewer restarts */
	    {POD("b", "\"nodeName\":\"n\"", "Running", "True", T0, "0", T1),
	     POD("a", "\"nodeName\":\"n\"", "Running", "True", T0, "2", T0)},
	    /* the oldest */
	    {POD("b", "\"nodeName\":\"n\"", "Running", "True", T0, "0", T0),
	     POD("a", "\"nodeName\":\"n\"", "Running", "True", T0, "0", T1)},
	    /* then by name */
	    {POD("a", "\"nodeName\":\"n\"", "Running", "True", T0, "0", T0),
	     POD("b", "\"nodeName\":\"n\"", "Running", "True", T0, "0", T0)},
	};
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		for (int order = 0; order < 2; order++) {
			_cleanup_json_ json_t *pods = json_array();
			json_array_append_new(pods, load(pairs[i][order]));
			json_array_append_new(pods, load(pairs[i][1 - order]));
			json_t *best = plugin_pick_pod(pods);
			_cleanup_json_ json_t *want = load(pairs[i][0]);
			if (!json_equal(best, want))
				fail_msg("case %zu (order %d): picked %s", i, order,
					 recap_json_str(best, "metadata.name"));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(selector_of_workload),
	    cmocka_unit_test(live_pods_sorted),
	    cmocka_unit_test(pick_as_kubectl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

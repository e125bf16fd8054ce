/* Events with aggregation and a per-object limit, against a real
 * kube-apiserver (started by with-cluster.sh). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/json.h"
#include "helpers.h"
#include "kubecache/events.h"

static const struct recap_kube_resource EVENTS = {"events.k8s.io", "v1", "events", true};

static struct tclient T;

static void create_namespace(const char *name)
{
	json_t *ns = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata",
			       "name", name);
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_create(T.c, &T_NAMESPACES, NULL, ns, recap_kube_sync_cb, &s, NULL), 0);
	json_decref(ns);
	assert_int_equal(twait(&T, &s, NULL, NULL), RECAP_KUBE_OK);
}

static json_t *list_events(const char *ns)
{
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_list(T.c, &EVENTS, ns, NULL, recap_kube_sync_cb, &s, NULL), 0);
	json_t *list = NULL;
	assert_int_equal(twait(&T, &s, &list, NULL), RECAP_KUBE_OK);
	return list;
}

static struct recap_kube_events *recorder(unsigned burst)
{
	struct recap_kube_events_options o = {
	    .controller = "recap.dev/controller",
	    .instance = "test-instance",
	    .flush_ms = 200,
	    .object_burst = burst,
	};
	struct recap_kube_events *ev = NULL;
	struct recap_error *err = NULL;
	if (recap_kube_events_new(T.c, &o, &ev, &err) < 0)
		fail_msg("events: %s", recap_error_message(err));
	return ev;
}

static void flushed(struct recap_kube_events *ev, void *userdata)
{
	*(bool *)userdata = true;
}

static void flush(struct recap_kube_events *ev)
{
	bool done = false;
	recap_kube_events_flush(ev, flushed, &done);
	assert_true(trun_until(&T, &done, 10000));
}

static const struct recap_kube_event_ref CM = {"v1", "ConfigMap", "ev", "target", NULL};

static void identical_events_become_one_series(void **state)
{
	struct recap_kube_events *ev = recorder(0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(recap_kube_events_emit(ev, &CM, "Normal", "Attached", "Attach", NULL,
							"capsule %s attached", "tools"),
				 i == 0 ? 0 : 1);
	flush(ev);
	json_t *list = list_events("ev");
	json_t *items = json_object_get(list, "items");
	assert_int_equal(json_array_size(items), 1);
	json_t *e = json_array_get(items, 0);
	assert_int_equal(recap_json_int(e, "series.count", 0), 100);
	assert_non_null(recap_json_str(e, "series.lastObservedTime"));
	assert_string_equal(recap_json_str(e, "reason"), "Attached");
	assert_string_equal(recap_json_str(e, "note"), "capsule tools attached");
	assert_string_equal(recap_json_str(e, "regarding.name"), "target");
	assert_string_equal(recap_json_str(e, "reportingController"), "recap.dev/controller");
	json_decref(list);

	/* more of the same later: still one Event, the count goes on */
	for (int i = 0; i < 50; i++)
		recap_kube_events_emit(ev, &CM, "Normal", "Attached", "Attach", NULL, "capsule %s attached",
				       "tools");
	/* a different note is a different Event */
	assert_int_equal(
	    recap_kube_events_emit(ev, &CM, "Warning", "AttachFailed", "Attach", NULL, "no target"), 0);
	flush(ev);
	list = list_events("ev");
	items = json_object_get(list, "items");
	assert_int_equal(json_array_size(items), 2);
	size_t i;
	json_array_foreach (items, i, e) {
		if (strcmp(recap_json_str(e, "reason"), "Attached") == 0)
			assert_int_equal(recap_json_int(e, "series.count", 0), 150);
		else
			assert_null(json_object_get(e, "series"));
	}
	json_decref(list);
	struct recap_kube_events_stats st;
	recap_kube_events_stats(ev, &st);
	assert_int_equal(st.created, 2);
	assert_int_equal(st.aggregated, 149);
	assert_int_equal(st.failed, 0);
	recap_kube_events_free(ev);
}

static void a_hot_object_is_limited(void **state)
{
	struct recap_kube_events *ev = recorder(5);
	const struct recap_kube_event_ref hot = {"v1", "ConfigMap", "ev-limit", "hot", "uid-hot"};
	const struct recap_kube_event_ref calm = {"v1", "ConfigMap", "ev-limit", "calm", "uid-calm"};
	int accepted = 0, dropped = 0;
	for (int i = 0; i < 12; i++) {
		int r =
		    recap_kube_events_emit(ev, &hot, "Warning", "Failed", "Reconcile", NULL, "attempt %d", i);
		if (r == 0)
			accepted++;
		else if (r == -EAGAIN)
			dropped++;
	}
	assert_int_equal(accepted, 5);
	assert_int_equal(dropped, 7);
	assert_int_equal(recap_kube_events_emit(ev, &calm, "Normal", "Synced", "Reconcile", NULL, "ok"), 0);
	flush(ev);
	json_t *list = list_events("ev-limit");
	size_t i, nhot = 0, ncalm = 0;
	json_t *e;
	json_array_foreach (json_object_get(list, "items"), i, e) {
		if (strcmp(recap_json_str(e, "regarding.name"), "hot") == 0)
			nhot++;
		else
			ncalm++;
	}
	json_decref(list);
	assert_int_equal(nhot, 5);
	assert_int_equal(ncalm, 1);
	struct recap_kube_events_stats st;
	recap_kube_events_stats(ev, &st);
	assert_int_equal(st.dropped, 7);
	recap_kube_events_free(ev);
}

static void bad_input_is_refused(void **state)
{
	struct recap_kube_events *ev = recorder(0);
	struct recap_error *err = NULL;
	assert_int_equal(recap_kube_events_emit(ev, &CM, "Info", "X", "Y", &err, "n"), -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "type 'Info' is neither Normal nor Warning"));
	recap_error_free(err);
	err = NULL;
	char big[2000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(recap_kube_events_emit(ev, &CM, "Normal", "Big", "Y", &err, "%s", big), -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "note longer than 1024 bytes"));
	recap_error_free(err);
	err = NULL;
	assert_int_equal(recap_kube_events_emit(ev, &CM, "Normal", "", "Y", &err, "n"), -EINVAL);
	recap_error_free(err);
	recap_kube_events_free(ev);
	struct recap_kube_events_options o = {.controller = "c"};
	err = NULL;
	assert_int_equal(recap_kube_events_new(T.c, &o, &ev, &err), -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "reporting instance"));
	recap_error_free(err);
}

static int setup(void **state)
{
	tclient_open(&T, NULL, NULL);
	create_namespace("ev");
	create_namespace("ev-limit");
	return 0;
}

static int teardown(void **state)
{
	tclient_close(&T);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(identical_events_become_one_series),
	    cmocka_unit_test(a_hot_object_is_limited),
	    cmocka_unit_test(bad_input_is_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* The causes of Event-driven triggers: an alert trigger matches only the
 * Events recap-apiserver's alerts receiver recorded, a podEvent trigger
 * only the others. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "controller/causes.h"

static json_t *parse(const char *s)
{
	json_error_t e;
	json_t *v = json_loads(s, 0, &e);
	if (!v)
		fail_msg("bad test JSON: %s", e.text);
	return v;
}

static json_t *capsule(const char *triggers)
{
	char doc[1024];
	snprintf(doc, sizeof(doc),
		 "{\"metadata\":{\"name\":\"probe\",\"namespace\":\"ns\",\"uid\":\"cap-uid\","
		 "\"creationTimestamp\":\"2026-12-07T09:00:00Z\"},\"spec\":{\"triggers\":%s}}",
		 triggers);
	return parse(doc);
}

/* An Event about pod web-1 (uid u1); component: its reporting component in
 * the field named by field, or none. */
static json_t *event(const char *uid, const char *reason, const char *field, const char *component)
{
	json_t *ev = json_pack("{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}, s:s, s:s, s:s, s:s}", "metadata",
			       "name", uid, "namespace", "ns", "uid", uid, "involvedObject", "kind", "Pod",
			       "name", "web-1", "uid", "u1", "reason", reason, "type", "Warning", "message",
			       "p99 over 2 s", "lastTimestamp", "2026-12-07T09:01:00Z");
	if (field && strcmp(field, "source.component") == 0)
		json_object_set_new(ev, "source", json_pack("{s:s}", "component", component));
	else if (field)
		json_object_set_new(ev, field, json_string(component));
	return ev;
}

static void find(const char *triggers, json_t *events, struct recap_controller_causes *c)
{
	json_t *cap = capsule(triggers);
	json_t *pods = parse("[{\"metadata\":{\"name\":\"web-1\",\"uid\":\"u1\","
			     "\"creationTimestamp\":\"2026-12-07T08:00:00Z\"}}]");
	struct recap_target tg = {.pod = "web-1", .ns = "ns", .uid = "u1"};
	struct recap_controller_targets t = {.v = &tg, .n = 1, .cap = 1};
	assert_int_equal(recap_controller_causes_find(cap, &t, pods, events, 1796634100, c, NULL), 0);
	json_decref(cap);
	json_decref(pods);
}

static json_t *events(void)
{
	json_t *v = json_array();
	json_array_append_new(v, event("e-alert", "HighLatency", "reportingComponent", "recap.dev/alerts"));
	json_array_append_new(v, event("e-alert-old", "HighLatency", "source.component", "recap.dev/alerts"));
	json_array_append_new(v, event("e-kubelet", "HighLatency", "source.component", "kubelet"));
	json_array_append_new(v, event("e-other", "Unhealthy", NULL, NULL));
	return v;
}

static void test_alert_matches_the_receivers_events(void **state)
{
	(void)state;
	json_t *evs = events();
	struct recap_controller_causes c;
	find("[{\"alert\":{\"alertNames\":[\"HighLatency\",\"Unhealthy\"]}}]", evs, &c);
	assert_int_equal(c.n, 2);
	for (size_t i = 0; i < c.n; i++) {
		assert_int_equal(c.v[i].trigger, RECAP_API_TRIGGER_ALERT);
		assert_string_equal(c.v[i].reason, "HighLatency");
		assert_string_equal(c.v[i].message, "p99 over 2 s");
		assert_string_equal(c.v[i].pod, "web-1");
	}
	assert_string_equal(c.v[0].event, "e-alert");
	assert_string_equal(c.v[1].event, "e-alert-old");
	assert_string_not_equal(c.v[0].run_name, c.v[1].run_name);
	recap_controller_causes_clear(&c);
	/* a name not listed */
	find("[{\"alert\":{\"alertNames\":[\"DiskFull\"]}}]", evs, &c);
	assert_int_equal(c.n, 0);
	recap_controller_causes_clear(&c);
	json_decref(evs);
}

static void test_pod_event_ignores_alerts(void **state)
{
	(void)state;
	json_t *evs = events();
	struct recap_controller_causes c;
	find("[{\"podEvent\":{\"reasons\":[\"HighLatency\",\"Unhealthy\"]}}]", evs, &c);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.v[0].trigger, RECAP_API_TRIGGER_POD_EVENT);
	assert_string_equal(c.v[0].event, "e-kubelet");
	assert_string_equal(c.v[1].event, "e-other");
	recap_controller_causes_clear(&c);
	json_decref(evs);
}

static void test_alert_about_an_earlier_pod(void **state)
{
	(void)state;
	json_t *evs = json_array();
	json_t *ev = event("e-alert", "HighLatency", "reportingComponent", "recap.dev/alerts");
	json_object_set_new(json_object_get(ev, "involvedObject"), "uid", json_string("u0"));
	json_array_append_new(evs, ev);
	struct recap_controller_causes c;
	find("[{\"alert\":{\"alertNames\":[\"HighLatency\"]}}]", evs, &c);
	assert_int_equal(c.n, 0);
	recap_controller_causes_clear(&c);
	json_decref(evs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alert_matches_the_receivers_events),
	    cmocka_unit_test(test_pod_event_ignores_alerts),
	    cmocka_unit_test(test_alert_about_an_earlier_pod),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Alertmanager's webhook payload as the alerts receiver reads it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apiserver/alertpayload.h"

#define ALERT(status, labels, extra)                                                                         \
	"{\"status\":\"" status "\",\"labels\":{" labels "},\"annotations\":{" extra "},"                    \
	"\"startsAt\":\"2026-12-07T09:30:01.123456789Z\",\"endsAt\":\"0001-01-01T00:00:00Z\","               \
	"\"generatorURL\":\"http://prometheus/graph\",\"fingerprint\":\"c0ffee\"}"
#define PAYLOAD(alerts)                                                                                      \
	"{\"version\":\"4\",\"receiver\":\"recap\",\"status\":\"firing\",\"groupKey\":\"{}:{}\","            \
	"\"groupLabels\":{},\"commonLabels\":{},\"commonAnnotations\":{},\"externalURL\":\"http://am\","     \
	"\"truncatedAlerts\":0,\"alerts\":[" alerts "]}"

static int parse(const char *s, struct apiserver_alerts *a, char *msg, size_t msg_len)
{
	struct recap_error *err = NULL;
	int r = apiserver_alerts_parse(s, strlen(s), a, &err);
	snprintf(msg, msg_len, "%s", r < 0 ? recap_error_message(err) : "");
	recap_error_free(err);
	return r;
}

static void test_firing_alerts_about_pods(void **state)
{
	(void)state;
	const char *p = PAYLOAD(
	    ALERT("firing", "\"alertname\":\"CapsuleProbe\",\"namespace\":\"web\",\"pod\":\"web-1\"", "\"summary\":\"p99 over 2 s\",\"description\":\"long\"") "," ALERT(
		"firing",
		"\"alertname\":\"DiskFull\","
		"\"namespace\":\"web\","
		"\"pod\":\"web-2\"",
		"\"description\":\"disk at 99%\"") "," ALERT("resolved",
							     "\"alertname\":\"CapsuleProbe\",\"namespace\":"
							     "\"web\",\"pod\":\"web-1\"",
							     "") "," ALERT("firing",
									   "\"alertname\":\"NodeDown\","
									   "\"instance\":\"n1\"",
									   "") "," ALERT("firing",
											 "\"alertname\":"
											 "\"NoText\","
											 "\"namespace\":"
											 "\"web\",\"pod\":"
											 "\"web-1\"",
											 ""));
	struct apiserver_alerts a;
	char msg[256];
	assert_int_equal(parse(p, &a, msg, sizeof(msg)), 0);
	assert_int_equal(a.n, 5);
	assert_int_equal(a.v[0].verdict, APISERVER_ALERT_RECORD);
	assert_string_equal(a.v[0].ns, "web");
	assert_string_equal(a.v[0].pod, "web-1");
	assert_string_equal(a.v[0].name, "CapsuleProbe");
	assert_string_equal(a.v[0].message, "p99 over 2 s");
	assert_int_equal(a.v[0].starts_at, 1796635801);
	assert_int_equal(strlen(a.v[0].event), strlen("web-1.alert-") + 10);
	assert_memory_equal(a.v[0].event, "web-1.alert-", 12);
	assert_string_equal(a.v[1].message, "disk at 99%");
	assert_int_equal(a.v[2].verdict, APISERVER_ALERT_IGNORE); /* resolved */
	assert_int_equal(a.v[3].verdict, APISERVER_ALERT_IGNORE); /* no pod */
	assert_string_equal(a.v[4].message, "alert NoText is firing");
	/* the same fingerprint and start: the same Event */
	struct apiserver_alerts again;
	assert_int_equal(parse(p, &again, msg, sizeof(msg)), 0);
	assert_string_equal(again.v[0].event, a.v[0].event);
	apiserver_alerts_clear(&again);
	apiserver_alerts_clear(&a);
}

static void test_a_new_start_is_a_new_event(void **state)
{
	(void)state;
	const char *p =
	    PAYLOAD(ALERT("firing", "\"alertname\":\"A\",\"namespace\":\"web\",\"pod\":\"web-1\"", ""));
	char *q = strdup(p), msg[256];
	memcpy(strstr(q, "09:30:01"), "09:45:00", 8);
	struct apiserver_alerts a, b;
	assert_int_equal(parse(p, &a, msg, sizeof(msg)), 0);
	assert_int_equal(parse(q, &b, msg, sizeof(msg)), 0);
	assert_string_not_equal(a.v[0].event, b.v[0].event);
	apiserver_alerts_clear(&a);
	apiserver_alerts_clear(&b);
	free(q);
}

static void test_refused_alerts(void **state)
{
	(void)state;
	const char *p = PAYLOAD(
	    ALERT("firing", "\"alertname\":\"high latency\",\"namespace\":\"web\",\"pod\":\"web-1\"",
		  "") "," ALERT("firing", "\"alertname\":\"X\",\"namespace\":\"Web\",\"pod\":\"web-1\"",
				"") "," ALERT("firing", "\"namespace\":\"web\",\"pod\":\"web-1\"", ""));
	struct apiserver_alerts a;
	char msg[256];
	assert_int_equal(parse(p, &a, msg, sizeof(msg)), 0);
	assert_int_equal(a.n, 3);
	for (size_t i = 0; i < a.n; i++)
		assert_int_equal(a.v[i].verdict, APISERVER_ALERT_REFUSE);
	assert_non_null(strstr(a.v[0].why, "\"high latency\" cannot be an Event reason"));
	assert_non_null(strstr(a.v[1].why, "not a namespace and a pod name"));
	assert_non_null(strstr(a.v[2].why, "cannot be an Event reason"));
	assert_non_null(strstr(a.v[0].label, "alerts[0] high latency web/web-1"));
	apiserver_alerts_clear(&a);
}

static void test_long_message_and_pod(void **state)
{
	(void)state;
	char pod[254], summary[1400], body[4096];
	memset(pod, 'p', 253);
	pod[253] = '\0';
	/* "é" is two bytes: the cut falls inside one at 1024 */
	for (size_t i = 0; i < 1399; i += 2)
		memcpy(summary + i, "\xc3\xa9", 2);
	summary[1398] = '\0';
	snprintf(body, sizeof(body),
		 PAYLOAD(ALERT("firing", "\"alertname\":\"A\",\"namespace\":\"web\",\"pod\":\"%s\"",
			       "\"summary\":\"x%s\"")),
		 pod, summary);
	struct apiserver_alerts a;
	char msg[256];
	assert_int_equal(parse(body, &a, msg, sizeof(msg)), 0);
	assert_int_equal(a.v[0].verdict, APISERVER_ALERT_RECORD);
	assert_int_equal(strlen(a.v[0].message), 1023);
	assert_true(strlen(a.v[0].event) <= 253);
	assert_non_null(strstr(a.v[0].event, ".alert-"));
	apiserver_alerts_clear(&a);
}

static void test_bad_payloads(void **state)
{
	(void)state;
	struct apiserver_alerts a;
	char msg[256];
	assert_int_equal(parse("not json", &a, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "not JSON"));
	assert_int_equal(parse("{\"version\":\"3\",\"alerts\":[]}", &a, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "version \"4\" (version \"3\")"));
	assert_int_equal(parse("[]", &a, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(parse("{\"version\":\"4\"}", &a, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "no \"alerts\" array"));
	/* 1,001 alerts */
	size_t cap = 16 * 1024;
	char *many = malloc(cap);
	size_t n = (size_t)snprintf(many, cap, "{\"version\":\"4\",\"alerts\":[");
	for (int i = 0; i < 1001; i++)
		n += (size_t)snprintf(many + n, cap - n, "%s{}", i ? "," : "");
	snprintf(many + n, cap - n, "]}");
	assert_int_equal(parse(many, &a, msg, sizeof(msg)), -E2BIG);
	assert_non_null(strstr(msg, "1001 alerts: at most 1000"));
	free(many);
	/* over 1 MiB */
	size_t big = APISERVER_ALERTS_BODY_MAX + 1;
	char *huge = malloc(big + 1);
	memset(huge, ' ', big);
	huge[big] = '\0';
	struct recap_error *err = NULL;
	assert_int_equal(apiserver_alerts_parse(huge, big, &a, &err), -EFBIG);
	assert_non_null(strstr(recap_error_message(err), "at most 1048576"));
	recap_error_free(err);
	free(huge);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_firing_alerts_about_pods),
	    cmocka_unit_test(test_a_new_start_is_a_new_event),
	    cmocka_unit_test(test_refused_alerts),
	    cmocka_unit_test(test_long_message_and_pod),
	    cmocka_unit_test(test_bad_payloads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

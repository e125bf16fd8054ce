/* kubectl capsule describe's text: every section, tables aligned, a
 * capsule's or the status's control characters escaped, long lists cut. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/json.h"
#include "base/timeutil.h"
#include "describe.h"

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	if (!j)
		fail_msg("bad test JSON: %s (line %d)", e.text, e.line);
	return j;
}

static char *describe(json_t *run, json_t *execs, json_t *events, time_t now)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	plugin_print_describe(f, run, execs, events, now);
	fclose(f);
	return buf;
}

static void has(const char *text, const char *want)
{
	if (!text)
		fail_msg("no output, '%s' expected", want);
	else if (!strstr(text, want))
		fail_msg("'%s' not in:\n%s", want, text);
}

static const char RUN[] =
    "{\"metadata\":{\"name\":\"r1\",\"namespace\":\"shop\",\"creationTimestamp\":\"2026-12-07T08:00:00Z\","
    "\"labels\":{\"recap.dev/capsule\":\"tool\",\"team\":\"a\"}},"
    "\"spec\":{\"capsuleRef\":{\"name\":\"tool\"},\"trigger\":\"Periodic\",\"targets\":[\"web-1\",\"web-2\"]}"
    ","
    "\"status\":{\"phase\":\"PartiallyFailed\",\"targets\":2,\"pending\":0,\"running\":0,\"succeeded\":1,"
    "\"failed\":1,\"startTime\":\"2026-12-07T08:00:01Z\",\"completionTime\":\"2026-12-07T08:00:05Z\","
    "\"capsuleSpec\":{\"image\":\"reg.local/tool:1\",\"command\":[\"sh\",\"-c\",\"echo 'hi'; exit 3\"],"
    "\"join\":[\"net\",\"pid\"],\"targetFilesystem\":\"ReadOnly\",\"timeoutSeconds\":60,"
    "\"strategy\":{\"type\":\"Parallel\"}},"
    "\"conditions\":[{\"type\":\"Complete\",\"status\":\"True\",\"reason\":\"PartiallyFailed\","
    "\"message\":\"1 of 2 targets failed \\u001b]0;x\\u0007\"}],"
    "\"failures\":[{\"pod\":\"web-2\",\"container\":\"app\",\"node\":\"node-2\",\"reason\":\"Error\","
    "\"exitCode\":3,\"message\":\"exit 3\"}]}}";

static const char EXECS[] =
    "{\"items\":[{\"spec\":{\"node\":\"node-2\",\"target\":{\"pod\":\"web-2\",\"container\":\"app\"}},"
    "\"status\":{\"phase\":\"Failed\",\"exitCode\":3,\"reason\":\"Error\","
    "\"imageDigest\":\"sha256:abc\"}},"
    "{\"spec\":{\"node\":\"node-1\",\"target\":{\"pod\":\"web-1\",\"container\":\"app\"}},"
    "\"status\":{\"phase\":\"Succeeded\",\"exitCode\":0,\"imageDigest\":\"sha256:abc\"}}]}";

static const char EVENTS[] =
    "{\"items\":[{\"type\":\"Warning\",\"reason\":\"TargetFailed\",\"message\":\"web-2 exited 3\","
    "\"eventTime\":\"2026-12-07T08:00:05.000000Z\",\"reportingComponent\":\"recap-controller\"},"
    "{\"type\":\"Normal\",\"reason\":\"Started\",\"message\":\"2 targets\",\"count\":3,"
    "\"firstTimestamp\":\"2026-12-07T07:50:00Z\",\"lastTimestamp\":\"2026-12-07T08:00:01Z\","
    "\"source\":{\"component\":\"recap-controller\"}}]}";

static void every_section(void **state)
{
	time_t now;
	assert_int_equal(recap_time_parse("2026-12-07T08:10:00Z", &now), 0);
	json_t *run = J(RUN), *execs = J(EXECS), *events = J(EVENTS);
	char *out = describe(run, execs, events, now);
	has(out, "Name:         r1\nNamespace:    shop\n");
	has(out, "Labels:       recap.dev/capsule=tool\n              team=a\n");
	has(out, "Capsule:      tool\nTrigger:      Periodic\nTarget Pods:  web-1, web-2\n");
	has(out, "Phase:        PartiallyFailed\n");
	has(out, "Targets:      2 targets: 0 pending, 0 running, 1 succeeded, 1 failed\n");
	has(out, "Created:      2026-12-07T08:00:00Z (10m ago)\n");
	has(out, "Completed:    2026-12-07T08:00:05Z (9m ago)\n");
	/* the condition's message, escaped: no raw ESC or BEL */
	has(out, "Message:      1 of 2 targets failed ^[]0;x^G\n");
	assert_null(strchr(out, '\033'));
	has(out, "Capsule Spec:\n  Image:      reg.local/tool:1\n  Digest:     sha256:abc\n");
	has(out, "  Command:    sh -c 'echo '\\''hi'\\''; exit 3'\n");
	has(out, "  Join:       net, pid\n  Target FS:  ReadOnly\n");
	has(out, "  Strategy:   Parallel\n  Timeout:    60s\n");
	has(out, "Failures:\n  Pod    Container  Node    Reason  Exit  Message\n"
		 "  web-2  app        node-2  Error   3     exit 3\n");
	/* executions sorted by pod */
	has(out, "Executions:\n  Pod    Container  Node    Phase      Exit  Reason\n"
		 "  web-1  app        node-1  Succeeded  0     \n"
		 "  web-2  app        node-2  Failed     3     Error\n");
	/* events oldest first, with the series, from either API's fields */
	has(out, "Events:\n  Type     Reason        Age               From              Message\n"
		 "  Normal   Started       9m (x3 over 20m)  recap-controller  2 targets\n"
		 "  Warning  TargetFailed  9m                recap-controller  web-2 exited 3\n");
	free(out);
	json_decref(run);
	json_decref(execs);
	json_decref(events);
}

/* A run the controller has not admitted yet, nothing else known. */
static void fresh_run(void **state)
{
	json_t *run = J("{\"metadata\":{\"name\":\"r2\",\"namespace\":\"shop\"},"
			"\"spec\":{\"capsuleRef\":{\"name\":\"tool\"},\"trigger\":{\"kind\":\"Webhook\"}}}");
	char *out = describe(run, NULL, NULL, 0);
	has(out, "Labels:       <none>\n");
	/* a trigger that is not a string is shown as its JSON */
	has(out, "Trigger:      {\"kind\":\"Webhook\"}\n");
	has(out, "Phase:        Pending\nTargets:      waiting for the controller\n");
	has(out, "Capsule Spec: <not yet admitted>\n");
	has(out, "Executions:   <none>\nEvents:       <none>\n");
	assert_null(strstr(out, "Failures:"));
	free(out);
	json_decref(run);
}

static void long_lists_cut(void **state)
{
	json_t *run = J(RUN), *execs = json_pack("{s:[]}", "items"), *events = json_pack("{s:[]}", "items");
	for (int i = 0; i < PLUGIN_DESCRIBE_MAX_ROWS + 7; i++) {
		char pod[32], reason[32], stamp[32];
		snprintf(pod, sizeof(pod), "p%03d", i);
		snprintf(reason, sizeof(reason), "e%03d", i);
		snprintf(stamp, sizeof(stamp), "2026-12-07T08:%02d:00Z", i);
		json_array_append_new(json_object_get(execs, "items"),
				      json_pack("{s:{s:{s:s}}}", "spec", "target", "pod", pod));
		json_array_append_new(
		    json_object_get(events, "items"),
		    json_pack("{s:s,s:s,s:s}", "reason", reason, "message", reason, "lastTimestamp", stamp));
	}
	char *out = describe(run, execs, events, 0);
	has(out, "  p049  ");
	assert_null(strstr(out, "  p050  "));
	has(out, "  ... and 7 more\n");
	/* the most recent events */
	has(out, "  (the last 50 of 57)\n");
	assert_null(strstr(out, "  e006 "));
	has(out, "  e007 ");
	has(out, "  e056 ");
	free(out);
	json_decref(run);
	json_decref(execs);
	json_decref(events);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_section),
	    cmocka_unit_test(fresh_run),
	    cmocka_unit_test(long_lists_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

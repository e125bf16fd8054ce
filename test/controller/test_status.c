/* Status patches, Capsule status and run history. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/names.h"
#include "base/json.h"
#include "controller/capsulestatus.h"
#include "controller/runstatus.h"
#include "controller/status.h"

static json_t *parse(const char *s)
{
	json_error_t e;
	json_t *v = json_loads(s, 0, &e);
	if (!v)
		fail_msg("bad test JSON: %s", e.text);
	return v;
}

static void test_status_patch(void **state)
{
	json_t *old = parse("{\"a\":1,\"b\":[1,2],\"gone\":\"x\"}");
	json_t *same = parse("{\"a\":1,\"b\":[1,2],\"gone\":\"x\"}");
	json_t *next = parse("{\"a\":2,\"b\":[1,2]}");
	assert_null(recap_controller_status_patch(old, same));
	json_t *p = recap_controller_status_patch(old, next);
	json_t *want = parse("{\"status\":{\"a\":2,\"b\":[1,2],\"gone\":null}}");
	assert_true(json_equal(p, want));
	json_t *first = recap_controller_status_patch(NULL, next);
	assert_int_equal(recap_json_int(first, "status.a", 0), 2);
	/* a key gone from a nested object is removed too (a merge patch
	 * would keep it otherwise) */
	json_t *nested_old = parse("{\"s\":{\"keys\":[],\"message\":\"gone\"},\"n\":1}");
	json_t *nested_new = parse("{\"s\":{\"keys\":[\"k\"]},\"n\":1}");
	json_t *np = recap_controller_status_patch(nested_old, nested_new);
	json_t *nwant = parse("{\"status\":{\"s\":{\"keys\":[\"k\"],\"message\":null},\"n\":1}}");
	assert_true(json_equal(np, nwant));
	json_decref(nested_old);
	json_decref(nested_new);
	json_decref(np);
	json_decref(nwant);
	json_decref(old);
	json_decref(same);
	json_decref(next);
	json_decref(p);
	json_decref(want);
	json_decref(first);
}

static json_t *run(const char *name, const char *trigger, const char *phase, const char *scheduled)
{
	json_t *r =
	    json_pack("{s:{s:s, s:s}, s:{s:s}, s:{s:s}}", "metadata", "name", name, "creationTimestamp",
		      "2026-01-01T00:00:00Z", "spec", "trigger", trigger, "status", "phase", phase);
	if (scheduled)
		json_object_set_new(json_object_get(r, "spec"), "scheduledTime", json_string(scheduled));
	return r;
}

static void test_history_prune(void **state)
{
	json_t *runs = json_array();
	json_array_append_new(runs, run("c-1", "Periodic", "Succeeded", "2026-01-01T00:01:00Z"));
	json_array_append_new(runs, run("c-2", "Periodic", "Succeeded", "2026-01-01T00:02:00Z"));
	json_array_append_new(runs, run("c-3", "Periodic", "Failed", "2026-01-01T00:03:00Z"));
	json_array_append_new(runs, run("c-4", "Periodic", "Succeeded", "2026-01-01T00:04:00Z"));
	json_array_append_new(runs, run("c-5", "Periodic", "PartiallyFailed", "2026-01-01T00:05:00Z"));
	json_array_append_new(runs, run("c-6", "Periodic", "Running", "2026-01-01T00:06:00Z"));
	json_array_append_new(runs, run("manual", "Manual", "Succeeded", NULL));
	time_t recorded = 1767225960; /* 2026-01-01T00:06:00Z, c-6's */
	json_t *gone = recap_controller_history_prune(runs, 2, 1, recorded, recorded);
	json_t *want = parse("[\"c-1\",\"c-3\"]"); /* oldest first; running and manual runs stay */
	assert_true(json_equal(gone, want));
	json_decref(gone);
	json_decref(want);
	gone = recap_controller_history_prune(runs, 0, 0, recorded, recorded);
	assert_int_equal(json_array_size(gone), 5);
	json_decref(gone);
	/* The Capsule as read records only 00:03: the runs of 00:04 and 00:05
	 * stay whatever the limits, or a pass that still reads that record
	 * would take their times as never started and start them again. */
	gone = recap_controller_history_prune(runs, 0, 0, recorded - 180, recorded);
	want = parse("[\"c-1\",\"c-2\",\"c-3\"]");
	assert_true(json_equal(gone, want));
	json_decref(gone);
	json_decref(want);
	/* nothing recorded: no scheduled run goes */
	gone = recap_controller_history_prune(runs, 0, 0, 0, recorded);
	assert_int_equal(json_array_size(gone), 0);
	json_decref(gone);
	/* Triggered runs are counted on their own and stay while they hold
	 * their pod's cooldown (600 s by default after 00:00:00). */
	json_t *t1 = run("t-1", "PodCondition", "Succeeded", NULL);
	json_t *t2 = run("t-2", "PodCondition", "Failed", NULL);
	json_object_set_new(json_object_get(t1, "spec"), "cause", json_pack("{s:s}", "pod", "a"));
	json_object_set_new(json_object_get(t2, "spec"), "cause", json_pack("{s:s}", "pod", "b"));
	json_array_append_new(runs, t1);
	json_array_append_new(runs, t2);
	time_t created = 1767225600; /* 2026-01-01T00:00:00Z */
	gone = recap_controller_history_prune(runs, 2, 1, recorded, created + 599);
	want = parse("[\"c-1\",\"c-3\"]");
	assert_true(json_equal(gone, want));
	json_decref(gone);
	json_decref(want);
	gone = recap_controller_history_prune(runs, 2, 0, recorded, created + 600);
	want = parse("[\"c-1\",\"c-3\",\"c-5\",\"t-2\"]");
	assert_true(json_equal(gone, want));
	json_decref(gone);
	json_decref(want);
	assert_int_equal(recap_controller_triggered_keep_until(t1), created + 600);
	json_object_set_new(t1, "status",
			    json_pack("{s:s, s:{s:{s:i, s:i}}}", "phase", "Succeeded", "capsuleSpec",
				      "triggerLimits", "cooldownSeconds", 10, "maxCauseAgeSeconds", 900));
	assert_int_equal(recap_controller_triggered_keep_until(t1), created + 900);
	json_t *active = recap_controller_active_runs(runs);
	want = parse("[\"c-6\"]");
	assert_true(json_equal(active, want));
	json_decref(active);
	json_decref(want);
	json_decref(runs);
}

static void test_capsule_status(void **state)
{
	json_t *cap =
	    parse("{\"metadata\":{\"name\":\"c\",\"generation\":4},\"status\":{\"lastSuccessfulTime\":"
		  "\"2026-01-01T00:00:00Z\"}}");
	json_t *runs = json_array();
	json_t *r = run("c-9", "Periodic", "Succeeded", "2026-01-02T00:00:00Z");
	json_object_set_new(json_object_get(r, "status"), "completionTime",
			    json_string("2026-01-02T00:00:05Z"));
	json_array_append_new(runs, r);
	json_array_append_new(runs, run("c-10", "Periodic", "Running", NULL));
	struct recap_controller_capsule_view v = {
	    .capsule = cap,
	    .refused_reason = "PolicyViolation",
	    .refused_message = "CapsulePolicy \"p\": capability \"NET_RAW\" is not allowed",
	    .matched = 3,
	    .runs = runs,
	    .last_schedule = 60,
	    .next_schedule = INT64_MIN,
	    .now = 100,
	};
	json_t *s = recap_controller_capsule_status(&v);
	assert_int_equal(recap_json_int(s, "observedGeneration", 0), 4);
	assert_int_equal(recap_json_int(s, "matchedTargets", 0), 3);
	assert_string_equal(recap_json_str(s, "lastScheduleTime"), "1970-01-01T00:01:00Z");
	assert_null(json_object_get(s, "nextScheduleTime"));
	assert_string_equal(recap_json_str(s, "lastSuccessfulTime"), "2026-01-02T00:00:05Z");
	assert_string_equal(json_string_value(json_array_get(json_object_get(s, "active"), 0)), "c-10");
	json_t *ready = recap_api_condition_get(json_object_get(s, "conditions"), "Ready");
	assert_string_equal(recap_json_str(ready, "status"), "False");
	assert_string_equal(recap_json_str(ready, "reason"), "PolicyViolation");
	assert_non_null(strstr(recap_json_str(ready, "message"), "NET_RAW"));
	/* refused: Stalled for kstatus, with the same cause */
	json_t *stalled = recap_api_condition_get(json_object_get(s, "conditions"), "Stalled");
	assert_string_equal(recap_json_str(stalled, "status"), "True");
	assert_string_equal(recap_json_str(stalled, "reason"), "PolicyViolation");
	json_decref(s);
	json_decref(runs);
	json_decref(cap);
}

static void test_run_status(void **state)
{
	json_t *r = parse("{\"metadata\":{\"name\":\"r\",\"generation\":1},\"status\":{\"startTime\":"
			  "\"2026-01-01T00:00:00Z\"}}");
	json_t *spec = parse("{\"image\":\"x\"}");
	struct recap_run_status st = {.phase = RECAP_RUN_FAILED,
				      .complete = true,
				      .targets = 3,
				      .succeeded = 0,
				      .failed = 1,
				      .skipped = 2,
				      .halted = true,
				      .n_failures = 1};
	char longmsg[3000];
	memset(longmsg, 'm', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	st.failures[0] = (struct recap_run_failure){.execution = "r-abc",
						    .pod = "p",
						    .container = "c",
						    .node = "n",
						    .reason = NULL,
						    .message = longmsg,
						    .exit_code = 3};
	struct recap_controller_run_view v = {
	    .run = r, .capsule_spec = spec, .capsule_generation = 7, .st = &st, .started = true, .now = 3600};
	json_t *s = recap_controller_run_status(&v);
	assert_string_equal(recap_json_str(s, "phase"), "Failed");
	assert_string_equal(recap_json_str(s, "startTime"), "2026-01-01T00:00:00Z");
	assert_string_equal(recap_json_str(s, "completionTime"), "1970-01-01T01:00:00Z");
	assert_int_equal(recap_json_int(s, "capsuleGeneration", 0), 7);
	json_t *f = json_array_get(json_object_get(s, "failures"), 0);
	assert_string_equal(recap_json_str(f, "reason"), "Failed");
	assert_int_equal(recap_json_int(f, "exitCode", -1), 3);
	assert_int_equal(strlen(recap_json_str(f, "message")), 1024);
	json_t *conds = json_object_get(s, "conditions");
	json_t *done = recap_api_condition_get(conds, "Complete");
	assert_string_equal(recap_json_str(done, "reason"), "FailurePolicyStop");
	/* failed, as a Job says it and as kstatus reads it: Complete False,
	 * Failed and Stalled True, no longer Reconciling */
	assert_string_equal(recap_json_str(done, "status"), "False");
	assert_string_equal(recap_json_str(recap_api_condition_get(conds, "Failed"), "status"), "True");
	assert_string_equal(recap_json_str(recap_api_condition_get(conds, "Stalled"), "status"), "True");
	assert_string_equal(recap_json_str(recap_api_condition_get(conds, "Stalled"), "reason"),
			    "FailurePolicyStop");
	assert_string_equal(recap_json_str(recap_api_condition_get(conds, "Reconciling"), "status"), "False");
	json_decref(s);
	/* running: Reconciling, nothing else true */
	st.complete = false;
	st.halted = false;
	st.phase = RECAP_RUN_RUNNING;
	s = recap_controller_run_status(&v);
	conds = json_object_get(s, "conditions");
	assert_string_equal(recap_json_str(recap_api_condition_get(conds, "Reconciling"), "status"), "True");
	assert_string_equal(recap_json_str(recap_api_condition_get(conds, "Stalled"), "status"), "False");
	assert_string_equal(recap_json_str(recap_api_condition_get(conds, "Complete"), "status"), "False");
	json_decref(s);
	/* succeeded: Complete, nothing in progress, nothing stalled */
	st.complete = true;
	st.phase = RECAP_RUN_SUCCEEDED;
	s = recap_controller_run_status(&v);
	conds = json_object_get(s, "conditions");
	assert_string_equal(recap_json_str(recap_api_condition_get(conds, "Complete"), "status"), "True");
	assert_string_equal(recap_json_str(recap_api_condition_get(conds, "Failed"), "status"), "False");
	assert_string_equal(recap_json_str(recap_api_condition_get(conds, "Reconciling"), "status"), "False");
	assert_string_equal(recap_json_str(recap_api_condition_get(conds, "Stalled"), "status"), "False");
	json_decref(s);
	/* refused: no counts, Failed, Admitted=False naming the cause */
	v = (struct recap_controller_run_view){.run = r,
					       .refused_reason = "PolicyViolation",
					       .refused_message = "baseline policy: no",
					       .now = 3600};
	s = recap_controller_run_status(&v);
	assert_string_equal(recap_json_str(s, "phase"), "Failed");
	assert_null(json_object_get(s, "targets"));
	json_t *adm = recap_api_condition_get(json_object_get(s, "conditions"), "Admitted");
	assert_string_equal(recap_json_str(adm, "reason"), "PolicyViolation");
	assert_string_equal(recap_json_str(adm, "message"), "baseline policy: no");
	json_t *stalled = recap_api_condition_get(json_object_get(s, "conditions"), "Stalled");
	assert_string_equal(recap_json_str(stalled, "status"), "True");
	assert_string_equal(recap_json_str(stalled, "reason"), "PolicyViolation");
	json_decref(s);
	/* a missing Capsule leaves it Pending */
	v.refused_reason = "CapsuleNotFound";
	s = recap_controller_run_status(&v);
	assert_string_equal(recap_json_str(s, "phase"), "Pending");
	json_decref(s);
	assert_true(recap_run_phase_final("Cancelled"));
	assert_false(recap_run_phase_final("Running"));
	assert_false(recap_run_phase_final(NULL));
	json_decref(r);
	json_decref(spec);
}

/* status.dispatched is the run's memory of at most once: a status computed
 * without a new list (a refused run) keeps the old one, and a failure of a
 * vanished execution is written as any other. */
static void test_run_status_dispatched(void **state)
{
	json_t *r = parse("{\"metadata\":{\"name\":\"r\",\"generation\":1},\"status\":{\"dispatched\":"
			  "[\"00000000aa\",\"00000000bb\"]}}");
	struct recap_run_status st = {.phase = RECAP_RUN_RUNNING, .targets = 2, .failed = 1, .n_failures = 1};
	st.failures[0] = (struct recap_run_failure){.execution = "r-00000000bb",
						    .reason = RECAP_REASON_EXECUTION_DELETED,
						    .message = RECAP_STRATEGY_DELETED_MESSAGE,
						    .exit_code = -1};
	json_t *ids = parse("[\"00000000aa\",\"00000000bb\",\"00000000cc\"]");
	struct recap_controller_run_view v = {.run = r, .st = &st, .dispatched = ids, .now = 60};
	json_t *s = recap_controller_run_status(&v);
	assert_true(json_equal(json_object_get(s, "dispatched"), ids));
	json_t *f = json_array_get(json_object_get(s, "failures"), 0);
	assert_string_equal(recap_json_str(f, "execution"), "r-00000000bb");
	assert_string_equal(recap_json_str(f, "reason"), "ExecutionDeleted");
	assert_null(json_object_get(f, "pod"));
	assert_null(json_object_get(f, "exitCode"));
	json_decref(s);
	v = (struct recap_controller_run_view){.run = r, .refused_reason = "CapsuleNotFound", .now = 60};
	s = recap_controller_run_status(&v);
	assert_int_equal(json_array_size(json_object_get(s, "dispatched")), 2);
	json_t *patch = recap_controller_status_patch(recap_json_path(r, "status"), s);
	assert_false(json_is_null(recap_json_path(patch, "status.dispatched")));
	json_decref(patch);
	json_decref(s);
	json_decref(ids);
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_patch),	  cmocka_unit_test(test_history_prune),
	    cmocka_unit_test(test_capsule_status),	  cmocka_unit_test(test_run_status),
	    cmocka_unit_test(test_run_status_dispatched),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

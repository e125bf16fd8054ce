/* Admission of a Capsule: it is decoded against the Capsule schema first,
 * and one that does not decode is refused as InvalidSpec, naming the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/names.h"
#include "api/types.h"
#include "base/json.h"
#include "controller/admit.h"
#include "controller/capsulestatus.h"
#include "sched/periodic.h"

static const char *const CAPSULE =
    "{\"apiVersion\":\"recap.dev/v1alpha1\",\"kind\":\"Capsule\","
    "\"metadata\":{\"name\":\"c\",\"namespace\":\"n\",\"generation\":2},"
    "\"spec\":{\"image\":\"reg/tools:1\",\"command\":[\"ps\"],\"timeoutSeconds\":60,"
    "\"targets\":{\"selector\":{\"matchLabels\":{\"app\":\"web\"}}},"
    "\"strategy\":{\"type\":\"Iterative\",\"maxConcurrent\":2},"
    "\"schedule\":{\"cron\":\"*/5 * * * *\"}}}";

static json_t *capsule(void)
{
	json_t *o = json_loads(CAPSULE, 0, NULL);
	assert_non_null(o);
	return o;
}

static void refused(json_t *cap, const char *want)
{
	struct ctl_admission a;
	assert_int_equal(recap_ctl_admit_decode(cap, &a), 0);
	assert_non_null(a.reason);
	assert_string_equal(a.reason, RECAP_CONDITION_REASON_INVALID_SPEC);
	assert_non_null(a.message);
	if (!strstr(a.message, want))
		fail_msg("message '%s' lacks '%s'", a.message, want);
	recap_ctl_admission_clear(&a);
}

static void test_decodes(void **state)
{
	(void)state;
	_cleanup_json_ json_t *cap = capsule();
	/* with the status the controller writes for it */
	struct recap_controller_capsule_view v = {.capsule = cap,
						  .matched = 3,
						  .last_schedule = 1764979200,
						  .next_schedule = RECAP_PERIODIC_NONE,
						  .now = 1764979300};
	json_object_set_new(cap, "status", recap_controller_capsule_status(&v));
	struct ctl_admission a;
	assert_int_equal(recap_ctl_admit_decode(cap, &a), 0);
	assert_null(a.reason);
	assert_null(a.message);
	recap_ctl_admission_clear(&a);
}

static void test_refused_names_field(void **state)
{
	(void)state;
	_cleanup_json_ json_t *enum_bad = capsule();
	json_object_set_new(recap_api_capsule_spec_strategy(recap_api_capsule_spec(enum_bad)), "type",
			    json_string("Sideways"));
	refused(enum_bad, "spec.strategy.type: is not one of the values");

	_cleanup_json_ json_t *no_image = capsule();
	json_object_del(recap_api_capsule_spec(no_image), RECAP_API_CAPSULE_SPEC_IMAGE);
	refused(no_image, "spec: the required field image is missing");

	_cleanup_json_ json_t *range = capsule();
	json_object_set_new(recap_api_capsule_spec(range), RECAP_API_CAPSULE_SPEC_TIMEOUT_SECONDS,
			    json_integer(0));
	refused(range, "spec.timeoutSeconds: 0 is out of range");

	_cleanup_json_ json_t *status_bad = capsule();
	json_object_set_new(status_bad, "status", json_pack("{s:s}", "lastScheduleTime", "yesterday"));
	refused(status_bad, "status.lastScheduleTime: is not an RFC 3339 time");

	_cleanup_json_ json_t *no_spec = capsule();
	json_object_del(no_spec, "spec");
	refused(no_spec, "the required field spec is missing");
}

/* Decoding comes first: a Capsule that does not decode is refused before
 * validation or any CapsulePolicy is looked at (no controller here). */
static void test_admit_decodes_first(void **state)
{
	(void)state;
	_cleanup_json_ json_t *cap = capsule();
	json_object_set_new(recap_api_capsule_spec(cap), RECAP_API_CAPSULE_SPEC_COMMAND, json_string("ps"));
	struct ctl_admission a;
	assert_int_equal(recap_ctl_admit(NULL, "n", cap, recap_api_capsule_spec(cap), 0, "n/c", &a), 0);
	assert_string_equal(a.reason, RECAP_CONDITION_REASON_INVALID_SPEC);
	assert_non_null(strstr(a.message, "spec.command: must be a list"));
	recap_ctl_admission_clear(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decodes),
	    cmocka_unit_test(test_refused_names_field),
	    cmocka_unit_test(test_admit_decodes_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

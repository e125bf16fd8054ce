/* Condition lists: one per type, the transition time kept while the
 * status stays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "api/conditions.h"
#include "base/json.h"

static void test_condition_keeps_transition_time(void **state)
{
	json_t *c1 = recap_api_condition_set(NULL, "Ready", "True", "Admitted", "ok", 1, 1000);
	assert_int_equal(json_array_size(c1), 1);
	assert_string_equal(recap_json_str(json_array_get(c1, 0), "lastTransitionTime"),
			    "1970-01-01T00:16:40Z");
	/* same status, new reason and generation: the time stays */
	json_t *c2 = recap_api_condition_set(c1, "Ready", "True", "Other", "still ok", 2, 5000);
	assert_string_equal(recap_json_str(json_array_get(c2, 0), "lastTransitionTime"),
			    "1970-01-01T00:16:40Z");
	assert_int_equal(recap_json_int(json_array_get(c2, 0), "observedGeneration", 0), 2);
	assert_string_equal(recap_json_str(json_array_get(c2, 0), "reason"), "Other");
	/* a flip moves it */
	json_t *c3 = recap_api_condition_set(c2, "Ready", "False", "PolicyViolation", "no", 3, 9000);
	assert_string_equal(recap_json_str(json_array_get(c3, 0), "lastTransitionTime"),
			    "1970-01-01T02:30:00Z");
	/* another type is appended, the first one untouched */
	json_t *c4 = recap_api_condition_set(c3, "Complete", "False", "InProgress", "", 3, 9999);
	assert_int_equal(json_array_size(c4), 2);
	assert_true(json_equal(json_array_get(c4, 0), json_array_get(c3, 0)));
	assert_non_null(recap_api_condition_get(c4, "Complete"));
	assert_null(recap_api_condition_get(c4, "Nope"));
	json_decref(c1);
	json_decref(c2);
	json_decref(c3);
	json_decref(c4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_condition_keeps_transition_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* lib/api/names.c: the reason index caplet's metrics use, and final phases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "api/names.h"

static void reasons(void **state)
{
	(void)state;
	assert_int_equal(recap_execution_reason_index(RECAP_REASON_COMPLETED),
			 RECAP_EXECUTION_REASON_COMPLETED);
	assert_int_equal(recap_execution_reason_index("InvalidSpec"), RECAP_EXECUTION_REASON_INVALID_SPEC);
	assert_int_equal(recap_execution_reason_index("ExecutorFailed"),
			 RECAP_EXECUTION_REASON_EXECUTOR_FAILED);
	/* "Failed" is the executor's word; an execution says Error */
	assert_int_equal(recap_execution_reason_index("Failed"), RECAP_EXECUTION_REASONS);
	assert_int_equal(recap_execution_reason_index("completed"), RECAP_EXECUTION_REASONS);
	assert_int_equal(recap_execution_reason_index(""), RECAP_EXECUTION_REASONS);
	assert_int_equal(recap_execution_reason_index(NULL), RECAP_EXECUTION_REASONS);
	for (size_t i = 0; i < RECAP_EXECUTION_REASONS; i++) {
		assert_non_null(recap_execution_reasons[i]);
		assert_int_equal(recap_execution_reason_index(recap_execution_reasons[i]), i);
	}
}

static void final_phases(void **state)
{
	(void)state;
	const char *final[] = {"Succeeded", "Failed", "PartiallyFailed", "Cancelled"};
	const char *not_final[] = {"Pending", "Running", "Escaping", "", "succeeded", NULL};
	for (size_t i = 0; i < sizeof(final) / sizeof(final[0]); i++)
		assert_true(recap_run_phase_final(final[i]));
	for (size_t i = 0; i < sizeof(not_final) / sizeof(not_final[0]); i++)
		assert_false(recap_run_phase_final(not_final[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(reasons),
	    cmocka_unit_test(final_phases),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

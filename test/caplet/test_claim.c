/* The claim's retry policy after transient failures: Attaching, which
 * nothing replaces, is retried until spec.deadline; Pulling a few times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "caplet/agent.h"

static void attaching_is_retried_until_the_deadline(void **state)
{
	/* An API server away for minutes: tries go on, 8 s apart at most,
	 * where Pulling (and Attaching before) stopped after three. */
	uint64_t waited = 0;
	for (unsigned failures = 1; failures <= 100; failures++) {
		int64_t d = caplet_claim_retry_ms(true, failures, 3600);
		if (d < 0)
			fail_msg("gave up after %u failures, %llu ms, with an hour left", failures,
				 (unsigned long long)waited);
		assert_true(d >= 250 && d <= 8000);
		waited += (uint64_t)d;
	}
	assert_true(waited >= 5 * 60 * 1000);
	/* Never a wait past the deadline; none once it passed. */
	assert_int_equal(caplet_claim_retry_ms(true, 10, 1), 1000);
	assert_int_equal(caplet_claim_retry_ms(true, 1, 0), -1);
	assert_int_equal(caplet_claim_retry_ms(true, 1, -5), -1);
	/* Without a deadline: until the API answers (or the execution goes). */
	assert_true(caplet_claim_retry_ms(true, 100, INT64_MAX) > 0);
}

static void pulling_is_retried_three_times(void **state)
{
	for (unsigned failures = 1; failures <= 3; failures++) {
		int64_t d = caplet_claim_retry_ms(false, failures, 3600);
		int64_t full = 500LL << (failures - 1);
		assert_true(d >= full / 2 && d <= full);
	}
	assert_int_equal(caplet_claim_retry_ms(false, 4, 3600), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(attaching_is_retried_until_the_deadline),
	    cmocka_unit_test(pulling_is_retried_three_times),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/backoff.h"

static void jittered_doubling_with_cap(void **state)
{
	for (int i = 0; i < 1000; i++) {
		/* attempt n: a point in [d/2, d] where d = base * 2^(n-1), capped */
		uint64_t d1 = recap_backoff_ms(200, 10000, 1);
		assert_true(d1 >= 100 && d1 <= 200);
		uint64_t d3 = recap_backoff_ms(200, 10000, 3);
		assert_true(d3 >= 400 && d3 <= 800);
		uint64_t d20 = recap_backoff_ms(200, 10000, 20);
		assert_true(d20 >= 5000 && d20 <= 10000);
		uint64_t huge = recap_backoff_ms(800, 30000, 4000000000u);
		assert_true(huge >= 15000 && huge <= 30000);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(jittered_doubling_with_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "sched/civil.h"

/* Every day from 1900 to 2200 round-trips and agrees with the C library. */
static void matches_libc(void **state)
{
	int64_t from = recap_sched_days_from_civil(1900, 1, 1),
		to = recap_sched_days_from_civil(2200, 12, 31);
	assert_int_equal(recap_sched_days_from_civil(1970, 1, 1), 0);
	for (int64_t d = from; d <= to; d++) {
		time_t t = (time_t)(d * 86400);
		struct tm tm;
		gmtime_r(&t, &tm);
		struct recap_civil c = recap_sched_civil_from_days(d);
		assert_int_equal(c.year, tm.tm_year + 1900);
		assert_int_equal(c.month, tm.tm_mon + 1);
		assert_int_equal(c.day, tm.tm_mday);
		assert_int_equal(recap_sched_weekday(d), tm.tm_wday);
		assert_int_equal(recap_sched_days_from_civil(c.year, c.month, c.day), d);
	}
}

static void leap_years(void **state)
{
	assert_true(recap_sched_is_leap(2000));
	assert_false(recap_sched_is_leap(2100));
	assert_true(recap_sched_is_leap(2024));
	assert_false(recap_sched_is_leap(2026));
	assert_int_equal(recap_sched_days_in_month(2024, 2), 29);
	assert_int_equal(recap_sched_days_in_month(2100, 2), 28);
	assert_int_equal(recap_sched_days_in_month(2026, 4), 30);
	assert_int_equal(recap_sched_floordiv(-1, 86400), -1);
	assert_int_equal(recap_sched_floordiv(86400, 86400), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(matches_libc),
	    cmocka_unit_test(leap_years),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

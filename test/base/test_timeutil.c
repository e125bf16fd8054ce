#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/timeutil.h"

static void format_and_parse_round_trip(void **state)
{
	char s[32];
	assert_int_equal(recap_time_format(1795437968, s, sizeof(s)), 0);
	assert_string_equal(s, "2026-11-23T12:46:08Z");
	time_t t;
	assert_int_equal(recap_time_parse(s, &t), 0);
	assert_int_equal(t, 1795437968);
	assert_int_equal(recap_time_format(0, s, 5), -ENOBUFS);
}

static void parse_fraction_and_offset(void **state)
{
	time_t t;
	assert_int_equal(recap_time_parse("2026-11-23T12:46:08.123456Z", &t), 0);
	assert_int_equal(t, 1795437968);
	assert_int_equal(recap_time_parse("2026-11-23T14:46:08+02:00", &t), 0);
	assert_int_equal(t, 1795437968);
	assert_int_equal(recap_time_parse("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
}

static void parse_rejects_garbage(void **state)
{
	time_t t;
	assert_int_equal(recap_time_parse("2026-11-23", &t), -EINVAL);
	assert_int_equal(recap_time_parse("2026-11-23T13:26:08", &t), -EINVAL);
	assert_int_equal(recap_time_parse("2026-11-23T13:26:08.Z", &t), -EINVAL);
	assert_int_equal(recap_time_parse("2026-11-23T13:26:08+2", &t), -EINVAL);
	assert_int_equal(recap_time_parse(NULL, &t), -EINVAL);
}

static void monotonic_advances(void **state)
{
	uint64_t a = recap_now_mono_ns();
	uint64_t b = recap_now_mono_ns();
	assert_true(b >= a);
	assert_true(recap_now_mono_ms() > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(format_and_parse_round_trip),
	    cmocka_unit_test(parse_fraction_and_offset),
	    cmocka_unit_test(parse_rejects_garbage),
	    cmocka_unit_test(monotonic_advances),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

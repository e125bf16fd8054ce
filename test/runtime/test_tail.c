#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/process.h"

static void keeps_the_last_bytes(void **state)
{
	struct recap_tail t;
	assert_int_equal(recap_tail_init(&t, 8), 0);
	recap_tail_push(&t, "hello", 5);
	recap_tail_push(&t, " world", 6);
	size_t n;
	char *s = recap_tail_dup(&t, &n);
	assert_int_equal(n, 8);
	assert_string_equal(s, "lo world");
	assert_int_equal(t.total, 11);
	free(s);
	recap_tail_push(&t, "0123456789abcdef", 16);
	s = recap_tail_dup(&t, &n);
	assert_string_equal(s, "89abcdef");
	free(s);
	recap_tail_free(&t);
}

static void byte_by_byte_wraps(void **state)
{
	struct recap_tail t;
	assert_int_equal(recap_tail_init(&t, 3), 0);
	const char *in = "abcdefg";
	for (size_t i = 0; i < strlen(in); i++)
		recap_tail_push(&t, in + i, 1);
	char *s = recap_tail_dup(&t, NULL);
	assert_string_equal(s, "efg");
	free(s);
	recap_tail_free(&t);
}

static void zero_capacity_only_counts(void **state)
{
	struct recap_tail t;
	assert_int_equal(recap_tail_init(&t, 0), 0);
	recap_tail_push(&t, "abc", 3);
	char *s = recap_tail_dup(&t, NULL);
	assert_string_equal(s, "");
	assert_int_equal(t.total, 3);
	free(s);
	recap_tail_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(keeps_the_last_bytes),
	    cmocka_unit_test(byte_by_byte_wraps),
	    cmocka_unit_test(zero_capacity_only_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

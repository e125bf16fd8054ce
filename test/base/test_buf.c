#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"

static void append_within_limit(void **state)
{
	struct recap_buf b = RECAP_BUF_INIT(16);
	assert_int_equal(recap_buf_appends(&b, "hello "), 0);
	assert_int_equal(recap_buf_printf(&b, "%s %d", "w", 42), 0);
	assert_string_equal(b.data, "hello w 42");
	assert_int_equal(b.len, 10);
	recap_buf_free(&b);
}

static void append_past_limit_fails_and_keeps_content(void **state)
{
	struct recap_buf b = RECAP_BUF_INIT(8);
	assert_int_equal(recap_buf_appends(&b, "12345678"), 0);
	assert_int_equal(recap_buf_appends(&b, "9"), -ENOBUFS);
	assert_int_equal(recap_buf_printf(&b, "%d", 1), -ENOBUFS);
	assert_string_equal(b.data, "12345678");
	assert_true(b.cap <= 9);
	recap_buf_free(&b);
}

static void huge_append_cannot_overflow(void **state)
{
	struct recap_buf b = RECAP_BUF_INIT(SIZE_MAX - 1);
	assert_int_equal(recap_buf_appends(&b, "ab"), 0);
	assert_int_equal(recap_buf_append(&b, "x", SIZE_MAX - 1), -ENOBUFS);
	assert_int_equal(b.len, 2);
	recap_buf_free(&b);
}

static void consume_and_steal(void **state)
{
	struct recap_buf b = RECAP_BUF_INIT(64);
	recap_buf_appends(&b, "line1\nline2\n");
	recap_buf_consume(&b, 6);
	assert_string_equal(b.data, "line2\n");
	recap_buf_consume(&b, 100);
	assert_int_equal(b.len, 0);
	recap_buf_appends(&b, "z");
	char *s = recap_buf_steal(&b);
	assert_string_equal(s, "z");
	assert_null(b.data);
	free(s);
	s = recap_buf_steal(&b);
	assert_string_equal(s, "");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(append_within_limit),
	    cmocka_unit_test(append_past_limit_fails_and_keeps_content),
	    cmocka_unit_test(huge_append_cannot_overflow),
	    cmocka_unit_test(consume_and_steal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

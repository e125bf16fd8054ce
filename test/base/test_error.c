#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "base/error.h"

static int inner(struct recap_error **err)
{
	return recap_error_set(err, ENOENT, "image '%s' not found", "busybox");
}

static int outer(struct recap_error **err)
{
	int r = inner(err);
	if (r < 0)
		return recap_error_wrap(err, r, "pull %s", "registry.local/busybox");
	return 0;
}

static void wrap_adds_context_outermost_first(void **state)
{
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(outer(&err), -ENOENT);
	assert_int_equal(recap_error_code(err), ENOENT);
	assert_string_equal(recap_error_message(err),
			    "pull registry.local/busybox: image 'busybox' not found");
}

static void first_error_wins(void **state)
{
	_cleanup_error_ struct recap_error *err = NULL;
	recap_error_set(&err, EINVAL, "first");
	assert_int_equal(recap_error_set(&err, EIO, "second"), -EIO);
	assert_string_equal(recap_error_message(err), "first");
	assert_int_equal(recap_error_code(err), EINVAL);
}

static void errno_message_is_appended(void **state)
{
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_error_set_errno(&err, -EACCES, "open %s", "/x"), -EACCES);
	assert_string_equal(recap_error_message(err), "open /x: Permission denied");
}

static void wrap_without_error_uses_code(void **state)
{
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_error_wrap(&err, -ENOMEM, "parse"), -ENOMEM);
	assert_string_equal(recap_error_message(err), "parse: Cannot allocate memory");
}

static void null_err_is_allowed(void **state)
{
	assert_int_equal(recap_error_set(NULL, EPERM, "x"), -EPERM);
	assert_int_equal(recap_error_wrap(NULL, -EPERM, "y"), -EPERM);
	recap_error_free(NULL);
	assert_string_equal(recap_error_message(NULL), "unknown error");
}

static void long_messages_are_bounded(void **state)
{
	_cleanup_error_ struct recap_error *err = NULL;
	char big[10000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	recap_error_set(&err, EINVAL, "%s", big);
	for (int i = 0; i < 100; i++)
		recap_error_wrap(&err, -EINVAL, "%s", big);
	assert_true(strlen(recap_error_message(err)) <= 4096);
	assert_non_null(strstr(recap_error_message(err), "(truncated)"));
}

static void cleanup_helpers_accept_empty(void **state)
{
	_cleanup_free_ char *p = NULL;
	_cleanup_close_ int fd = -1;
	_cleanup_fclose_ FILE *f = NULL;
	char *q = strdup("x");
	char *owned = steal_ptr(q);
	assert_null(q);
	free(owned);
	int a = 5;
	assert_int_equal(steal_fd(a), 5);
	assert_int_equal(a, -1);
	(void)p, (void)fd, (void)f;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(wrap_adds_context_outermost_first),
	    cmocka_unit_test(first_error_wins),
	    cmocka_unit_test(errno_message_is_appended),
	    cmocka_unit_test(wrap_without_error_uses_code),
	    cmocka_unit_test(null_err_is_allowed),
	    cmocka_unit_test(long_messages_are_bounded),
	    cmocka_unit_test(cleanup_helpers_accept_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "oci/auth.h"

static char path[] = "/tmp/recap-auth-test.XXXXXX";

static int write_file(void **state)
{
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	/* dGVzdGVyOnMzY3JldA== is base64("tester:s3cret") */
	const char *cfg = "{\"auths\":{"
			  "\"127.0.0.1:5000\":{\"auth\":\"dGVzdGVyOnMzY3JldA==\"},"
			  "\"https://reg.example\":{\"auth\":\"dGVzdGVyOnMzY3JldA==\"},"
			  "\"https://index.docker.io/v1/\":{\"auth\":\"dGVzdGVyOnMzY3JldA==\"},"
			  "\"bad.example\":{\"auth\":\"not base64!\"},"
			  "\"nocolon.example\":{\"auth\":\"dGVzdGVy\"}}}";
	assert_int_equal(write(fd, cfg, strlen(cfg)), (ssize_t)strlen(cfg));
	close(fd);
	return 0;
}

static int remove_file(void **state)
{
	unlink(path);
	return 0;
}

static void lookup(const char *host, const char *want)
{
	char *got = NULL;
	_cleanup_error_ struct recap_error *err = NULL;
	if (recap_oci_auth_lookup(path, host, &got, &err) < 0)
		fail_msg("%s: %s", host, recap_error_message(err));
	if (!want)
		assert_null(got);
	else
		assert_string_equal(got, want);
	free(got);
}

static void lookup_forms(void **state)
{
	lookup("127.0.0.1:5000", "Basic dGVzdGVyOnMzY3JldA==");
	lookup("reg.example", "Basic dGVzdGVyOnMzY3JldA==");
	lookup("registry-1.docker.io", "Basic dGVzdGVyOnMzY3JldA==");
	lookup("other.example", NULL);
}

static void lookup_errors(void **state)
{
	char *got = NULL;
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_oci_auth_lookup(path, "bad.example", &got, &err), -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "not base64"));
	recap_error_free(err);
	err = NULL;
	assert_int_equal(recap_oci_auth_lookup(path, "nocolon.example", &got, &err), -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "user:password"));
	recap_error_free(err);
	err = NULL;
	assert_true(recap_oci_auth_lookup("/nonexistent/config.json", "x", &got, &err) < 0);
	assert_null(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(lookup_forms),
	    cmocka_unit_test(lookup_errors),
	};
	return cmocka_run_group_tests(tests, write_file, remove_file);
}

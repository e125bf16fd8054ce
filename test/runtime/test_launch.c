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

static void command_replaces_entrypoint_and_cmd(void **state)
{
	struct recap_run_spec s;
	recap_spec_init(&s);
	recap_strv_push(&s.entrypoint, "/entry");
	recap_strv_push(&s.image_cmd, "--default");
	struct recap_strv a = {0};
	assert_int_equal(recap_launch_argv(&s, &a), 0);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.v[0], "/entry");
	assert_string_equal(a.v[1], "--default");
	recap_strv_free(&a);
	recap_strv_push(&s.command, "ps");
	assert_int_equal(recap_launch_argv(&s, &a), 0);
	assert_int_equal(a.n, 1);
	assert_string_equal(a.v[0], "ps");
	assert_null(a.v[1]);
	recap_strv_free(&a);
	recap_spec_free(&s);
	recap_spec_init(&s);
	assert_int_equal(recap_launch_argv(&s, &a), -EINVAL);
	recap_spec_free(&s);
}

static void environment_merge(void **state)
{
	struct recap_run_spec s;
	recap_spec_init(&s);
	recap_strv_push(&s.image_env, "A=image");
	recap_strv_push(&s.image_env, "B=image");
	recap_strv_push(&s.image_env, "garbage");
	recap_strv_push(&s.env, "B=spec");
	recap_strv_push(&s.env, "C=spec");
	struct recap_strv e = {0};
	assert_int_equal(recap_launch_env(&s, &e), 0);
	assert_int_equal(e.n, 5);
	assert_string_equal(e.v[0], "A=image");
	assert_string_equal(e.v[1], "B=spec");
	assert_string_equal(e.v[2], "C=spec");
	assert_non_null(strstr(e.v[3], "PATH=/usr/local/sbin:"));
	assert_string_equal(e.v[4], "HOME=/root");
	assert_null(e.v[5]);
	recap_strv_free(&e);
	recap_spec_free(&s);
}

static void path_lookup(void **state)
{
	char *p = recap_exec_lookup("sh", "/nonexistent:/bin:/usr/bin");
	assert_non_null(p);
	assert_true(strcmp(p, "/bin/sh") == 0 || strcmp(p, "/usr/bin/sh") == 0);
	free(p);
	assert_null(recap_exec_lookup("no-such-tool-here", "/bin:/usr/bin"));
	assert_null(recap_exec_lookup("", "/bin"));
	p = recap_exec_lookup("./x", "/bin");
	assert_string_equal(p, "./x"); /* a path is taken as it is */
	free(p);
	/* a directory on PATH with the name is not an executable */
	assert_null(recap_exec_lookup("bin", "/"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(command_replaces_entrypoint_and_cmd),
	    cmocka_unit_test(environment_merge),
	    cmocka_unit_test(path_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

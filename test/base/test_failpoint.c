#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/failpoint.h"

static int init_with(const char *spec, struct recap_error **err)
{
	setenv("RECAP_FAILPOINTS", spec, 1);
	return recap_failpoints_init(err);
}

static void unset_is_nothing(void **state)
{
	struct recap_error *err = NULL;
	unsetenv("RECAP_FAILPOINTS");
	assert_int_equal(recap_failpoints_init(&err), 0);
	assert_int_equal(recap_failpoint("any.point"), 0);
}

#ifdef RECAP_FAILPOINTS
static void error_on_the_nth_hit_only(void **state)
{
	struct recap_error *err = NULL;
	assert_int_equal(init_with("a.b=error@2;c.d=error", &err), 0);
	assert_int_equal(recap_failpoint("a.b"), 0);
	assert_int_equal(recap_failpoint("a.b"), -EIO);
	assert_int_equal(recap_failpoint("a.b"), 0);
	assert_int_equal(recap_failpoint("c.d"), -EIO);
	assert_int_equal(recap_failpoint("c.d"), -EIO);
	assert_int_equal(recap_failpoint("e.f"), 0);
}

static void kill_kills(void **state)
{
	struct recap_error *err = NULL;
	assert_int_equal(init_with("x.y=kill", &err), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		recap_failpoint("x.z");
		recap_failpoint("x.y");
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

static void stop_stops(void **state)
{
	struct recap_error *err = NULL;
	assert_int_equal(init_with("x.y=stop@1", &err), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		recap_failpoint("x.y");
		_exit(7);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, WUNTRACED), pid);
	assert_true(WIFSTOPPED(st));
	kill(pid, SIGCONT);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 7);
}

static void bad_specs_are_refused(void **state)
{
	const char *bad[] = {"x",	"=kill",    "x=explode",  "x=kill@0",
			     "x=kill@", "x=sleep:", "x=sleep:1s", "x=kill@2x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct recap_error *err = NULL;
		assert_int_equal(init_with(bad[i], &err), -EINVAL);
		assert_non_null(err);
		recap_error_free(err);
		/* nothing stays armed after a refusal */
		assert_int_equal(recap_failpoint("x"), 0);
	}
}
#else
static void refused_without_failpoints(void **state)
{
	struct recap_error *err = NULL;
	assert_int_equal(init_with("x.y=kill", &err), -ENOTSUP);
	assert_non_null(err);
	recap_error_free(err);
	assert_int_equal(recap_failpoint("x.y"), 0);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(unset_is_nothing),
#ifdef RECAP_FAILPOINTS
	    cmocka_unit_test(error_on_the_nth_hit_only),
	    cmocka_unit_test(kill_kills),
	    cmocka_unit_test(stop_stops),
	    cmocka_unit_test(bad_specs_are_refused),
#else
	    cmocka_unit_test(refused_without_failpoints),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

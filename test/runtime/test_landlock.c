/* When a run is confined by Landlock, and when it is refused for lack of it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runtime/sandbox.h"

static void readwrite_is_never_confined(void **state)
{
	assert_int_equal(recap_landlock_plan(7, RECAP_TARGET_FS_RW, RECAP_JOIN_DEFAULT), RECAP_LANDLOCK_SKIP);
	assert_int_equal(recap_landlock_plan(-ENOSYS, RECAP_TARGET_FS_RW, RECAP_JOIN_DEFAULT),
			 RECAP_LANDLOCK_SKIP);
}

static void readonly_and_none_are_confined_where_landlock_is(void **state)
{
	for (int abi = 1; abi <= 7; abi++) {
		assert_int_equal(recap_landlock_plan(abi, RECAP_TARGET_FS_RO, RECAP_JOIN_DEFAULT),
				 RECAP_LANDLOCK_APPLY);
		assert_int_equal(recap_landlock_plan(abi, RECAP_TARGET_FS_NONE, 0), RECAP_LANDLOCK_APPLY);
	}
}

static void without_landlock_pid_joined_is_refused(void **state)
{
	const int none[] = {-ENOSYS, -EOPNOTSUPP};
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(recap_landlock_plan(none[i], RECAP_TARGET_FS_RO, RECAP_JOIN_PID),
				 RECAP_LANDLOCK_REFUSE);
		assert_int_equal(recap_landlock_plan(none[i], RECAP_TARGET_FS_NONE, RECAP_JOIN_DEFAULT),
				 RECAP_LANDLOCK_REFUSE);
		/* a PID namespace of its own shows no target process */
		assert_int_equal(recap_landlock_plan(none[i], RECAP_TARGET_FS_RO, RECAP_JOIN_NET),
				 RECAP_LANDLOCK_SKIP);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(readwrite_is_never_confined),
	    cmocka_unit_test(readonly_and_none_are_confined_where_landlock_is),
	    cmocka_unit_test(without_landlock_pid_joined_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

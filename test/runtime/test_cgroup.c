#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/cgroup.h"

static void parent_names(void **state)
{
	const char *good[] = {"recap", "kubepods/recap", "recap-test-1", "a.b_c"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!recap_cgroup_parent_valid(good[i]))
			fail_msg("should be valid: %s", good[i]);
	const char *bad[] = {
	    "",
	    "/recap",
	    "recap/",
	    "..",
	    "a/../b",
	    "a//b",
	    "./a",
	    "a b",
	    "a\nb",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (recap_cgroup_parent_valid(bad[i]))
			fail_msg("should be refused: %s", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parent_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "sched/names.h"
#include "sched/periodic.h"

static void short_names_are_plain(void **state)
{
	char out[RECAP_NAME_MAX + 1];
	const char *parts[] = {"run", "web-0", "nginx"};
	assert_int_equal(recap_sched_name(out, parts, 3, ""), 15);
	assert_string_equal(out, "run-web-0-nginx");
	assert_int_equal(recap_periodic_run_name("tcpdump", 1764000000, out), 16);
	assert_string_equal(out, "tcpdump-29400000");
	assert_int_equal(recap_periodic_run_name("tcpdump", 1764000059, out), 16);
	assert_string_equal(out, "tcpdump-29400000");
}

static void long_names_are_cut_and_hashed(void **state)
{
	char a[RECAP_NAME_MAX + 1], b[RECAP_NAME_MAX + 1];
	/* 50 + 1 + 8 = 59: still fits. */
	const char *fits = "a2345678901234567890123456789012345678901234567890";
	assert_int_equal(recap_periodic_run_name(fits, 1764000000, a), 59);
	/* Two long names that share the first 43 characters stay distinct. */
	const char *x = "a-very-long-capsule-name-that-goes-on-andx.on-and-on-and-on-x";
	const char *y = "a-very-long-capsule-name-that-goes-on-andx.on-and-on-and-on-y";
	assert_int_equal(recap_periodic_run_name(x, 1764000000, a), RECAP_NAME_MAX - 1);
	assert_int_equal(recap_periodic_run_name(y, 1764000000, b), RECAP_NAME_MAX - 1);
	assert_true(strlen(a) <= RECAP_NAME_MAX && strlen(b) <= RECAP_NAME_MAX);
	assert_string_not_equal(a, b);
	assert_memory_equal(a, x, 42); /* the readable prefix, without the '.' cut at, then the hash */
	assert_int_equal(a[42], '-');
	assert_string_equal(a + strlen(a) - 9, "-29400000");
	/* Stable: the same input always gives the same name. */
	assert_int_equal(recap_periodic_run_name(x, 1764000000, b), RECAP_NAME_MAX - 1);
	assert_string_equal(a, b);
	/* Part boundaries matter. */
	const char *p1[] = {"ab", "c"}, *p2[] = {"a", "bc"};
	assert_true(recap_sched_hash(p1, 2) != recap_sched_hash(p2, 2));
	/* A suffix leaving no room is refused. */
	char suffix[60];
	memset(suffix, 'x', sizeof(suffix) - 1);
	suffix[sizeof(suffix) - 1] = '\0';
	assert_int_equal(recap_sched_name(a, p1, 2, suffix), -EINVAL);
}

static void truncation_never_ends_in_a_separator(void **state)
{
	char out[RECAP_NAME_MAX + 1];
	for (int len = 40; len < 120; len++) {
		char pod[128];
		for (int i = 0; i < len; i++)
			pod[i] = i % 3 == 2 ? '-' : 'p';
		pod[len] = '\0';
		const char *parts[] = {"run-29400000", pod, "c"};
		int n = recap_sched_name(out, parts, 3, "");
		assert_true(n > 0 && n <= RECAP_NAME_MAX);
		assert_int_equal((size_t)n, strlen(out));
		if (strlen("run-29400000-") + len + strlen("-c") <= RECAP_NAME_MAX)
			continue;
		char *hash = out + n - RECAP_NAME_HASH_LEN - 1;
		assert_int_equal(*hash, '-');
		assert_true(hash[-1] != '-' && hash[-1] != '.');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(short_names_are_plain),
	    cmocka_unit_test(long_names_are_cut_and_hashed),
	    cmocka_unit_test(truncation_never_ends_in_a_separator),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

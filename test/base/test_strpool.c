#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/strpool.h"

/* Thousands of copies across chunks keep their text; NULL stays NULL. */
static void test_copies_survive_chunks(void **state)
{
	struct recap_strpool p = RECAP_STRPOOL_INIT;
	const char *v[5000];
	char want[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(want, sizeof(want), "pod-%05d", i);
		v[i] = recap_strpool_dup(&p, want);
		assert_non_null(v[i]);
		assert_ptr_not_equal(v[i], want);
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(want, sizeof(want), "pod-%05d", i);
		assert_string_equal(v[i], want);
	}
	assert_null(recap_strpool_dup(&p, NULL));
	/* 5,000 names of 10 bytes: a few 16 KiB chunks, not one allocation each */
	assert_true(p.bytes < 5 * 16 * 1024);
	recap_strpool_clear(&p);
	assert_null(p.head);
	assert_int_equal(p.bytes, 0);
}

/* A string longer than a quarter chunk gets its own chunk, and the chunk
 * being filled goes on being filled. */
static void test_long_string(void **state)
{
	struct recap_strpool p = RECAP_STRPOOL_INIT;
	size_t n = 40 * 1024;
	char *big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'x', n);
	big[n] = '\0';
	const char *first = recap_strpool_dup(&p, "a");
	const char *copy = recap_strpool_dup(&p, big);
	const char *after = recap_strpool_dup(&p, "b");
	assert_non_null(copy);
	assert_int_equal(strlen(copy), n);
	assert_string_equal(first, "a");
	assert_string_equal(after, "b");
	assert_ptr_equal(after, first + 2); /* same chunk */
	const char *alone = NULL;
	recap_strpool_clear(&p);
	alone = recap_strpool_dup(&p, big); /* the first copy of an empty pool */
	assert_non_null(alone);
	assert_string_equal(recap_strpool_dup(&p, "c"), "c");
	assert_int_equal(memcmp(alone, big, n), 0);
	recap_strpool_clear(&p);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_copies_survive_chunks),
	    cmocka_unit_test(test_long_string),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

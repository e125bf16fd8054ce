#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kubecache/strmap.h"

static void put_get_replace_remove(void **state)
{
	struct recap_kube_strmap *m = recap_kube_strmap_new(0);
	assert_non_null(m);
	int a = 1, b = 2;
	void *old = NULL;
	assert_int_equal(recap_kube_strmap_put(m, "ns/a", &a, &old), 1);
	assert_ptr_equal(recap_kube_strmap_get(m, "ns/a"), &a);
	assert_null(recap_kube_strmap_get(m, "ns/b"));
	assert_int_equal(recap_kube_strmap_put(m, "ns/a", &b, &old), 0);
	assert_ptr_equal(old, &a);
	assert_ptr_equal(recap_kube_strmap_get(m, "ns/a"), &b);
	assert_int_equal(recap_kube_strmap_put(m, "", NULL, NULL), 1);
	assert_true(recap_kube_strmap_contains(m, ""));
	assert_int_equal(recap_kube_strmap_size(m), 2);
	void *v = NULL;
	assert_int_equal(recap_kube_strmap_remove(m, "ns/a", &v), 1);
	assert_ptr_equal(v, &b);
	assert_int_equal(recap_kube_strmap_remove(m, "ns/a", &v), 0);
	assert_int_equal(recap_kube_strmap_size(m), 1);
	recap_kube_strmap_free(m, NULL);
}

static void limit_is_enforced(void **state)
{
	struct recap_kube_strmap *m = recap_kube_strmap_new(2);
	assert_int_equal(recap_kube_strmap_put(m, "a", NULL, NULL), 1);
	assert_int_equal(recap_kube_strmap_put(m, "b", NULL, NULL), 1);
	assert_int_equal(recap_kube_strmap_put(m, "c", NULL, NULL), -ENOBUFS);
	assert_false(recap_kube_strmap_contains(m, "c"));
	/* replacing at the limit is fine */
	assert_int_equal(recap_kube_strmap_put(m, "a", NULL, NULL), 0);
	recap_kube_strmap_remove(m, "a", NULL);
	assert_int_equal(recap_kube_strmap_put(m, "c", NULL, NULL), 1);
	recap_kube_strmap_free(m, NULL);
}

/* Many keys force several doublings; every key must survive them, and a
 * walk that removes as it goes must see each key exactly once. */
static void grows_and_iterates_with_removal(void **state)
{
	enum { N = 5000 };
	struct recap_kube_strmap *m = recap_kube_strmap_new(0);
	char key[32];
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "ns-%d/name-%d", i % 7, i);
		assert_int_equal(recap_kube_strmap_put(m, key, strdup(key), NULL), 1);
	}
	assert_int_equal(recap_kube_strmap_size(m), N);
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "ns-%d/name-%d", i % 7, i);
		assert_string_equal(recap_kube_strmap_get(m, key), key);
	}
	struct recap_kube_strmap_iter it = RECAP_KUBE_STRMAP_ITER_INIT;
	const char *k;
	void *v;
	int seen = 0;
	while (recap_kube_strmap_next(m, &it, &k, &v)) {
		assert_string_equal(k, v);
		if (seen % 2 == 0) {
			char *copy = strdup(k);
			void *val = NULL;
			assert_int_equal(recap_kube_strmap_remove(m, copy, &val), 1);
			free(val);
			free(copy);
		}
		seen++;
	}
	assert_int_equal(seen, N);
	assert_int_equal(recap_kube_strmap_size(m), N / 2);
	assert_true(recap_kube_strmap_footprint(m) > (size_t)N / 2 * 16);
	recap_kube_strmap_free(m, free);
}

static void free_accepts_null(void **state)
{
	recap_kube_strmap_free(NULL, free);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(put_get_replace_remove),
	    cmocka_unit_test(limit_is_enforced),
	    cmocka_unit_test(grows_and_iterates_with_removal),
	    cmocka_unit_test(free_accepts_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

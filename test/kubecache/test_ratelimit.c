#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kubecache/ratelimit.h"

#define MS RECAP_KUBE_NS_PER_MS
#define SEC RECAP_KUBE_NS_PER_SEC

static uint64_t fake_now;

static uint64_t fake_clock(void *data)
{
	return fake_now;
}

static void bucket_burst_then_paced(void **state)
{
	struct recap_kube_bucket b;
	fake_now = 1000 * SEC;
	assert_int_equal(recap_kube_bucket_init(&b, 10, 3, fake_clock, NULL, NULL), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(recap_kube_bucket_reserve(&b), 0);
	/* the burst is used: reservations are spaced 100 ms apart */
	assert_int_equal(recap_kube_bucket_reserve(&b), 100 * MS);
	assert_int_equal(recap_kube_bucket_reserve(&b), 200 * MS);
	assert_false(recap_kube_bucket_try_take(&b));
	assert_int_equal(recap_kube_bucket_wait_ns(&b), 300 * MS);
	fake_now += 250 * MS;
	assert_int_equal(recap_kube_bucket_wait_ns(&b), 50 * MS);
	fake_now += 50 * MS;
	assert_int_equal(recap_kube_bucket_wait_ns(&b), 0);
	assert_true(recap_kube_bucket_try_take(&b));
	assert_false(recap_kube_bucket_try_take(&b));
}

static void bucket_refills_only_to_burst(void **state)
{
	struct recap_kube_bucket b;
	fake_now = 5 * SEC;
	assert_int_equal(recap_kube_bucket_init(&b, 2, 4, fake_clock, NULL, NULL), 0);
	fake_now += 3600 * SEC;
	assert_true(recap_kube_bucket_tokens(&b) <= 4.0);
	for (int i = 0; i < 4; i++)
		assert_true(recap_kube_bucket_try_take(&b));
	assert_false(recap_kube_bucket_try_take(&b));
	assert_int_equal(recap_kube_bucket_reserve(&b), 500 * MS);
}

static void bucket_rejects_bad_parameters(void **state)
{
	struct recap_kube_bucket b;
	struct recap_error *err = NULL;
	assert_int_equal(recap_kube_bucket_init(&b, 0, 1, NULL, NULL, &err), -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "qps"));
	recap_error_free(err);
	err = NULL;
	assert_int_equal(recap_kube_bucket_init(&b, 1.0 / 0.0, 1, NULL, NULL, &err), -EINVAL);
	recap_error_free(err);
	err = NULL;
	assert_int_equal(recap_kube_bucket_init(&b, 5, 0, NULL, NULL, &err), -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "burst"));
	recap_error_free(err);
}

static void bucket_real_clock(void **state)
{
	struct recap_kube_bucket b;
	assert_int_equal(recap_kube_bucket_init(&b, 1, 1, NULL, NULL, NULL), 0);
	assert_int_equal(recap_kube_bucket_reserve(&b), 0);
	uint64_t d = recap_kube_bucket_reserve(&b);
	assert_true(d > 900 * MS && d <= SEC);
}

static uint64_t when(struct recap_kube_ratelimiter *rl, const char *key)
{
	uint64_t d = UINT64_MAX;
	assert_int_equal(recap_kube_ratelimiter_when(rl, key, &d, NULL), 0);
	return d;
}

static void backoff_doubles_caps_and_forgets(void **state)
{
	struct recap_kube_ratelimiter *rl = NULL;
	assert_int_equal(recap_kube_ratelimiter_new_backoff(5 * MS, 1000 * SEC, 0, &rl, NULL), 0);
	assert_int_equal(when(rl, "a"), 5 * MS);
	assert_int_equal(when(rl, "a"), 10 * MS);
	assert_int_equal(when(rl, "a"), 20 * MS);
	assert_int_equal(when(rl, "b"), 5 * MS);
	assert_int_equal(recap_kube_ratelimiter_requeues(rl, "a"), 3);
	assert_int_equal(recap_kube_ratelimiter_requeues(rl, "b"), 1);
	for (int i = 0; i < 200; i++)
		when(rl, "a");
	assert_int_equal(when(rl, "a"), 1000 * SEC);
	recap_kube_ratelimiter_forget(rl, "a");
	assert_int_equal(recap_kube_ratelimiter_requeues(rl, "a"), 0);
	assert_int_equal(when(rl, "a"), 5 * MS);
	recap_kube_ratelimiter_free(rl);
}

static void backoff_key_limit(void **state)
{
	struct recap_kube_ratelimiter *rl = NULL;
	struct recap_error *err = NULL;
	uint64_t d;
	assert_int_equal(recap_kube_ratelimiter_new_backoff(MS, SEC, 2, &rl, NULL), 0);
	when(rl, "a");
	when(rl, "b");
	when(rl, "a");
	assert_int_equal(recap_kube_ratelimiter_when(rl, "c", &d, &err), -ENOBUFS);
	assert_non_null(strstr(recap_error_message(err), "'c'"));
	recap_error_free(err);
	recap_kube_ratelimiter_forget(rl, "b");
	assert_int_equal(when(rl, "c"), MS);
	recap_kube_ratelimiter_free(rl);
}

static void backoff_rejects_bad_range(void **state)
{
	struct recap_kube_ratelimiter *rl = NULL;
	struct recap_error *err = NULL;
	assert_int_equal(recap_kube_ratelimiter_new_backoff(SEC, MS, 0, &rl, &err), -EINVAL);
	assert_null(rl);
	recap_error_free(err);
	assert_int_equal(recap_kube_ratelimiter_new_backoff(0, MS, 0, &rl, NULL), -EINVAL);
}

/* The default combination: per-key backoff dominates for a failing key,
 * the shared bucket dominates once many keys are added at once. */
static void default_is_max_of_backoff_and_bucket(void **state)
{
	struct recap_kube_ratelimiter *rl = NULL;
	fake_now = 10 * SEC;
	assert_int_equal(recap_kube_ratelimiter_new_default(0, fake_clock, NULL, &rl, NULL), 0);
	char key[16];
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(when(rl, key), 5 * MS);
	}
	/* the 101st distinct key waits for the bucket: 100 ms at 10 qps */
	assert_int_equal(when(rl, "k100"), 100 * MS);
	fake_now += 3600 * SEC;
	for (int i = 0; i < 10; i++)
		when(rl, "hot");
	assert_int_equal(recap_kube_ratelimiter_requeues(rl, "hot"), 10);
	assert_int_equal(when(rl, "hot"), 5 * MS << 10);
	recap_kube_ratelimiter_forget(rl, "hot");
	assert_int_equal(recap_kube_ratelimiter_requeues(rl, "hot"), 0);
	recap_kube_ratelimiter_free(rl);
}

static void max_takes_ownership_on_failure(void **state)
{
	struct recap_kube_ratelimiter *parts[2] = {NULL, NULL};
	struct recap_kube_ratelimiter *rl = NULL;
	assert_int_equal(recap_kube_ratelimiter_new_backoff(MS, SEC, 0, &parts[0], NULL), 0);
	/* parts[1] missing: parts[0] must be freed (the leak checker sees it) */
	assert_int_equal(recap_kube_ratelimiter_new_max(parts, 2, &rl, NULL), -EINVAL);
	assert_null(rl);
	recap_kube_ratelimiter_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(bucket_burst_then_paced),
	    cmocka_unit_test(bucket_refills_only_to_burst),
	    cmocka_unit_test(bucket_rejects_bad_parameters),
	    cmocka_unit_test(bucket_real_clock),
	    cmocka_unit_test(backoff_doubles_caps_and_forgets),
	    cmocka_unit_test(backoff_key_limit),
	    cmocka_unit_test(backoff_rejects_bad_range),
	    cmocka_unit_test(default_is_max_of_backoff_and_bucket),
	    cmocka_unit_test(max_takes_ownership_on_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

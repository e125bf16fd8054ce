#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "kubecache/workqueue.h"

#define MS RECAP_KUBE_NS_PER_MS

struct fixture {
	uv_loop_t loop;
	struct recap_kube_workqueue *q;
	char log[4096];	 /* processed keys, space separated */
	uint64_t at[64]; /* loop time of each hand-out */
	size_t n;
	bool hold;  /* keep keys processing until the test calls done */
	bool readd; /* handler re-adds its key before done */
	size_t max_parallel;
	bool drained;
};

static void process(struct recap_kube_workqueue *q, const char *key, void *userdata)
{
	struct fixture *f = userdata;
	size_t used = strlen(f->log);
	if (used + strlen(key) + 2 <= sizeof(f->log)) {
		strcat(f->log, key);
		strcat(f->log, " ");
	}
	if (f->n < ARRAY_SIZE(f->at))
		f->at[f->n] = uv_now(&f->loop);
	f->n++;
	size_t p = recap_kube_workqueue_processing(q);
	if (p > f->max_parallel)
		f->max_parallel = p;
	if (f->readd)
		assert_int_equal(recap_kube_workqueue_add(q, key, NULL), 0);
	if (!f->hold)
		recap_kube_workqueue_done(q, key);
}

static struct fixture *fixture_new(const struct recap_kube_workqueue_options *opts)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(recap_kube_workqueue_new(&f->loop, opts, process, f, &f->q, NULL), 0);
	return f;
}

static void fixture_free(struct fixture *f)
{
	recap_kube_workqueue_free(f->q);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	free(f);
}

static void spin(struct fixture *f, int n)
{
	for (int i = 0; i < n; i++)
		uv_run(&f->loop, UV_RUN_NOWAIT);
}

static void dedups_and_keeps_fifo_order(void **state)
{
	struct fixture *f = fixture_new(NULL);
	assert_int_equal(recap_kube_workqueue_add(f->q, "ns/a", NULL), 0);
	assert_int_equal(recap_kube_workqueue_add(f->q, "ns/b", NULL), 0);
	assert_int_equal(recap_kube_workqueue_add(f->q, "ns/a", NULL), 0);
	assert_int_equal(recap_kube_workqueue_len(f->q), 2);
	/* nothing is handed out from inside add */
	assert_int_equal(f->n, 0);
	spin(f, 3);
	assert_string_equal(f->log, "ns/a ns/b ");
	assert_int_equal(recap_kube_workqueue_tracked(f->q), 0);
	fixture_free(f);
}

static void add_while_processing_requeues_after_done(void **state)
{
	struct recap_kube_workqueue_options o = {.workers = 4};
	struct fixture *f = fixture_new(&o);
	f->hold = true;
	recap_kube_workqueue_add(f->q, "a", NULL);
	spin(f, 2);
	assert_string_equal(f->log, "a ");
	/* a is processing: adding it twice more neither hands it out again
	 * nor queues it twice */
	recap_kube_workqueue_add(f->q, "a", NULL);
	recap_kube_workqueue_add(f->q, "a", NULL);
	spin(f, 3);
	assert_string_equal(f->log, "a ");
	assert_int_equal(recap_kube_workqueue_len(f->q), 0);
	recap_kube_workqueue_done(f->q, "a");
	spin(f, 3);
	assert_string_equal(f->log, "a a ");
	assert_int_equal(f->max_parallel, 1);
	recap_kube_workqueue_done(f->q, "a");
	recap_kube_workqueue_done(f->q, "a"); /* ignored */
	recap_kube_workqueue_done(f->q, "unknown");
	spin(f, 3);
	assert_string_equal(f->log, "a a ");
	assert_int_equal(recap_kube_workqueue_tracked(f->q), 0);
	fixture_free(f);
}

static void workers_bound_parallelism(void **state)
{
	struct recap_kube_workqueue_options o = {.workers = 2};
	struct fixture *f = fixture_new(&o);
	f->hold = true;
	const char *keys[] = {"k1", "k2", "k3", "k4", "k5"};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		recap_kube_workqueue_add(f->q, keys[i], NULL);
	spin(f, 5);
	assert_string_equal(f->log, "k1 k2 ");
	assert_int_equal(recap_kube_workqueue_processing(f->q), 2);
	recap_kube_workqueue_done(f->q, "k2");
	spin(f, 2);
	assert_string_equal(f->log, "k1 k2 k3 ");
	recap_kube_workqueue_done(f->q, "k1");
	recap_kube_workqueue_done(f->q, "k3");
	spin(f, 2);
	assert_string_equal(f->log, "k1 k2 k3 k4 k5 ");
	assert_int_equal(f->max_parallel, 2);
	recap_kube_workqueue_done(f->q, "k4");
	recap_kube_workqueue_done(f->q, "k5");
	fixture_free(f);
}

static void count_handle(uv_handle_t *h, void *arg)
{
	if (uv_is_active(h))
		(*(int *)arg)++;
}

static void delayed_adds_fire_in_deadline_order(void **state)
{
	struct fixture *f = fixture_new(NULL);
	uint64_t t0 = uv_now(&f->loop);
	assert_int_equal(recap_kube_workqueue_add_after(f->q, "x", 150 * MS, NULL), 0);
	assert_int_equal(recap_kube_workqueue_add_after(f->q, "y", 30 * MS, NULL), 0);
	assert_int_equal(recap_kube_workqueue_add_after(f->q, "z", 90 * MS, NULL), 0);
	/* a later deadline for a waiting key does not postpone it, an earlier one wins */
	assert_int_equal(recap_kube_workqueue_add_after(f->q, "y", 500 * MS, NULL), 0);
	assert_int_equal(recap_kube_workqueue_add_after(f->q, "x", 60 * MS, NULL), 0);
	assert_int_equal(recap_kube_workqueue_tracked(f->q), 3);
	assert_int_equal(recap_kube_workqueue_len(f->q), 0);
	int active = 0;
	uv_walk(&f->loop, count_handle, &active);
	assert_int_equal(active, 1); /* one timer for all delayed keys */
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_string_equal(f->log, "y x z ");
	assert_true(f->at[0] - t0 >= 30);
	assert_true(f->at[1] - t0 >= 60);
	assert_true(f->at[2] - t0 >= 90);
	assert_true(f->at[2] - t0 < 1000); /* generous: CI machines are busy */
	assert_int_equal(recap_kube_workqueue_tracked(f->q), 0);
	fixture_free(f);
}

static void delayed_key_already_queued_is_handed_out_once(void **state)
{
	struct fixture *f = fixture_new(NULL);
	f->hold = true;
	recap_kube_workqueue_add(f->q, "a", NULL);
	recap_kube_workqueue_add_after(f->q, "a", 20 * MS, NULL);
	spin(f, 2);
	assert_string_equal(f->log, "a ");
	recap_kube_workqueue_done(f->q, "a");
	f->hold = false;
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_string_equal(f->log, "a a ");
	fixture_free(f);
}

/* A key that keeps failing is retried after 10, 20, 40, 80, 80 ms. */
struct retry {
	struct fixture f;
	int failures_left;
};

static void process_failing(struct recap_kube_workqueue *q, const char *key, void *userdata)
{
	struct retry *rt = userdata;
	process(q, key, &rt->f);
	if (rt->failures_left-- > 0) {
		assert_int_equal(recap_kube_workqueue_add_rate_limited(q, key, NULL), 0);
	} else {
		assert_int_equal(recap_kube_workqueue_requeues(q, key), 5);
		recap_kube_workqueue_forget(q, key);
		assert_int_equal(recap_kube_workqueue_requeues(q, key), 0);
	}
	recap_kube_workqueue_done(q, key); /* last: key is invalid after it */
}

static void rate_limited_adds_back_off_per_key(void **state)
{
	struct retry rt = {.failures_left = 5, .f.hold = true};
	struct recap_kube_workqueue_options o = {0};
	assert_int_equal(recap_kube_ratelimiter_new_backoff(10 * MS, 80 * MS, 0, &o.limiter, NULL), 0);
	assert_int_equal(uv_loop_init(&rt.f.loop), 0);
	assert_int_equal(recap_kube_workqueue_new(&rt.f.loop, &o, process_failing, &rt, &rt.f.q, NULL), 0);
	recap_kube_workqueue_add(rt.f.q, "a", NULL);
	uv_run(&rt.f.loop, UV_RUN_DEFAULT);
	assert_int_equal(rt.f.n, 6);
	const uint64_t want[] = {10, 20, 40, 80, 80};
	for (int i = 0; i < 5; i++) {
		uint64_t gap = rt.f.at[i + 1] - rt.f.at[i];
		assert_true(gap >= want[i]);
		assert_true(gap < want[i] + 250);
	}
	recap_kube_workqueue_free(rt.f.q);
	uv_run(&rt.f.loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&rt.f.loop), 0);
}

/* Distinct keys share the overall bucket: burst 2, then 20 ms apart. */
static void rate_limited_adds_share_the_bucket(void **state)
{
	struct recap_kube_workqueue_options o = {0};
	assert_int_equal(recap_kube_ratelimiter_new_bucket(50, 2, NULL, NULL, &o.limiter, NULL), 0);
	struct fixture *f = fixture_new(&o);
	uint64_t t0 = uv_now(&f->loop);
	const char *keys[] = {"k1", "k2", "k3", "k4", "k5"};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		assert_int_equal(recap_kube_workqueue_add_rate_limited(f->q, keys[i], NULL), 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_string_equal(f->log, "k1 k2 k3 k4 k5 ");
	assert_true(f->at[1] - t0 < 50);
	assert_true(f->at[4] - t0 >= 59);
	assert_true(f->at[4] - t0 < 1000);
	fixture_free(f);
}

static void length_limit_is_enforced(void **state)
{
	struct recap_kube_workqueue_options o = {.name = "pods", .max_len = 3};
	struct fixture *f = fixture_new(&o);
	f->hold = true;
	struct recap_error *err = NULL;
	assert_int_equal(recap_kube_workqueue_add(f->q, "a", NULL), 0);
	assert_int_equal(recap_kube_workqueue_add_after(f->q, "b", 1000 * MS, NULL), 0);
	spin(f, 2); /* a is processing, b waiting */
	assert_int_equal(recap_kube_workqueue_add(f->q, "c", NULL), 0);
	assert_int_equal(recap_kube_workqueue_add(f->q, "d", &err), -ENOBUFS);
	assert_string_equal(recap_error_message(err), "pods: full (3 keys), cannot add 'd'");
	recap_error_free(err);
	err = NULL;
	/* keys already tracked can still be added */
	assert_int_equal(recap_kube_workqueue_add(f->q, "a", NULL), 0);
	assert_int_equal(recap_kube_workqueue_add(f->q, "", &err), -EINVAL);
	recap_error_free(err);
	recap_kube_workqueue_done(f->q, "a");
	f->hold = false;
	spin(f, 2);
	assert_int_equal(recap_kube_workqueue_tracked(f->q), 1); /* only b, waiting */
	assert_int_equal(recap_kube_workqueue_add(f->q, "d", NULL), 0);
	recap_kube_workqueue_shutdown(f->q, false, NULL);
	fixture_free(f);
}

static void on_drained(struct recap_kube_workqueue *q, void *userdata)
{
	struct fixture *f = userdata;
	assert_false(f->drained);
	assert_int_equal(recap_kube_workqueue_processing(q), 0);
	f->drained = true;
}

static void shutdown_drains_queued_and_drops_delayed(void **state)
{
	struct fixture *f = fixture_new(NULL);
	f->hold = true;
	recap_kube_workqueue_add(f->q, "a", NULL);
	spin(f, 2);
	recap_kube_workqueue_add(f->q, "a", NULL); /* dirty while processing */
	recap_kube_workqueue_add(f->q, "b", NULL);
	recap_kube_workqueue_add_after(f->q, "late", 10 * MS, NULL);
	recap_kube_workqueue_shutdown(f->q, true, on_drained);
	struct recap_error *err = NULL;
	assert_int_equal(recap_kube_workqueue_add(f->q, "c", &err), -ESHUTDOWN);
	assert_non_null(strstr(recap_error_message(err), "shutting down"));
	recap_error_free(err);
	spin(f, 3);
	assert_false(f->drained);
	f->hold = false;
	recap_kube_workqueue_done(f->q, "a");
	uv_run(&f->loop, UV_RUN_DEFAULT); /* ends: the delayed key's timer is gone */
	assert_string_equal(f->log, "a b a ");
	assert_true(f->drained);
	assert_int_equal(recap_kube_workqueue_tracked(f->q), 0);
	fixture_free(f);
}

static void shutdown_without_drain_drops_queued(void **state)
{
	struct fixture *f = fixture_new(NULL);
	f->hold = true;
	recap_kube_workqueue_add(f->q, "a", NULL);
	spin(f, 2);
	recap_kube_workqueue_add(f->q, "a", NULL);
	recap_kube_workqueue_add(f->q, "b", NULL);
	recap_kube_workqueue_shutdown(f->q, false, on_drained);
	assert_int_equal(recap_kube_workqueue_len(f->q), 0);
	spin(f, 2);
	assert_false(f->drained);
	recap_kube_workqueue_done(f->q, "a");
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_string_equal(f->log, "a ");
	assert_true(f->drained);
	assert_int_equal(recap_kube_workqueue_tracked(f->q), 0);
	fixture_free(f);
}

static void stop_loop(uv_timer_t *t)
{
	struct fixture *f = t->data;
	recap_kube_workqueue_shutdown(f->q, false, NULL);
	uv_close((uv_handle_t *)t, NULL);
}

/* A handler that re-adds its own key synchronously must not keep the loop
 * from running timers. */
static void self_readding_handler_does_not_starve_the_loop(void **state)
{
	struct fixture *f = fixture_new(NULL);
	f->readd = true;
	uv_timer_t t;
	uv_timer_init(&f->loop, &t);
	t.data = f;
	uv_timer_start(&t, stop_loop, 20, 0);
	recap_kube_workqueue_add(f->q, "hot", NULL);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_true(f->n > 10);
	assert_int_equal(f->max_parallel, 1);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(dedups_and_keeps_fifo_order),
	    cmocka_unit_test(add_while_processing_requeues_after_done),
	    cmocka_unit_test(workers_bound_parallelism),
	    cmocka_unit_test(delayed_adds_fire_in_deadline_order),
	    cmocka_unit_test(delayed_key_already_queued_is_handed_out_once),
	    cmocka_unit_test(rate_limited_adds_back_off_per_key),
	    cmocka_unit_test(rate_limited_adds_share_the_bucket),
	    cmocka_unit_test(length_limit_is_enforced),
	    cmocka_unit_test(shutdown_drains_queued_and_drops_delayed),
	    cmocka_unit_test(shutdown_without_drain_drops_queued),
	    cmocka_unit_test(self_readding_handler_does_not_starve_the_loop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

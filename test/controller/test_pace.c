/* Pacing of reconcile passes (controller/op.c): a pass whose own work took
 * 2 ms of CPU or more, and that created nothing, holds the next pass of its
 * key back four times as long; a cheap pass, or one that created, holds
 * nothing back. Driven through the real work
 * queue on a libuv loop, with a reconciler that burns the CPU it is told. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/timeutil.h"
#include "controller/ctl.h"

#define KEY "shop/rollout-1"
#define MS (1000 * 1000ull)

static struct {
	uv_loop_t loop;
	struct recap_controller ctl;
	uint64_t burn_ns; /* CPU the next pass burns */
	bool creates;	  /* the next pass counts as having created */
	unsigned passes;
	uint64_t start[4], end[4]; /* monotonic ns */
} S;

static int reconcile(struct recap_controller *ctl, struct ctl_op *op, struct recap_error **err)
{
	assert_string_equal(op->key, KEY);
	assert_true(S.passes < 4);
	S.start[S.passes] = recap_now_mono_ns();
	for (uint64_t t0 = recap_thread_cpu_ns(); recap_thread_cpu_ns() - t0 < S.burn_ns;)
		;
	S.end[S.passes++] = recap_now_mono_ns();
	op->created = S.creates;
	return 0;
}

static void run_until_passes(unsigned n)
{
	for (int i = 0; S.passes < n && i < 5000; i++)
		uv_run(&S.loop, UV_RUN_ONCE);
	assert_int_equal(S.passes, n);
}

static bool held(uint64_t *not_before)
{
	struct recap_kube_strmap *m = S.ctl.queues[KIND_RUN].not_before;
	if (!recap_kube_strmap_contains(m, KEY))
		return false;
	*not_before = (uint64_t)(uintptr_t)recap_kube_strmap_get(m, KEY);
	return true;
}

static int setup(void **state)
{
	memset(&S, 0, sizeof(S));
	assert_int_equal(uv_loop_init(&S.loop), 0);
	S.ctl.loop = &S.loop;
	S.ctl.active = S.ctl.may_act = true;
	struct ctl_queue *q = &S.ctl.queues[KIND_RUN];
	q->kind = "CapsuleRun";
	q->reconcile = reconcile;
	q->not_before = recap_kube_strmap_new(0);
	assert_non_null(q->not_before);
	struct recap_kube_workqueue_options o = {.name = "runs"};
	assert_int_equal(recap_kube_workqueue_new(&S.loop, &o, recap_ctl_process, &S.ctl, &q->q, NULL), 0);
	return 0;
}

static int teardown(void **state)
{
	struct ctl_queue *q = &S.ctl.queues[KIND_RUN];
	recap_kube_workqueue_free(q->q);
	uv_run(&S.loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&S.loop), 0);
	recap_kube_strmap_free(q->not_before, NULL);
	return 0;
}

static void a_costly_pass_holds_the_next_back(void **state)
{
	S.burn_ns = 3 * MS;
	recap_ctl_enqueue(&S.ctl, KIND_RUN, KEY);
	run_until_passes(1);
	uint64_t not_before = 0;
	assert_true(held(&not_before));
	assert_true(not_before >= S.end[0] + 4 * 3 * MS);
	/* asked for again at once: handed out only when that time has come */
	S.burn_ns = 0;
	recap_ctl_enqueue(&S.ctl, KIND_RUN, KEY);
	run_until_passes(2);
	assert_true(S.start[1] >= not_before);
	/* that pass was cheap: the next one is not held back */
	assert_false(held(&not_before));
	recap_ctl_enqueue(&S.ctl, KIND_RUN, KEY);
	run_until_passes(3);
	assert_false(held(&not_before));
}

static void a_costly_pass_that_created_holds_nothing(void **state)
{
	S.burn_ns = 3 * MS;
	S.creates = true;
	recap_ctl_enqueue(&S.ctl, KIND_RUN, KEY);
	run_until_passes(1);
	uint64_t nb;
	assert_false(held(&nb));
}

static void cheap_passes_are_never_held(void **state)
{
	S.burn_ns = 0;
	for (unsigned i = 1; i <= 3; i++) {
		recap_ctl_enqueue(&S.ctl, KIND_RUN, KEY);
		run_until_passes(i);
		uint64_t nb;
		assert_false(held(&nb));
	}
	assert_int_equal(recap_kube_strmap_size(S.ctl.queues[KIND_RUN].not_before), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(a_costly_pass_holds_the_next_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(a_costly_pass_that_created_holds_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(cheap_passes_are_never_held, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

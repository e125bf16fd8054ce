/* Expectations and the Iterative planner together: executions a pass
 * created that the cache does not show yet count against maxConcurrent,
 * so the next pass creates no more than the limit allows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controller/ctl.h"
#include "sched/strategy.h"

#define NS "shop"
#define RUN "rollout-1"
#define TARGETS 5

/* The controller's view of one Iterative run: targets, the executions its
 * cache shows and status.dispatched. */
struct view {
	uv_loop_t loop;
	struct recap_controller ctl;
	struct ctl_unseen unseen;
	struct recap_strategy s;
	struct recap_target t[TARGETS];
	char pod[TARGETS][16];
	struct recap_execution e[TARGETS];
	char ename[TARGETS][RECAP_NAME_MAX + 1];
	size_t ne;
	const char *disp[TARGETS];
	char dispbuf[TARGETS][RECAP_STRATEGY_DISPATCH_ID_LEN + 1];
	size_t nd;
};

static struct view *view_new(size_t max_concurrent)
{
	struct view *v = calloc(1, sizeof(*v));
	assert_non_null(v);
	assert_int_equal(uv_loop_init(&v->loop), 0);
	v->ctl.loop = &v->loop;
	assert_int_equal(recap_ctl_expect_new(&v->ctl), 0);
	v->unseen = (struct ctl_unseen){&v->ctl, NS};
	/* Continue: a target counted lost does not halt the run, so only the
	 * in-flight count holds the next ones back. */
	v->s = (struct recap_strategy){.type = RECAP_STRATEGY_ITERATIVE,
				       .max_concurrent = max_concurrent,
				       .failure_policy = RECAP_FAILURE_CONTINUE};
	for (size_t i = 0; i < TARGETS; i++) {
		snprintf(v->pod[i], sizeof(v->pod[i]), "web-%zu", i);
		v->t[i] = (struct recap_target){
		    .pod = v->pod[i], .ns = NS, .uid = "uid", .node = "node-1", .container = "app"};
	}
	return v;
}

static void view_free(struct view *v)
{
	recap_ctl_expect_free(&v->ctl);
	assert_int_equal(uv_loop_close(&v->loop), 0);
	free(v);
}

static struct recap_plan_input input(struct view *v)
{
	return (struct recap_plan_input){.run = RUN,
					 .strategy = &v->s,
					 .targets = v->t,
					 .n_targets = TARGETS,
					 .execs = v->e,
					 .n_execs = v->ne,
					 .dispatched = v->disp,
					 .n_dispatched = v->nd,
					 .unseen = recap_ctl_unseen,
					 .unseen_ctx = &v->unseen};
}

/* One pass as run.c makes it: plan, record status.dispatched, create;
 * each create is answered with http_status (201: created, so expected;
 * otherwise as creates.c takes a failed create). Returns the pods created. */
static const char *pass_answered(struct view *v, long http_status)
{
	static char out[128];
	struct recap_plan_input in = input(v);
	struct recap_plan p;
	json_t *ids = NULL;
	assert_int_equal(recap_strategy_plan(&in, &p, NULL), 0);
	assert_int_equal(recap_strategy_dispatched(&in, &p, &ids, NULL), 0);
	v->nd = json_array_size(ids);
	for (size_t i = 0; i < v->nd; i++) {
		snprintf(v->dispbuf[i], sizeof(v->dispbuf[i]), "%s",
			 json_string_value(json_array_get(ids, i)));
		v->disp[i] = v->dispbuf[i];
	}
	json_decref(ids);
	out[0] = '\0';
	for (size_t i = 0; i < p.n_create; i++) {
		if (http_status == 201)
			recap_ctl_expect_created(&v->ctl, NS, p.create[i].name);
		else
			recap_ctl_expect_failed_create(&v->ctl, NS, p.create[i].name, http_status);
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? "," : "",
			 v->t[p.create[i].target].pod);
	}
	recap_strategy_plan_clear(&p);
	return out;
}

static const char *pass(struct view *v)
{
	return pass_answered(v, 201);
}

/* The informer shows the execution of pod, in phase. */
static void seen(struct view *v, size_t pod, enum recap_exec_phase phase)
{
	struct recap_execution *e = NULL;
	for (size_t i = 0; i < v->ne; i++)
		if (strcmp(v->e[i].pod, v->pod[pod]) == 0)
			e = &v->e[i];
	if (!e) {
		e = &v->e[v->ne];
		assert_true(recap_strategy_exec_name(RUN, v->pod[pod], "app", v->ename[v->ne]) >= 0);
		*e = (struct recap_execution){
		    .name = v->ename[v->ne], .pod = v->pod[pod], .container = "app", .exit_code = -1};
		v->ne++;
		recap_ctl_expect_seen(&v->ctl, NS, e->name);
	}
	e->phase = phase;
}

static void unobserved_creates_count_against_max_concurrent(void **state)
{
	struct view *v = view_new(2);
	assert_string_equal(pass(v), "web-0,web-1");
	/* The cache shows neither yet: both are in flight, nothing more starts. */
	assert_string_equal(pass(v), "");
	assert_string_equal(pass(v), "");
	/* One shows up: still two in flight. */
	seen(v, 0, RECAP_EXEC_RUNNING);
	assert_string_equal(pass(v), "");
	/* It finishes while the other is still unseen: exactly one more. */
	seen(v, 0, RECAP_EXEC_SUCCEEDED);
	assert_string_equal(pass(v), "web-2");
	assert_string_equal(pass(v), "");
	seen(v, 1, RECAP_EXEC_SUCCEEDED);
	assert_string_equal(pass(v), "web-3");
	struct recap_plan_input in = input(v);
	struct recap_run_status st;
	assert_int_equal(recap_strategy_aggregate(&in, &st, NULL), 0);
	assert_int_equal(st.succeeded, 2);
	assert_int_equal(st.failed, 0); /* the unseen ones were never taken for lost */
	view_free(v);
}

/* A 5xx or no answer may come after the server stored the execution: it
 * counts in flight like a created one, not as lost (which would let the
 * next pass start more than maxConcurrent when it shows up after all). */
static void unknown_create_outcome_counts_in_flight(void **state)
{
	long unknown[] = {500, 503, 504, 0};
	for (size_t k = 0; k < sizeof(unknown) / sizeof(unknown[0]); k++) {
		struct view *v = view_new(2);
		assert_string_equal(pass_answered(v, unknown[k]), "web-0,web-1");
		assert_string_equal(pass(v), "");
		seen(v, 1, RECAP_EXEC_RUNNING); /* it was stored after all */
		assert_string_equal(pass(v), "");
		view_free(v);
	}
}

/* A 4xx stored nothing: the same targets are sent again, no others. */
static void refused_create_is_sent_again(void **state)
{
	struct view *v = view_new(2);
	assert_string_equal(pass_answered(v, 422), "web-0,web-1");
	assert_string_equal(pass(v), "web-0,web-1");
	assert_string_equal(pass(v), "");
	view_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(unobserved_creates_count_against_max_concurrent),
	    cmocka_unit_test(unknown_create_outcome_counts_in_flight),
	    cmocka_unit_test(refused_create_is_sent_again),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* A run's status from its executions. */
#include <errno.h>
#include <string.h>

#include "sched/strategy_index.h"

static bool is_cancelled(const struct recap_execution *e)
{
	return e->phase == RECAP_EXEC_FAILED && e->reason && strcmp(e->reason, "Cancelled") == 0;
}

static void add_failure(struct recap_run_status *st, const struct recap_execution *e)
{
	if (st->n_failures >= RECAP_STRATEGY_FAILURES_MAX)
		return;
	st->failures[st->n_failures++] = (struct recap_run_failure){
	    .execution = e->name,
	    .pod = e->pod,
	    .container = e->container,
	    .node = e->node,
	    .reason = e->reason,
	    .message = e->message,
	    .exit_code = e->exit_code,
	};
}

/* Counts every target once, failures in the strategy's order. */
static void count(const struct recap_plan_input *in, const struct run_index *ix, struct recap_run_status *st,
		  bool *started)
{
	for (size_t k = 0; k < ix->n; k++) {
		long e = ix->exec[ix->order[k]];
		if (e < 0) {
			st->pending++; /* corrected below when it will never start */
			continue;
		}
		const struct recap_execution *x = &in->execs[e];
		*started = *started || x->phase != RECAP_EXEC_PENDING;
		if (is_cancelled(x)) {
			st->cancelled++;
		} else if (x->phase == RECAP_EXEC_FAILED) {
			st->failed++;
			add_failure(st, x);
		} else if (x->phase == RECAP_EXEC_SUCCEEDED) {
			st->succeeded++;
		} else if (x->phase >= RECAP_EXEC_RUNNING) {
			st->running++;
		} else {
			st->pending++;
		}
	}
}

static enum recap_run_phase final_phase(const struct recap_plan_input *in, const struct recap_run_status *st)
{
	if (in->cancel && (st->cancelled > 0))
		return RECAP_RUN_CANCELLED;
	if (st->succeeded == st->targets && st->targets > 0)
		return RECAP_RUN_SUCCEEDED;
	if (st->succeeded == 0 || st->halted)
		return RECAP_RUN_FAILED;
	return RECAP_RUN_PARTIALLY_FAILED;
}

int recap_strategy_aggregate(const struct recap_plan_input *in, struct recap_run_status *ret,
			     struct recap_error **err)
{
	struct recap_plan plan;
	int r = recap_strategy_plan(in, &plan, err);
	if (r < 0)
		return r;
	size_t blocked = plan.blocked, creating = plan.n_create;
	recap_strategy_plan_clear(&plan);
	struct run_index ix;
	if ((r = recap_sched_run_index(in, &ix, err)) < 0)
		return r;
	struct recap_run_status st = {.targets = in->n_targets};
	bool started = false;
	count(in, &ix, &st, &started);
	recap_sched_run_index_free(&ix);
	/* Targets that never get an execution are cancelled (cancel) or skipped. */
	st.pending -= blocked;
	if (in->cancel)
		st.cancelled += blocked;
	else
		st.skipped = blocked;
	const struct recap_strategy *s = in->strategy;
	st.halted = s->type == RECAP_STRATEGY_ITERATIVE && s->failure_policy == RECAP_FAILURE_STOP &&
		    st.failed > 0 && blocked > 0;
	st.no_targets = in->n_targets == 0;
	st.complete = st.pending == 0 && st.running == 0 && creating == 0;
	if (st.complete)
		st.phase = final_phase(in, &st);
	else
		st.phase = started || st.succeeded + st.failed + st.cancelled > 0 ? RECAP_RUN_RUNNING
										  : RECAP_RUN_PENDING;
	*ret = st;
	return 0;
}

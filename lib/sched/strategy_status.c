/* A run's status from its executions. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/names.h"
#include "sched/strategy_index.h"

static bool is_cancelled(const struct recap_execution *e)
{
	return e->phase == RECAP_EXEC_FAILED && e->reason && strcmp(e->reason, RECAP_REASON_CANCELLED) == 0;
}

/* Deleted while the run goes on (not by its cancel): the node agent stopped
 * it, whatever reason it wrote. */
static bool is_deleted(const struct recap_plan_input *in, const struct recap_execution *e)
{
	return e->phase == RECAP_EXEC_FAILED && e->deleting && !in->cancel;
}

static void add_failure(struct recap_run_status *st, const char *name, const struct recap_target *t,
			const char *reason, const char *message, int exit_code)
{
	if (st->n_failures >= RECAP_STRATEGY_FAILURES_MAX)
		return;
	struct recap_run_failure *f = &st->failures[st->n_failures++];
	*f = (struct recap_run_failure){
	    .pod = t ? t->pod : NULL,
	    .container = t ? t->container : NULL,
	    .node = t ? t->node : NULL,
	    .reason = reason,
	    .message = message,
	    .exit_code = exit_code,
	};
	snprintf(f->execution, sizeof(f->execution), "%s", name ? name : "");
}

static void add_exec_failure(const struct recap_plan_input *in, struct recap_run_status *st,
			     const struct recap_execution *e)
{
	struct recap_target t = {.pod = e->pod, .container = e->container, .node = e->node};
	if (is_deleted(in, e))
		add_failure(st, e->name, &t, RECAP_REASON_EXECUTION_DELETED, RECAP_STRATEGY_DELETED_MESSAGE,
			    -1);
	else
		add_failure(st, e->name, &t, e->reason, e->message, e->exit_code);
}

/* A dispatched target whose execution is gone (or was never created). */
static void add_lost(const struct recap_plan_input *in, struct recap_run_status *st,
		     const struct recap_target *t)
{
	char name[RECAP_NAME_MAX + 1];
	if (recap_strategy_exec_name(in->run, t->pod, t->container, name) < 0)
		name[0] = '\0';
	st->failed++;
	add_failure(st, name, t, RECAP_REASON_EXECUTION_DELETED, RECAP_STRATEGY_DELETED_MESSAGE, -1);
}

/* A target whose execution name another target's execution has. */
static void add_collision(const struct recap_plan_input *in, struct recap_run_status *st,
			  const struct recap_target *t)
{
	char name[RECAP_NAME_MAX + 1];
	if (recap_strategy_exec_name(in->run, t->pod, t->container, name) < 0)
		name[0] = '\0';
	st->failed++;
	add_failure(st, name, t, RECAP_REASON_EXECUTION_NAME_COLLISION, RECAP_STRATEGY_COLLISION_MESSAGE, -1);
}

/* Counts every target once, failures in the strategy's order. */
static void count(const struct recap_plan_input *in, const struct run_index *ix, struct recap_run_status *st,
		  bool *started)
{
	for (size_t k = 0; k < ix->n; k++) {
		size_t t = ix->order[k];
		long e = ix->exec[t];
		if (e < 0 && ix->dispatch[t] == NAME_COLLISION) {
			if (in->cancel)
				st->cancelled++;
			else
				add_collision(in, st, &in->targets[t]);
			continue;
		}
		if (e < 0 && ix->dispatch[t] == RECAP_DISPATCH_LOST) {
			*started = true;
			if (in->cancel) /* the cancel deleted it */
				st->cancelled++;
			else
				add_lost(in, st, &in->targets[t]);
			continue;
		}
		if (e < 0) {
			st->pending++; /* corrected below when it will never start */
			continue;
		}
		const struct recap_execution *x = &in->execs[e];
		*started = *started || x->phase != RECAP_EXEC_PENDING;
		if (is_cancelled(x) && !is_deleted(in, x)) {
			st->cancelled++;
		} else if (x->phase == RECAP_EXEC_FAILED) {
			st->failed++;
			add_exec_failure(in, st, x);
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
	/* Dispatched targets that are no target now (pod and execution gone). */
	st.targets += ix.n_orphans_lost + ix.n_orphans_in_flight;
	st.pending += ix.n_orphans_in_flight;
	if (in->cancel)
		st.cancelled += ix.n_orphans_lost;
	else
		st.failed += ix.n_orphans_lost;
	for (size_t o = 0; !in->cancel && o < ix.n_orphans_lost && o < RECAP_STRATEGY_FAILURES_MAX; o++)
		add_failure(&st, ix.orphans[o], NULL, RECAP_REASON_EXECUTION_DELETED,
			    RECAP_STRATEGY_DELETED_MESSAGE, -1);
	started = started || ix.n_orphans_lost + ix.n_orphans_in_flight > 0;
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
	st.no_targets = st.targets == 0;
	st.complete = st.pending == 0 && st.running == 0 && creating == 0;
	if (st.complete)
		st.phase = final_phase(in, &st);
	else
		st.phase = started || st.succeeded + st.failed + st.cancelled > 0 ? RECAP_RUN_RUNNING
										  : RECAP_RUN_PENDING;
	*ret = st;
	return 0;
}

/* One execution's state machine. Every transition that may start the
 * command is written to the API first (Attaching before the spawn), so a
 * restarted agent never starts a command twice. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/names.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "caplet/agent.h"

static bool has_finalizer(json_t *obj)
{
	size_t i;
	json_t *f;
	json_array_foreach (recap_json_path(obj, "metadata.finalizers"), i, f)
		if (json_is_string(f) && strcmp(json_string_value(f), CAPLET_FINALIZER) == 0)
			return true;
	return false;
}

static bool phase_is(json_t *obj, const char *const *phases)
{
	const char *p = recap_json_str(obj, "status.phase");
	for (; p && *phases; phases++)
		if (strcmp(p, *phases) == 0)
			return true;
	return false;
}

static bool deleting(json_t *obj)
{
	return recap_json_path(obj, "metadata.deletionTimestamp") != NULL;
}

void caplet_exec_release_slot(struct caplet_exec *x)
{
	if (!x->has_slot)
		return;
	x->has_slot = false;
	x->agent->slots_used--;
	caplet_dispatch(x->agent);
}

void caplet_exec_finish(struct caplet_exec *x, json_t *status)
{
	json_decref(x->final);
	x->final = status;
	x->st = X_FINISHING;
	caplet_exec_release_slot(x);
	caplet_exec_step(x);
}

static void refuse(struct caplet_exec *x, const char *reason, const char *msg)
{
	caplet_logf(x->agent, RECAP_LOG_INFO, "execution %s: %s: %s", x->key, reason, msg);
	caplet_exec_finish(x, recap_caplet_status_refused(reason, msg));
}

/* A failed write is retried by the agent's tick (every 2 s), never at once:
 * a persistent error (403, a webhook) must not become a busy loop. */
static void after_write(struct caplet_exec *x, bool ok)
{
	if (ok)
		caplet_exec_step(x);
}

static void on_final_written(struct caplet_exec *x, bool ok)
{
	/* 422: the API server keeps a finished execution finished (CEL); there
	 * is nothing more to write, only the finalizer to release. */
	bool settled = x->last_code == RECAP_KUBE_ERR_INVALID;
	if (!ok && !x->gone && !settled)
		return; /* retried by the tick */
	if (ok || x->gone || settled) {
		const char *reason = recap_json_str(x->final, "reason");
		caplet_metrics_result(x->agent, recap_json_str(x->final, "phase"), reason,
				      x->accepted_us ? recap_caplet_now_us() - x->accepted_us : -1);
		caplet_logf(x->agent, RECAP_LOG_INFO, "execution %s: %s (%s)", x->key,
			    recap_json_str(x->final, "phase"), reason);
		bool escaped = recap_json_bool(x->final, "escaped", 0) == 1;
		x->st = escaped ? X_RELEASING : X_DONE;
	}
	caplet_exec_step(x);
}

static void enqueue(struct caplet_exec *x)
{
	struct recap_caplet *c = x->agent;
	x->st = X_QUEUED;
	x->accepted_us = recap_caplet_now_us();
	x->next_queued = NULL;
	*c->queue_tail = x;
	c->queue_tail = &x->next_queued;
	caplet_dispatch(c);
}

bool caplet_exec_expired(struct caplet_exec *x)
{
	int64_t left;
	return recap_caplet_deadline_left(x->obj, time(NULL), &left, NULL) >= 0 && left <= 0;
}

static void unqueue(struct caplet_exec *x)
{
	struct recap_caplet *c = x->agent;
	struct caplet_exec **pp = &c->queue_head;
	while (*pp && *pp != x)
		pp = &(*pp)->next_queued;
	if (!*pp)
		return;
	*pp = x->next_queued;
	if (c->queue_tail == &x->next_queued)
		c->queue_tail = pp;
}

static void accept_or_refuse(struct caplet_exec *x)
{
	_cleanup_free_ char *msg = NULL;
	_cleanup_error_ struct recap_error *err = NULL;
	int r = caplet_policy_check(x->agent, x->obj, &msg);
	if (r <= 0) {
		refuse(x, RECAP_REASON_POLICY_DENIED, msg ? msg : "policy could not be evaluated");
		return;
	}
	int64_t left;
	if (caplet_image_check(x->obj, &err) < 0 ||
	    recap_caplet_deadline_left(x->obj, time(NULL), &left, &err) < 0) {
		refuse(x, RECAP_REASON_INVALID_SPEC, recap_error_message(err));
		return;
	}
	if (left <= 0) {
		refuse(x, RECAP_REASON_DEADLINE_EXCEEDED,
		       "spec.deadline passed before the execution could start");
		return;
	}
	enqueue(x);
}

void caplet_exec_stand_down(struct caplet_exec *x)
{
	if (x->gone)
		caplet_logf(x->agent, RECAP_LOG_INFO, "execution %s: gone before it was claimed", x->key);
	else
		caplet_logf(x->agent, RECAP_LOG_INFO,
			    "execution %s: claimed by another writer (phase %s): left to it, nothing "
			    "of it runs here",
			    x->key, recap_json_str(x->obj, "status.phase") ?: "none");
	if (x->proc && !x->spec_sent)
		caplet_proc_drop_doc(x->proc); /* the executor exits without running anything */
	x->st = X_FOREIGN;
	caplet_exec_release_slot(x);
}

/* Attaching, Running or Escaping, and not by this agent (its own claims
 * leave X_NEW). Found so in the startup list, it may be the previous
 * agent's run: recovered. Seen unstarted before, or first seen after the
 * startup list, another writer claimed it while this agent runs: not an
 * orphan of ours, left alone. */
static void step_found_started(struct caplet_exec *x)
{
	if (!x->inherited || x->seen_unstarted) {
		caplet_exec_stand_down(x);
		return;
	}
	x->st = X_RECOVER;
	x->recover_reason = RECAP_REASON_NODE_AGENT_RESTARTED;
	caplet_recover_exec(x);
}

static void step_new(struct caplet_exec *x)
{
	static const char *const terminal[] = {RECAP_PHASE_SUCCEEDED, RECAP_PHASE_FAILED, NULL};
	static const char *const started[] = {RECAP_PHASE_ATTACHING, RECAP_PHASE_RUNNING,
					      RECAP_PHASE_ESCAPING, NULL};
	bool fin = has_finalizer(x->obj);
	if (phase_is(x->obj, terminal)) {
		x->st = fin && recap_json_bool(x->obj, "status.escaped", 0) == 1 ? X_RELEASING : X_DONE;
		caplet_exec_step(x);
	} else if (!fin && deleting(x->obj)) {
		x->st = X_DONE;
	} else if (phase_is(x->obj, started)) {
		step_found_started(x);
	} else {
		x->seen_unstarted = true;
		if (deleting(x->obj))
			refuse(x, RECAP_REASON_CANCELLED, "deleted before it started");
		else if (!fin)
			caplet_set_finalizer(x, true, after_write);
		else if (!x->agent->stopping)
			accept_or_refuse(x);
	}
}

void caplet_exec_step(struct caplet_exec *x)
{
	if (x->busy)
		return;
	if (x->gone && (x->st == X_NEW || x->st == X_FINISHING || x->st == X_RELEASING))
		x->st = X_DONE; /* nothing left to write to */
	switch (x->st) {
	case X_NEW:
		step_new(x);
		break;
	case X_QUEUED:
		if (deleting(x->obj) || x->agent->stopping) {
			unqueue(x);
			refuse(x, RECAP_REASON_CANCELLED,
			       x->agent->stopping ? "the node agent stopped before it started"
						  : "deleted before it started");
		} else if (caplet_exec_expired(x)) {
			unqueue(x);
			refuse(x, RECAP_REASON_DEADLINE_EXCEEDED,
			       "spec.deadline passed while it waited for a slot (maxConcurrentPerNode)");
		}
		break;
	case X_PULLING:
		if (deleting(x->obj))
			x->cancelled = true; /* acted on when the image is there */
		break;
	case X_RUNNING:
		if ((deleting(x->obj) || x->agent->stopping) && !x->cancelled) {
			x->cancelled = true;
			caplet_run_cancel(x);
		}
		break;
	case X_FINISHING:
		caplet_write_status(x, x->final, on_final_written);
		break;
	case X_RELEASING:
		if (has_finalizer(x->obj))
			caplet_set_finalizer(x, false, after_write);
		else
			x->st = X_DONE;
		break;
	case X_RECOVER:
	case X_FOREIGN:
	case X_DONE:
		break;
	}
}

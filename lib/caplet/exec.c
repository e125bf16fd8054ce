/* One execution from first sight to being queued, and from its terminal
 * status to the finalizer's release: the actions of those states
 * (machine.c has the table). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/names.h"
#include "api/types.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "caplet/agent.h"

static bool has_finalizer(json_t *obj)
{
	size_t i;
	json_t *f;
	json_array_foreach (recap_api_meta_finalizers(obj), i, f)
		if (json_is_string(f) && strcmp(json_string_value(f), RECAP_FINALIZER_ESCAPE) == 0)
			return true;
	return false;
}

static bool phase_is(json_t *obj, const char *const *phases)
{
	const char *p = recap_json_str(obj, RECAP_API_EXEC_STATUS_PHASE);
	for (; p && *phases; phases++)
		if (strcmp(p, *phases) == 0)
			return true;
	return false;
}

static bool deleting(json_t *obj)
{
	return recap_api_meta_deletion_timestamp(obj) != NULL;
}

enum caplet_event caplet_exec_end(struct caplet_exec *x, json_t *status)
{
	json_decref(x->final);
	x->final = status;
	return CAPLET_EV_END;
}

enum caplet_event caplet_exec_refuse(struct caplet_exec *x, const char *reason, const char *msg)
{
	caplet_logf(x->agent, RECAP_LOG_INFO, "execution %s: %s: %s", x->key, reason, msg);
	return caplet_exec_end(x, recap_caplet_status_refused(reason, msg));
}

/* A failed write is retried by the agent's tick (every 2 s), never at once:
 * a persistent error (403, a webhook) must not become a busy loop. */
static void on_finalizer_written(struct caplet_exec *x, bool ok)
{
	caplet_exec_step(x, ok ? CAPLET_EV_FINALIZER_WRITTEN : CAPLET_EV_WRITE_FAILED, NULL);
}

/* 422: the API server keeps a finished execution finished (CEL); there is
 * nothing more to write, only the finalizer to release. Gone: nothing to
 * write to. */
static void on_final_written(struct caplet_exec *x, bool ok)
{
	bool settled = x->last_code == RECAP_KUBE_ERR_INVALID;
	caplet_exec_step(x, ok || x->gone || settled ? CAPLET_EV_STATUS_WRITTEN : CAPLET_EV_WRITE_FAILED,
			 NULL);
}

enum caplet_event caplet_act_write_final(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	if (x->busy)
		return CAPLET_EV_NONE; /* the answer to the write in flight comes back here */
	if (x->gone)
		return CAPLET_EV_GONE;
	caplet_write_status(x, x->final, on_final_written);
	return CAPLET_EV_NONE;
}

enum caplet_event caplet_act_record(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	const char *reason = recap_json_str(x->final, "reason");
	caplet_metrics_result(x->agent, recap_json_str(x->final, "phase"), reason,
			      x->accepted_us ? recap_caplet_now_us() - x->accepted_us : -1);
	caplet_logf(x->agent, RECAP_LOG_INFO, "execution %s: %s (%s)", x->key,
		    recap_json_str(x->final, "phase"), reason);
	return recap_json_bool(x->final, "escaped", 0) == 1 ? CAPLET_EV_ESCAPED : CAPLET_EV_NOT_ESCAPED;
}

enum caplet_event caplet_act_remove_finalizer(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	if (x->busy)
		return CAPLET_EV_NONE;
	if (x->gone)
		return CAPLET_EV_GONE;
	if (!has_finalizer(x->obj))
		return CAPLET_EV_RELEASED;
	caplet_set_finalizer(x, false, on_finalizer_written);
	return CAPLET_EV_NONE;
}

enum caplet_event caplet_act_enqueue(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	struct recap_caplet *c = x->agent;
	x->accepted_us = recap_caplet_now_us();
	x->next_queued = NULL;
	*c->queue_tail = x;
	c->queue_tail = &x->next_queued;
	caplet_dispatch(c);
	return CAPLET_EV_NONE;
}

bool caplet_exec_expired(struct caplet_exec *x)
{
	int64_t left;
	return recap_caplet_deadline_left(x->obj, recap_kube_client_now(x->agent->client), &left, NULL) >=
		   0 &&
	       left <= 0;
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

enum caplet_event caplet_act_look_queued(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	if (x->busy)
		return CAPLET_EV_NONE;
	if (deleting(x->obj) || x->agent->stopping) {
		unqueue(x);
		return caplet_exec_refuse(x, RECAP_REASON_CANCELLED,
					  x->agent->stopping ? "the node agent stopped before it started"
							     : "deleted before it started");
	}
	if (caplet_exec_expired(x)) {
		unqueue(x);
		return caplet_exec_refuse(
		    x, RECAP_REASON_DEADLINE_EXCEEDED,
		    "spec.deadline passed while it waited for a slot (maxConcurrentPerNode)");
	}
	return CAPLET_EV_NONE;
}

static enum caplet_event admit(struct caplet_exec *x)
{
	_cleanup_free_ char *msg = NULL;
	_cleanup_error_ struct recap_error *err = NULL;
	int r = caplet_policy_check(x->agent, x->obj, &msg);
	if (r <= 0)
		return caplet_exec_refuse(x, RECAP_REASON_POLICY_DENIED,
					  msg ? msg : "policy could not be evaluated");
	int64_t left;
	if (caplet_image_check(x->obj, &err) < 0 ||
	    recap_caplet_deadline_left(x->obj, recap_kube_client_now(x->agent->client), &left, &err) < 0)
		return caplet_exec_refuse(x, RECAP_REASON_INVALID_SPEC, recap_error_message(err));
	if (left <= 0)
		return caplet_exec_refuse(x, RECAP_REASON_DEADLINE_EXCEEDED,
					  "spec.deadline passed before the execution could start");
	return CAPLET_EV_ACCEPTED;
}

enum caplet_event caplet_act_stand_down(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	if (x->gone)
		caplet_logf(x->agent, RECAP_LOG_INFO, "execution %s: gone before it was claimed", x->key);
	else
		caplet_logf(x->agent, RECAP_LOG_INFO,
			    "execution %s: claimed by another writer (phase %s%s%s): left to it, nothing "
			    "of it runs here",
			    x->key, recap_json_str(x->obj, RECAP_API_EXEC_STATUS_PHASE) ?: "none",
			    arg && arg->msg ? "; " : "", arg && arg->msg ? arg->msg : "");
	if (x->proc)
		caplet_proc_drop_doc(x->proc); /* the executor exits without running anything */
	return CAPLET_EV_NONE;
}

/* What the object says, for one not yet taken on (NEW, or LISTED: seen in
 * the startup list). Attaching, Running or Escaping, and not by this agent
 * (its own claims leave NEW): in the startup list, it may be the previous
 * agent's run, recovered; seen unstarted before, or first seen after the
 * startup list, another writer claimed it while this agent runs, not an
 * orphan of ours (the table tells the two apart by the state). */
enum caplet_event caplet_act_look_new(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	static const char *const terminal[] = {RECAP_PHASE_SUCCEEDED, RECAP_PHASE_FAILED, NULL};
	static const char *const started[] = {RECAP_PHASE_ATTACHING, RECAP_PHASE_RUNNING,
					      RECAP_PHASE_ESCAPING, NULL};
	if (x->busy)
		return CAPLET_EV_NONE;
	if (x->gone)
		return CAPLET_EV_GONE; /* nothing left to write to */
	bool fin = has_finalizer(x->obj);
	if (phase_is(x->obj, terminal))
		return fin && recap_json_bool(x->obj, RECAP_API_EXEC_STATUS_ESCAPED, 0) == 1
			   ? CAPLET_EV_FOUND_ESCAPED
			   : CAPLET_EV_FOUND_ENDED;
	if (!fin && deleting(x->obj))
		return CAPLET_EV_FOUND_ENDED;
	return phase_is(x->obj, started) ? CAPLET_EV_FOUND_STARTED : CAPLET_EV_FOUND_UNSTARTED;
}

enum caplet_event caplet_act_settle_unstarted(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	if (deleting(x->obj))
		return caplet_exec_refuse(x, RECAP_REASON_CANCELLED, "deleted before it started");
	if (!has_finalizer(x->obj))
		caplet_set_finalizer(x, true, on_finalizer_written);
	else if (!x->agent->stopping)
		return admit(x);
	return CAPLET_EV_NONE;
}

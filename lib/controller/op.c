/* Reconcile passes: hand out keys, track their API calls, finish them.
 *
 * Pacing: a pass whose own work (the CPU time of reading the caches and
 * planning; not the wait for its calls' answers, nor what other processes
 * took of the CPU meanwhile) took PACE_MIN_NS or more, and created nothing,
 * makes the next pass of the same key wait PACE times as long after it
 * ends (one that created executions is followed at once: a fan-out is
 * paced by its batches and the client's rate limit). A run's pass reads
 * all its targets and executions: for a run of 10,000 that is tens of
 * milliseconds, and every execution event asking for a pass at once kept a
 * core busy with passes that find little new, taking it from the API server
 * on a small control plane. A key whose pass is cheap (every small run) is
 * never held back. */
#include <stdarg.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/types.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "controller/ctl.h"

#define PACE 4
#define PACE_MIN_NS (2 * 1000 * 1000ull)

struct ctl_op_event {
	struct ctl_op_event *next;
	json_t *obj;
	const char *kind, *type;
	char *reason, *note;
};

struct call {
	struct ctl_op *op;
	unsigned ok;
	ctl_then_fn then;
	ctl_answered_fn answered;
	void *arg;
	char what[64];
};

void recap_ctl_enqueue(struct recap_controller *ctl, enum ctl_kind kind, const char *key)
{
	struct recap_error *err = NULL;
	if (!ctl->active || ctl->stopping || !key)
		return;
	if (recap_kube_workqueue_add(ctl->queues[kind].q, key, &err) < 0) {
		recap_ctl_log(ctl, RECAP_LOG_ERROR, "enqueue %s %s: %s", ctl->queues[kind].kind, key,
			      recap_error_message(err));
		recap_error_free(err);
	}
}

void recap_ctl_enqueue_after(struct recap_controller *ctl, enum ctl_kind kind, const char *key,
			     uint64_t delay_ns)
{
	struct recap_error *err = NULL;
	if (!ctl->active || ctl->stopping || !key)
		return;
	if (recap_kube_workqueue_add_after(ctl->queues[kind].q, key, delay_ns, &err) < 0) {
		recap_ctl_log(ctl, RECAP_LOG_ERROR, "enqueue %s %s: %s", ctl->queues[kind].kind, key,
			      recap_error_message(err));
		recap_error_free(err);
	}
}

void recap_ctl_op_event(struct ctl_op *op, json_t *obj, const char *kind, const char *type,
			const char *reason, const char *fmt, ...)
{
	struct ctl_op_event *ev = calloc(1, sizeof(*ev));
	char *note = NULL, *why = strdup(reason);
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&note, fmt, ap) < 0)
		note = NULL;
	va_end(ap);
	if (!ev || !note || !why) {
		free(ev);
		free(note);
		free(why);
		recap_ctl_log(op->ctl, RECAP_LOG_WARN, "event %s: out of memory", reason);
		return;
	}
	*ev = (struct ctl_op_event){.next = op->events,
				    .obj = json_incref(obj),
				    .kind = kind,
				    .type = type,
				    .reason = why,
				    .note = note};
	op->events = ev;
}

/* Recorded newest first: emitted oldest first. */
static void emit_events(struct ctl_op *op, struct ctl_op_event *ev)
{
	if (!ev)
		return;
	emit_events(op, ev->next);
	recap_ctl_event(op->ctl, ev->obj, ev->kind, ev->type, ev->reason, "%s", ev->note);
	json_decref(ev->obj);
	free(ev->reason);
	free(ev->note);
	free(ev);
}

/* A costly pass that created nothing holds the key's next one back
 * (held_back). */
static void pace(struct ctl_queue *q, struct ctl_op *op)
{
	if (op->busy_ns < PACE_MIN_NS || op->created)
		return;
	uint64_t not_before = recap_now_mono_ns() + PACE * op->busy_ns;
	if (recap_kube_strmap_put(q->not_before, op->key, (void *)(uintptr_t)not_before, NULL) < 0)
		recap_ctl_log(op->ctl, RECAP_LOG_WARN, "reconcile %s %s: not paced: too many keys", q->kind,
			      op->key);
}

static void op_finish(struct ctl_op *op)
{
	struct recap_controller *ctl = op->ctl;
	struct ctl_queue *q = &ctl->queues[op->kind];
	struct recap_error *err = NULL;
	recap_histogram_observe(&q->latency, (double)(recap_now_mono_ns() - op->start_ns) / 1e9);
	if (op->failed) {
		q->errors++;
		recap_ctl_log(ctl, RECAP_LOG_WARN, "reconcile %s %s: %s (retrying)", q->kind, op->key,
			      op->err ? recap_error_message(op->err) : "failed");
		if (!ctl->stopping && recap_kube_workqueue_add_rate_limited(q->q, op->key, &err) < 0)
			recap_error_free(err);
	} else {
		q->ok++;
		recap_kube_workqueue_forget(q->q, op->key);
		if (op->requeue_ns && !ctl->stopping &&
		    recap_kube_workqueue_add_after(q->q, op->key, op->requeue_ns, &err) < 0)
			recap_error_free(err);
	}
	pace(q, op);
	emit_events(op, op->events);
	recap_kube_workqueue_done(q->q, op->key);
	json_decref(op->after_create);
	recap_error_free(op->err);
	free(op->key);
	free(op);
}

static void op_maybe_finish(struct ctl_op *op)
{
	if (op->armed && op->pending == 0)
		op_finish(op);
}

void recap_ctl_op_fail(struct ctl_op *op, struct recap_error *e)
{
	op->failed = true;
	if (!op->err)
		op->err = e;
	else
		recap_error_free(e);
}

void recap_ctl_op_requeue(struct ctl_op *op, uint64_t delay_ns)
{
	if (delay_ns == 0)
		delay_ns = 1;
	if (!op->requeue_ns || delay_ns < op->requeue_ns)
		op->requeue_ns = delay_ns;
}

/* True when key's last pass asks the next to wait: it is queued again for
 * then, and this turn ends. */
static bool held_back(struct ctl_queue *q, const char *key)
{
	void *v = NULL;
	if (!recap_kube_strmap_contains(q->not_before, key))
		return false;
	uint64_t not_before = (uint64_t)(uintptr_t)recap_kube_strmap_get(q->not_before, key);
	uint64_t now = recap_now_mono_ns();
	if (now >= not_before) {
		recap_kube_strmap_remove(q->not_before, key, &v);
		return false;
	}
	char *k = strdup(key); /* key ends with done() */
	if (!k)
		return false;
	struct recap_error *err = NULL;
	recap_kube_workqueue_done(q->q, key);
	if (recap_kube_workqueue_add_after(q->q, k, not_before - now, &err) < 0)
		recap_error_free(err); /* shutting down */
	free(k);
	return true;
}

void recap_ctl_process(struct recap_kube_workqueue *q, const char *key, void *userdata)
{
	struct recap_controller *ctl = userdata;
	enum ctl_kind kind = KIND_CAPSULE;
	while (kind < KIND_N - 1 && ctl->queues[kind].q != q)
		kind++;
	if (held_back(&ctl->queues[kind], key))
		return;
	struct ctl_op *op = calloc(1, sizeof(*op));
	char *k = strdup(key);
	if (!op || !k) {
		free(op);
		free(k);
		recap_kube_workqueue_done(q, key);
		return;
	}
	*op = (struct ctl_op){.ctl = ctl, .kind = kind, .key = k, .start_ns = recap_now_mono_ns()};
	struct recap_error *err = NULL;
	uint64_t cpu0 = recap_thread_cpu_ns();
	if (ctl->queues[kind].reconcile(ctl, op, &err) < 0)
		recap_ctl_op_fail(op, err);
	op->busy_ns = recap_thread_cpu_ns() - cpu0;
	op->armed = true;
	op_maybe_finish(op);
}

static void on_answer(const struct recap_kube_response *resp, void *userdata)
{
	struct call *c = userdata;
	struct ctl_op *op = c->op;
	bool ok = resp->code == RECAP_KUBE_OK ||
		  ((c->ok & CTL_OK_EXISTS) && resp->code == RECAP_KUBE_ERR_ALREADY_EXISTS) ||
		  ((c->ok & CTL_OK_NOT_FOUND) && resp->code == RECAP_KUBE_ERR_NOT_FOUND) ||
		  ((c->ok & CTL_OK_FORBIDDEN) && resp->code == RECAP_KUBE_ERR_FORBIDDEN);
	if (!ok) {
		struct recap_error *e = NULL;
		recap_error_set(&e, EIO, "%s: %s", c->what,
				resp->err ? recap_error_message(resp->err) : "failed");
		recap_ctl_op_fail(op, e);
	} else if (c->then) {
		c->then(op, resp);
	}
	/* Before the count drops: it may issue the next call of the pass. */
	if (c->answered)
		c->answered(op, resp, ok, c->arg);
	free(c);
	op->pending--;
	op_maybe_finish(op);
}

/* A call's userdata; NULL (and the pass failed) when out of memory. */
static struct call *call_new(struct ctl_op *op, unsigned ok, ctl_then_fn then, const char *verb,
			     const char *name)
{
	/* A replica that lost its Lease sends nothing more: the passes in
	 * flight end at their next call instead of finishing their work
	 * beside the new leader's. */
	if (!op->ctl->may_act || (op->ctl->leader && !recap_kube_leader_is_leader(op->ctl->leader))) {
		struct recap_error *e = NULL;
		recap_error_set(&e, EPERM, "%s %s: no longer the leader, not sent", verb, name ? name : "");
		recap_ctl_op_fail(op, e);
		return NULL;
	}
	struct call *c = calloc(1, sizeof(*c));
	if (!c) {
		struct recap_error *e = NULL;
		recap_error_set(&e, ENOMEM, "out of memory");
		recap_ctl_op_fail(op, e);
		return NULL;
	}
	*c = (struct call){.op = op, .ok = ok, .then = then};
	snprintf(c->what, sizeof(c->what), "%s %s", verb, name ? name : "");
	return c;
}

/* Counts the call in flight, or fails the pass when it could not be sent. */
static void issued(struct ctl_op *op, struct call *c, int r, struct recap_error *e)
{
	if (r < 0) {
		free(c);
		recap_ctl_op_fail(op, e);
		return;
	}
	op->pending++;
}

void recap_ctl_op_create(struct ctl_op *op, const struct recap_kube_resource *res, const char *ns,
			 json_t *obj, unsigned ok, ctl_then_fn then)
{
	const char *name = recap_api_meta_name(obj);
	struct call *c = call_new(op, ok, then, "create", name);
	struct recap_error *e = NULL;
	if (c)
		issued(op, c, recap_kube_create(op->ctl->client, res, ns, obj, on_answer, c, &e), e);
}

void recap_ctl_op_create_answered(struct ctl_op *op, const struct recap_kube_resource *res, const char *ns,
				  json_t *obj, unsigned ok, ctl_answered_fn answered, void *arg)
{
	const char *name = recap_api_meta_name(obj);
	struct call *c = call_new(op, ok, NULL, "create", name);
	struct recap_error *e = NULL;
	if (!c)
		return;
	c->answered = answered;
	c->arg = arg;
	issued(op, c, recap_kube_create(op->ctl->client, res, ns, obj, on_answer, c, &e), e);
}

void recap_ctl_op_patch(struct ctl_op *op, const struct recap_kube_resource *res, const char *ns,
			const char *name, const char *subresource, json_t *patch)
{
	struct call *c = call_new(op, 0, NULL, subresource ? "patch status of" : "patch", name);
	struct recap_error *e = NULL;
	if (c)
		issued(op, c,
		       recap_kube_patch(op->ctl->client, res, ns, name, subresource, RECAP_KUBE_PATCH_MERGE,
					patch, NULL, on_answer, c, &e),
		       e);
}

void recap_ctl_op_patch_answered(struct ctl_op *op, const struct recap_kube_resource *res, const char *ns,
				 const char *name, const char *subresource, json_t *patch,
				 ctl_answered_fn answered, void *arg)
{
	struct call *c = call_new(op, 0, NULL, subresource ? "patch status of" : "patch", name);
	struct recap_error *e = NULL;
	if (!c)
		return;
	c->answered = answered;
	c->arg = arg;
	issued(op, c,
	       recap_kube_patch(op->ctl->client, res, ns, name, subresource, RECAP_KUBE_PATCH_MERGE, patch,
				NULL, on_answer, c, &e),
	       e);
}

void recap_ctl_op_get_answered(struct ctl_op *op, const struct recap_kube_resource *res, const char *ns,
			       const char *name, unsigned ok, ctl_answered_fn answered, void *arg)
{
	struct call *c = call_new(op, ok, NULL, "get", name);
	struct recap_error *e = NULL;
	if (!c)
		return;
	c->answered = answered;
	c->arg = arg;
	issued(op, c, recap_kube_get(op->ctl->client, res, ns, name, NULL, on_answer, c, &e), e);
}

void recap_ctl_op_delete(struct ctl_op *op, const struct recap_kube_resource *res, const char *ns,
			 const char *name, const char *uid)
{
	struct call *c = call_new(op, CTL_OK_NOT_FOUND, NULL, "delete", name);
	struct recap_kube_delete_options o = {
	    .precondition_uid = uid, .propagation_policy = "Background", .grace_period_seconds = -1};
	struct recap_error *e = NULL;
	if (c)
		issued(op, c, recap_kube_delete(op->ctl->client, res, ns, name, &o, on_answer, c, &e), e);
}

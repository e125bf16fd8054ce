/* From a slot to a confirmed target: the image (from the store, or Pulling
 * claimed and the image pulled), the executor spec, the CRI's word on the
 * target. Nothing of the execution has started yet. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/names.h"
#include "api/types.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "caplet/agent.h"

void caplet_dispatch(struct recap_caplet *c)
{
	while (c->queue_head && !c->stopping) {
		struct caplet_exec *x = c->queue_head;
		int64_t limit = caplet_max_concurrent(c, x->ns);
		if (limit > 0 && c->slots_used >= limit)
			break;
		c->queue_head = x->next_queued;
		if (!c->queue_head)
			c->queue_tail = &c->queue_head;
		caplet_exec_step(x, CAPLET_EV_SLOT, NULL);
	}
}

/* Why an execution that has not started must not start now: deleted, or the
 * agent is stopping (a pull that ends during the stop starts nothing). */
const char *caplet_exec_no_start(struct caplet_exec *x)
{
	if (recap_api_meta_deletion_timestamp(x->obj))
		return "deleted before it started";
	return x->agent->stopping ? "the node agent stopped before it started" : NULL;
}

json_t *caplet_status_unstarted(struct caplet_exec *x, const char *reason, const char *msg)
{
	const char *why = caplet_exec_no_start(x);
	return recap_caplet_status_refused(why ? RECAP_REASON_CANCELLED : reason, why ?: msg);
}

enum caplet_event caplet_exec_too_late(struct caplet_exec *x, const char *deadline_msg)
{
	const char *why = caplet_exec_no_start(x);
	if (why)
		return caplet_exec_end(x, recap_caplet_status_refused(RECAP_REASON_CANCELLED, why));
	if (caplet_exec_expired(x))
		return caplet_exec_end(
		    x, recap_caplet_status_refused(RECAP_REASON_DEADLINE_EXCEEDED, deadline_msg));
	return CAPLET_EV_NONE;
}

static void on_target(struct caplet_exec *x, int pid, const char *reason, const char *msg)
{
	struct caplet_event_arg a = {.pid = pid, .reason = reason, .msg = msg};
	caplet_exec_step(x, reason ? CAPLET_EV_TARGET_REFUSED : CAPLET_EV_TARGET_CONFIRMED, &a);
}

enum caplet_event caplet_act_target_refused(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	json_decref(steal_ptr(x->spec));
	caplet_exec_end(x, caplet_status_unstarted(x, arg->reason, arg->msg));
	return caplet_act_write_final(x, NULL);
}

/* Last, so that the PID the executor gets is as fresh as it can be. */
enum caplet_event caplet_act_ask_cri(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	caplet_target_confirm(x, on_target);
	return CAPLET_EV_NONE;
}

static void on_image(struct caplet_exec *x, const struct recap_caplet_image *img, const char *reason,
		     const char *error)
{
	struct caplet_event_arg a = {.img = img, .reason = reason, .msg = error};
	caplet_exec_step(x, error ? CAPLET_EV_IMAGE_FAILED : CAPLET_EV_IMAGE_READY, &a);
}

enum caplet_event caplet_act_image_failed(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	caplet_exec_end(x, caplet_status_unstarted(
			       x, arg->reason ? arg->reason : RECAP_REASON_IMAGE_PULL_FAILED, arg->msg));
	return caplet_act_write_final(x, NULL);
}

enum caplet_event caplet_act_build_spec(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	enum caplet_event late = caplet_exec_too_late(x, "spec.deadline passed before the image was ready");
	if (late != CAPLET_EV_NONE)
		return late;
	_cleanup_error_ struct recap_error *err = NULL;
	json_decref(steal_ptr(x->spec));
	if (recap_caplet_spec_build(x->obj, arg->img, x->agent->seccomp_dir,
				    recap_kube_client_now(x->agent->client), &x->spec, &err) < 0)
		return caplet_exec_end(
		    x, recap_caplet_status_refused(RECAP_REASON_INVALID_SPEC, recap_error_message(err)));
	if (caplet_artifacts_reserve(x, x->spec) < 0)
		return caplet_exec_end(
		    x, recap_caplet_status_refused(RECAP_REASON_INVALID_SPEC,
						   "spec.capsule.output.outSize is not a quantity"));
	free(x->digest);
	x->digest = arg->img->digest ? strdup(arg->img->digest) : NULL;
	return CAPLET_EV_SPEC_BUILT;
}

/* A Pulling that could not be written still pulls: Attaching is the claim
 * that decides. */
enum caplet_event caplet_act_pull(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	if (x->gone)
		return caplet_exec_end(
		    x, recap_caplet_status_refused(RECAP_REASON_CANCELLED, "deleted before it started"));
	caplet_image_get(x, on_image);
	return CAPLET_EV_NONE;
}

enum caplet_event caplet_act_claim_pulling(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	char now[40];
	recap_caplet_format_us(x->pull_start_us, now);
	_cleanup_json_ json_t *st =
	    json_pack("{s:s, s:s}", "phase", RECAP_PHASE_PULLING, "pullStartTime", now);
	if (!st)
		return CAPLET_EV_CLAIM_FAILED;
	caplet_claim(x, st, caplet_claim_report);
	return CAPLET_EV_NONE;
}

/* An image already in the store is taken at once, with no Pulling write
 * (Attaching would replace it a moment later); otherwise Pulling is
 * written and the image pulled. */
enum caplet_event caplet_act_from_store(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	x->pull_start_us = recap_caplet_now_us();
	return caplet_image_from_store(x, on_image) ? CAPLET_EV_NONE : CAPLET_EV_NOT_IN_STORE;
}

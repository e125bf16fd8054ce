/* The claim. Pulling and Attaching are the writes after which an execution
 * may run here, so they are compare-and-swaps: merge patches of .status that
 * carry the resourceVersion this agent last saw, which the API server refuses
 * with 409 Conflict if anything changed the execution since. Two agents for
 * one node (a rollout with surge, a node name reused, a restarted agent
 * racing its predecessor) then cannot both claim it: the loser reads the
 * execution again and either claims again (the change was someone's label or
 * finalizer, or another agent's Pulling) or stands down. A write that fails
 * without an answer from the API (a 5xx, a timeout, a reset) is retried with
 * backoff: nothing has run yet, the executor waits for its spec. Attaching,
 * which nothing replaces, is retried until spec.deadline; Pulling, which the
 * pull goes on without, a few times. A try whose write landed unanswered
 * meets 409 on the next and reads its own claim back (claimed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/conditions.h"
#include "api/names.h"
#include "api/types.h"
#include "base/backoff.h"
#include "base/cleanup.h"
#include "base/failpoint.h"
#include "base/json.h"
#include "caplet/agent.h"

#define CLAIM_TRIES 4 /* Pulling: a transient failure is retried 3 times */
#define CLAIM_BACKOFF_MS 500
/* Short enough that a deletion or the agent's stop (30 s of grace) is
 * acted on soon by a claim waiting to try again. */
#define CLAIM_BACKOFF_MAX_MS 8000
#define CLAIM_CONFLICTS 5 /* benign conflicts in a row (each re-read first) */

static void claim_write(struct caplet_exec *x);

static bool attaching(const struct caplet_exec *x)
{
	const char *phase = recap_json_str(x->claim, "phase");
	return phase && strcmp(phase, RECAP_PHASE_ATTACHING) == 0;
}

static void claim_end(struct caplet_exec *x, int r, const char *msg)
{
	json_decref(steal_ptr(x->claim));
	caplet_claim_cb cb = x->claim_cb;
	x->claim_cb = NULL;
	cb(x, r, msg);
}

int64_t caplet_claim_retry_ms(bool attaching, unsigned failures, int64_t deadline_left_s)
{
	if (attaching ? deadline_left_s <= 0 : failures >= CLAIM_TRIES)
		return -1;
	uint64_t d = recap_backoff_ms(CLAIM_BACKOFF_MS, CLAIM_BACKOFF_MAX_MS, failures);
	/* Awake at the deadline, to give up then rather than a backoff later. */
	if (attaching && (uint64_t)deadline_left_s < d / 1000)
		d = (uint64_t)deadline_left_s * 1000;
	return (int64_t)d;
}

/* Why a claim is taken for another writer's, for the log: the field of the
 * status that is not what this agent wrote. */
static void claim_lost(struct caplet_exec *x, json_t *now)
{
	char why[160];
	const char *key = now ? recap_caplet_claim_differs(now, x->claim) : NULL;
	if (key)
		snprintf(why, sizeof(why), "status.%s is not what this agent wrote", key);
	claim_end(x, CAPLET_CLAIM_LOST, key ? why : NULL);
}

static void on_backoff(uv_timer_t *t)
{
	struct caplet_exec *x = t->data;
	const char *why = caplet_exec_no_start(x);
	if (!why && attaching(x) && caplet_exec_expired(x))
		why = "spec.deadline passed before Attaching could be recorded";
	if (why)
		claim_end(x, CAPLET_CLAIM_FAILED, why);
	else
		claim_write(x);
}

static void on_closed(uv_handle_t *h)
{
	free(h);
}

void caplet_claim_stop(struct caplet_exec *x)
{
	if (!x->claim_timer)
		return;
	uv_close((uv_handle_t *)x->claim_timer, on_closed);
	x->claim_timer = NULL;
}

/* false when no try is left (or no timer could be made). */
static bool retry_later(struct caplet_exec *x)
{
	int64_t left = 0;
	if (recap_caplet_deadline_left(x->obj, recap_kube_client_now(x->agent->client), &left, NULL) < 0)
		left = 0; /* no usable deadline: nothing to wait until */
	int64_t d = caplet_claim_retry_ms(attaching(x), (unsigned)++x->claim_tries, left);
	if (d < 0)
		return false;
	if (!x->claim_timer) {
		x->claim_timer = calloc(1, sizeof(*x->claim_timer));
		if (!x->claim_timer)
			return false;
		uv_timer_init(x->agent->loop, x->claim_timer);
		x->claim_timer->data = x;
	}
	uv_timer_start(x->claim_timer, on_backoff, (uint64_t)d, 0);
	return true;
}

static bool transient(enum recap_kube_code code)
{
	return code == RECAP_KUBE_ERR_TRANSPORT || code == RECAP_KUBE_ERR_SERVER ||
	       code == RECAP_KUBE_ERR_TOO_MANY_REQUESTS;
}

static void on_reread(const struct recap_kube_response *resp, void *data)
{
	struct caplet_exec *x = data;
	x->busy = false;
	if (resp->code == RECAP_KUBE_ERR_CANCELLED)
		return;
	if (resp->code != RECAP_KUBE_OK && resp->code != RECAP_KUBE_ERR_NOT_FOUND) {
		x->agent->metric_api_errors++;
		if (transient(resp->code) && retry_later(x))
			return;
		claim_end(x, CAPLET_CLAIM_FAILED, "could not read the execution after a conflict");
		return;
	}
	json_t *now = resp->code == RECAP_KUBE_OK ? resp->object : NULL;
	enum recap_caplet_claim d = recap_caplet_claim_decide(now, recap_api_meta_uid(x->obj), x->claim);
	if (now) {
		json_decref(x->obj);
		x->obj = json_incref(now);
	} else {
		x->gone = true;
	}
	const char *why = caplet_exec_no_start(x);
	if (d == RECAP_CAPLET_CLAIM_LOST)
		claim_lost(x, now);
	else if (d == RECAP_CAPLET_CLAIM_OURS)
		claim_end(x, CAPLET_CLAIMED, NULL);
	else if (why)
		claim_end(x, CAPLET_CLAIM_FAILED, why);
	else if (++x->claim_conflicts >= CLAIM_CONFLICTS)
		claim_end(x, CAPLET_CLAIM_FAILED, "the execution kept changing while it was claimed");
	else
		claim_write(x);
}

static void reread(struct caplet_exec *x)
{
	_cleanup_error_ struct recap_error *err = NULL;
	x->busy = true;
	if (recap_kube_get(x->agent->client, &recap_caplet_executions_res, x->ns, x->name, NULL, on_reread, x,
			   &err) < 0) {
		x->busy = false;
		claim_end(x, CAPLET_CLAIM_FAILED, recap_error_message(err));
	}
}

static void on_claim_written(const struct recap_kube_response *resp, void *data)
{
	struct caplet_exec *x = data;
	x->busy = false;
	x->last_code = resp->code;
	if (resp->code == RECAP_KUBE_ERR_CANCELLED)
		return;
	if (resp->code == RECAP_KUBE_OK && attaching(x) &&
	    recap_failpoint("caplet.attaching-answer-lost") < 0) {
		/* as a write that landed but whose answer never came */
		x->agent->metric_api_errors++;
		caplet_logf(x->agent, RECAP_LOG_WARN, "execution %s: writing Attaching (retried): failpoint",
			    x->key);
		if (!retry_later(x))
			claim_end(x, CAPLET_CLAIM_FAILED, "could not record Attaching: failpoint");
		return;
	}
	if (resp->code == RECAP_KUBE_OK) {
		if (attaching(x))
			recap_failpoint("caplet.after-attaching-write");
		if (resp->object)
			caplet_exec_keep(x, resp->object);
		claim_end(x, CAPLET_CLAIMED, NULL);
		return;
	}
	if (resp->code == RECAP_KUBE_ERR_CONFLICT) {
		reread(x);
		return;
	}
	x->agent->metric_api_errors++;
	const char *msg = resp->err ? recap_error_message(resp->err) : "failed";
	if (resp->code == RECAP_KUBE_ERR_NOT_FOUND) {
		x->gone = true;
		claim_end(x, CAPLET_CLAIM_FAILED, "deleted before it started");
	} else if (transient(resp->code) && retry_later(x)) {
		caplet_logf(x->agent, RECAP_LOG_WARN, "execution %s: writing %s (retried): %s", x->key,
			    recap_json_str(x->claim, "phase"), msg);
	} else {
		char m[512];
		snprintf(m, sizeof(m), "could not record %s: %s", recap_json_str(x->claim, "phase"), msg);
		claim_end(x, CAPLET_CLAIM_FAILED, m);
	}
}

/* The version written against must be one that shows no claim: the watch
 * may have brought another writer's claim since this agent decided to
 * claim, and writing against that version would succeed. */
static void claim_write(struct caplet_exec *x)
{
	_cleanup_error_ struct recap_error *err = NULL;
	if (recap_caplet_claim_decide(x->obj, recap_api_meta_uid(x->obj), x->claim) ==
	    RECAP_CAPLET_CLAIM_LOST) {
		claim_lost(x, x->obj);
		return;
	}
	if (attaching(x) && recap_failpoint("caplet.before-attaching-write") < 0) {
		/* as a write the API server never answered */
		x->agent->metric_api_errors++;
		if (!retry_later(x))
			claim_end(x, CAPLET_CLAIM_FAILED, "could not record Attaching: failpoint");
		return;
	}
	_cleanup_json_ json_t *body =
	    json_pack("{s:{s:s}, s:O}", "metadata", "resourceVersion",
		      recap_api_meta_resource_version(x->obj) ?: "", "status", x->claim);
	x->busy = true;
	if (!body ||
	    recap_kube_patch(x->agent->client, &recap_caplet_executions_res, x->ns, x->name, "status",
			     RECAP_KUBE_PATCH_MERGE, body, NULL, on_claim_written, x, &err) < 0) {
		x->busy = false;
		claim_end(x, CAPLET_CLAIM_FAILED, body ? recap_error_message(err) : "out of memory");
	}
}

void caplet_claim(struct caplet_exec *x, json_t *status, caplet_claim_cb cb)
{
	json_decref(x->claim);
	x->claim = json_incref(status);
	x->claim_cb = cb;
	x->claim_tries = 0;
	x->claim_conflicts = 0;
	if (recap_api_exec_phase_conditions(x->claim, x->obj, recap_kube_client_now(x->agent->client)) < 0)
		claim_end(x, CAPLET_CLAIM_FAILED, "out of memory");
	else
		claim_write(x);
}

void caplet_claim_report(struct caplet_exec *x, int claimed, const char *msg)
{
	static const enum caplet_event ev[] = {[CAPLET_CLAIMED] = CAPLET_EV_CLAIMED,
					       [CAPLET_CLAIM_LOST] = CAPLET_EV_CLAIM_LOST,
					       [CAPLET_CLAIM_FAILED] = CAPLET_EV_CLAIM_FAILED};
	caplet_exec_step(x, ev[claimed], &(struct caplet_event_arg){.msg = msg});
}

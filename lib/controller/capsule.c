/* The Capsule reconciler: admission, matched targets, the Periodic
 * schedule, the triggers (trigger.c), history limits, status. */
#include <stdbool.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/names.h"
#include "api/types.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "controller/admit.h"
#include "controller/capsulestatus.h"
#include "controller/ctl.h"
#include "controller/objects.h"
#include "controller/runstatus.h"
#include "controller/status.h"
#include "controller/targets.h"
#include "sched/periodic.h"

struct capsule_pass {
	json_t *capsule;
	const char *ns, *name;
	json_t *runs;
	struct ctl_admission adm;
	int64_t last_schedule, next_schedule;
	int64_t recorded_schedule; /* status.lastScheduleTime as read */
	uint64_t now_ns;	   /* wall clock */
};

static int64_t time_or_none(json_t *obj, const char *path)
{
	time_t t;
	const char *s = recap_json_str(obj, path);
	if (!s || recap_time_parse(s, &t) < 0)
		return RECAP_PERIODIC_NONE;
	return (int64_t)t;
}

/* Targets the Capsule matches now; 0 when its selectors cannot be read
 * (admission reports that as InvalidSpec). */
static size_t matched_targets(struct recap_controller *ctl, struct capsule_pass *p)
{
	struct recap_error *e = NULL;
	struct recap_error **err = &e;
	json_t *spec = recap_api_capsule_spec(p->capsule);
	struct recap_controller_targets t = {0};
	if (recap_ctl_resolve_targets(ctl, p->ns, spec, NULL, NULL, &t, err) < 0) {
		recap_error_free(e);
		return 0;
	}
	size_t n = t.n;
	recap_controller_targets_clear(&t);
	return n;
}

static void status_after_create(struct ctl_op *op, const struct recap_kube_response *resp)
{
	json_t *patch = op->after_create;
	op->after_create = NULL;
	if (!patch)
		return;
	const char *slash = strchr(op->key, '/');
	char ns[256];
	snprintf(ns, sizeof(ns), "%.*s", (int)(slash - op->key), op->key);
	recap_ctl_op_patch(op, &recap_ctl_capsules, ns, slash + 1, "status", patch);
	json_decref(patch);
}

/* The Capsule's Periodic runs for the decision; names borrowed from p->runs. */
static struct recap_periodic_run *periodic_runs(json_t *runs, size_t *n)
{
	struct recap_periodic_run *v = calloc(json_array_size(runs) + 1, sizeof(*v));
	size_t i;
	json_t *r;
	*n = 0;
	json_array_foreach (runs, i, r) {
		const char *name = recap_api_meta_name(r);
		if (v && name && recap_api_run_spec_trigger(r) == RECAP_API_TRIGGER_PERIODIC)
			v[(*n)++] = (struct recap_periodic_run){
			    name, !recap_run_phase_final(recap_json_str(r, RECAP_API_RUN_STATUS_PHASE))};
	}
	return v;
}

static void cancel_runs(struct ctl_op *op, struct capsule_pass *p, const struct recap_periodic_run *runs,
			const struct recap_periodic_decision *d)
{
	for (size_t i = 0; i < d->n_cancel; i++) {
		json_t *patch = json_pack("{s:{s:b}}", "spec", "cancel", 1);
		recap_ctl_op_patch(op, &recap_ctl_runs, p->ns, runs[d->cancel[i]].name, NULL, patch);
		json_decref(patch);
		recap_ctl_event(op->ctl, p->capsule, RECAP_KIND_CAPSULE, "Normal", "RunReplaced",
				"cancelled run %s (concurrencyPolicy Replace)", runs[d->cancel[i]].name);
	}
}

static void act(struct ctl_op *op, struct capsule_pass *p, const struct recap_periodic_run *runs,
		const struct recap_periodic_decision *d, json_t **ret_run)
{
	struct recap_controller *ctl = op->ctl;
	if (d->too_many_missed)
		recap_ctl_event(ctl, p->capsule, RECAP_KIND_CAPSULE, "Warning", "MissedSchedules",
				"more than %d start times were missed; starting one run for the latest",
				RECAP_PERIODIC_MAX_MISSED);
	switch (d->action) {
	case RECAP_PERIODIC_START:
		cancel_runs(op, p, runs, d);
		*ret_run = recap_controller_periodic_run_build(p->capsule, d->run_name, d->scheduled);
		recap_ctl_event(ctl, p->capsule, RECAP_KIND_CAPSULE, "Normal", "RunCreated", "created run %s",
				d->run_name);
		ctl->runs_created++;
		break;
	case RECAP_PERIODIC_FORBID:
		recap_ctl_event(ctl, p->capsule, RECAP_KIND_CAPSULE, "Normal", "ConcurrencyForbid",
				"a run is still active; the start waits (concurrencyPolicy Forbid)");
		break;
	case RECAP_PERIODIC_TOO_MANY_ACTIVE:
		recap_ctl_event(ctl, p->capsule, RECAP_KIND_CAPSULE, "Warning", "TooManyActive",
				"%d runs are active; a start was skipped", RECAP_PERIODIC_MAX_ACTIVE);
		break;
	case RECAP_PERIODIC_WAIT:
	case RECAP_PERIODIC_EXISTS:
		break;
	}
}

static int periodic(struct ctl_op *op, struct capsule_pass *p, json_t **ret_run, struct recap_error **err)
{
	json_t *schedule = recap_api_capsule_spec_schedule(recap_api_capsule_spec(p->capsule));
	struct recap_periodic_schedule s;
	struct recap_tz *tz = NULL;
	int r = recap_periodic_schedule_parse(schedule, &s, &tz, err);
	if (r < 0)
		return r;
	size_t n = 0;
	struct recap_periodic_run *runs = periodic_runs(p->runs, &n);
	struct recap_periodic_input in = {
	    .capsule = p->name,
	    .created = time_or_none(p->capsule, RECAP_API_META_CREATION_TIMESTAMP),
	    .last_schedule = p->last_schedule,
	    .now = (int64_t)(p->now_ns / RECAP_KUBE_NS_PER_SEC),
	    .runs = runs,
	    .n_runs = n,
	};
	struct recap_periodic_decision d = {0};
	r = runs ? recap_periodic_decide(&s, &in, &d, err) : recap_error_set(err, ENOMEM, "out of memory");
	if (r >= 0) {
		act(op, p, runs, &d, ret_run);
		p->last_schedule = d.last_schedule;
		p->next_schedule = d.next;
		if (d.next != RECAP_PERIODIC_NONE) {
			/* A little after the minute, so the decision sees it due. */
			uint64_t at = (uint64_t)d.next * RECAP_KUBE_NS_PER_SEC + 50 * RECAP_KUBE_NS_PER_MS;
			recap_ctl_op_requeue(op, at > p->now_ns ? at - p->now_ns : 1);
		}
	}
	recap_periodic_decision_clear(&d);
	free(runs);
	recap_tz_free(tz);
	return r;
}

static void prune_history(struct ctl_op *op, struct capsule_pass *p)
{
	json_t *spec = recap_api_capsule_spec(p->capsule);
	json_t *gone = recap_controller_history_prune(
	    p->runs, recap_api_capsule_spec_history_limits_succeeded(spec),
	    recap_api_capsule_spec_history_limits_failed(spec),
	    p->recorded_schedule == RECAP_PERIODIC_NONE ? 0 : (time_t)p->recorded_schedule,
	    (time_t)(p->now_ns / RECAP_KUBE_NS_PER_SEC));
	size_t i;
	json_t *name;
	json_array_foreach (gone, i, name) {
		recap_ctl_op_delete(op, &recap_ctl_runs, p->ns, json_string_value(name), NULL);
		op->ctl->runs_deleted++;
	}
	json_decref(gone);
}

static void report_refusal(struct recap_controller *ctl, struct capsule_pass *p)
{
	json_t *old =
	    recap_api_condition_get(recap_api_capsule_status_conditions(p->capsule), RECAP_CONDITION_READY);
	const char *old_reason = recap_api_condition_reason(old);
	const char *old_msg = recap_api_condition_message(old);
	if (old_reason && strcmp(old_reason, p->adm.reason) == 0 && old_msg &&
	    strcmp(old_msg, p->adm.message) == 0)
		return;
	recap_ctl_event(ctl, p->capsule, RECAP_KIND_CAPSULE, "Warning", p->adm.reason, "%s", p->adm.message);
}

static void write_status(struct ctl_op *op, struct capsule_pass *p, size_t matched, json_t *new_run)
{
	struct recap_controller_capsule_view v = {
	    .capsule = p->capsule,
	    .refused_reason = p->adm.reason,
	    .refused_message = p->adm.message,
	    .governing = p->adm.governing,
	    .matched = matched,
	    .runs = p->runs,
	    .last_schedule = p->last_schedule,
	    .next_schedule = p->next_schedule,
	    .now = (time_t)(p->now_ns / RECAP_KUBE_NS_PER_SEC),
	};
	json_t *st = recap_controller_capsule_status(&v);
	json_t *patch = st ? recap_controller_status_patch(recap_api_capsule_status(p->capsule), st) : NULL;
	json_decref(st);
	if (new_run) {
		/* lastScheduleTime is recorded only once the run exists. */
		op->after_create = patch;
		recap_ctl_op_create(op, &recap_ctl_runs, p->ns, new_run, CTL_OK_EXISTS, status_after_create);
		return;
	}
	if (patch)
		recap_ctl_op_patch(op, &recap_ctl_capsules, p->ns, p->name, "status", patch);
	json_decref(patch);
}

static uint64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * RECAP_KUBE_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

int recap_ctl_reconcile_capsule(struct recap_controller *ctl, struct ctl_op *op, struct recap_error **err)
{
	_cleanup_json_ json_t *cap = recap_kube_store_get(ctl_store(ctl, INF_CAPSULE), op->key);
	if (!cap || recap_json_path(cap, RECAP_API_META_DELETION_TIMESTAMP))
		return 0;
	struct capsule_pass p = {
	    .capsule = cap,
	    .ns = recap_api_meta_namespace(cap),
	    .name = recap_api_meta_name(cap),
	    .last_schedule = time_or_none(cap, RECAP_API_CAPSULE_STATUS_LAST_SCHEDULE_TIME),
	    .recorded_schedule = time_or_none(cap, RECAP_API_CAPSULE_STATUS_LAST_SCHEDULE_TIME),
	    .next_schedule = RECAP_PERIODIC_NONE,
	    .now_ns = wall_ns(),
	};
	if (!p.ns || !p.name)
		return 0;
	int r = recap_ctl_admit(ctl, p.ns, cap, recap_api_capsule_spec(cap), KIND_CAPSULE, op->key, &p.adm);
	if (r < 0)
		return recap_error_set(err, -r, "admission");
	p.runs = recap_ctl_list(ctl, INF_RUN, "capsule", op->key);
	json_t *new_run = NULL;
	if (p.adm.reason)
		report_refusal(ctl, &p);
	else if (recap_api_capsule_spec_schedule(recap_api_capsule_spec(cap)))
		r = periodic(op, &p, &new_run, err);
	if (r >= 0 && !p.adm.reason)
		r = recap_ctl_triggers(op, cap, p.runs, (int64_t)(p.now_ns / RECAP_KUBE_NS_PER_SEC), err);
	bool invalid = p.adm.reason && strcmp(p.adm.reason, RECAP_CONDITION_REASON_INVALID_SPEC) == 0;
	size_t matched = r >= 0 && !invalid ? matched_targets(ctl, &p) : 0;
	if (r >= 0) {
		prune_history(op, &p);
		write_status(op, &p, matched, new_run);
	}
	json_decref(new_run);
	json_decref(p.runs);
	recap_ctl_admission_clear(&p.adm);
	return r;
}

/* Runs fired by a Capsule's triggers (docs/triggers.md): the causes come
 * from the pod and Event caches (causes.c), the decision from
 * sched/trigger.h, the record from the runs themselves. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/names.h"
#include "api/types.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "controller/causes.h"
#include "controller/ctl.h"
#include "controller/objects.h"
#include "controller/runstatus.h"
#include "controller/targets.h"
#include "policy/policy.h"
#include "sched/trigger.h"

#define TRIGGERED_PER_NS_DEFAULT 20
/* Runs created and not yet shown by the informer, across all Capsules. */
#define FIRED_MAX 100000

int recap_ctl_triggers_new(struct recap_controller *ctl)
{
	ctl->fired = recap_kube_strmap_new(FIRED_MAX);
	return ctl->fired ? 0 : -ENOMEM;
}

void recap_ctl_triggers_free(struct recap_controller *ctl)
{
	recap_kube_strmap_free(ctl->fired, free);
	ctl->fired = NULL;
}

void recap_ctl_trigger_seen(struct recap_controller *ctl, const char *ns, const char *name)
{
	char key[600];
	void *v = NULL;
	if (!ctl->fired || recap_kube_strmap_size(ctl->fired) == 0)
		return;
	snprintf(key, sizeof(key), "%s/%s", ns ? ns : "", name ? name : "");
	if (recap_kube_strmap_remove(ctl->fired, key, &v) > 0)
		free(v);
}

static bool triggered(json_t *run)
{
	return recap_api_run_spec_cause(run) != NULL;
}

static bool active(json_t *run)
{
	return !recap_run_phase_final(recap_json_str(run, RECAP_API_RUN_STATUS_PHASE));
}

static int64_t created_at(json_t *obj)
{
	const char *s = recap_json_str(obj, RECAP_API_META_CREATION_TIMESTAMP);
	time_t t;
	return s && recap_time_parse(s, &t) == 0 ? (int64_t)t : 0;
}

struct ns_count {
	struct recap_controller *ctl;
	size_t active;
};

static int count_capsule_runs(const char *key, json_t *cap, void *userdata)
{
	struct ns_count *c = userdata;
	json_t *runs = recap_ctl_list(c->ctl, INF_RUN, "capsule", key);
	size_t i;
	json_t *r;
	json_array_foreach (runs, i, r)
		c->active += triggered(r) && active(r);
	json_decref(runs);
	return 0;
}

/* Unfinished triggered runs of namespace ns: those in the cache and those
 * created but not in it yet. *own_unseen: of the latter, capsule_key's. */
static size_t namespace_active(struct recap_controller *ctl, const char *ns, const char *capsule_key,
			       bool *own_unseen)
{
	struct ns_count c = {ctl, 0};
	recap_kube_store_by_index(ctl_store(ctl, INF_CAPSULE), "ns", ns, count_capsule_runs, &c);
	struct recap_kube_strmap_iter it = RECAP_KUBE_STRMAP_ITER_INIT;
	const char *key;
	void *v;
	size_t nl = strlen(ns);
	*own_unseen = false;
	while (recap_kube_strmap_next(ctl->fired, &it, &key, &v)) {
		if (strncmp(key, ns, nl) != 0 || key[nl] != '/')
			continue;
		c.active++;
		*own_unseen = *own_unseen || strcmp(v, capsule_key) == 0;
	}
	return c.active;
}

static size_t namespace_bound(struct recap_controller *ctl, const char *ns)
{
	size_t max =
	    ctl->opts.max_triggered_per_ns ? ctl->opts.max_triggered_per_ns : TRIGGERED_PER_NS_DEFAULT;
	json_t *policies = recap_ctl_list(ctl, INF_POLICY, NULL, NULL);
	json_t *holder = NULL;
	json_t *labels = recap_ctl_namespace_labels(ctl, ns, &holder);
	int64_t v = 0;
	struct recap_error *err = NULL;
	/* A policy whose selector cannot be read refuses the Capsule at
	 * admission: no trigger gets this far. */
	if (policies && recap_policy_max_concurrent_triggered_runs(policies, labels, &v, &err) == 0 &&
	    v > 0 && (size_t)v < max)
		max = (size_t)v;
	recap_error_free(err);
	json_decref(policies);
	json_decref(holder);
	return max;
}

static void fired(struct recap_controller *ctl, const char *ns, const char *run, const char *capsule_key)
{
	char key[600];
	snprintf(key, sizeof(key), "%s/%s", ns, run);
	char *v = strdup(capsule_key);
	void *old = NULL;
	if (v && recap_kube_strmap_put(ctl->fired, key, v, &old) >= 0)
		free(old);
	else
		free(v); /* at the limit: the next pass may meet AlreadyExists */
}

static void on_created(struct ctl_op *op, const struct recap_kube_response *resp, bool ok, void *arg)
{
	/* Not created (refused): nothing is in flight. */
	if (!ok) {
		char *key = arg;
		void *v = NULL;
		if (recap_kube_strmap_remove(op->ctl->fired, key, &v) > 0)
			free(v);
	}
	free(arg);
}

static void fire(struct ctl_op *op, json_t *capsule, const char *capsule_key,
		 const struct recap_controller_cause *c)
{
	struct recap_controller *ctl = op->ctl;
	const char *ns = recap_api_meta_namespace(capsule);
	json_t *run = recap_controller_triggered_run_build(capsule, c);
	char *key = malloc(600);
	if (!run || !key) {
		json_decref(run);
		free(key);
		recap_ctl_op_fail(op, NULL);
		return;
	}
	snprintf(key, 600, "%s/%s", ns, c->run_name);
	fired(ctl, ns, c->run_name, capsule_key);
	recap_ctl_op_create_answered(op, &recap_ctl_runs, ns, run, CTL_OK_EXISTS, on_created, key);
	json_decref(run);
	ctl->runs_created++;
	recap_ctl_event(ctl, capsule, RECAP_KIND_CAPSULE, "Normal", "Triggered",
			"created run %s for pod %s: %s%s%s", c->run_name, c->pod, c->reason,
			*c->message ? ": " : "", c->message);
}

/* The Capsule's triggered runs, for the decision (strings borrowed from runs). */
static struct recap_trigger_run *trigger_runs(json_t *runs, size_t *n)
{
	struct recap_trigger_run *v = calloc(json_array_size(runs) + 1, sizeof(*v));
	size_t i;
	json_t *r;
	*n = 0;
	json_array_foreach (runs, i, r) {
		if (v && triggered(r) && recap_api_meta_name(r))
			v[(*n)++] = (struct recap_trigger_run){recap_api_meta_name(r),
							       recap_api_run_spec_cause_pod(r), created_at(r),
							       active(r)};
	}
	return v;
}

static void report_held(struct ctl_op *op, json_t *capsule, const struct recap_trigger_decision *d,
			const struct recap_trigger_limits *l)
{
	if (d->capped == 0)
		return;
	if (d->capped_by_namespace)
		recap_ctl_event(
		    op->ctl, capsule, RECAP_KIND_CAPSULE, "Warning", "TriggerCapped",
		    "%zu causes wait: at most %zu triggered runs of the namespace may be unfinished "
		    "at once (CapsulePolicy limits.maxConcurrentTriggeredRuns or "
		    "--max-triggered-runs-per-namespace)",
		    d->capped, l->ns_max);
	else
		recap_ctl_event(
		    op->ctl, capsule, RECAP_KIND_CAPSULE, "Warning", "TriggerCapped",
		    "%zu causes wait: at most %zu triggered runs of this Capsule may be unfinished "
		    "at once (triggerLimits.maxConcurrentRuns)",
		    d->capped, l->max_active);
}

static void requeue_at(struct ctl_op *op, int64_t at, int64_t now)
{
	if (at == INT64_MAX || at == RECAP_TRIGGER_NONE)
		return;
	/* A little after the second, so the pass sees it due. */
	uint64_t delay = at > now ? (uint64_t)(at - now) * RECAP_KUBE_NS_PER_SEC : 0;
	recap_ctl_op_requeue(op, delay + 50 * RECAP_KUBE_NS_PER_MS);
}

int recap_ctl_triggers(struct ctl_op *op, json_t *capsule, json_t *runs, int64_t now,
		       struct recap_error **err)
{
	struct recap_controller *ctl = op->ctl;
	json_t *spec = recap_api_capsule_spec(capsule);
	const char *ns = recap_api_meta_namespace(capsule);
	if (json_array_size(recap_api_capsule_spec_triggers(spec)) == 0 || !ns)
		return 0;
	char capsule_key[600];
	snprintf(capsule_key, sizeof(capsule_key), "%s/%s", ns, recap_api_meta_name(capsule));
	bool own_unseen = false;
	size_t ns_active = namespace_active(ctl, ns, capsule_key, &own_unseen);
	if (own_unseen) {
		/* A run it created is not in the cache yet: decide once it is
		 * (its arrival queues this Capsule), not from half the record. */
		recap_ctl_op_requeue(op, 500 * RECAP_KUBE_NS_PER_MS);
		return 0;
	}
	json_t *events = NULL;
	struct recap_controller_targets t = {0};
	struct recap_controller_causes causes = {.next = INT64_MAX};
	int r = recap_ctl_resolve_targets(ctl, ns, spec, NULL, NULL, &t, err);
	if (r >= 0)
		events = recap_ctl_list(ctl, INF_EVENT, "ns", ns);
	/* each target's pod read and dropped in turn, never all at once */
	for (size_t k = 0; r >= 0 && k < t.n; k++) {
		char key[600];
		snprintf(key, sizeof(key), "%s/%s", ns, t.v[k].pod);
		json_t *pod = recap_kube_store_get(ctl_store(ctl, INF_POD), key);
		r = recap_controller_causes_add_target(capsule, &t.v[k], pod, events, now, &causes, err);
		json_decref(pod);
	}
	size_t n_runs = 0;
	struct recap_trigger_run *tr = r >= 0 ? trigger_runs(runs, &n_runs) : NULL;
	struct recap_trigger_cause *tc = r >= 0 ? calloc(causes.n + 1, sizeof(*tc)) : NULL;
	if (r >= 0 && (!tr || !tc))
		r = recap_error_set(err, ENOMEM, "out of memory");
	struct recap_trigger_limits l = {
	    .cooldown = recap_api_capsule_spec_trigger_limits_cooldown_seconds(spec),
	    .max_age = recap_api_capsule_spec_trigger_limits_max_cause_age_seconds(spec),
	    .max_active = (size_t)recap_api_capsule_spec_trigger_limits_max_concurrent_runs(spec),
	    .ns_active = ns_active,
	    .ns_max = namespace_bound(ctl, ns),
	};
	struct recap_trigger_decision d = {.next = RECAP_TRIGGER_NONE};
	if (r >= 0) {
		for (size_t i = 0; i < causes.n; i++)
			tc[i] = (struct recap_trigger_cause){causes.v[i].pod, causes.v[i].run_name,
							     causes.v[i].time};
		r = recap_trigger_decide(tc, causes.n, tr, n_runs, &l, now, &d, err);
	}
	if (r >= 0) {
		for (size_t i = 0; i < d.n_fire; i++)
			fire(op, capsule, capsule_key, &causes.v[d.fire[i]]);
		report_held(op, capsule, &d, &l);
		requeue_at(op, causes.next, now);
		requeue_at(op, d.next, now);
	}
	recap_trigger_decision_clear(&d);
	free(tc);
	free(tr);
	recap_controller_causes_clear(&causes);
	recap_controller_targets_clear(&t);
	json_decref(events);
	return r;
}

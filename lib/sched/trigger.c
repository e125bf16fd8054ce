#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/trigger.h"

struct ordered {
	const struct recap_trigger_cause *c;
	size_t index;
};

static int cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int by_age(const void *pa, const void *pb)
{
	const struct ordered *a = pa, *b = pb;
	if (a->c->time != b->c->time)
		return a->c->time < b->c->time ? -1 : 1;
	int r = cmp_str(a->c->pod, b->c->pod);
	return r ? r : cmp_str(a->c->run_name, b->c->run_name);
}

static bool run_exists(const struct recap_trigger_run *runs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (runs[i].name && name && strcmp(runs[i].name, name) == 0)
			return true;
	}
	return false;
}

/* The newest triggered run for pod, or INT64_MIN. */
static int64_t last_run(const struct recap_trigger_run *runs, size_t n, const char *pod)
{
	int64_t last = INT64_MIN;
	for (size_t i = 0; i < n; i++) {
		if (runs[i].pod && pod && strcmp(runs[i].pod, pod) == 0 && runs[i].created > last)
			last = runs[i].created;
	}
	return last;
}

static bool fired_for(const struct recap_trigger_decision *d, const struct recap_trigger_cause *causes,
		      const char *pod)
{
	for (size_t i = 0; i < d->n_fire; i++) {
		if (strcmp(causes[d->fire[i]].pod, pod) == 0)
			return true;
	}
	return false;
}

int recap_trigger_decide(const struct recap_trigger_cause *causes, size_t n,
			 const struct recap_trigger_run *runs, size_t n_runs,
			 const struct recap_trigger_limits *l, int64_t now, struct recap_trigger_decision *d,
			 struct recap_error **err)
{
	*d = (struct recap_trigger_decision){.next = RECAP_TRIGGER_NONE};
	if (l->cooldown < 0 || l->max_age < 0)
		return recap_error_set(err, EINVAL, "trigger limits: negative cooldown or cause age");
	size_t active = 0;
	for (size_t i = 0; i < n_runs; i++)
		active += runs[i].active;
	struct ordered *o = calloc(n ? n : 1, sizeof(*o));
	d->fire = calloc(n ? n : 1, sizeof(*d->fire));
	if (!o || !d->fire) {
		free(o);
		recap_trigger_decision_clear(d);
		return recap_error_set(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		if (!causes[i].pod || !causes[i].run_name) {
			free(o);
			recap_trigger_decision_clear(d);
			return recap_error_set(err, EINVAL, "trigger cause %zu: no pod or run name", i);
		}
		o[i] = (struct ordered){&causes[i], i};
	}
	qsort(o, n, sizeof(*o), by_age);
	for (size_t k = 0; k < n; k++) {
		const struct recap_trigger_cause *c = o[k].c;
		if (run_exists(runs, n_runs, c->run_name)) {
			d->duplicate++;
			continue;
		}
		if (c->time < now - l->max_age) {
			d->stale++;
			continue;
		}
		int64_t last = last_run(runs, n_runs, c->pod);
		if (last != INT64_MIN && now < last + l->cooldown) {
			d->cooling++;
			/* It may fire at the cooldown's end if it is still fresh then. */
			if (last + l->cooldown <= c->time + l->max_age && last + l->cooldown < d->next)
				d->next = last + l->cooldown;
			continue;
		}
		if (fired_for(d, causes, c->pod)) {
			d->cooling++; /* the pod's cooldown starts with the run just fired */
			continue;
		}
		if (active + d->n_fire >= l->max_active || l->ns_active + d->n_fire >= l->ns_max) {
			d->capped++;
			if (!(active + d->n_fire >= l->max_active))
				d->capped_by_namespace = true;
			continue;
		}
		d->fire[d->n_fire++] = o[k].index;
	}
	free(o);
	return 0;
}

void recap_trigger_decision_clear(struct recap_trigger_decision *d)
{
	free(d->fire);
	d->fire = NULL;
	d->n_fire = 0;
}

int recap_trigger_run_name(char out[RECAP_NAME_MAX + 1], const char *capsule, const char *capsule_uid,
			   const char *pod_uid, const char *key)
{
	if (!capsule || !*capsule || !capsule_uid || !pod_uid || !key)
		return -EINVAL;
	const char *parts[] = {capsule_uid, pod_uid, key};
	char suffix[24];
	snprintf(
	    suffix, sizeof(suffix), "-t%0*llx", RECAP_NAME_HASH_LEN,
	    (unsigned long long)(recap_sched_hash(parts, 3) & ((1ull << (4 * RECAP_NAME_HASH_LEN)) - 1)));
	const char *name[] = {capsule};
	return recap_sched_name(out, name, 1, suffix);
}

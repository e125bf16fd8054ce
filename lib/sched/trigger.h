/* Which causes a Capsule's triggers fire now, as a pure function.
 *
 * The controller finds the causes (a pod condition that has held long
 * enough, a new pod, a recorded Event) among the Capsule's targets, names
 * each one's run (recap_trigger_run_name: the same cause always gets the
 * same name), lists the Capsule's triggered runs and asks
 * recap_trigger_decide() which causes to fire. Every guardrail is decided
 * from those runs alone, the one record that survives a restart:
 *
 *   - a cause whose run exists already is a duplicate (never fired twice);
 *   - a cause older than max_age is stale and never fires;
 *   - a pod with a triggered run created less than cooldown ago waits for
 *     the end of the cooldown (`next`), or goes stale;
 *   - at most one cause per pod fires in one decision (the oldest);
 *   - a cause beyond max_active unfinished runs of the Capsule, or beyond
 *     ns_max unfinished triggered runs of the namespace, is capped: it waits
 *     for a run to finish (the controller decides again then).
 *
 * Causes are taken oldest first (then by pod name, then by run name), so
 * the decision does not depend on the order they were found in.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "sched/names.h"

/* "No time": nothing to wait for. */
#define RECAP_TRIGGER_NONE INT64_MAX

struct recap_trigger_cause {
	const char *pod;      /* the pod it concerns */
	const char *run_name; /* its run's name (recap_trigger_run_name) */
	int64_t time;	      /* when it happened, seconds since the epoch */
};

/* One existing triggered run of the Capsule. */
struct recap_trigger_run {
	const char *name;
	const char *pod; /* spec.cause.pod */
	int64_t created; /* metadata.creationTimestamp */
	bool active;	 /* not finished */
};

struct recap_trigger_limits {
	int64_t cooldown;  /* seconds between two triggered runs for one pod */
	int64_t max_age;   /* seconds a cause may wait before it is dropped */
	size_t max_active; /* unfinished triggered runs of the Capsule */
	size_t ns_active;  /* unfinished triggered runs of the namespace (other Capsules' too) */
	size_t ns_max;	   /* their bound */
};

struct recap_trigger_decision {
	size_t *fire; /* indexes into the causes, in the order to create their runs */
	size_t n_fire;
	size_t duplicate, stale, cooling, capped; /* causes held back, by why */
	bool capped_by_namespace;		  /* the namespace's bound held some back */
	int64_t next;				  /* when a cooling cause may fire, or RECAP_TRIGGER_NONE */
};

int recap_trigger_decide(const struct recap_trigger_cause *causes, size_t n,
			 const struct recap_trigger_run *runs, size_t n_runs,
			 const struct recap_trigger_limits *limits, int64_t now,
			 struct recap_trigger_decision *ret, struct recap_error **err);
void recap_trigger_decision_clear(struct recap_trigger_decision *d);

/* The run of a cause: "<capsule>-t<hash>", the hash over the Capsule's uid,
 * the pod's uid and the cause's key (what tells two causes of one pod
 * apart: the condition and its transition time, "created", the Event's
 * uid). Returns its length or -EINVAL. */
int recap_trigger_run_name(char out[RECAP_NAME_MAX + 1], const char *capsule, const char *capsule_uid,
			   const char *pod_uid, const char *key);

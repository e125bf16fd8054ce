/* A Capsule's status and its run history, as pure functions. */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct recap_controller_capsule_view {
	json_t *capsule;
	/* NULL when admitted; else "PolicyViolation" or "InvalidSpec". */
	const char *refused_reason, *refused_message;
	size_t governing; /* policies that govern it (0: the baseline) */
	size_t matched;	  /* targets matched now */
	json_t *runs;	  /* the Capsule's CapsuleRuns (JSON array) */
	/* RECAP_PERIODIC_NONE (INT64_MIN) when unset. */
	int64_t last_schedule, next_schedule;
	time_t now;
};

json_t *recap_controller_capsule_status(const struct recap_controller_capsule_view *v);

/* Runs of `runs` not finished, sorted by name, at most 100 (status.active). */
json_t *recap_controller_active_runs(json_t *runs);

/* Names of finished runs with trigger Periodic beyond the history limits
 * (Succeeded ones beyond keep_succeeded; Failed, PartiallyFailed and
 * Cancelled beyond keep_failed), oldest first, then those of the triggered
 * runs, counted on their own. Only Periodic runs whose spec.scheduledTime
 * is at or before `recorded` (the Capsule's status.lastScheduleTime as
 * read; 0: none) may go: whether a scheduled time already started is
 * judged from that record or from its run, so a run is never deleted
 * before the record that replaces it is there. Likewise a triggered run
 * goes only after recap_controller_triggered_keep_until(). */
json_t *recap_controller_history_prune(json_t *runs, int64_t keep_succeeded, int64_t keep_failed,
				       time_t recorded, time_t now);
/* A triggered run records its pod's cooldown and its cause (a cause whose
 * run exists never fires again): it is kept until its creation plus the
 * larger of triggerLimits.cooldownSeconds and maxCauseAgeSeconds (of its
 * status.capsuleSpec, else their defaults); seconds since the epoch. */
int64_t recap_controller_triggered_keep_until(json_t *run);

/* The Periodic scheduler's decision, CronJob semantics, as a pure function.
 *
 * The controller reads a Capsule's schedule, its status.lastScheduleTime and
 * its CapsuleRuns, calls recap_periodic_decide() with the current time, then
 * acts: create the run named in the decision (an AlreadyExists answer for
 * that name means a previous attempt created it: success), cancel the listed
 * runs, write lastScheduleTime, record the warning, requeue at `next`.
 *
 * Determinism: the run for scheduled time T is always named
 * "<capsule>-<T in Unix minutes>", and a time at or before lastScheduleTime is
 * never chosen, so a restart, a repeated event or a clock stepping back can
 * never start a second run for the same scheduled time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/error.h"
#include "sched/cron.h"
#include "sched/names.h"
#include "sched/tz.h"

/* "No time": no lastScheduleTime, no deadline, no next time. */
#define RECAP_PERIODIC_NONE INT64_MIN
/* More missed start times than this: one catch-up run and a warning. */
#define RECAP_PERIODIC_MAX_MISSED 100
/* A Capsule lists at most this many active runs (status.active is bounded):
 * with Allow, a due time beyond it is skipped with a warning. */
#define RECAP_PERIODIC_MAX_ACTIVE 100

enum recap_concurrency {
	RECAP_CONCURRENCY_ALLOW,
	RECAP_CONCURRENCY_FORBID,
	RECAP_CONCURRENCY_REPLACE,
};

/* "Allow" | "Forbid" | "Replace"; NULL or "" is Allow. */
int recap_periodic_concurrency_parse(const char *s, enum recap_concurrency *ret, struct recap_error **err);

struct recap_periodic_schedule {
	struct recap_cron cron;
	const struct recap_tz *tz;
	int64_t starting_deadline; /* seconds, RECAP_PERIODIC_NONE = unset */
	enum recap_concurrency concurrency;
	bool suspend;
};

/* Parses spec.schedule of a Capsule ({cron, timeZone, concurrencyPolicy,
 * startingDeadlineSeconds, suspend}); the zone is loaded into *ret_tz, which
 * the caller frees after the schedule is no longer used. */
int recap_periodic_schedule_parse(json_t *schedule, struct recap_periodic_schedule *ret,
				  struct recap_tz **ret_tz, struct recap_error **err);

/* One existing CapsuleRun of the Capsule. */
struct recap_periodic_run {
	const char *name;
	bool active; /* not yet Succeeded/Failed/PartiallyFailed/Cancelled */
};

struct recap_periodic_input {
	const char *capsule;   /* metadata.name */
	int64_t created;       /* metadata.creationTimestamp */
	int64_t last_schedule; /* status.lastScheduleTime or RECAP_PERIODIC_NONE */
	int64_t now;
	const struct recap_periodic_run *runs;
	size_t n_runs;
};

enum recap_periodic_action {
	RECAP_PERIODIC_WAIT,		/* nothing due (or suspended): requeue at `next` */
	RECAP_PERIODIC_START,		/* create run_name for `scheduled` (after cancelling `cancel`) */
	RECAP_PERIODIC_EXISTS,		/* the run for `scheduled` exists already: only record it */
	RECAP_PERIODIC_FORBID,		/* due, but Forbid and a run is active: retried when it ends */
	RECAP_PERIODIC_TOO_MANY_ACTIVE, /* due, but RECAP_PERIODIC_MAX_ACTIVE runs are active: skipped */
};

struct recap_periodic_decision {
	enum recap_periodic_action action;
	int64_t scheduled; /* the due time (START, EXISTS, FORBID) */
	char run_name[RECAP_NAME_MAX + 1];
	uint64_t missed;      /* due times since the last one, counting stops past the limit */
	bool too_many_missed; /* > RECAP_PERIODIC_MAX_MISSED: warn, one catch-up run */
	size_t *cancel;	      /* Replace: indexes into input.runs of the runs to cancel */
	size_t n_cancel;
	int64_t last_schedule; /* new status.lastScheduleTime */
	int64_t next;	       /* next schedule time after now, RECAP_PERIODIC_NONE if suspended */
};

int recap_periodic_decide(const struct recap_periodic_schedule *s, const struct recap_periodic_input *in,
			  struct recap_periodic_decision *ret, struct recap_error **err);
void recap_periodic_decision_clear(struct recap_periodic_decision *d);

/* "<capsule>-<scheduled / 60>", within RECAP_NAME_MAX (see names.h). */
int recap_periodic_run_name(const char *capsule, int64_t scheduled, char out[RECAP_NAME_MAX + 1]);

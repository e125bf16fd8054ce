#include "sched/periodic.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds the walk that finds the latest due time after many missed ones. */
#define CATCH_UP_STEPS_MAX 200000

int recap_periodic_run_name(const char *capsule, int64_t scheduled, char out[RECAP_NAME_MAX + 1])
{
	char suffix[24];
	snprintf(suffix, sizeof(suffix), "-%" PRId64, scheduled / 60);
	return recap_sched_name(out, &capsule, 1, suffix);
}

void recap_periodic_decision_clear(struct recap_periodic_decision *d)
{
	free(d->cancel);
	d->cancel = NULL;
	d->n_cancel = 0;
}

struct due {
	int64_t latest; /* RECAP_PERIODIC_NONE if nothing is due */
	uint64_t count;
};

/* Past RECAP_PERIODIC_MAX_MISSED, counting stops; the latest due time is
 * found by walking forward from a window before `now` that doubles until it
 * holds a fire time, so the walk is short whatever the backlog. */
static int latest_by_window(const struct recap_periodic_schedule *s, int64_t from, int64_t now, struct due *d,
			    struct recap_error **err)
{
	int64_t start = from, t;
	for (int64_t w = 3600; now - w > from; w *= 2) {
		int r = recap_cron_next(&s->cron, s->tz, now - w, &t, err);
		if (r < 0)
			return r;
		if (t <= now) {
			start = now - w;
			break;
		}
	}
	for (int steps = 0; steps < CATCH_UP_STEPS_MAX; steps++) {
		int r = recap_cron_next(&s->cron, s->tz, start, &t, err);
		if (r < 0)
			return r;
		if (t > now)
			return 0;
		d->latest = start = t;
	}
	return recap_error_set(err, E2BIG, "too many schedule times to catch up");
}

/* The due times in (earliest, now]. */
static int find_due(const struct recap_periodic_schedule *s, int64_t earliest, int64_t now, struct due *d,
		    struct recap_error **err)
{
	d->latest = RECAP_PERIODIC_NONE;
	d->count = 0;
	int64_t t = earliest, next;
	while (t < now) {
		int r = recap_cron_next(&s->cron, s->tz, t, &next, err);
		if (r < 0)
			return r;
		if (next > now)
			return 0;
		d->latest = t = next;
		if (++d->count > RECAP_PERIODIC_MAX_MISSED)
			return latest_by_window(s, t, now, d, err);
	}
	return 0;
}

static int64_t earliest_time(const struct recap_periodic_schedule *s, const struct recap_periodic_input *in)
{
	int64_t earliest = in->last_schedule != RECAP_PERIODIC_NONE ? in->last_schedule : in->created;
	/* A time T may start while now <= T + deadline, so the window (earliest,
	 * now] begins one second before now - deadline. */
	if (s->starting_deadline != RECAP_PERIODIC_NONE && in->now - s->starting_deadline - 1 > earliest)
		earliest = in->now - s->starting_deadline - 1;
	return earliest;
}

static bool run_exists(const struct recap_periodic_input *in, const char *name)
{
	for (size_t i = 0; i < in->n_runs; i++) {
		if (strcmp(in->runs[i].name, name) == 0)
			return true;
	}
	return false;
}

static int list_active(const struct recap_periodic_input *in, struct recap_periodic_decision *d)
{
	for (size_t i = 0; i < in->n_runs; i++) {
		if (!in->runs[i].active)
			continue;
		if (!d->cancel && !(d->cancel = calloc(in->n_runs, sizeof(*d->cancel))))
			return -ENOMEM;
		d->cancel[d->n_cancel++] = i;
	}
	return 0;
}

/* What to do with the due time d->scheduled. */
static int act(const struct recap_periodic_schedule *s, const struct recap_periodic_input *in,
	       struct recap_periodic_decision *d)
{
	if (recap_periodic_run_name(in->capsule, d->scheduled, d->run_name) < 0)
		return -EINVAL;
	if (run_exists(in, d->run_name)) {
		d->action = RECAP_PERIODIC_EXISTS;
		d->last_schedule = d->scheduled;
		return 0;
	}
	size_t active = 0;
	for (size_t i = 0; i < in->n_runs; i++)
		active += in->runs[i].active;
	if (active > 0 && s->concurrency == RECAP_CONCURRENCY_FORBID) {
		/* lastScheduleTime stays: the time is retried while within the deadline. */
		d->action = RECAP_PERIODIC_FORBID;
		return 0;
	}
	if (active >= RECAP_PERIODIC_MAX_ACTIVE && s->concurrency == RECAP_CONCURRENCY_ALLOW) {
		d->action = RECAP_PERIODIC_TOO_MANY_ACTIVE;
		d->last_schedule = d->scheduled;
		return 0;
	}
	if (s->concurrency == RECAP_CONCURRENCY_REPLACE) {
		int r = list_active(in, d);
		if (r < 0)
			return r;
	}
	d->action = RECAP_PERIODIC_START;
	d->last_schedule = d->scheduled;
	return 0;
}

int recap_periodic_decide(const struct recap_periodic_schedule *s, const struct recap_periodic_input *in,
			  struct recap_periodic_decision *ret, struct recap_error **err)
{
	struct recap_periodic_decision d = {.action = RECAP_PERIODIC_WAIT,
					    .scheduled = RECAP_PERIODIC_NONE,
					    .last_schedule = in->last_schedule,
					    .next = RECAP_PERIODIC_NONE};
	int r;
	if (!s->suspend) {
		/* After a clock step back, never before a time already started. */
		int64_t from = in->now;
		if (in->last_schedule != RECAP_PERIODIC_NONE && in->last_schedule > from)
			from = in->last_schedule;
		if ((r = recap_cron_next(&s->cron, s->tz, from, &d.next, err)) < 0)
			return r;
		struct due due;
		if ((r = find_due(s, earliest_time(s, in), in->now, &due, err)) < 0)
			return r;
		d.missed = due.count;
		d.too_many_missed = due.count > RECAP_PERIODIC_MAX_MISSED;
		d.scheduled = due.latest;
		if (due.latest != RECAP_PERIODIC_NONE && (r = act(s, in, &d)) < 0) {
			recap_periodic_decision_clear(&d);
			return r == -EINVAL
				   ? recap_error_set(err, EINVAL, "capsule name \"%s\" too long", in->capsule)
				   : r;
		}
	}
	*ret = d;
	return 0;
}

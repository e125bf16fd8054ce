/* Next fire time of a cron schedule in a time zone.
 *
 * The search walks local calendar days and, on matching days, the matching
 * wall-clock times in order; each wall-clock time is mapped to the instants at
 * which the zone shows it: none (a DST gap: skipped), one, or two (a DST
 * repeat: the first one only, so it fires once). Wall-clock order is instant
 * order for these first occurrences, so the first candidate after `after` is
 * the answer. The walk is bounded by RECAP_CRON_SEARCH_YEARS.
 */
#include "sched/cron.h"

#include <errno.h>

#include "sched/civil.h"

/* Widest offsets a zone may have (RFC 8536's recommended range). */
#define UTOFF_MIN (-89999)
#define UTOFF_MAX 93599

bool recap_cron_day_matches(const struct recap_cron *c, int64_t local_day)
{
	struct recap_civil d = recap_sched_civil_from_days(local_day);
	if (!(c->month & (1u << d.month)))
		return false;
	bool dom = c->dom & (1u << d.day);
	bool dow = c->dow & (1u << recap_sched_weekday(local_day));
	if (c->dom_any || c->dow_any)
		return dom && dow;
	return dom || dow;
}

/* A restricted day-of-month with `*` day-of-week must exist in some month. */
static bool can_fire(const struct recap_cron *c)
{
	if (!c->dow_any || c->dom_any)
		return true;
	static const int longest[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	for (int m = 1; m <= 12; m++) {
		if (!(c->month & (1u << m)))
			continue;
		for (int d = 1; d <= longest[m - 1]; d++) {
			if (c->dom & (1u << d))
				return true;
		}
	}
	return false;
}

/* The first instant at which the zone's clock shows wall time `local`
 * (seconds since 1970-01-01 00:00 local); false in a gap. */
static bool first_instant(const struct recap_tz *tz, int64_t local, int64_t *ret)
{
	int32_t probes[3] = {recap_tz_offset(tz, local - UTOFF_MAX - 3600), recap_tz_offset(tz, local),
			     recap_tz_offset(tz, local - UTOFF_MIN + 3600)};
	bool found = false;
	for (int i = 0; i < 3; i++) {
		int64_t t = local - probes[i];
		if (recap_tz_offset(tz, t) == probes[i] && (!found || t < *ret)) {
			*ret = t;
			found = true;
		}
	}
	return found;
}

static bool next_on_day(const struct recap_cron *c, const struct recap_tz *tz, int64_t day, int64_t after,
			int64_t *ret)
{
	for (int h = 0; h < 24; h++) {
		if (!(c->hour & (1u << h)))
			continue;
		int64_t hour_start = day * 86400 + h * 3600;
		if (hour_start + 3599 - UTOFF_MIN <= after)
			continue; /* every instant showing this hour is before `after` */
		for (int m = 0; m < 60; m++) {
			int64_t t = 0;
			if ((c->minute & (1ULL << m)) && first_instant(tz, hour_start + m * 60, &t) &&
			    t > after) {
				*ret = t;
				return true;
			}
		}
	}
	return false;
}

int recap_cron_next(const struct recap_cron *c, const struct recap_tz *tz, int64_t after, int64_t *ret_next,
		    struct recap_error **err)
{
	if (!can_fire(c))
		return recap_error_set(err, EDOM, "cron schedule never fires (no month has that day)");
	/* Start a day early: `after` may be up to 26 hours off local midnight. */
	int64_t day = recap_sched_floordiv(after + recap_tz_offset(tz, after), 86400) - 1;
	int64_t last = day + 366 * RECAP_CRON_SEARCH_YEARS + 2;
	while (day <= last) {
		struct recap_civil d = recap_sched_civil_from_days(day);
		if (!(c->month & (1u << d.month))) {
			/* Jump to the first day of the next month. */
			day = recap_sched_days_from_civil(d.year + (d.month == 12), d.month % 12 + 1, 1);
			continue;
		}
		int64_t t = 0;
		if (recap_cron_day_matches(c, day) && next_on_day(c, tz, day, after, &t)) {
			*ret_next = t;
			return 0;
		}
		day++;
	}
	return recap_error_set(err, EDOM, "cron schedule does not fire within %d years",
			       RECAP_CRON_SEARCH_YEARS);
}

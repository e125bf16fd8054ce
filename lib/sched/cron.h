/* Cron expressions, standard five fields:
 *
 *   minute hour day-of-month month day-of-week
 *
 * Each field is a list ("1,5,10") of `*`, values, ranges ("1-5") and steps
 * ("*\/15", "1-30/5", "5/15" = "5-max/15"). Months take JAN..DEC, days of week
 * SUN..SAT (case-insensitive); 0 and 7 are both Sunday. `?` is `*` in the two
 * day fields. Macros: @yearly @annually @monthly @weekly @daily @midnight
 * @hourly. When both day fields are restricted a day matches if either does
 * (Vixie cron); a field is unrestricted when it is `*` or `?` without a step
 * greater than 1 (as Kubernetes CronJob's parser decides).
 *
 * Times are computed in a time zone (sched/tz.h); see docs/scheduling.md for
 * daylight saving time: a wall-clock time that does not exist is skipped, a
 * wall-clock time that occurs twice fires once (its first occurrence).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "sched/tz.h"

#define RECAP_CRON_MAX_LEN 256
/* next() looks this many years ahead before giving up ("29 2" needs 8). */
#define RECAP_CRON_SEARCH_YEARS 12

struct recap_cron {
	uint64_t minute; /* bits 0..59 */
	uint32_t hour;	 /* bits 0..23 */
	uint32_t dom;	 /* bits 1..31 */
	uint16_t month;	 /* bits 1..12 */
	uint8_t dow;	 /* bits 0..6, 0 = Sunday */
	bool dom_any;	 /* day-of-month unrestricted */
	bool dow_any;	 /* day-of-week unrestricted */
};

/* Parses expr. Errors name the field and the offending token:
 * `invalid cron "0 25 * * *": hour: "25" is out of range 0-23`. */
int recap_cron_parse(const char *expr, struct recap_cron *ret, struct recap_error **err);

/* The first fire time strictly after `after` (Unix seconds), in zone tz.
 * -EDOM "never fires" for schedules such as "0 0 30 2 *". */
int recap_cron_next(const struct recap_cron *c, const struct recap_tz *tz, int64_t after, int64_t *ret_next,
		    struct recap_error **err);

/* Whether the schedule matches a local wall-clock date (day number since
 * 1970-01-01 in local time). */
bool recap_cron_day_matches(const struct recap_cron *c, int64_t local_day);

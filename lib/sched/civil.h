/* Proleptic Gregorian calendar arithmetic on day numbers (days since
 * 1970-01-01), independent of any time zone. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct recap_civil {
	int64_t year;
	int month; /* 1..12 */
	int day;   /* 1..31 */
};

int64_t recap_sched_days_from_civil(int64_t year, int month, int day);
struct recap_civil recap_sched_civil_from_days(int64_t days);
/* 0 = Sunday .. 6 = Saturday. */
int recap_sched_weekday(int64_t days);
bool recap_sched_is_leap(int64_t year);
int recap_sched_days_in_month(int64_t year, int month);
/* Floor division, for times before the epoch. */
int64_t recap_sched_floordiv(int64_t a, int64_t b);

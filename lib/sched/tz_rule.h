/* POSIX TZ strings ("CET-1CEST,M3.5.0,M10.5.0/3"), as found in the footer of
 * TZif files version 2 and later. Internal to lib/sched. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct recap_tz_date {
	char kind;    /* 'J' (1..365, no Feb 29), 'D' (0..365), 'M' (month.week.day) */
	int a, b, c;  /* J/D: a = day; M: a = month, b = week (5 = last), c = weekday */
	int32_t time; /* seconds after local midnight, may be negative or > 24h */
};

struct recap_tz_rule {
	int32_t std_utoff; /* seconds east of UTC */
	int32_t dst_utoff;
	bool has_dst;
	struct recap_tz_date start, end;
};

/* Returns 0, or -EINVAL when s is not a complete POSIX TZ string. */
int recap_sched_tz_rule_parse(const char *s, struct recap_tz_rule *ret);
int32_t recap_sched_tz_rule_offset(const struct recap_tz_rule *r, int64_t t);

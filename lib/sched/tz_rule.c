#include "sched/tz_rule.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>

#include "sched/civil.h"

static const char *parse_name(const char *p)
{
	const char *start = p;
	if (*p == '<') {
		for (p++; *p && *p != '>'; p++) {
			if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-')
				return NULL;
		}
		return *p == '>' && p - start >= 4 ? p + 1 : NULL;
	}
	while (isalpha((unsigned char)*p))
		p++;
	return p - start >= 3 ? p : NULL;
}

static const char *parse_number(const char *p, int max, int *ret)
{
	if (!isdigit((unsigned char)*p))
		return NULL;
	int v = 0;
	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (*p++ - '0');
		if (v > max)
			return NULL;
	}
	*ret = v;
	return p;
}

/* [+-]hh[:mm[:ss]] with hours up to max_hours; returns seconds. */
static const char *parse_hms(const char *p, int max_hours, int32_t *ret)
{
	int sign = 1, h = 0, m = 0, s = 0;
	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	p = parse_number(p, max_hours, &h);
	if (p && *p == ':')
		p = parse_number(p + 1, 59, &m);
	if (p && *p == ':')
		p = parse_number(p + 1, 59, &s);
	if (p)
		*ret = sign * (h * 3600 + m * 60 + s);
	return p;
}

static const char *parse_date(const char *p, struct recap_tz_date *d)
{
	d->time = 2 * 3600;
	d->kind = *p == 'J' || *p == 'M' ? *p++ : 'D';
	if (d->kind == 'J') {
		p = parse_number(p, 365, &d->a);
		if (p && d->a < 1)
			return NULL;
	} else if (d->kind == 'D') {
		p = parse_number(p, 365, &d->a);
	} else {
		p = parse_number(p, 12, &d->a);
		if (p && *p++ == '.')
			p = parse_number(p, 5, &d->b);
		else
			p = NULL;
		if (p && *p++ == '.')
			p = parse_number(p, 6, &d->c);
		else
			p = NULL;
		if (p && (d->a < 1 || d->b < 1))
			return NULL;
	}
	if (p && *p == '/')
		p = parse_hms(p + 1, 167, &d->time);
	return p;
}

int recap_sched_tz_rule_parse(const char *s, struct recap_tz_rule *ret)
{
	struct recap_tz_rule r = {0};
	int32_t off = 0;
	const char *p = parse_name(s);
	if (!p || !(p = parse_hms(p, 24, &off)))
		return -EINVAL;
	r.std_utoff = -off;
	r.dst_utoff = r.std_utoff;
	if (*p) {
		if (!(p = parse_name(p)))
			return -EINVAL;
		r.has_dst = true;
		r.dst_utoff = r.std_utoff + 3600;
		if (*p && *p != ',') {
			if (!(p = parse_hms(p, 24, &off)))
				return -EINVAL;
			r.dst_utoff = -off;
		}
		/* TZif footers always carry the rules; a default is not guessed. */
		if (*p++ != ',' || !(p = parse_date(p, &r.start)) || *p++ != ',' ||
		    !(p = parse_date(p, &r.end)))
			return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	*ret = r;
	return 0;
}

static int64_t rule_day(const struct recap_tz_date *d, int64_t year)
{
	int64_t jan1 = recap_sched_days_from_civil(year, 1, 1);
	if (d->kind == 'J')
		return jan1 + d->a - 1 + (recap_sched_is_leap(year) && d->a >= 60);
	if (d->kind == 'D')
		return jan1 + d->a;
	int64_t first = recap_sched_days_from_civil(year, d->a, 1);
	int64_t day = first + (d->c - recap_sched_weekday(first) + 7) % 7 + 7 * (d->b - 1);
	while (day >= first + recap_sched_days_in_month(year, d->a))
		day -= 7;
	return day;
}

int32_t recap_sched_tz_rule_offset(const struct recap_tz_rule *r, int64_t t)
{
	if (!r->has_dst)
		return r->std_utoff;
	int64_t year = recap_sched_civil_from_days(recap_sched_floordiv(t + r->std_utoff, 86400)).year;
	/* The start is given in standard time, the end in daylight time. */
	int64_t start = rule_day(&r->start, year) * 86400 + r->start.time - r->std_utoff;
	int64_t end = rule_day(&r->end, year) * 86400 + r->end.time - r->dst_utoff;
	bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
	return dst ? r->dst_utoff : r->std_utoff;
}

#include "sched/cron.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/cleanup.h"

struct field_desc {
	const char *name;
	int min, max;
	const char *const *names; /* 3-letter names for min.., or NULL */
	bool question;		  /* '?' allowed */
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
					  "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const dow_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const struct field_desc fields[5] = {
    {"minute", 0, 59, NULL, false},	    {"hour", 0, 23, NULL, false},
    {"day-of-month", 1, 31, NULL, true},    {"month", 1, 12, month_names, false},
    {"day-of-week", 0, 7, dow_names, true},
};

static const struct {
	const char *name, *expansion;
} macros[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},  {"@midnight", "0 0 * * *"}, {"@hourly", "0 * * * *"},
};

struct parse_ctx {
	const char *expr;
	const struct field_desc *f;
	struct recap_error **err;
};

static int bad(const struct parse_ctx *c, const char *tok, size_t len, const char *why)
{
	return recap_error_set(c->err, EINVAL, "invalid cron \"%s\": %s: \"%.*s\" %s", c->expr, c->f->name,
			       (int)len, tok, why);
}

/* A number or a name; `high` makes SUN mean 7 so that "FRI-SUN" works. */
static int parse_value(const struct parse_ctx *c, const char *tok, size_t len, bool high, int *ret)
{
	if (len == 0)
		return recap_error_set(c->err, EINVAL, "invalid cron \"%s\": %s: empty value", c->expr,
				       c->f->name);
	if (isdigit((unsigned char)tok[0])) {
		int v = 0;
		for (size_t i = 0; i < len; i++) {
			if (!isdigit((unsigned char)tok[i]))
				return bad(c, tok, len, "is not a number");
			v = v * 10 + (tok[i] - '0');
			if (v > c->f->max)
				break;
		}
		if (v < c->f->min || v > c->f->max) {
			char why[64];
			snprintf(why, sizeof(why), "is out of range %d-%d", c->f->min, c->f->max);
			return bad(c, tok, len, why);
		}
		*ret = v;
		return 0;
	}
	for (int i = 0; c->f->names && c->f->names[i]; i++) {
		if (len == 3 && strncasecmp(tok, c->f->names[i], 3) == 0) {
			*ret = c->f->min + i + (high && c->f->names == dow_names && i == 0 ? 7 : 0);
			return 0;
		}
	}
	return bad(c, tok, len, c->f->names ? "is not a number or a known name" : "is not a number");
}

static int parse_step(const struct parse_ctx *c, const char *tok, size_t len, int *ret)
{
	int step = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)tok[i]) || step > c->f->max)
			return bad(c, tok, len, "is not a valid step");
		step = step * 10 + (tok[i] - '0');
	}
	if (len == 0 || step < 1 || step > c->f->max + 1)
		return bad(c, tok, len, "is not a valid step");
	*ret = step;
	return 0;
}

/* One list item: "*", "*\/n", "a", "a-b", "a-b/n", "a/n". */
static int parse_item(const struct parse_ctx *c, const char *tok, size_t len, uint64_t *bits, bool *any)
{
	const char *slash = memchr(tok, '/', len);
	size_t base_len = slash ? (size_t)(slash - tok) : len;
	int lo, hi, step = 1, r;
	if (slash && (r = parse_step(c, slash + 1, len - base_len - 1, &step)) < 0)
		return r;
	bool star = base_len == 1 && (tok[0] == '*' || (tok[0] == '?' && c->f->question));
	if (star) {
		lo = c->f->min;
		hi = c->f->names == dow_names ? 6 : c->f->max;
		*any = *any || step == 1;
	} else {
		const char *dash = memchr(tok, '-', base_len);
		size_t lo_len = dash ? (size_t)(dash - tok) : base_len;
		if ((r = parse_value(c, tok, lo_len, false, &lo)) < 0)
			return r;
		hi = slash ? c->f->max : lo;
		if (dash && (r = parse_value(c, dash + 1, base_len - lo_len - 1, true, &hi)) < 0)
			return r;
		if (hi < lo)
			return bad(c, tok, base_len, "is a range whose start is after its end");
	}
	for (int v = lo; v <= hi; v += step)
		*bits |= 1ULL << v;
	return 0;
}

static int parse_field(const struct parse_ctx *c, const char *tok, size_t len, uint64_t *bits, bool *any)
{
	*bits = 0;
	*any = false;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && tok[i] != ',')
			continue;
		if (i == start)
			return bad(c, tok, len, "has an empty list item");
		int r = parse_item(c, tok + start, i - start, bits, any);
		if (r < 0)
			return r;
		start = i + 1;
	}
	return 0;
}

static const char *expand_macro(const char *s, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(macros); i++) {
		if (strlen(macros[i].name) == len && strncasecmp(s, macros[i].name, len) == 0)
			return macros[i].expansion;
	}
	return NULL;
}

static int split_fields(const char *expr, const char *s, const char *tok[5], size_t len[5],
			struct recap_error **err)
{
	int n = 0;
	while (*s) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		const char *start = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		if (n < 5) {
			tok[n] = start;
			len[n] = (size_t)(s - start);
		}
		n++;
	}
	if (n != 5)
		return recap_error_set(
		    err, EINVAL,
		    "invalid cron \"%s\": expected 5 fields (minute hour day-of-month month "
		    "day-of-week), got %d",
		    expr, n);
	return 0;
}

static int check_chars(const char *expr, struct recap_error **err)
{
	size_t len = strlen(expr);
	if (len > RECAP_CRON_MAX_LEN)
		return recap_error_set(err, EINVAL, "invalid cron: longer than %d characters",
				       RECAP_CRON_MAX_LEN);
	for (const char *p = expr; *p; p++) {
		if (!isprint((unsigned char)*p) && *p != '\t')
			return recap_error_set(err, EINVAL,
					       "invalid cron \"%s\": control or non-ASCII character", expr);
	}
	if (strncmp(expr, "TZ=", 3) == 0 || strncmp(expr, "CRON_TZ=", 8) == 0)
		return recap_error_set(
		    err, EINVAL,
		    "invalid cron \"%s\": TZ= and CRON_TZ= prefixes are not supported, set "
		    "schedule.timeZone instead",
		    expr);
	return 0;
}

int recap_cron_parse(const char *expr, struct recap_cron *ret, struct recap_error **err)
{
	int r = check_chars(expr, err);
	if (r < 0)
		return r;
	const char *s = expr;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '@') {
		size_t len = strcspn(s, " \t");
		const char *rest = s + len + strspn(s + len, " \t");
		const char *expansion = expand_macro(s, len);
		if (expansion && *rest)
			return recap_error_set(err, EINVAL,
					       "invalid cron \"%s\": macro \"%.*s\" takes no fields", expr,
					       (int)len, s);
		if (!expansion)
			return recap_error_set(err, EINVAL,
					       "invalid cron \"%s\": unknown macro \"%.*s\" (known: @yearly, "
					       "@annually, @monthly, @weekly, @daily, @midnight, @hourly)",
					       expr, (int)len, s);
		s = expansion;
	}
	const char *tok[5];
	size_t len[5];
	if ((r = split_fields(expr, s, tok, len, err)) < 0)
		return r;
	uint64_t bits[5];
	bool any[5];
	for (int i = 0; i < 5; i++) {
		struct parse_ctx c = {.expr = expr, .f = &fields[i], .err = err};
		if ((r = parse_field(&c, tok[i], len[i], &bits[i], &any[i])) < 0)
			return r;
	}
	*ret = (struct recap_cron){
	    .minute = bits[0],
	    .hour = (uint32_t)bits[1],
	    .dom = (uint32_t)bits[2],
	    .month = (uint16_t)bits[3],
	    .dow = (uint8_t)((bits[4] | bits[4] >> 7) & 0x7f),
	    .dom_any = any[2],
	    .dow_any = any[4],
	};
	return 0;
}

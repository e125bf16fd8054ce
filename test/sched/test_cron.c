#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "base/timeutil.h"
#include "sched/cron.h"

static int64_t at(const char *iso)
{
	time_t t;
	if (recap_time_parse(iso, &t) < 0)
		fail_msg("bad test time %s", iso);
	return (int64_t)t;
}

static void assert_same(const char *a, const char *b)
{
	struct recap_cron ca, cb;
	struct recap_error *err = NULL;
	if (recap_cron_parse(a, &ca, &err) < 0 || recap_cron_parse(b, &cb, &err) < 0)
		fail_msg("%s / %s: %s", a, b, recap_error_message(err));
	if (ca.minute != cb.minute || ca.hour != cb.hour || ca.dom != cb.dom || ca.month != cb.month ||
	    ca.dow != cb.dow || ca.dom_any != cb.dom_any || ca.dow_any != cb.dow_any)
		fail_msg("\"%s\" and \"%s\" differ", a, b);
}

static void equivalent_forms(void **state)
{
	static const char *pairs[][2] = {
	    {"*/15 * * * *", "0,15,30,45 * * * *"},
	    {"1-30/5 * * * *", "1,6,11,16,21,26 * * * *"},
	    {"5/20 * * * *", "5,25,45 * * * *"},
	    {"*/1 * * * *", "* * * * *"},
	    {"0-59 * * * *", "* * * * *"},
	    {"0 */6 * * *", "0 0,6,12,18 * * *"},
	    {"0 22-23,0-2 * * *", "0 0,1,2,22,23 * * *"},
	    {"0 0 * JAN-MAR *", "0 0 * 1,2,3 *"},
	    {"0 0 * jan,Feb,mAR *", "0 0 * 1-3 *"},
	    {"0 0 * DEC *", "0 0 * 12 *"},
	    {"0 0 * * 7", "0 0 * * 0"},
	    {"0 0 * * sun", "0 0 * * 0"},
	    {"0 0 * * 5-7", "0 0 * * 0,5,6"},
	    {"0 0 * * FRI-SUN", "0 0 * * 5,6,0"},
	    {"0 0 * * mon-fri", "0 0 * * 1-5"},
	    {"0 0 * * */2", "0 0 * * 0,2,4,6"},
	    {"0 0 ? * *", "0 0 * * *"},
	    {"0 0 * * ?", "0 0 * * *"},
	    {"0 0 1/10 * *", "0 0 1,11,21,31 * *"},
	    {"@yearly", "0 0 1 1 *"},
	    {"@annually", "0 0 1 1 *"},
	    {"@monthly", "0 0 1 * *"},
	    {"@weekly", "0 0 * * 0"},
	    {"@daily", "0 0 * * *"},
	    {"@midnight", "0 0 * * *"},
	    {"@HOURLY", "0 * * * *"},
	    {"  0  0  *  *  *  ", "0 0 * * *"},
	    {"0\t0 * * *", "0 0 * * *"},
	    {" @daily ", "0 0 * * *"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(pairs); i++)
		assert_same(pairs[i][0], pairs[i][1]);
}

static void restricted_day_fields(void **state)
{
	struct recap_cron c;
	assert_int_equal(recap_cron_parse("0 0 */2 * *", &c, NULL), 0);
	assert_false(c.dom_any); /* a step restricts, as in Kubernetes */
	assert_true(c.dow_any);
	assert_int_equal(recap_cron_parse("0 0 * * 1", &c, NULL), 0);
	assert_true(c.dom_any);
	assert_false(c.dow_any);
	assert_int_equal(recap_cron_parse("59 23 31 12 6", &c, NULL), 0);
	assert_true(c.minute == 1ULL << 59 && c.hour == 1u << 23 && c.dom == 1u << 31 && c.month == 1u << 12);
	assert_int_equal(c.dow, 1u << 6);
}

static void parse_errors(void **state)
{
	static const char *cases[][2] = {
	    {"", "expected 5 fields (minute hour day-of-month month day-of-week), got 0"},
	    {"* * * *", "got 4"},
	    {"* * * * * *", "got 6"},
	    {"60 * * * *", "minute: \"60\" is out of range 0-59"},
	    {"* 24 * * *", "hour: \"24\" is out of range 0-23"},
	    {"* * 0 * *", "day-of-month: \"0\" is out of range 1-31"},
	    {"* * 32 * *", "day-of-month: \"32\" is out of range 1-31"},
	    {"* * * 13 *", "month: \"13\" is out of range 1-12"},
	    {"* * * 0 *", "month: \"0\" is out of range 1-12"},
	    {"* * * * 8", "day-of-week: \"8\" is out of range 0-7"},
	    {"99999999999 * * * *", "minute: \"99999999999\" is out of range 0-59"},
	    {"5-3 * * * *", "minute: \"5-3\" is a range whose start is after its end"},
	    {"* * * * SAT-MON", "day-of-week: \"SAT-MON\" is a range whose start is after its end"},
	    {"*/0 * * * *", "minute: \"0\" is not a valid step"},
	    {"*/ * * * *", "minute: \"\" is not a valid step"},
	    {"*/61 * * * *", "minute: \"61\" is not a valid step"},
	    {"1/2/3 * * * *", "minute: \"2/3\" is not a valid step"},
	    {"1,,2 * * * *", "minute: \"1,,2\" has an empty list item"},
	    {"0 0 1, * *", "day-of-month: \"1,\" has an empty list item"},
	    {"a * * * *", "minute: \"a\" is not a number"},
	    {"1.5 * * * *", "minute: \"1.5\" is not a number"},
	    {"? * * * *", "minute: \"?\" is not a number"},
	    {"* * * FOO *", "month: \"FOO\" is not a number or a known name"},
	    {"* * * MON *", "month: \"MON\" is not a number or a known name"},
	    {"* * * * JAN", "day-of-week: \"JAN\" is not a number or a known name"},
	    {"* * * * MONDAY", "day-of-week: \"MONDAY\" is not a number or a known name"},
	    {"* * * * 1-2-3", "day-of-week: \"2-3\" is not a number"},
	    {"1- * * * *", "minute: empty value"},
	    {"-1 * * * *", "minute: empty value"},
	    {"@every 5m", "unknown macro \"@every\""},
	    {"@fortnightly", "unknown macro \"@fortnightly\""},
	    {"@daily 0", "macro \"@daily\" takes no fields"},
	    {"TZ=UTC 0 0 * * *", "TZ= and CRON_TZ= prefixes are not supported"},
	    {"CRON_TZ=Europe/Berlin 0 0 * * *", "set schedule.timeZone instead"},
	    {"0 0 * * *\n", "control or non-ASCII character"},
	    {"0 0 * * \xc3\xa9", "control or non-ASCII character"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct recap_cron c = {.minute = 42};
		struct recap_error *err = NULL;
		assert_int_equal(recap_cron_parse(cases[i][0], &c, &err), -EINVAL);
		assert_int_equal(c.minute, 42); /* untouched on failure */
		if (!strstr(recap_error_message(err), cases[i][1]))
			fail_msg("\"%s\": message \"%s\" lacks \"%s\"", cases[i][0], recap_error_message(err),
				 cases[i][1]);
		recap_error_free(err);
	}
	char longexpr[RECAP_CRON_MAX_LEN + 10];
	memset(longexpr, ' ', sizeof(longexpr) - 1);
	longexpr[sizeof(longexpr) - 1] = '\0';
	struct recap_cron c;
	struct recap_error *err = NULL;
	assert_int_equal(recap_cron_parse(longexpr, &c, &err), -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "longer than 256 characters"));
	recap_error_free(err);
}

struct next_case {
	const char *expr, *zone, *after, *want;
};

static const struct next_case next_cases[] = {
    /* Plain. */
    {"* * * * *", "UTC", "2026-11-23T13:59:00Z", "2026-11-23T14:00:00Z"},
    {"* * * * *", "UTC", "2026-11-23T13:59:30Z", "2026-11-23T14:00:00Z"},
    {"@hourly", "UTC", "2026-11-23T13:59:59Z", "2026-11-23T14:00:00Z"},
    {"@hourly", "UTC", "2026-11-23T14:00:00Z", "2026-11-23T15:00:00Z"},
    {"*/15 * * * *", "UTC", "2026-11-23T23:50:00Z", "2026-11-24T00:00:00Z"},
    {"@daily", "UTC", "2026-11-23T00:00:00Z", "2026-11-24T00:00:00Z"},
    {"@weekly", "UTC", "2026-11-23T00:00:00Z", "2026-11-29T00:00:00Z"},
    {"@monthly", "UTC", "2026-11-23T00:00:00Z", "2026-12-01T00:00:00Z"},
    {"@yearly", "UTC", "2026-11-23T00:00:00Z", "2027-01-01T00:00:00Z"},
    {"59 23 31 12 *", "UTC", "2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z"},
    {"0 0 31 * *", "UTC", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00Z"},
    {"0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z"},
    {"0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z"},
    {"0 9-17/2 * * 1-5", "UTC", "2026-11-27T17:00:00Z", "2026-11-30T09:00:00Z"},
    {"0 12 * * 7", "UTC", "2026-11-23T00:00:00Z", "2026-11-29T12:00:00Z"},
    {"0 0 * * FRI-SUN", "UTC", "2026-11-23T00:00:00Z", "2026-11-27T00:00:00Z"},
    {"0 0 * * MON", "UTC", "2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z"},
    /* Both day fields restricted: either matches. */
    {"0 0 13 * 5", "UTC", "2026-11-23T00:00:00Z", "2026-11-27T00:00:00Z"},
    {"0 0 1 * MON", "UTC", "2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z"},
    {"0 0 1 * MON", "UTC", "2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z"},
    {"0 0 */2 * MON", "UTC", "2026-11-23T00:00:00Z", "2026-11-25T00:00:00Z"},
    /* One restricted, the other `*`: both must match. */
    {"0 0 13 * *", "UTC", "2026-11-23T00:00:00Z", "2026-12-13T00:00:00Z"},
    {"0 0 13 2 *", "UTC", "2026-11-23T00:00:00Z", "2027-02-13T00:00:00Z"},
    /* Fixed offsets. */
    {"5 4 * * *", "Asia/Kolkata", "2026-11-23T00:00:00Z", "2026-11-23T22:35:00Z"},
    {"0 0 1 1 *", "Asia/Tokyo", "2026-11-23T00:00:00Z", "2026-12-31T15:00:00Z"},
    /* Europe/Berlin, spring forward 2026-03-29 02:00 CET -> 03:00 CEST. */
    {"30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-30T00:30:00Z"},
    {"30 2 29 3 *", "Europe/Berlin", "2026-03-01T00:00:00Z", "2027-03-29T00:30:00Z"},
    {"0 * * * *", "Europe/Berlin", "2026-03-29T00:30:00Z", "2026-03-29T01:00:00Z"},
    {"0 3 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z"},
    {"59 1 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-29T00:59:00Z"},
    /* Europe/Berlin, fall back 2026-10-25 03:00 CEST -> 02:00 CET: once. */
    {"30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z"},
    {"30 2 * * *", "Europe/Berlin", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"},
    {"0 * * * *", "Europe/Berlin", "2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z"},
    {"*/30 * * * *", "Europe/Berlin", "2026-10-25T00:30:00Z", "2026-10-25T02:00:00Z"},
    {"0 3 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", "2026-10-25T02:00:00Z"},
    /* America/New_York, spring forward 2026-03-08 02:00 EST -> 03:00 EDT. */
    {"30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", "2026-03-09T06:30:00Z"},
    {"0 2 8 3 *", "America/New_York", "2026-01-01T00:00:00Z", "2027-03-08T07:00:00Z"},
    {"59 1 * * *", "America/New_York", "2026-03-08T00:00:00Z", "2026-03-08T06:59:00Z"},
    {"0 3 * * *", "America/New_York", "2026-03-08T06:59:00Z", "2026-03-08T07:00:00Z"},
    /* America/New_York, fall back 2026-11-01 02:00 EDT -> 01:00 EST: once. */
    {"30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", "2026-11-01T05:30:00Z"},
    {"30 1 * * *", "America/New_York", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"},
    {"0 * * * *", "America/New_York", "2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z"},
    {"0 2 * * *", "America/New_York", "2026-10-31T12:00:00Z", "2026-11-01T07:00:00Z"},
    /* Past the zone's tables: the footer rule (2080 DST in New York). */
    {"30 2 * * *", "America/New_York", "2080-03-10T00:00:00Z", "2080-03-11T06:30:00Z"},
    /* Southern hemisphere and a 30-minute DST shift. */
    {"30 2 * * *", "Australia/Sydney", "2026-10-03T00:00:00Z", "2026-10-04T15:30:00Z"},
    {"15 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00:00Z", "2026-10-04T15:15:00Z"},
};

static void next_times(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(next_cases); i++) {
		const struct next_case *c = &next_cases[i];
		struct recap_cron cron;
		struct recap_tz *tz = NULL;
		struct recap_error *err = NULL;
		int64_t got = 0;
		assert_int_equal(recap_cron_parse(c->expr, &cron, NULL), 0);
		assert_int_equal(recap_tz_load(c->zone, &tz, NULL), 0);
		if (recap_cron_next(&cron, tz, at(c->after), &got, &err) < 0)
			fail_msg("%s in %s after %s: %s", c->expr, c->zone, c->after,
				 recap_error_message(err));
		char buf[32];
		recap_time_format((time_t)got, buf, sizeof(buf));
		if (got != at(c->want))
			fail_msg("%s in %s after %s: got %s, want %s", c->expr, c->zone, c->after, buf,
				 c->want);
		recap_tz_free(tz);
	}
}

static void never_fires(void **state)
{
	static const char *cases[] = {"0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 30,31 FEB *"};
	struct recap_tz *tz = NULL;
	assert_int_equal(recap_tz_load("UTC", &tz, NULL), 0);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct recap_cron c;
		struct recap_error *err = NULL;
		int64_t next = 7;
		assert_int_equal(recap_cron_parse(cases[i], &c, NULL), 0);
		assert_int_equal(recap_cron_next(&c, tz, 0, &next, &err), -EDOM);
		assert_non_null(strstr(recap_error_message(err), "never fires"));
		assert_int_equal(next, 7);
		recap_error_free(err);
	}
	/* A Sunday that is February 30th never comes, but Sundays do. */
	struct recap_cron c;
	int64_t next;
	assert_int_equal(recap_cron_parse("0 0 30 2 0", &c, NULL), 0);
	assert_int_equal(recap_cron_next(&c, tz, at("2026-11-23T00:00:00Z"), &next, NULL), 0);
	assert_int_equal(next, at("2027-02-07T00:00:00Z"));
	recap_tz_free(tz);
}

/* Walking a whole year minute by minute: every fire time is minute-aligned,
 * strictly increasing, and no wall-clock time fires twice. */
static void walk_a_year(void **state)
{
	struct recap_cron c;
	struct recap_tz *tz = NULL;
	assert_int_equal(recap_cron_parse("*/7 1-3 * * *", &c, NULL), 0);
	assert_int_equal(recap_tz_load("Europe/Berlin", &tz, NULL), 0);
	/* Local midnight to local midnight. */
	int64_t t = at("2025-12-31T23:00:00Z"), end = at("2026-12-31T23:00:00Z");
	int count = 0;
	for (;;) {
		int64_t next;
		assert_int_equal(recap_cron_next(&c, tz, t, &next, NULL), 0);
		assert_true(next > t);
		assert_int_equal(next % 60, 0);
		if (next >= end)
			break;
		t = next;
		count++;
	}
	/* 9 per hour x 3 hours x 365 days, minus the 2:xx hour lost in March;
	 * the repeated 2:xx hour in October fires once. */
	assert_int_equal(count, 9 * 3 * 365 - 9);
	recap_tz_free(tz);
}

/* Independent oracle: scan UTC minutes after `after`; a minute fires when
 * its wall-clock time matches and that wall-clock time was not already shown
 * earlier (the second pass of a repeated hour). */
static bool shown_before(const struct recap_tz *tz, int64_t t, int64_t local)
{
	for (int64_t back = 60; back <= 26 * 3600; back += 900) {
		int32_t o = recap_tz_offset(tz, t - back);
		int64_t t2 = local - o;
		if (t2 < t && recap_tz_offset(tz, t2) == o)
			return true;
	}
	return false;
}

static bool fires_at(const struct recap_cron *c, const struct recap_tz *tz, int64_t t)
{
	int64_t local = t + recap_tz_offset(tz, t);
	int64_t day = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
	int64_t sec = local - day * 86400;
	return (c->minute & (1ULL << (sec / 60 % 60))) && (c->hour & (1u << (sec / 3600))) &&
	       recap_cron_day_matches(c, day) && !shown_before(tz, t, local);
}

static void agrees_with_a_scan(void **state)
{
	static const char *exprs[] = {"* * * * *",	"*/7 * * * *",	"30 2 * * *",	       "0 * * * *",
				      "*/20 1-3 * * *", "15 0-3 * * 0", "0,30 2 25-31 3,10 *", "45 1 * * 6,0",
				      "0 0 1 * *",	"59 23 * * *",	"*/15 2 * * SUN"};
	static const char *zones[] = {"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC",
				      "Asia/Kolkata"};
	/* Around the 2026 transitions of Berlin and New York (both directions). */
	static const char *starts[] = {"2026-03-07T12:00:00Z", "2026-03-28T18:00:00Z",
				       "2026-10-24T18:00:00Z", "2026-10-31T18:00:00Z",
				       "2026-10-03T10:00:00Z", "2026-04-04T10:00:00Z"};
	for (size_t z = 0; z < ARRAY_SIZE(zones); z++) {
		struct recap_tz *tz = NULL;
		assert_int_equal(recap_tz_load(zones[z], &tz, NULL), 0);
		for (size_t e = 0; e < ARRAY_SIZE(exprs); e++) {
			struct recap_cron c;
			assert_int_equal(recap_cron_parse(exprs[e], &c, NULL), 0);
			for (size_t s = 0; s < ARRAY_SIZE(starts); s++) {
				int64_t after = at(starts[s]), got, want = after - after % 60 + 60;
				while (!fires_at(&c, tz, want) && want < after + 40 * 86400)
					want += 60;
				assert_int_equal(recap_cron_next(&c, tz, after, &got, NULL), 0);
				if (want >= after + 40 * 86400 && got >= want)
					continue; /* beyond what the scan covers */
				if (got != want)
					fail_msg("%s in %s after %s: got %lld, scan says %lld", exprs[e],
						 zones[z], starts[s], (long long)got, (long long)want);
			}
		}
		recap_tz_free(tz);
	}
}

/* Random expressions: five fields of random tokens, sometimes junk. They
 * parse or are refused with a message naming the expression; whatever
 * parses has a next time or "never fires". */
static void random_field(char *out, size_t size)
{
	static const char *good[] = {"*",  "*/5", "*/13", "1",	"2",   "3",	"5",   "10",  "12",  "15",
				     "29", "30",  "31",	  "59", "1-5", "2-4/2", "3/7", "JAN", "sun", "Sat"};
	static const char *junk[] = {"x", "", "60", "/0", "-", "5-1", "1,,2", "*/0"};
	size_t len = 0;
	int n = 1 + rand() % 3;
	for (int i = 0; i < n && len < size - 8; i++) {
		const char *tok =
		    rand() % 30 ? good[rand() % ARRAY_SIZE(good)] : junk[rand() % ARRAY_SIZE(junk)];
		len += (size_t)snprintf(out + len, size - len, "%s%s", i ? "," : "", tok);
	}
}

static void random_expressions(void **state)
{
	struct recap_tz *tz = NULL;
	assert_int_equal(recap_tz_load("Europe/Berlin", &tz, NULL), 0);
	srand(5);
	int parsed = 0, never = 0;
	for (int round = 0; round < 20000; round++) {
		char expr[160] = "", field[32];
		int fields = rand() % 10 ? 5 : rand() % 7;
		for (int f = 0; f < fields; f++) {
			random_field(field, sizeof(field));
			snprintf(expr + strlen(expr), sizeof(expr) - strlen(expr), "%s%s", f ? " " : "",
				 field);
		}
		struct recap_cron c;
		struct recap_error *err = NULL;
		if (recap_cron_parse(expr, &c, &err) < 0) {
			assert_non_null(strstr(recap_error_message(err), "invalid cron"));
			recap_error_free(err);
			continue;
		}
		parsed++;
		int64_t next;
		int r = recap_cron_next(&c, tz, 1795428000, &next, &err);
		assert_true(r == 0 || r == -EDOM);
		assert_true(r < 0 || (next > 1795428000 && next % 60 == 0));
		never += r < 0;
		recap_error_free(err);
	}
	/* Names and 31/59 are out of range in most fields: a few hundred parse. */
	assert_true(parsed > 200);
	assert_true(never < parsed);
	recap_tz_free(tz);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(equivalent_forms),	  cmocka_unit_test(restricted_day_fields),
	    cmocka_unit_test(parse_errors),	  cmocka_unit_test(next_times),
	    cmocka_unit_test(never_fires),	  cmocka_unit_test(walk_a_year),
	    cmocka_unit_test(agrees_with_a_scan), cmocka_unit_test(random_expressions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

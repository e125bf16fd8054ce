#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "base/timeutil.h"
#include "sched/periodic.h"

#define NONE RECAP_PERIODIC_NONE

static int64_t at(const char *iso)
{
	time_t t;
	if (!iso)
		return NONE;
	if (recap_time_parse(iso, &t) < 0)
		fail_msg("bad test time %s", iso);
	return (int64_t)t;
}

struct periodic_case {
	const char *title;
	const char *cron, *zone;
	int64_t deadline;
	enum recap_concurrency policy;
	bool suspend;
	const char *created, *last, *now;
	const char *runs; /* "name:active,name:done" */
	enum recap_periodic_action action;
	const char *scheduled, *next, *new_last;
	uint64_t missed;
	bool too_many;
	const char *cancel; /* "0,2" indexes */
};

#define ALLOW RECAP_CONCURRENCY_ALLOW
#define FORBID RECAP_CONCURRENCY_FORBID
#define REPLACE RECAP_CONCURRENCY_REPLACE
#define WAIT RECAP_PERIODIC_WAIT
#define START RECAP_PERIODIC_START
#define EXISTS RECAP_PERIODIC_EXISTS
#define FORBIDDEN RECAP_PERIODIC_FORBID

/* Run names for 10:00/11:00 on 2026-11-23 (Unix minutes). */
#define R1000 "backup-29923800"
#define R1100 "backup-29923860"

static const struct periodic_case cases[] = {
    {"nothing due yet", "*/15 * * * *", "UTC", NONE, ALLOW, false, "2026-11-23T10:01:00Z", NULL,
     "2026-11-23T10:10:00Z", "", WAIT, NULL, "2026-11-23T10:15:00Z", NULL, 0, false, ""},
    {"first start", "*/15 * * * *", "UTC", NONE, ALLOW, false, "2026-11-23T10:01:00Z", NULL,
     "2026-11-23T10:15:05Z", "", START, "2026-11-23T10:15:00Z", "2026-11-23T10:30:00Z",
     "2026-11-23T10:15:00Z", 1, false, ""},
    {"missed starts: the latest", "*/15 * * * *", "UTC", NONE, ALLOW, false, "2026-11-01T00:00:00Z",
     "2026-11-23T10:00:00Z", "2026-11-23T11:05:00Z", R1000 ":0", START, "2026-11-23T11:00:00Z",
     "2026-11-23T11:15:00Z", "2026-11-23T11:00:00Z", 4, false, ""},
    {"deadline passed: wait", "*/15 * * * *", "UTC", 120, ALLOW, false, "2026-11-01T00:00:00Z",
     "2026-11-23T10:00:00Z", "2026-11-23T11:05:00Z", "", WAIT, NULL, "2026-11-23T11:15:00Z",
     "2026-11-23T10:00:00Z", 0, false, ""},
    {"within the deadline", "*/15 * * * *", "UTC", 120, ALLOW, false, "2026-11-01T00:00:00Z",
     "2026-11-23T10:00:00Z", "2026-11-23T11:01:59Z", "", START, "2026-11-23T11:00:00Z",
     "2026-11-23T11:15:00Z", "2026-11-23T11:00:00Z", 1, false, ""},
    {"deadline 0 and exactly on time", "0 * * * *", "UTC", 0, ALLOW, false, "2026-11-01T00:00:00Z",
     "2026-11-23T10:00:00Z", "2026-11-23T11:00:00Z", "", START, "2026-11-23T11:00:00Z",
     "2026-11-23T12:00:00Z", "2026-11-23T11:00:00Z", 1, false, ""},
    {"Forbid with an active run: skipped, retried later", "0 * * * *", "UTC", NONE, FORBID, false,
     "2026-11-01T00:00:00Z", "2026-11-23T10:00:00Z", "2026-11-23T11:00:30Z", R1000 ":1", FORBIDDEN,
     "2026-11-23T11:00:00Z", "2026-11-23T12:00:00Z", "2026-11-23T10:00:00Z", 1, false, ""},
    {"Forbid after the run ended", "0 * * * *", "UTC", NONE, FORBID, false, "2026-11-01T00:00:00Z",
     "2026-11-23T10:00:00Z", "2026-11-23T11:20:00Z", R1000 ":0", START, "2026-11-23T11:00:00Z",
     "2026-11-23T12:00:00Z", "2026-11-23T11:00:00Z", 1, false, ""},
    {"Allow with an active run", "0 * * * *", "UTC", NONE, ALLOW, false, "2026-11-01T00:00:00Z",
     "2026-11-23T10:00:00Z", "2026-11-23T11:00:30Z", R1000 ":1", START, "2026-11-23T11:00:00Z",
     "2026-11-23T12:00:00Z", "2026-11-23T11:00:00Z", 1, false, ""},
    {"Replace cancels every active run", "0 * * * *", "UTC", NONE, REPLACE, false, "2026-11-01T00:00:00Z",
     "2026-11-23T10:00:00Z", "2026-11-23T11:00:30Z", "backup-29923740:1,backup-29923680:0," R1000 ":1", START,
     "2026-11-23T11:00:00Z", "2026-11-23T12:00:00Z", "2026-11-23T11:00:00Z", 1, false, "0,2"},
    {"Replace with nothing active", "0 * * * *", "UTC", NONE, REPLACE, false, "2026-11-01T00:00:00Z",
     "2026-11-23T10:00:00Z", "2026-11-23T11:00:30Z", R1000 ":0", START, "2026-11-23T11:00:00Z",
     "2026-11-23T12:00:00Z", "2026-11-23T11:00:00Z", 1, false, ""},
    {"suspended", "0 * * * *", "UTC", NONE, ALLOW, true, "2026-11-01T00:00:00Z", "2026-11-23T10:00:00Z",
     "2026-11-23T11:00:30Z", "", WAIT, NULL, NULL, "2026-11-23T10:00:00Z", 0, false, ""},
    {"restart: run created, status not written", "0 * * * *", "UTC", NONE, ALLOW, false,
     "2026-11-01T00:00:00Z", "2026-11-23T10:00:00Z", "2026-11-23T11:00:30Z", R1000 ":0," R1100 ":1", EXISTS,
     "2026-11-23T11:00:00Z", "2026-11-23T12:00:00Z", "2026-11-23T11:00:00Z", 1, false, ""},
    {"restart: run already finished, Forbid", "0 * * * *", "UTC", NONE, FORBID, false, "2026-11-01T00:00:00Z",
     "2026-11-23T10:00:00Z", "2026-11-23T11:40:00Z", R1100 ":0", EXISTS, "2026-11-23T11:00:00Z",
     "2026-11-23T12:00:00Z", "2026-11-23T11:00:00Z", 1, false, ""},
    {"clock stepped back: nothing again", "0 * * * *", "UTC", NONE, ALLOW, false, "2026-11-01T00:00:00Z",
     "2026-11-23T11:00:00Z", "2026-11-23T10:50:00Z", "", WAIT, NULL, "2026-11-23T12:00:00Z",
     "2026-11-23T11:00:00Z", 0, false, ""},
    {"clock stepped back an hour and a half", "*/15 * * * *", "UTC", NONE, ALLOW, false,
     "2026-11-01T00:00:00Z", "2026-11-23T11:00:00Z", "2026-11-23T09:30:00Z", "", WAIT, NULL,
     "2026-11-23T11:15:00Z", "2026-11-23T11:00:00Z", 0, false, ""},
    {"exactly 100 missed: no warning", "* * * * *", "UTC", NONE, ALLOW, false, "2026-11-01T00:00:00Z",
     "2026-11-23T10:00:00Z", "2026-11-23T11:40:00Z", "", START, "2026-11-23T11:40:00Z",
     "2026-11-23T11:41:00Z", "2026-11-23T11:40:00Z", 100, false, ""},
    {"101 missed: one catch-up run and a warning", "* * * * *", "UTC", NONE, ALLOW, false,
     "2026-11-01T00:00:00Z", "2026-11-23T10:00:00Z", "2026-11-23T11:41:10Z", "", START,
     "2026-11-23T11:41:00Z", "2026-11-23T11:42:00Z", "2026-11-23T11:41:00Z", 101, true, ""},
    {"a year of minutes missed", "* * * * *", "UTC", NONE, ALLOW, false, "2025-01-01T00:00:00Z", NULL,
     "2026-11-23T11:41:10Z", "", START, "2026-11-23T11:41:00Z", "2026-11-23T11:42:00Z",
     "2026-11-23T11:41:00Z", 101, true, ""},
    {"sparse schedule, 200 days missed", "0 3 * * *", "UTC", NONE, ALLOW, false, "2026-01-01T00:00:00Z",
     "2026-05-01T03:00:00Z", "2026-11-23T02:00:00Z", "", START, "2026-11-22T03:00:00Z",
     "2026-11-23T03:00:00Z", "2026-11-22T03:00:00Z", 101, true, ""},
    {"a burst hour long ago", "* 3 1 1 *", "UTC", NONE, ALLOW, false, "2024-01-01T00:00:00Z", NULL,
     "2026-11-23T02:00:00Z", "", START, "2026-01-01T03:59:00Z", "2027-01-01T03:00:00Z",
     "2026-01-01T03:59:00Z", 101, true, ""},
    {"never scheduled, created after the last time", "0 0 * * *", "UTC", NONE, ALLOW, false,
     "2026-11-23T00:00:01Z", NULL, "2026-11-23T11:00:00Z", "", WAIT, NULL, "2026-11-24T00:00:00Z", NULL, 0,
     false, ""},
    {"time zone: Berlin 02:30 skipped in the gap", "30 2 * * *", "Europe/Berlin", NONE, ALLOW, false,
     "2026-03-28T12:00:00Z", NULL, "2026-03-29T06:00:00Z", "", WAIT, NULL, "2026-03-30T00:30:00Z", NULL, 0,
     false, ""},
    {"time zone: New York 01:30 once in the repeat", "30 1 * * *", "America/New_York", NONE, ALLOW, false,
     "2026-10-30T12:00:00Z", "2026-11-01T05:30:00Z", "2026-11-01T06:45:00Z", "", WAIT, NULL,
     "2026-11-02T06:30:00Z", "2026-11-01T05:30:00Z", 0, false, ""},
};

static size_t parse_runs(const char *spec, struct recap_periodic_run *runs, char names[][64])
{
	size_t n = 0;
	for (const char *p = spec; *p;) {
		size_t len = strcspn(p, ":");
		memcpy(names[n], p, len);
		names[n][len] = '\0';
		runs[n].name = names[n];
		runs[n].active = p[len + 1] == '1';
		n++;
		p += len + 2;
		if (*p == ',')
			p++;
	}
	return n;
}

static void check_case(const struct periodic_case *c)
{
	struct recap_periodic_schedule s = {
	    .starting_deadline = c->deadline, .concurrency = c->policy, .suspend = c->suspend};
	struct recap_tz *tz = NULL;
	assert_int_equal(recap_cron_parse(c->cron, &s.cron, NULL), 0);
	assert_int_equal(recap_tz_load(c->zone, &tz, NULL), 0);
	s.tz = tz;
	struct recap_periodic_run runs[8];
	char names[8][64];
	struct recap_periodic_input in = {.capsule = "backup",
					  .created = at(c->created),
					  .last_schedule = at(c->last),
					  .now = at(c->now),
					  .runs = runs,
					  .n_runs = parse_runs(c->runs, runs, names)};
	struct recap_periodic_decision d;
	struct recap_error *err = NULL;
	if (recap_periodic_decide(&s, &in, &d, &err) < 0)
		fail_msg("%s: %s", c->title, recap_error_message(err));
	if (d.action != c->action || d.scheduled != at(c->scheduled) || d.next != at(c->next) ||
	    d.last_schedule != at(c->new_last) || d.missed != c->missed || d.too_many_missed != c->too_many)
		fail_msg("%s: action %d scheduled %lld next %lld last %lld missed %llu", c->title, d.action,
			 (long long)d.scheduled, (long long)d.next, (long long)d.last_schedule,
			 (unsigned long long)d.missed);
	if (d.action == START || d.action == EXISTS) {
		char want[RECAP_NAME_MAX + 1];
		recap_periodic_run_name("backup", d.scheduled, want);
		assert_string_equal(d.run_name, want);
	}
	char cancel[64] = "";
	for (size_t i = 0; i < d.n_cancel; i++)
		snprintf(cancel + strlen(cancel), sizeof(cancel) - strlen(cancel), "%s%zu", i ? "," : "",
			 d.cancel[i]);
	if (strcmp(cancel, c->cancel) != 0)
		fail_msg("%s: cancel \"%s\", want \"%s\"", c->title, cancel, c->cancel);
	recap_periodic_decision_clear(&d);
	recap_tz_free(tz);
}

static void decisions(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		check_case(&cases[i]);
}

/* A controller that crashes at random points and whose clock jitters and
 * steps back: over four hours of a five-minute schedule with Forbid, every
 * scheduled time is started at most once and no two runs overlap. */
static void restarts_and_clock_steps_never_duplicate(void **state)
{
	struct recap_periodic_schedule s = {.starting_deadline = 200,
					    .concurrency = RECAP_CONCURRENCY_FORBID};
	struct recap_tz *tz = NULL;
	assert_int_equal(recap_cron_parse("*/5 * * * *", &s.cron, NULL), 0);
	assert_int_equal(recap_tz_load("UTC", &tz, NULL), 0);
	s.tz = tz;
	struct recap_periodic_run runs[64];
	char names[64][RECAP_NAME_MAX + 1];
	int64_t ends[64];
	size_t n = 0;
	int64_t start = at("2026-11-23T10:00:30Z"), last = NONE, now = start;
	srand(7);
	for (int step = 0; now < start + 4 * 3600; step++) {
		assert_true(step < 10000);
		now += rand() % 10 == 0 ? -(rand() % 120) : 20; /* sometimes back */
		for (size_t i = 0; i < n; i++)
			runs[i].active = runs[i].active && now < ends[i];
		struct recap_periodic_input in = {.capsule = "rotate",
						  .created = start,
						  .last_schedule = last,
						  .now = now,
						  .runs = runs,
						  .n_runs = n};
		struct recap_periodic_decision d;
		assert_int_equal(recap_periodic_decide(&s, &in, &d, NULL), 0);
		bool crash = rand() % 3 == 0; /* after acting, before writing status */
		if (d.action == START) {
			assert_true(now <= d.scheduled + 200);
			for (size_t i = 0; i < n; i++) {
				assert_string_not_equal(runs[i].name, d.run_name);
				assert_false(runs[i].active);
			}
			assert_true(n < 64);
			snprintf(names[n], sizeof(names[n]), "%s", d.run_name);
			runs[n] = (struct recap_periodic_run){.name = names[n], .active = true};
			ends[n++] = now + 7 * 60; /* longer than the period: Forbid skips */
		}
		if (!crash && d.action != RECAP_PERIODIC_WAIT)
			last = d.last_schedule;
		assert_true(d.next > now);
		recap_periodic_decision_clear(&d);
	}
	/* 7-minute runs on a 5-minute period: a due time waits for the active run
	 * and starts late if that is within the deadline, else it is dropped. */
	assert_in_range(n, 24, 40);
	recap_tz_free(tz);
}

/* Allow with 100 active runs skips the due time (status.active is bounded);
 * Replace cancels them all instead. */
static void active_runs_are_bounded(void **state)
{
	struct recap_periodic_schedule s = {.starting_deadline = NONE,
					    .concurrency = RECAP_CONCURRENCY_ALLOW};
	struct recap_tz *tz = NULL;
	assert_int_equal(recap_cron_parse("@hourly", &s.cron, NULL), 0);
	assert_int_equal(recap_tz_load(NULL, &tz, NULL), 0);
	s.tz = tz;
	static struct recap_periodic_run runs[RECAP_PERIODIC_MAX_ACTIVE];
	static char names[RECAP_PERIODIC_MAX_ACTIVE][16];
	for (size_t i = 0; i < RECAP_PERIODIC_MAX_ACTIVE; i++) {
		snprintf(names[i], sizeof(names[i]), "old-%zu", i);
		runs[i] = (struct recap_periodic_run){.name = names[i], .active = true};
	}
	struct recap_periodic_input in = {.capsule = "backup",
					  .created = at("2026-11-01T00:00:00Z"),
					  .last_schedule = at("2026-11-23T10:00:00Z"),
					  .now = at("2026-11-23T11:00:10Z"),
					  .runs = runs,
					  .n_runs = RECAP_PERIODIC_MAX_ACTIVE - 1};
	struct recap_periodic_decision d;
	assert_int_equal(recap_periodic_decide(&s, &in, &d, NULL), 0);
	assert_int_equal(d.action, START);
	in.n_runs = RECAP_PERIODIC_MAX_ACTIVE;
	assert_int_equal(recap_periodic_decide(&s, &in, &d, NULL), 0);
	assert_int_equal(d.action, RECAP_PERIODIC_TOO_MANY_ACTIVE);
	assert_int_equal(d.last_schedule, at("2026-11-23T11:00:00Z"));
	s.concurrency = RECAP_CONCURRENCY_REPLACE;
	assert_int_equal(recap_periodic_decide(&s, &in, &d, NULL), 0);
	assert_int_equal(d.action, START);
	assert_int_equal(d.n_cancel, RECAP_PERIODIC_MAX_ACTIVE);
	recap_periodic_decision_clear(&d);
	recap_tz_free(tz);
}

static void schedule_from_json(void **state)
{
	struct recap_periodic_schedule s;
	struct recap_tz *tz = NULL;
	struct recap_error *err = NULL;
	json_t *j = json_pack("{s:s,s:s,s:s,s:i,s:b}", "cron", "*/15 * * * *", "timeZone", "Europe/Berlin",
			      "concurrencyPolicy", "Forbid", "startingDeadlineSeconds", 120, "suspend", 1);
	assert_int_equal(recap_periodic_schedule_parse(j, &s, &tz, &err), 0);
	assert_int_equal(s.cron.minute, 1ULL | 1ULL << 15 | 1ULL << 30 | 1ULL << 45);
	assert_string_equal(recap_tz_name(s.tz), "Europe/Berlin");
	assert_int_equal(s.concurrency, RECAP_CONCURRENCY_FORBID);
	assert_int_equal(s.starting_deadline, 120);
	assert_true(s.suspend);
	recap_tz_free(tz);
	json_decref(j);
	j = json_pack("{s:s}", "cron", "@daily");
	assert_int_equal(recap_periodic_schedule_parse(j, &s, &tz, &err), 0);
	assert_string_equal(recap_tz_name(s.tz), "UTC");
	assert_int_equal(s.concurrency, RECAP_CONCURRENCY_ALLOW);
	assert_int_equal(s.starting_deadline, NONE);
	assert_false(s.suspend);
	recap_tz_free(tz);
	json_decref(j);
	static const char *bad[][2] = {
	    {"{}", "spec.schedule.cron: required"},
	    {"{\"cron\":5}", "spec.schedule.cron: must be a string"},
	    {"{\"cron\":\"* * *\"}", "spec.schedule.cron: invalid cron \"* * *\": expected 5 fields"},
	    {"{\"cron\":\"@daily\",\"concurrencyPolicy\":\"Sometimes\"}",
	     "\"Sometimes\" is not one of Allow"},
	    {"{\"cron\":\"@daily\",\"startingDeadlineSeconds\":-1}",
	     "startingDeadlineSeconds: must be an integer"},
	    {"{\"cron\":\"@daily\",\"suspend\":\"yes\"}", "spec.schedule.suspend: must be a boolean"},
	    {"[]", "spec.schedule: must be an object"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		j = json_loads(bad[i][0], 0, NULL);
		assert_int_equal(recap_periodic_schedule_parse(j, &s, &tz, &err), -EINVAL);
		if (!strstr(recap_error_message(err), bad[i][1]))
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i][0], recap_error_message(err), bad[i][1]);
		recap_error_free(err);
		err = NULL;
		json_decref(j);
	}
	j = json_pack("{s:s,s:s}", "cron", "@daily", "timeZone", "Moon/Base");
	assert_int_equal(recap_periodic_schedule_parse(j, &s, &tz, &err), -ENOENT);
	assert_non_null(
	    strstr(recap_error_message(err), "spec.schedule.timeZone: unknown time zone \"Moon/Base\""));
	recap_error_free(err);
	err = NULL;
	json_decref(j);
	/* A schedule that never fires is reported by decide(). */
	j = json_pack("{s:s}", "cron", "0 0 30 2 *");
	assert_int_equal(recap_periodic_schedule_parse(j, &s, &tz, &err), 0);
	struct recap_periodic_input in = {.capsule = "x", .created = 0, .last_schedule = NONE, .now = 1e9};
	struct recap_periodic_decision d;
	assert_int_equal(recap_periodic_decide(&s, &in, &d, &err), -EDOM);
	assert_non_null(strstr(recap_error_message(err), "never fires"));
	recap_error_free(err);
	recap_tz_free(tz);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(decisions),
	    cmocka_unit_test(restarts_and_clock_steps_never_duplicate),
	    cmocka_unit_test(active_runs_are_bounded),
	    cmocka_unit_test(schedule_from_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

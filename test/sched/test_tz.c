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

#include "sched/tz.h"

/* The C library reads the same files: it is the oracle for offsets. */
static long libc_offset(const char *zone, int64_t t)
{
	setenv("TZ", zone, 1);
	tzset();
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	return tm.tm_gmtoff;
}

static void check_zone(const char *zone, int64_t from, int64_t to, int64_t step)
{
	struct recap_tz *tz = NULL;
	struct recap_error *err = NULL;
	assert_int_equal(recap_tz_load(zone, &tz, &err), 0);
	assert_string_equal(recap_tz_name(tz), zone);
	for (int64_t t = from; t < to; t += step) {
		long want = libc_offset(zone, t);
		if (recap_tz_offset(tz, t) != want)
			fail_msg("%s at %lld: got %d, want %ld", zone, (long long)t, recap_tz_offset(tz, t),
				 want);
	}
	recap_tz_free(tz);
}

/* 1960..2100 every ~9.7 hours: covers the transition tables and, past 2037,
 * the footer rules; hemispheres, half-hour and 45-minute offsets. */
static void agrees_with_libc(void **state)
{
	static const char *zones[] = {"Europe/Berlin",	   "America/New_York", "Australia/Sydney",
				      "Asia/Kolkata",	   "Pacific/Chatham",  "Australia/Lord_Howe",
				      "America/Sao_Paulo", "Asia/Tokyo",       "UTC",
				      "Europe/Dublin",	   "America/Santiago", "Africa/Casablanca"};
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		check_zone(zones[i], -315619200, 4102444800, 34999);
	unsetenv("TZ");
}

/* Around each 2026 transition, second by second near the edge. */
static void transitions_exact(void **state)
{
	/* Europe/Berlin: 2026-03-29 01:00Z, 2026-10-25 01:00Z. */
	check_zone("Europe/Berlin", 1774746000 - 5, 1774746000 + 5, 1);
	check_zone("Europe/Berlin", 1792890000 - 5, 1792890000 + 5, 1);
	/* America/New_York: 2026-03-08 07:00Z, 2026-11-01 06:00Z. */
	check_zone("America/New_York", 1772953200 - 5, 1772953200 + 5, 1);
	check_zone("America/New_York", 1793512800 - 5, 1793512800 + 5, 1);
	/* Past the tables (footer rule): 2080. */
	check_zone("America/New_York", 3477189600 - 86400, 3477189600 + 86400, 600);
	unsetenv("TZ");
}

static void expect_error(const char *name, int code, const char *substr)
{
	struct recap_tz *tz = NULL;
	struct recap_error *err = NULL;
	assert_int_equal(recap_tz_load(name, &tz, &err), -code);
	assert_null(tz);
	if (!strstr(recap_error_message(err), substr))
		fail_msg("%s: message \"%s\" lacks \"%s\"", name, recap_error_message(err), substr);
	recap_error_free(err);
}

static void bad_names(void **state)
{
	expect_error("Mars/Olympus_Mons", ENOENT, "unknown time zone \"Mars/Olympus_Mons\"");
	expect_error("../../etc/passwd", EINVAL, "may not start with '.'");
	expect_error("/etc/localtime", EINVAL, "not a relative zone name");
	expect_error("Europe/../Berlin", EINVAL, "may not start with '.'");
	expect_error("Europe//Berlin", EINVAL, "not a relative zone name");
	expect_error("Europe/Ber lin", EINVAL, "character ' ' not allowed");
	expect_error("Europe", ENOENT, "is not a file");
	expect_error("zone.tab", EINVAL, "not a valid TZif file");
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	expect_error(longname, EINVAL, "length must be");
}

static void empty_is_utc(void **state)
{
	struct recap_tz *tz = NULL;
	assert_int_equal(recap_tz_load(NULL, &tz, NULL), 0);
	assert_string_equal(recap_tz_name(tz), "UTC");
	assert_int_equal(recap_tz_offset(tz, 1790000000), 0);
	recap_tz_free(tz);
	assert_int_equal(recap_tz_load("", &tz, NULL), 0);
	assert_int_equal(recap_tz_offset(tz, 0), 0);
	recap_tz_free(tz);
	recap_tz_free(NULL);
}

/* Builds a version-2 TZif file with no transitions and a footer rule. */
static size_t footer_only(unsigned char *out, const char *footer)
{
	unsigned char hdr[44] = "TZif2";
	hdr[39] = 1; /* typecnt */
	hdr[43] = 4; /* charcnt */
	unsigned char block[10] = {0, 0, 0x0e, 0x10, 0, 0, 'C', 'E', 'T', 0};
	size_t n = 0;
	for (int i = 0; i < 2; i++) {
		memcpy(out + n, hdr, 44);
		memcpy(out + n + 44, block, 10);
		n += 54;
	}
	n += (size_t)sprintf((char *)out + n, "\n%s\n", footer);
	return n;
}

static void footer_rules(void **state)
{
	unsigned char buf[256];
	struct recap_tz *tz = NULL;
	struct recap_error *err = NULL;
	size_t n = footer_only(buf, "CET-1CEST,M3.5.0,M10.5.0/3");
	assert_int_equal(recap_tz_parse(buf, n, "synthetic", &tz, &err), 0);
	assert_int_equal(recap_tz_offset(tz, 1774745999), 3600); /* 2026-03-29 00:59:59Z */
	assert_int_equal(recap_tz_offset(tz, 1774746000), 7200);
	assert_int_equal(recap_tz_offset(tz, 1792889999), 7200); /* 2026-10-25 00:59:59Z */
	assert_int_equal(recap_tz_offset(tz, 1792890000), 3600);
	recap_tz_free(tz);
	/* Quoted names, Julian days, southern hemisphere wrap. */
	n = footer_only(buf, "<+11>-11<+12>,J10/2,J300/3");
	assert_int_equal(recap_tz_parse(buf, n, "q", &tz, &err), 0);
	assert_int_equal(recap_tz_offset(tz, 1767225600), 39600); /* Jan 1 */
	assert_int_equal(recap_tz_offset(tz, 1783000000), 43200); /* Jul */
	recap_tz_free(tz);
	static const char *bad[] = {"CET",
				    "CET-1CEST",
				    "CET-1CEST,M3.5.0",
				    "CET-1CEST,M13.5.0,M10.5.0",
				    "CET-1CEST,M3.5.0,M10.5.0/",
				    "CET-25",
				    "CET-1 junk",
				    "CET-1CEST,J0,J5"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = footer_only(buf, bad[i]);
		assert_int_equal(recap_tz_parse(buf, n, "bad", &tz, &err), -EINVAL);
		assert_non_null(strstr(recap_error_message(err), "time zone \"bad\": not a valid TZif file"));
		recap_error_free(err);
		err = NULL;
	}
	/* Truncated files at every length are refused, never read past. */
	n = footer_only(buf, "CET-1CEST,M3.5.0,M10.5.0/3");
	for (size_t len = 0; len < n; len++) {
		assert_int_equal(recap_tz_parse(buf, len, "cut", &tz, NULL), -EINVAL);
	}
}

/* Real files with random bytes flipped: refused or parsed, never read out of
 * bounds (the sanitizer build checks), and lookups stay within RFC 8536's
 * offset range. */
static void mutated_files(void **state)
{
	FILE *f = fopen(RECAP_TZ_DIR "/America/New_York", "rb");
	assert_non_null(f);
	static unsigned char orig[8192], buf[8192];
	size_t n = fread(orig, 1, sizeof(orig), f);
	fclose(f);
	assert_true(n > 100 && n < sizeof(orig));
	srand(3);
	int parsed = 0;
	for (int round = 0; round < 3000; round++) {
		memcpy(buf, orig, n);
		for (int k = 0; k < 1 + rand() % 4; k++)
			buf[rand() % n] = (unsigned char)rand();
		size_t len = rand() % 8 ? n : (size_t)rand() % n;
		struct recap_tz *tz = NULL;
		struct recap_error *err = NULL;
		if (recap_tz_parse(buf, len, "mutated", &tz, &err) < 0) {
			assert_non_null(strstr(recap_error_message(err), "not a valid TZif file"));
			recap_error_free(err);
			continue;
		}
		parsed++;
		for (int64_t t = -2000000000; t < 4000000000; t += 123456789) {
			int32_t o = recap_tz_offset(tz, t);
			assert_true(o >= -89999 && o <= 93599);
		}
		recap_tz_free(tz);
	}
	assert_true(parsed > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(agrees_with_libc), cmocka_unit_test(transitions_exact),
	    cmocka_unit_test(bad_names),	cmocka_unit_test(empty_is_utc),
	    cmocka_unit_test(footer_rules),	cmocka_unit_test(mutated_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

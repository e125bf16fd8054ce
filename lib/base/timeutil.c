#include "base/timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

uint64_t recap_now_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t recap_thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t recap_now_mono_ms(void)
{
	return recap_now_mono_ns() / 1000000ull;
}

int64_t recap_now_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void recap_time_rfc3339_now(char *out, size_t size)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, size, "%s.%03ldZ", base, ts.tv_nsec / 1000000);
}

int recap_time_format(time_t t, char *out, size_t size)
{
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		return -EINVAL;
	if (strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return -ENOBUFS;
	return 0;
}

static int parse_offset(const char *p, long *ret)
{
	if (strcmp(p, "Z") == 0) {
		*ret = 0;
		return 0;
	}
	int hh, mm;
	char sign, tail;
	if (sscanf(p, "%c%2d:%2d%c", &sign, &hh, &mm, &tail) != 3 || (sign != '+' && sign != '-') ||
	    strlen(p) != 6 || hh > 23 || mm > 59)
		return -EINVAL;
	*ret = (sign == '-' ? -1 : 1) * (hh * 3600L + mm * 60L);
	return 0;
}

int recap_time_parse(const char *s, time_t *ret)
{
	struct tm tm = {0};
	if (!s)
		return -EINVAL;
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p || strlen(s) < 19)
		return -EINVAL;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	long off;
	if (parse_offset(p, &off) < 0)
		return -EINVAL;
	time_t t = timegm(&tm);
	if (t == (time_t)-1 && !(tm.tm_year == 69 && tm.tm_mday == 31))
		return -EINVAL;
	*ret = t - off;
	return 0;
}

#include "base/quantity.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define DIGITS_MAX 30

static __int128 pow10_i128(int n)
{
	__int128 v = 1;
	while (n-- > 0)
		v *= 10;
	return v;
}

/* 10^36 nano-units: 10^27, far above any resource, far below int128's range. */
static const __int128 LIMIT = (__int128)1000000000000000000LL * 1000000000000000000LL;

/* The suffix as a power of 10 and a power of 2 (exponent form included). */
static int parse_suffix(const char *s, int *ret_pow10, int *ret_pow2)
{
	static const struct {
		const char *name;
		int pow10, pow2;
	} suffixes[] = {
	    {"", 0, 0},	   {"n", -9, 0},  {"u", -6, 0},	 {"m", -3, 0},	{"k", 3, 0},   {"M", 6, 0},
	    {"G", 9, 0},   {"T", 12, 0},  {"P", 15, 0},	 {"E", 18, 0},	{"Ki", 0, 10}, {"Mi", 0, 20},
	    {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50}, {"Ei", 0, 60},
	};
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if (strcmp(s, suffixes[i].name) == 0) {
			*ret_pow10 = suffixes[i].pow10;
			*ret_pow2 = suffixes[i].pow2;
			return 0;
		}
	}
	if (s[0] != 'e' && s[0] != 'E')
		return -EINVAL;
	const char *p = s + 1;
	int sign = 1, v = 0;
	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	if (!*p)
		return -EINVAL;
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p) || v > 100)
			return -EINVAL;
		v = v * 10 + (*p - '0');
	}
	*ret_pow10 = sign * v;
	*ret_pow2 = 0;
	return 0;
}

/* Digits with an optional point: the integer they spell and the count of
 * digits after the point. Returns the end of the number. */
static const char *parse_number(const char *p, __int128 *ret, int *ret_frac)
{
	__int128 v = 0;
	int digits = 0, frac = 0;
	bool point = false, any = false;
	for (;; p++) {
		if (*p == '.' && !point) {
			point = true;
			continue;
		}
		if (!isdigit((unsigned char)*p))
			break;
		any = true;
		if (v == 0 && *p == '0' && !point)
			continue; /* leading zeros do not count against the limit */
		if (++digits > DIGITS_MAX)
			return NULL;
		v = v * 10 + (*p - '0');
		frac += point;
	}
	if (!any)
		return NULL;
	*ret = v;
	*ret_frac = frac;
	return p;
}

static int scale(__int128 v, int pow10, int pow2, __int128 *ret)
{
	for (int i = 0; i < pow2; i++) {
		if (v > LIMIT)
			return -ERANGE;
		v *= 2;
	}
	for (; pow10 > 0; pow10--) {
		if (v > LIMIT)
			return -ERANGE;
		v *= 10;
	}
	if (pow10 < -38) {
		v = v ? 1 : 0; /* round up like Kubernetes */
	} else if (pow10 < 0) {
		__int128 d = pow10_i128(-pow10);
		v = (v + d - 1) / d;
	}
	if (v > LIMIT)
		return -ERANGE;
	*ret = v;
	return 0;
}

int recap_quantity_parse(const char *s, struct recap_quantity *ret, struct recap_error **err)
{
	const char *p = s;
	int sign = 1;
	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	__int128 v;
	int frac, pow10, pow2;
	const char *end = isdigit((unsigned char)*p) || *p == '.' ? parse_number(p, &v, &frac) : NULL;
	if (!end || parse_suffix(end, &pow10, &pow2) < 0)
		return recap_error_set(err, EINVAL, "\"%s\" is not a quantity (e.g. 64Mi, 200m, 1.5G)", s);
	__int128 nano;
	if (scale(v, pow10 - frac + 9, pow2, &nano) < 0)
		return recap_error_set(err, ERANGE, "quantity \"%s\" is out of range", s);
	ret->nano = sign * nano;
	return 0;
}

int recap_quantity_cmp(struct recap_quantity a, struct recap_quantity b)
{
	return a.nano < b.nano ? -1 : a.nano > b.nano;
}

static int rounded(struct recap_quantity q, __int128 unit, int64_t *ret)
{
	__int128 v = q.nano >= 0 ? (q.nano + unit - 1) / unit : q.nano / unit;
	if (v > INT64_MAX || v < INT64_MIN)
		return -ERANGE;
	*ret = (int64_t)v;
	return 0;
}

int recap_quantity_units(struct recap_quantity q, int64_t *ret)
{
	return rounded(q, 1000000000, ret);
}

int recap_quantity_milli(struct recap_quantity q, int64_t *ret)
{
	return rounded(q, 1000000, ret);
}

/* TZif (RFC 8536) decoding. Version 1 files use the 32-bit block; version 2
 * and later skip it and use the 64-bit block and the POSIX TZ footer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "sched/tz_internal.h"

/* RFC 8536 recommends offsets within this range. */
#define UTOFF_MIN (-89999)
#define UTOFF_MAX 93599

struct tzif_header {
	int version;
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int read_header(const unsigned char *p, size_t len, struct tzif_header *h)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return -EINVAL;
	h->version = p[4] == 0 ? 1 : p[4] - '0';
	h->isutcnt = be32(p + 20);
	h->isstdcnt = be32(p + 24);
	h->leapcnt = be32(p + 28);
	h->timecnt = be32(p + 32);
	h->typecnt = be32(p + 36);
	h->charcnt = be32(p + 40);
	if (h->version < 1 || h->typecnt == 0 || h->typecnt > 256 || h->charcnt == 0)
		return -EINVAL;
	if ((h->isutcnt && h->isutcnt != h->typecnt) || (h->isstdcnt && h->isstdcnt != h->typecnt))
		return -EINVAL;
	return 0;
}

static size_t block_size(const struct tzif_header *h, size_t timesize)
{
	return (size_t)h->timecnt * (timesize + 1) + (size_t)h->typecnt * 6 + h->charcnt +
	       (size_t)h->leapcnt * (timesize + 4) + h->isstdcnt + h->isutcnt;
}

/* Decodes one data block (p points right after its header). */
static int read_block(const unsigned char *p, const struct tzif_header *h, size_t timesize,
		      struct recap_tz *tz)
{
	const unsigned char *times = p, *idx = p + (size_t)h->timecnt * timesize;
	const unsigned char *types = idx + h->timecnt;
	int32_t utoff[256];
	for (uint32_t i = 0; i < h->typecnt; i++) {
		utoff[i] = (int32_t)be32(types + 6 * i);
		if (utoff[i] < UTOFF_MIN || utoff[i] > UTOFF_MAX || types[6 * i + 4] > 1 ||
		    types[6 * i + 5] >= h->charcnt)
			return -EINVAL;
	}
	tz->initial = utoff[0];
	if (h->timecnt == 0)
		return 0;
	tz->at = calloc(h->timecnt, sizeof(*tz->at));
	tz->utoff = calloc(h->timecnt, sizeof(*tz->utoff));
	if (!tz->at || !tz->utoff)
		return -ENOMEM;
	for (uint32_t i = 0; i < h->timecnt; i++) {
		tz->at[i] = timesize == 8 ? be64(times + 8 * i) : (int32_t)be32(times + 4 * i);
		if (idx[i] >= h->typecnt || (i > 0 && tz->at[i] <= tz->at[i - 1]))
			return -EINVAL;
		tz->utoff[i] = utoff[idx[i]];
	}
	tz->ntrans = h->timecnt;
	return 0;
}

/* The footer is "\n<POSIX TZ>\n"; an empty string means no rule. */
static int read_footer(const unsigned char *p, size_t len, struct recap_tz *tz)
{
	if (len < 2 || p[0] != '\n')
		return -EINVAL;
	const unsigned char *nl = memchr(p + 1, '\n', len - 1);
	if (!nl || nl - p > 256)
		return -EINVAL;
	char rule[257];
	memcpy(rule, p + 1, (size_t)(nl - p - 1));
	rule[nl - p - 1] = '\0';
	if (!rule[0])
		return 0;
	if (recap_sched_tz_rule_parse(rule, &tz->rule) < 0)
		return -EINVAL;
	tz->has_rule = true;
	return 0;
}

static int decode(const unsigned char *p, size_t len, struct recap_tz *tz)
{
	struct tzif_header h;
	if (read_header(p, len, &h) < 0)
		return -EINVAL;
	size_t v1 = 44 + block_size(&h, 4);
	if (v1 > len)
		return -EINVAL;
	if (h.version == 1)
		return read_block(p + 44, &h, 4, tz);
	struct tzif_header h2;
	if (read_header(p + v1, len - v1, &h2) < 0)
		return -EINVAL;
	size_t v2 = v1 + 44 + block_size(&h2, 8);
	if (v2 > len)
		return -EINVAL;
	int r = read_block(p + v1 + 44, &h2, 8, tz);
	if (r < 0)
		return r;
	return read_footer(p + v2, len - v2, tz);
}

int recap_tz_parse(const void *data, size_t len, const char *name, struct recap_tz **ret,
		   struct recap_error **err)
{
	struct recap_tz *tz = NULL;
	int r = recap_tz_fixed(name, 0, &tz);
	if (r < 0)
		return r;
	r = decode(data, len, tz);
	if (r < 0) {
		recap_tz_free(tz);
		if (r == -ENOMEM)
			return r;
		return recap_error_set(err, EINVAL, "time zone \"%s\": not a valid TZif file", name);
	}
	*ret = tz;
	return 0;
}

#include "sched/names.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

uint64_t recap_sched_hash(const char *const *parts, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	for (size_t i = 0; i < n; i++) {
		for (const char *p = parts[i];; p++) {
			h ^= (unsigned char)*p;
			h *= 0x100000001b3ULL;
			if (!*p)
				break;
		}
	}
	/* Final mix (splitmix64) so that the low digits used depend on every byte. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

int recap_sched_name(char out[RECAP_NAME_MAX + 1], const char *const *parts, size_t n, const char *suffix)
{
	size_t slen = strlen(suffix), len = n ? n - 1 : 0;
	for (size_t i = 0; i < n; i++)
		len += strlen(parts[i]);
	if (slen + 1 + RECAP_NAME_HASH_LEN + 1 > RECAP_NAME_MAX)
		return -EINVAL;
	size_t keep = len + slen <= RECAP_NAME_MAX ? len : RECAP_NAME_MAX - slen - 1 - RECAP_NAME_HASH_LEN;
	size_t w = 0;
	for (size_t i = 0; i < n && w < keep; i++) {
		if (i > 0)
			out[w++] = '-';
		for (const char *p = parts[i]; *p && w < keep; p++)
			out[w++] = *p;
	}
	if (keep < len) {
		while (w > 0 && (out[w - 1] == '-' || out[w - 1] == '.'))
			w--;
		uint64_t h = recap_sched_hash(parts, n) & ((1ULL << (4 * RECAP_NAME_HASH_LEN)) - 1);
		w += (size_t)snprintf(out + w, RECAP_NAME_MAX + 1 - w, "-%0*" PRIx64, RECAP_NAME_HASH_LEN, h);
	}
	memcpy(out + w, suffix, slen + 1);
	return (int)(w + slen);
}

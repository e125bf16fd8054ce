/* Deterministic object names within the 63-character limit of a label value
 * (the run and execution names are also label values). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define RECAP_NAME_MAX 63
/* Hex digits of the hash that replaces what truncation cut off. */
#define RECAP_NAME_HASH_LEN 10

/* A stable 64-bit hash of the parts (each terminated, so ("ab","c") and
 * ("a","bc") differ). */
uint64_t recap_sched_hash(const char *const *parts, size_t n);

/* Writes parts joined with '-' followed by `suffix` (kept whole) to out.
 * When that exceeds RECAP_NAME_MAX, the joined part is cut, trailing '-' and
 * '.' are dropped, and "-<hash of all parts>" is inserted before the suffix,
 * so distinct inputs keep distinct names. Returns the length, or -EINVAL when
 * the suffix alone leaves no room. */
int recap_sched_name(char out[RECAP_NAME_MAX + 1], const char *const *parts, size_t n, const char *suffix);

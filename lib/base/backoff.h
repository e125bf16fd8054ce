/* Retry delays: doubling from a base up to a cap, with jitter, so many
 * clients that failed together do not come back together. */
#pragma once

#include <stdint.h>

/* A point in [d/2, d], d = base * 2^(attempt-1) capped at max (attempt 1:
 * base). */
uint64_t recap_backoff_ms(uint64_t base, uint64_t max, unsigned attempt);

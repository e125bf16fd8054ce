#include "base/backoff.h"

#include <stdlib.h>

uint64_t recap_backoff_ms(uint64_t base, uint64_t max, unsigned attempt)
{
	uint64_t d = base;
	for (unsigned i = 1; i < attempt && d < max; i++)
		d *= 2;
	if (d > max)
		d = max;
	uint64_t half = d / 2;
	return half + (half ? (uint64_t)random() % (half + 1) : 0);
}

/* Prometheus histograms: cumulative buckets, sum and count, in seconds. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define RECAP_HISTOGRAM_MAX_BOUNDS 16

struct recap_histogram {
	const double *bounds; /* ascending upper bounds; NULL: the default ones */
	size_t n_bounds;
	uint64_t counts[RECAP_HISTOGRAM_MAX_BOUNDS + 1]; /* the last is +Inf */
	double sum;
	uint64_t count;
};

/* 1 ms to 60 s: what a zeroed histogram uses. */
#define RECAP_HISTOGRAM_DEFAULT_BOUNDS 12
extern const double recap_histogram_default_bounds[RECAP_HISTOGRAM_DEFAULT_BOUNDS];

/* A histogram over bounds (n at most RECAP_HISTOGRAM_MAX_BOUNDS, ascending;
 * more are ignored). */
void recap_histogram_init(struct recap_histogram *h, const double *bounds, size_t n);
void recap_histogram_observe(struct recap_histogram *h, double seconds);
/* Appends the histogram `name` with an optional label pair (label NULL). */
int recap_histogram_format(const struct recap_histogram *h, const char *name, const char *label,
			   const char *value, struct recap_buf *b);

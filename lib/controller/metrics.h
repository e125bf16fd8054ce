/* Prometheus text exposition of the controller's counters. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define RECAP_METRICS_BUCKETS 12

struct recap_histogram {
	uint64_t counts[RECAP_METRICS_BUCKETS + 1]; /* the last is +Inf */
	double sum;
	uint64_t count;
};

/* Upper bounds in seconds, shared by every histogram. */
extern const double recap_metrics_bounds[RECAP_METRICS_BUCKETS];

void recap_histogram_observe(struct recap_histogram *h, double seconds);
/* Appends the histogram `name` with an optional label pair (label NULL). */
int recap_histogram_format(const struct recap_histogram *h, const char *name, const char *label,
			   const char *value, struct recap_buf *b);

#include <stdbool.h>
#include <stdio.h>

#include "controller/metrics.h"

const double recap_metrics_bounds[RECAP_METRICS_BUCKETS] = {
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60,
};

void recap_histogram_observe(struct recap_histogram *h, double seconds)
{
	size_t i = 0;
	while (i < RECAP_METRICS_BUCKETS && seconds > recap_metrics_bounds[i])
		i++;
	h->counts[i]++;
	h->sum += seconds;
	h->count++;
}

int recap_histogram_format(const struct recap_histogram *h, const char *name, const char *label,
			   const char *value, struct recap_buf *b)
{
	char sel[160] = "", sep[2] = "";
	if (label) {
		snprintf(sel, sizeof(sel), "%s=\"%s\"", label, value);
		sep[0] = ',';
	}
	uint64_t cum = 0;
	int r = 0;
	for (size_t i = 0; i <= RECAP_METRICS_BUCKETS && r >= 0; i++) {
		cum += h->counts[i];
		if (i < RECAP_METRICS_BUCKETS)
			r = recap_buf_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, sel, sep,
					     recap_metrics_bounds[i], (unsigned long long)cum);
		else
			r = recap_buf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, sel, sep,
					     (unsigned long long)cum);
	}
	if (r >= 0)
		r = recap_buf_printf(b, "%s_sum%s%s%s %.6f\n%s_count%s%s%s %llu\n", name, label ? "{" : "",
				     sel, label ? "}" : "", h->sum, name, label ? "{" : "", sel,
				     label ? "}" : "", (unsigned long long)h->count);
	return r;
}

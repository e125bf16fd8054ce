#include "base/histogram.h"

#include <stdbool.h>
#include <stdio.h>

const double recap_histogram_default_bounds[RECAP_HISTOGRAM_DEFAULT_BOUNDS] = {
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60,
};

void recap_histogram_init(struct recap_histogram *h, const double *bounds, size_t n)
{
	*h = (struct recap_histogram){
	    .bounds = bounds, .n_bounds = n > RECAP_HISTOGRAM_MAX_BOUNDS ? RECAP_HISTOGRAM_MAX_BOUNDS : n};
}

static const double *bounds_of(const struct recap_histogram *h, size_t *n)
{
	if (h->bounds) {
		*n = h->n_bounds;
		return h->bounds;
	}
	*n = RECAP_HISTOGRAM_DEFAULT_BOUNDS;
	return recap_histogram_default_bounds;
}

void recap_histogram_observe(struct recap_histogram *h, double seconds)
{
	size_t n, i = 0;
	const double *bounds = bounds_of(h, &n);
	while (i < n && seconds > bounds[i])
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
	size_t n;
	const double *bounds = bounds_of(h, &n);
	uint64_t cum = 0;
	int r = 0;
	for (size_t i = 0; i <= n && r >= 0; i++) {
		cum += h->counts[i];
		if (i < n)
			r = recap_buf_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, sel, sep, bounds[i],
					     (unsigned long long)cum);
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

/* Prometheus text exposition of the agent's counters. */
#include <string.h>

#include "api/names.h"
#include "caplet/agent.h"

/* accepted to finished: a pull and a whole run */
static const double bounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};

void caplet_metrics_init(struct recap_caplet *c)
{
	recap_histogram_init(&c->metric_duration, bounds, sizeof(bounds) / sizeof(bounds[0]));
}

void caplet_metrics_result(struct recap_caplet *c, const char *phase, const char *reason, int64_t duration_us)
{
	/* a reason the API does not list counts as "Other" (the last slot) */
	c->metric_results[recap_execution_reason_index(reason)]++;
	if (duration_us < 0)
		return;
	recap_histogram_observe(&c->metric_duration, (double)duration_us / 1e6);
}

int recap_caplet_metrics(struct recap_caplet *c, struct recap_buf *out)
{
	int r =
	    recap_buf_appends(out, "# HELP recap_caplet_executions_total Executions finished, by reason.\n"
				   "# TYPE recap_caplet_executions_total counter\n");
	for (size_t i = 0; r >= 0 && i <= RECAP_EXECUTION_REASONS; i++)
		r = recap_buf_printf(out, "recap_caplet_executions_total{reason=\"%s\"} %llu\n",
				     i < RECAP_EXECUTION_REASONS ? recap_execution_reasons[i] : "Other",
				     c->metric_results[i]);
	if (r >= 0)
		r = recap_buf_appends(out,
				      "# HELP recap_caplet_execution_duration_seconds Accepted to finished.\n"
				      "# TYPE recap_caplet_execution_duration_seconds histogram\n");
	if (r >= 0)
		r = recap_histogram_format(&c->metric_duration, "recap_caplet_execution_duration_seconds",
					   NULL, NULL, out);
	if (r >= 0)
		r = recap_buf_printf(
		    out,
		    "# HELP recap_caplet_executions_running Executions pulling or running (holding a slot).\n"
		    "# TYPE recap_caplet_executions_running gauge\nrecap_caplet_executions_running %u\n"
		    "# HELP recap_caplet_pulls_total Image pulls started.\n"
		    "# TYPE recap_caplet_pulls_total counter\nrecap_caplet_pulls_total %llu\n"
		    "# HELP recap_caplet_pull_failures_total Image pulls that failed.\n"
		    "# TYPE recap_caplet_pull_failures_total counter\nrecap_caplet_pull_failures_total %llu\n"
		    "# HELP recap_caplet_api_errors_total Execution status or finalizer writes that failed.\n"
		    "# TYPE recap_caplet_api_errors_total counter\nrecap_caplet_api_errors_total %llu\n",
		    c->slots_used, c->metric_pulls, c->metric_pull_failures, c->metric_api_errors);
	if (r >= 0)
		r = recap_buf_printf(
		    out,
		    "# HELP recap_caplet_artifacts_removed_total Runs whose artifacts and log were removed "
		    "at "
		    "expiry.\n"
		    "# TYPE recap_caplet_artifacts_removed_total "
		    "counter\nrecap_caplet_artifacts_removed_total %llu\n"
		    "# HELP recap_caplet_artifacts_removed_bytes_total Bytes removed at expiry.\n"
		    "# TYPE recap_caplet_artifacts_removed_bytes_total counter\n"
		    "recap_caplet_artifacts_removed_bytes_total %llu\n"
		    "# HELP recap_caplet_artifacts_bytes Bytes of kept artifacts and logs on the node.\n"
		    "# TYPE recap_caplet_artifacts_bytes gauge\nrecap_caplet_artifacts_bytes %lld\n"
		    "# HELP recap_caplet_artifacts_reserved_bytes /out sizes granted to runs not ended.\n"
		    "# TYPE recap_caplet_artifacts_reserved_bytes "
		    "gauge\nrecap_caplet_artifacts_reserved_bytes %lld\n"
		    "# HELP recap_caplet_artifacts_quota_bytes The node's artifact quota "
		    "(--artifacts-quota).\n"
		    "# TYPE recap_caplet_artifacts_quota_bytes gauge\nrecap_caplet_artifacts_quota_bytes "
		    "%lld\n",
		    c->metric_artifacts_removed, c->metric_artifacts_removed_bytes, (long long)c->quota.used,
		    (long long)c->quota.reserved, (long long)c->quota.limit);
	return r;
}

/* /metrics, /healthz and /readyz. */
#include <stdbool.h>
#include <string.h>

#include "api/names.h"
#include "api/types.h"
#include "base/json.h"
#include "controller/ctl.h"
#include "controller/runstatus.h"

struct phase_count {
	unsigned long n[RECAP_API_RUN_PHASE_COUNT];
};

static int count_run(const char *key, json_t *run, void *userdata)
{
	struct phase_count *c = userdata;
	/* A run without a phase yet is Pending; one of an unknown phase counts nowhere. */
	enum recap_api_run_phase phase = recap_json_str(run, RECAP_API_RUN_STATUS_PHASE)
					     ? recap_api_run_status_phase(run)
					     : RECAP_API_RUN_PHASE_PENDING;
	if (phase < RECAP_API_RUN_PHASE_COUNT)
		c->n[phase]++;
	return 0;
}

static int queue_metrics(struct recap_controller *ctl, struct recap_buf *b)
{
	int r = recap_buf_appends(
	    b, "# HELP recap_controller_reconcile_total Reconcile passes by kind and result.\n"
	       "# TYPE recap_controller_reconcile_total counter\n");
	for (int k = 0; k < KIND_N && r >= 0; k++) {
		struct ctl_queue *q = &ctl->queues[k];
		r = recap_buf_printf(b,
				     "recap_controller_reconcile_total{kind=\"%s\",result=\"success\"} %lu\n"
				     "recap_controller_reconcile_total{kind=\"%s\",result=\"error\"} %lu\n",
				     q->kind, q->ok, q->kind, q->errors);
	}
	if (r >= 0)
		r = recap_buf_appends(
		    b, "# HELP recap_controller_reconcile_duration_seconds Time from a key handed "
		       "out to its pass done, API calls included.\n"
		       "# TYPE recap_controller_reconcile_duration_seconds histogram\n");
	for (int k = 0; k < KIND_N && r >= 0; k++)
		r = recap_histogram_format(&ctl->queues[k].latency,
					   "recap_controller_reconcile_duration_seconds", "kind",
					   ctl->queues[k].kind, b);
	if (r >= 0)
		r = recap_buf_appends(b,
				      "# HELP recap_controller_queue_depth Keys waiting in the work queue.\n"
				      "# TYPE recap_controller_queue_depth gauge\n");
	for (int k = 0; k < KIND_N && r >= 0; k++)
		r = recap_buf_printf(b, "recap_controller_queue_depth{kind=\"%s\"} %zu\n",
				     ctl->queues[k].kind,
				     ctl->queues[k].q ? recap_kube_workqueue_len(ctl->queues[k].q) : 0);
	return r;
}

static int object_metrics(struct recap_controller *ctl, struct recap_buf *b)
{
	struct phase_count c = {0};
	recap_kube_store_foreach(ctl_store(ctl, INF_RUN), count_run, &c);
	int r = recap_buf_appends(b, "# HELP recap_controller_runs CapsuleRuns in the cache by phase.\n"
				     "# TYPE recap_controller_runs gauge\n");
	for (size_t i = 0; i < RECAP_API_RUN_PHASE_COUNT && r >= 0; i++)
		r = recap_buf_printf(b, "recap_controller_runs{phase=\"%s\"} %lu\n",
				     recap_api_run_phase_names[i], c.n[i]);
	if (r >= 0)
		r = recap_buf_appends(b,
				      "# HELP recap_controller_execution_duration_seconds CapsuleExecution "
				      "created to finished (its completionTime).\n"
				      "# TYPE recap_controller_execution_duration_seconds histogram\n");
	if (r >= 0)
		r = recap_histogram_format(&ctl->exec_latency, "recap_controller_execution_duration_seconds",
					   NULL, NULL, b);
	static const char *const names[INF_N] = {[INF_CAPSULE] = RECAP_RESOURCE_CAPSULE,
						 [INF_POLICY] = RECAP_RESOURCE_CAPSULE_POLICY,
						 [INF_RUN] = RECAP_RESOURCE_CAPSULE_RUN,
						 [INF_EXEC] = RECAP_RESOURCE_CAPSULE_EXECUTION,
						 [INF_POD] = "pods",
						 [INF_NS] = "namespaces"};
	if (r >= 0)
		r = recap_buf_appends(
		    b, "# HELP recap_controller_cached_objects Objects in the informer caches.\n"
		       "# TYPE recap_controller_cached_objects gauge\n");
	for (int i = 0; i < INF_N && r >= 0; i++)
		r = recap_buf_printf(b, "recap_controller_cached_objects{resource=\"%s\"} %zu\n", names[i],
				     recap_kube_store_size(ctl_store(ctl, i)));
	return r;
}

/* Finished executions whose node could not verify the escape (status.escaped
 * false): something of the run may remain on that node. */
static int count_unescaped(const char *key, json_t *e, void *userdata)
{
	enum recap_api_exec_phase phase = recap_api_exec_status_phase(e);
	bool final = phase == RECAP_API_EXEC_PHASE_SUCCEEDED || phase == RECAP_API_EXEC_PHASE_FAILED;
	/* Absent is not false: the getter's default would count it. */
	if (final && json_is_false(recap_json_path(e, RECAP_API_EXEC_STATUS_ESCAPED)))
		(*(unsigned long *)userdata)++;
	return 0;
}

static int escape_metrics(struct recap_controller *ctl, struct recap_buf *b)
{
	unsigned long n = 0;
	recap_kube_store_foreach(ctl_store(ctl, INF_EXEC), count_unescaped, &n);
	return recap_buf_printf(b,
				"# HELP recap_controller_executions_unescaped Finished CapsuleExecutions "
				"whose escape was not verified.\n"
				"# TYPE recap_controller_executions_unescaped gauge\n"
				"recap_controller_executions_unescaped %lu\n",
				n);
}

static int counters(struct recap_controller *ctl, struct recap_buf *b)
{
	return recap_buf_printf(
	    b,
	    "# HELP recap_controller_runs_created_total Periodic CapsuleRuns created.\n"
	    "# TYPE recap_controller_runs_created_total counter\nrecap_controller_runs_created_total %lu\n"
	    "# HELP recap_controller_executions_created_total CapsuleExecution creates sent.\n"
	    "# TYPE recap_controller_executions_created_total counter\n"
	    "recap_controller_executions_created_total %lu\n"
	    "# HELP recap_controller_execution_creates_resent_total CapsuleExecution creates sent again "
	    "because the answer was lost or a 5xx.\n"
	    "# TYPE recap_controller_execution_creates_resent_total counter\n"
	    "recap_controller_execution_creates_resent_total %lu\n"
	    "# HELP recap_controller_leader Whether this replica runs the reconcilers.\n"
	    "# TYPE recap_controller_leader gauge\nrecap_controller_leader %d\n",
	    ctl->runs_created, ctl->execs_created, ctl->execs_resent, ctl->active ? 1 : 0);
}

static int handler(const char *path, struct recap_buf *body, const char **ctype, void *userdata)
{
	struct recap_controller *ctl = userdata;
	if (strcmp(path, "/healthz") == 0 || strcmp(path, "/livez") == 0)
		return recap_buf_appends(body, "ok\n") < 0 ? 500 : 200;
	if (strcmp(path, "/readyz") == 0) {
		bool ok = recap_controller_ready(ctl);
		recap_buf_appends(body, ok			 ? "ok\n"
					: !recap_ctl_synced(ctl) ? "informers not synced\n"
								 : "the API server does not answer\n");
		return ok ? 200 : 503;
	}
	if (strcmp(path, "/metrics") == 0) {
		*ctype = "text/plain; version=0.0.4; charset=utf-8";
		int r = queue_metrics(ctl, body);
		if (r >= 0)
			r = object_metrics(ctl, body);
		if (r >= 0)
			r = escape_metrics(ctl, body);
		if (r >= 0)
			r = counters(ctl, body);
		return r < 0 ? 500 : 200;
	}
	recap_buf_appends(body, "not found\n");
	return 404;
}

int recap_ctl_serve(struct recap_controller *ctl, struct recap_error **err)
{
	int r = 0;
	if (ctl->metrics_addr && *ctl->metrics_addr)
		r = recap_httpd_start(ctl->loop, ctl->metrics_addr, handler, ctl, &ctl->metrics_srv, err);
	if (r >= 0 && ctl->health_addr && *ctl->health_addr &&
	    !(ctl->metrics_addr && strcmp(ctl->metrics_addr, ctl->health_addr) == 0))
		r = recap_httpd_start(ctl->loop, ctl->health_addr, handler, ctl, &ctl->health_srv, err);
	return r;
}

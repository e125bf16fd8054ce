/* /metrics, /healthz and /readyz. */
#include <stdbool.h>
#include <string.h>

#include "api/names.h"
#include "base/json.h"
#include "controller/ctl.h"
#include "controller/runstatus.h"

static const char *const run_phases[] = {RECAP_PHASE_PENDING,	       RECAP_PHASE_RUNNING,
					 RECAP_PHASE_SUCCEEDED,	       RECAP_PHASE_FAILED,
					 RECAP_PHASE_PARTIALLY_FAILED, RECAP_PHASE_CANCELLED};

struct phase_count {
	unsigned long n[sizeof(run_phases) / sizeof(run_phases[0])];
};

static int count_run(const char *key, json_t *run, void *userdata)
{
	struct phase_count *c = userdata;
	const char *phase = recap_json_str(run, "status.phase");
	for (size_t i = 0; i < sizeof(run_phases) / sizeof(run_phases[0]); i++) {
		if (strcmp(phase ? phase : RECAP_PHASE_PENDING, run_phases[i]) == 0)
			c->n[i]++;
	}
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
	for (size_t i = 0; i < sizeof(run_phases) / sizeof(run_phases[0]) && r >= 0; i++)
		r = recap_buf_printf(b, "recap_controller_runs{phase=\"%s\"} %lu\n", run_phases[i], c.n[i]);
	if (r >= 0)
		r = recap_buf_appends(b,
				      "# HELP recap_controller_execution_duration_seconds CapsuleExecution "
				      "created to finished (its completionTime).\n"
				      "# TYPE recap_controller_execution_duration_seconds histogram\n");
	if (r >= 0)
		r = recap_histogram_format(&ctl->exec_latency, "recap_controller_execution_duration_seconds",
					   NULL, NULL, b);
	static const char *const names[] = {"capsules", "capsulepolicies", "capsuleruns", "capsuleexecutions",
					    "pods",	"namespaces"};
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
	const char *phase = recap_json_str(e, "status.phase");
	bool final =
	    phase && (strcmp(phase, RECAP_PHASE_SUCCEEDED) == 0 || strcmp(phase, RECAP_PHASE_FAILED) == 0);
	if (final && json_is_false(recap_json_path(e, "status.escaped")))
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
	    "# HELP recap_controller_leader Whether this replica runs the reconcilers.\n"
	    "# TYPE recap_controller_leader gauge\nrecap_controller_leader %d\n",
	    ctl->runs_created, ctl->execs_created, ctl->active ? 1 : 0);
}

static int handler(const char *path, struct recap_buf *body, const char **ctype, void *userdata)
{
	struct recap_controller *ctl = userdata;
	if (strcmp(path, "/healthz") == 0 || strcmp(path, "/livez") == 0)
		return recap_buf_appends(body, "ok\n") < 0 ? 500 : 200;
	if (strcmp(path, "/readyz") == 0) {
		bool ok = recap_controller_ready(ctl);
		recap_buf_appends(body, ok ? "ok\n" : "informers not synced\n");
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

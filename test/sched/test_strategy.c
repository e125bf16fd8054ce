#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "sched/strategy.h"

#define MAXT 200

/* A run under test: its targets and the executions "created" so far. */
struct world {
	struct recap_target t[MAXT];
	char pod[MAXT][32], ip[MAXT][16];
	size_t n;
	struct recap_execution e[MAXT];
	char ename[MAXT][RECAP_NAME_MAX + 1];
	size_t ne;
	struct recap_strategy s;
	bool cancel, deleting;
	/* status.dispatched */
	const char *disp[MAXT];
	char dispbuf[MAXT][RECAP_STRATEGY_DISPATCH_ID_LEN + 1];
	size_t nd;
	recap_dispatch_fn unseen;
};

static void add_target(struct world *w, const char *pod, const char *container, int64_t created,
		       const char *role, const char *ip)
{
	struct recap_target *t = &w->t[w->n];
	snprintf(w->pod[w->n], sizeof(w->pod[0]), "%s", pod);
	snprintf(w->ip[w->n], sizeof(w->ip[0]), "%s", ip ? ip : "");
	*t = (struct recap_target){.pod = w->pod[w->n],
				   .ns = "shop",
				   .uid = "uid",
				   .node = "node-1",
				   .container = container,
				   .container_id = "containerd://abc",
				   .pod_ip = w->ip[w->n],
				   .created = created,
				   .role = role};
	w->n++;
}

static struct recap_plan_input input(struct world *w)
{
	return (struct recap_plan_input){.run = "logrotate-29923860",
					 .strategy = &w->s,
					 .targets = w->t,
					 .n_targets = w->n,
					 .execs = w->e,
					 .n_execs = w->ne,
					 .cancel = w->cancel,
					 .deleting = w->deleting,
					 .dispatched = w->disp,
					 .n_dispatched = w->nd,
					 .unseen = w->unseen};
}

static struct recap_plan plan(struct world *w)
{
	struct recap_plan_input in = input(w);
	struct recap_plan p;
	struct recap_error *err = NULL;
	if (recap_strategy_plan(&in, &p, &err) < 0)
		fail_msg("plan: %s", recap_error_message(err));
	return p;
}

/* Creates what the plan says, in Pending; returns how many. */
static size_t apply(struct world *w, struct recap_plan *p)
{
	for (size_t i = 0; i < p->n_create; i++) {
		const struct recap_target *t = &w->t[p->create[i].target];
		for (size_t j = 0; j < w->ne; j++)
			assert_string_not_equal(w->ename[j], p->create[i].name);
		snprintf(w->ename[w->ne], sizeof(w->ename[0]), "%s", p->create[i].name);
		w->e[w->ne] = (struct recap_execution){.name = w->ename[w->ne],
						       .pod = t->pod,
						       .container = t->container,
						       .node = t->node,
						       .phase = RECAP_EXEC_PENDING,
						       .exit_code = -1};
		w->ne++;
	}
	size_t n = p->n_create;
	recap_strategy_plan_clear(p);
	return n;
}

static struct recap_execution *exec_of(struct world *w, const char *pod)
{
	for (size_t i = 0; i < w->ne; i++) {
		if (strcmp(w->e[i].pod, pod) == 0)
			return &w->e[i];
	}
	fail_msg("no execution for %s", pod);
	return NULL;
}

static void set_phase(struct world *w, const char *pod, enum recap_exec_phase p, const char *reason)
{
	struct recap_execution *e = exec_of(w, pod);
	e->phase = p;
	e->reason = reason;
	e->exit_code = p == RECAP_EXEC_FAILED ? 1 : p == RECAP_EXEC_SUCCEEDED ? 0 : -1;
}

static struct recap_run_status status(struct world *w)
{
	struct recap_plan_input in = input(w);
	struct recap_run_status st;
	struct recap_error *err = NULL;
	if (recap_strategy_aggregate(&in, &st, &err) < 0)
		fail_msg("aggregate: %s", recap_error_message(err));
	return st;
}

static void names(void **state)
{
	char a[RECAP_NAME_MAX + 1], b[RECAP_NAME_MAX + 1], c[RECAP_NAME_MAX + 1];
	assert_int_equal(recap_strategy_exec_name("tcpdump-29401230", "nginx-7c9d8f6b5-2xkqp", "nginx", a),
			 27);
	assert_memory_equal(a, "tcpdump-29401230-", 17);
	recap_strategy_exec_name("tcpdump-29401230", "nginx-7c9d8f6b5-2xkqp", "nginx", b);
	assert_string_equal(a, b);
	recap_strategy_exec_name("tcpdump-29401230", "nginx-7c9d8f6b5-2xkqp", "sidecar", c);
	assert_string_not_equal(a, c);
	recap_strategy_exec_name("tcpdump-29401230", "nginx-7c9d8f6b5-2xkq", "pnginx", c);
	assert_string_not_equal(a, c);
	const char *run = "a-run-name-that-is-exactly-sixty-three-characters-long-xxxxxxxx";
	assert_int_equal(strlen(run), 63);
	assert_int_equal(recap_strategy_exec_name(run, "p", "c", a), RECAP_NAME_MAX);
	assert_memory_equal(a, run, 52);
	char env[64];
	assert_int_equal(recap_strategy_role_env_name("server", env, sizeof(env)), 21);
	assert_string_equal(env, "RECAP_ROLE_SERVER_IPS");
	recap_strategy_role_env_name("load-gen2", env, sizeof(env));
	assert_string_equal(env, "RECAP_ROLE_LOAD_GEN2_IPS");
	assert_int_equal(recap_strategy_role_env_name("x", env, 10), -ENAMETOOLONG);
}

static void parallel_batches(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	w->s = (struct recap_strategy){.type = RECAP_STRATEGY_PARALLEL, .batch_size = 50};
	char pod[32];
	for (int i = 119; i >= 0; i--) { /* given in reverse: the order is by name */
		snprintf(pod, sizeof(pod), "web-%03d", i);
		add_target(w, pod, "app", 0, NULL, NULL);
	}
	struct recap_plan p = plan(w);
	assert_int_equal(p.n_create, 50);
	assert_int_equal(p.waiting, 70);
	assert_string_equal(w->t[p.create[0].target].pod, "web-000");
	assert_string_equal(w->t[p.create[49].target].pod, "web-049");
	assert_null(p.create[0].env);
	apply(w, &p);
	assert_int_equal(status(w).phase, RECAP_RUN_PENDING);
	p = plan(w);
	assert_string_equal(w->t[p.create[0].target].pod, "web-050");
	assert_int_equal(apply(w, &p), 50);
	p = plan(w);
	assert_int_equal(p.n_create, 20);
	assert_int_equal(p.waiting, 0);
	apply(w, &p);
	p = plan(w);
	assert_int_equal(p.n_create + p.waiting + p.blocked, 0);
	recap_strategy_plan_clear(&p);
	/* Replanning after a restart proposes nothing already created. */
	struct recap_run_status st = status(w);
	assert_int_equal(st.targets, 120);
	assert_int_equal(st.pending, 120);
	assert_false(st.complete);
	for (size_t i = 0; i < w->ne; i++)
		w->e[i].phase = i % 3 ? RECAP_EXEC_SUCCEEDED : RECAP_EXEC_RUNNING;
	st = status(w);
	assert_int_equal(st.phase, RECAP_RUN_RUNNING);
	assert_int_equal(st.running, 40);
	assert_int_equal(st.succeeded, 80);
	for (size_t i = 0; i < w->ne; i++)
		w->e[i].phase = RECAP_EXEC_SUCCEEDED;
	st = status(w);
	assert_true(st.complete);
	assert_int_equal(st.phase, RECAP_RUN_SUCCEEDED);
	free(w);
}

static const char *env_value(json_t *env, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach (env, i, v) {
		if (strcmp(json_string_value(json_object_get(v, "name")), name) == 0)
			return json_string_value(json_object_get(v, "value"));
	}
	return NULL;
}

static const char *const after_server[] = {"server"};
static const struct recap_role iperf_roles[] = {{"server", NULL, 0}, {"client", after_server, 1}};

static struct world *iperf_world(void)
{
	struct world *w = calloc(1, sizeof(*w));
	w->s = (struct recap_strategy){.type = RECAP_STRATEGY_PARALLEL, .roles = iperf_roles, .n_roles = 2};
	add_target(w, "api-2", "api", 0, "client", "10.0.1.2");
	add_target(w, "cache-b", "redis", 0, "server", "10.0.0.11");
	add_target(w, "api-1", "api", 0, "client", "10.0.1.1");
	add_target(w, "cache-a", "redis", 0, "server", "10.0.0.10");
	add_target(w, "cache-a", "exporter", 0, "server", "10.0.0.10"); /* same pod: one IP */
	add_target(w, "api-3", "api", 0, "client", "");			/* no IP yet: left out */
	return w;
}

static void roles_start_after(void **state)
{
	struct world *w = iperf_world();
	struct recap_plan p = plan(w);
	assert_int_equal(p.n_create, 3); /* the servers only */
	assert_int_equal(p.waiting, 3);
	for (size_t i = 0; i < p.n_create; i++) {
		assert_string_equal(w->t[p.create[i].target].role, "server");
		assert_string_equal(env_value(p.create[i].env, "RECAP_ROLE_SERVER_IPS"),
				    "10.0.0.10,10.0.0.11");
		assert_string_equal(env_value(p.create[i].env, "RECAP_ROLE_CLIENT_IPS"), "10.0.1.1,10.0.1.2");
	}
	apply(w, &p);
	p = plan(w);
	assert_int_equal(p.n_create, 0);
	recap_strategy_plan_clear(&p);
	/* Created in (pod, container) order: cache-a/exporter, cache-a/redis, cache-b. */
	assert_string_equal(w->e[1].container, "redis");
	w->e[0].phase = RECAP_EXEC_RUNNING;
	w->e[1].phase = RECAP_EXEC_SUCCEEDED;
	set_phase(w, "cache-b", RECAP_EXEC_PULLING, NULL);
	p = plan(w);
	assert_int_equal(p.n_create, 0); /* not every server is running yet */
	assert_int_equal(p.waiting, 3);
	recap_strategy_plan_clear(&p);
	assert_int_equal(status(w).phase, RECAP_RUN_RUNNING);
	set_phase(w, "cache-b", RECAP_EXEC_RUNNING, NULL);
	p = plan(w);
	assert_int_equal(p.n_create, 3);
	assert_string_equal(w->t[p.create[0].target].pod, "api-1");
	assert_string_equal(env_value(p.create[0].env, "RECAP_ROLE_SERVER_IPS"), "10.0.0.10,10.0.0.11");
	apply(w, &p);
	free(w);
}

static void roles_failed_dependency(void **state)
{
	struct world *w = iperf_world();
	struct recap_plan p = plan(w);
	apply(w, &p);
	for (size_t i = 0; i < w->ne; i++)
		w->e[i].phase = RECAP_EXEC_RUNNING;
	set_phase(w, "cache-b", RECAP_EXEC_FAILED, "ImagePullFailed");
	p = plan(w);
	assert_int_equal(p.n_create, 0);
	assert_int_equal(p.blocked, 3); /* the clients never start */
	recap_strategy_plan_clear(&p);
	struct recap_run_status st = status(w);
	assert_false(st.complete);
	for (size_t i = 0; i < w->ne; i++) {
		if (w->e[i].phase == RECAP_EXEC_RUNNING)
			w->e[i].phase = RECAP_EXEC_SUCCEEDED;
	}
	st = status(w);
	assert_true(st.complete);
	assert_int_equal(st.phase, RECAP_RUN_PARTIALLY_FAILED);
	assert_int_equal(st.succeeded, 2);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.skipped, 3);
	assert_int_equal(st.n_failures, 1);
	assert_string_equal(st.failures[0].pod, "cache-b");
	assert_string_equal(st.failures[0].reason, "ImagePullFailed");
	free(w);
}

static size_t dispatch(struct world *w);
static void vanish(struct world *w, const char *pod);

/* A server's execution deleted before the clients started: the clients
 * never start (they would wait forever for it), the run completes. */
static void roles_deleted_dependency(void **state)
{
	struct world *w = iperf_world();
	assert_true(dispatch(w) > 0);
	size_t servers = w->ne;
	for (size_t i = 0; i < w->ne; i++)
		w->e[i].phase = RECAP_EXEC_RUNNING;
	vanish(w, "cache-b");
	struct recap_plan p = plan(w);
	assert_int_equal(p.n_create, 0);
	assert_int_equal(p.lost, 1);
	assert_int_equal(p.blocked, 3);
	recap_strategy_plan_clear(&p);
	for (size_t i = 0; i < w->ne; i++)
		w->e[i].phase = RECAP_EXEC_SUCCEEDED;
	struct recap_run_status st = status(w);
	assert_true(st.complete);
	assert_int_equal(st.succeeded, servers - 1);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.skipped, 3);
	assert_string_equal(st.failures[0].reason, "ExecutionDeleted");
	free(w);
}

static void roles_errors(void **state)
{
	static const char *const unknown[] = {"database"};
	static const char *const a_after_b[] = {"b"}, *const b_after_a[] = {"a"};
	const struct recap_role bad_ref[] = {{"client", unknown, 1}};
	const struct recap_role cycle[] = {{"a", a_after_b, 1}, {"b", b_after_a, 1}};
	const struct recap_role clash[] = {{"a-b", NULL, 0}, {"a_b", NULL, 0}};
	struct {
		const struct recap_role *roles;
		size_t n;
		const char *role, *msg;
	} cases[] = {
	    {bad_ref, 1, "client", "startAfter names unknown role \"database\""},
	    {cycle, 2, "a", "startAfter forms a cycle"},
	    {iperf_roles, 2, "db", "has role \"db\", not one of the Capsule's"},
	    {iperf_roles, 2, NULL, "has role \"\", not one of the Capsule's"},
	    {clash, 2, "a-b", "RECAP_ROLE_A_B_IPS is also another role's variable"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct world *w = calloc(1, sizeof(*w));
		w->s = (struct recap_strategy){
		    .type = RECAP_STRATEGY_PARALLEL, .roles = cases[i].roles, .n_roles = cases[i].n};
		add_target(w, "p", "c", 0, cases[i].role, "10.0.0.1");
		struct recap_plan_input in = input(w);
		struct recap_plan p;
		struct recap_error *err = NULL;
		assert_int_equal(recap_strategy_plan(&in, &p, &err), -EINVAL);
		if (!strstr(recap_error_message(err), cases[i].msg))
			fail_msg("\"%s\" lacks \"%s\"", recap_error_message(err), cases[i].msg);
		recap_error_free(err);
		free(w);
	}
}

static struct world *rollout(size_t n, enum recap_failure_policy fp, size_t max)
{
	struct world *w = calloc(1, sizeof(*w));
	w->s = (struct recap_strategy){.type = RECAP_STRATEGY_ITERATIVE,
				       .max_concurrent = max,
				       .order = RECAP_ORDER_NAME,
				       .failure_policy = fp};
	char pod[32];
	for (size_t i = 0; i < n; i++) {
		snprintf(pod, sizeof(pod), "web-%zu", (i * 7) % n); /* shuffled */
		add_target(w, pod, "app", 0, NULL, NULL);
	}
	return w;
}

/* Plans once and returns the pods created, comma-separated. */
static const char *step(struct world *w)
{
	static char out[256];
	out[0] = '\0';
	struct recap_plan p = plan(w);
	for (size_t i = 0; i < p.n_create; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? "," : "",
			 w->t[p.create[i].target].pod);
	apply(w, &p);
	return out;
}

static void iterative_stop(void **state)
{
	struct world *w = rollout(4, RECAP_FAILURE_STOP, 1);
	assert_string_equal(step(w), "web-0");
	assert_string_equal(step(w), ""); /* web-0 not finished */
	set_phase(w, "web-0", RECAP_EXEC_RUNNING, NULL);
	assert_string_equal(step(w), "");
	set_phase(w, "web-0", RECAP_EXEC_SUCCEEDED, NULL);
	assert_string_equal(step(w), "web-1");
	set_phase(w, "web-1", RECAP_EXEC_FAILED, "DeadlineExceeded");
	struct recap_plan p = plan(w);
	assert_int_equal(p.n_create, 0);
	assert_int_equal(p.blocked, 2); /* web-2 and web-3 never run */
	recap_strategy_plan_clear(&p);
	struct recap_run_status st = status(w);
	assert_true(st.complete);
	assert_true(st.halted);
	assert_int_equal(st.phase, RECAP_RUN_FAILED);
	assert_int_equal(st.succeeded, 1);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.skipped, 2);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.n_failures, 1);
	assert_string_equal(st.failures[0].reason, "DeadlineExceeded");
	assert_int_equal(st.failures[0].exit_code, 1);
	free(w);
}

static void iterative_continue(void **state)
{
	struct world *w = rollout(3, RECAP_FAILURE_CONTINUE, 1);
	assert_string_equal(step(w), "web-0");
	set_phase(w, "web-0", RECAP_EXEC_FAILED, "TargetNotFound");
	assert_string_equal(step(w), "web-1");
	set_phase(w, "web-1", RECAP_EXEC_SUCCEEDED, NULL);
	assert_string_equal(step(w), "web-2");
	assert_int_equal(status(w).phase, RECAP_RUN_RUNNING);
	set_phase(w, "web-2", RECAP_EXEC_SUCCEEDED, NULL);
	struct recap_run_status st = status(w);
	assert_true(st.complete);
	assert_false(st.halted);
	assert_int_equal(st.phase, RECAP_RUN_PARTIALLY_FAILED);
	free(w);
}

static void iterative_max_concurrent(void **state)
{
	struct world *w = rollout(5, RECAP_FAILURE_STOP, 2);
	assert_string_equal(step(w), "web-0,web-1");
	set_phase(w, "web-1", RECAP_EXEC_SUCCEEDED, NULL);
	assert_string_equal(step(w), "web-2");
	assert_string_equal(step(w), "");
	set_phase(w, "web-0", RECAP_EXEC_SUCCEEDED, NULL);
	set_phase(w, "web-2", RECAP_EXEC_SUCCEEDED, NULL);
	assert_string_equal(step(w), "web-3,web-4");
	set_phase(w, "web-3", RECAP_EXEC_SUCCEEDED, NULL);
	set_phase(w, "web-4", RECAP_EXEC_SUCCEEDED, NULL);
	struct recap_run_status st = status(w);
	assert_int_equal(st.phase, RECAP_RUN_SUCCEEDED);
	assert_int_equal(st.succeeded, 5);
	free(w);
}

static void iterative_creation_order(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	w->s = (struct recap_strategy){
	    .type = RECAP_STRATEGY_ITERATIVE, .max_concurrent = 10, .order = RECAP_ORDER_CREATION};
	add_target(w, "zeta", "app", 100, NULL, NULL);
	add_target(w, "beta", "app", 300, NULL, NULL);
	add_target(w, "alpha", "app", 300, NULL, NULL); /* tie: by name */
	add_target(w, "omega", "app", 50, NULL, NULL);
	add_target(w, "alpha", "sidecar", 300, NULL, NULL);
	w->s.batch_size = 10;
	assert_string_equal(step(w), "omega,zeta,alpha,alpha,beta");
	struct recap_plan p = plan(w);
	assert_int_equal(p.n_create, 0);
	recap_strategy_plan_clear(&p);
	free(w);
}

/* The controller is killed at random between creating executions and seeing
 * them; each time it replans from the truth. Every target runs exactly once. */
static void restarts_run_each_target_once(void **state)
{
	struct world *w = rollout(30, RECAP_FAILURE_CONTINUE, 3);
	srand(11);
	for (int round = 0; round < 1000; round++) {
		struct recap_plan p = plan(w);
		if (rand() % 4 == 0) {
			recap_strategy_plan_clear(&p); /* crashed before creating anything */
		} else {
			apply(w, &p);
		}
		for (size_t i = 0; i < w->ne; i++) {
			if (w->e[i].phase < RECAP_EXEC_SUCCEEDED && rand() % 3 == 0)
				w->e[i].phase = rand() % 5 ? w->e[i].phase + 1 : RECAP_EXEC_FAILED;
			if (w->e[i].phase == RECAP_EXEC_ESCAPING + 0 && rand() % 2)
				w->e[i].phase = RECAP_EXEC_SUCCEEDED;
		}
		size_t flight = 0;
		for (size_t i = 0; i < w->ne; i++)
			flight += w->e[i].phase < RECAP_EXEC_SUCCEEDED;
		assert_true(flight <= 3);
	}
	assert_int_equal(w->ne, 30);
	struct recap_run_status st = status(w);
	assert_true(st.complete);
	assert_int_equal(st.succeeded + st.failed, 30);
	free(w);
}

static void phases_and_failures(void **state)
{
	struct world *w = rollout(25, RECAP_FAILURE_CONTINUE, 25);
	w->s.type = RECAP_STRATEGY_PARALLEL;
	struct recap_run_status st = status(w);
	assert_int_equal(st.phase, RECAP_RUN_PENDING);
	assert_int_equal(st.pending, 25);
	step(w);
	for (size_t i = 0; i < w->ne; i++) {
		w->e[i].phase = RECAP_EXEC_FAILED;
		w->e[i].reason = "OOMKilled";
	}
	st = status(w);
	assert_true(st.complete);
	assert_int_equal(st.phase, RECAP_RUN_FAILED);
	assert_int_equal(st.failed, 25);
	assert_int_equal(st.n_failures, RECAP_STRATEGY_FAILURES_MAX);
	assert_string_equal(st.failures[0].pod, "web-0");
	assert_string_equal(st.failures[1].pod, "web-1");
	assert_string_equal(st.failures[2].pod, "web-10"); /* name order */
	free(w);
	/* No targets at all. */
	w = rollout(0, RECAP_FAILURE_STOP, 1);
	st = status(w);
	assert_true(st.complete && st.no_targets);
	assert_int_equal(st.phase, RECAP_RUN_FAILED);
	free(w);
}

/* Writes status.dispatched as the controller does before it creates. */
static void record(struct world *w, const struct recap_plan *p)
{
	struct recap_plan_input in = input(w);
	json_t *ids = NULL;
	struct recap_error *err = NULL;
	if (recap_strategy_dispatched(&in, p, &ids, &err) < 0)
		fail_msg("dispatched: %s", recap_error_message(err));
	assert_true(json_array_size(ids) <= MAXT);
	w->nd = json_array_size(ids);
	for (size_t i = 0; i < w->nd; i++) {
		snprintf(w->dispbuf[i], sizeof(w->dispbuf[0]), "%s",
			 json_string_value(json_array_get(ids, i)));
		w->disp[i] = w->dispbuf[i];
	}
	json_decref(ids);
}

/* The execution of pod is deleted (its finalizer released). */
static void vanish(struct world *w, const char *pod)
{
	struct recap_execution *e = exec_of(w, pod);
	size_t i = (size_t)(e - w->e), last = w->ne - 1;
	if (i != last) {
		memcpy(w->ename[i], w->ename[last], sizeof(w->ename[0]));
		w->e[i] = w->e[last];
		w->e[i].name = w->ename[i];
	}
	w->ne--;
}

static struct world *fan_out(size_t n)
{
	struct world *w = calloc(1, sizeof(*w));
	w->s = (struct recap_strategy){.type = RECAP_STRATEGY_PARALLEL, .batch_size = 50};
	char pod[32];
	for (size_t i = 0; i < n; i++) {
		snprintf(pod, sizeof(pod), "web-%zu", i);
		add_target(w, pod, "app", 0, NULL, NULL);
	}
	return w;
}

/* The controller's pass: record, then create. */
static size_t dispatch(struct world *w)
{
	struct recap_plan p = plan(w);
	record(w, &p);
	return apply(w, &p);
}

static void deleted_execution_is_not_recreated(void **state)
{
	struct world *w = fan_out(2);
	assert_int_equal(dispatch(w), 2);
	assert_int_equal(w->nd, 2);
	set_phase(w, "web-0", RECAP_EXEC_RUNNING, NULL);
	set_phase(w, "web-1", RECAP_EXEC_RUNNING, NULL);
	char gone[RECAP_NAME_MAX + 1];
	snprintf(gone, sizeof(gone), "%s", exec_of(w, "web-1")->name);
	vanish(w, "web-1"); /* kubectl delete capsuleexecution, the pod still runs */
	struct recap_plan p = plan(w);
	assert_int_equal(p.n_create, 0);
	assert_int_equal(p.lost, 1);
	assert_int_equal(p.waiting + p.blocked, 0);
	recap_strategy_plan_clear(&p);
	struct recap_run_status st = status(w);
	assert_int_equal(st.targets, 2);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.running, 1);
	assert_int_equal(st.pending, 0);
	assert_false(st.complete);
	assert_int_equal(st.n_failures, 1);
	assert_string_equal(st.failures[0].execution, gone);
	assert_string_equal(st.failures[0].pod, "web-1");
	assert_string_equal(st.failures[0].reason, "ExecutionDeleted");
	assert_non_null(strstr(st.failures[0].message, "deleted before it finished"));
	/* Recording again keeps the lost target recorded. */
	p = plan(w);
	record(w, &p);
	recap_strategy_plan_clear(&p);
	assert_int_equal(w->nd, 2);
	set_phase(w, "web-0", RECAP_EXEC_SUCCEEDED, NULL);
	st = status(w);
	assert_true(st.complete);
	assert_int_equal(st.phase, RECAP_RUN_PARTIALLY_FAILED);
	assert_int_equal(st.succeeded, 1);
	assert_int_equal(st.failed, 1);
	free(w);
}

/* web-220536 and web-634043 give one execution name in this run (a real
 * 40-bit collision, found by search). */
static void name_collision(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	w->s = (struct recap_strategy){.type = RECAP_STRATEGY_PARALLEL, .batch_size = 50};
	add_target(w, "web-634043", "app", 0, NULL, NULL);
	add_target(w, "web-1", "app", 0, NULL, NULL);
	add_target(w, "web-220536", "app", 0, NULL, NULL);
	char a[RECAP_NAME_MAX + 1], b[RECAP_NAME_MAX + 1];
	recap_strategy_exec_name("logrotate-29923860", "web-220536", "app", a);
	recap_strategy_exec_name("logrotate-29923860", "web-634043", "app", b);
	assert_string_equal(a, b);
	/* one create per name (apply() fails on a second), the first in
	 * (pod, container) order gets it */
	assert_int_equal(dispatch(w), 2);
	exec_of(w, "web-220536");
	exec_of(w, "web-1");
	struct recap_run_status st = status(w);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.pending, 2);
	assert_false(st.complete);
	assert_int_equal(st.n_failures, 1);
	assert_string_equal(st.failures[0].pod, "web-634043");
	assert_string_equal(st.failures[0].reason, "ExecutionNameCollision");
	assert_string_equal(st.failures[0].execution, a);
	/* later passes: nothing more, whatever becomes of the owner */
	assert_int_equal(dispatch(w), 0);
	set_phase(w, "web-220536", RECAP_EXEC_SUCCEEDED, NULL);
	set_phase(w, "web-1", RECAP_EXEC_SUCCEEDED, NULL);
	assert_int_equal(dispatch(w), 0);
	st = status(w);
	assert_true(st.complete);
	assert_int_equal(st.phase, RECAP_RUN_PARTIALLY_FAILED);
	assert_int_equal(st.succeeded, 2);
	assert_int_equal(st.failed, 1);
	/* the owner's pod goes, its execution with it: the other target still
	 * does not run (its name is recorded as dispatched) */
	vanish(w, "web-220536");
	w->n = 2; /* web-220536 is no target any more */
	assert_int_equal(dispatch(w), 0);
	st = status(w);
	assert_int_equal(st.failed, 1);
	assert_true(st.complete);
	free(w);
}

/* The owner has an execution although a target first in order shares its
 * name (the owner was a target before it): that one does not run. */
static void name_collision_held_by_execution(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	w->s = (struct recap_strategy){.type = RECAP_STRATEGY_ITERATIVE, .max_concurrent = 5};
	add_target(w, "web-634043", "app", 0, NULL, NULL);
	assert_int_equal(dispatch(w), 1);
	add_target(w, "web-220536", "app", 0, NULL, NULL);
	assert_int_equal(dispatch(w), 0);
	struct recap_run_status st = status(w);
	assert_int_equal(st.n_failures, 1);
	assert_string_equal(st.failures[0].pod, "web-220536");
	assert_string_equal(st.failures[0].reason, "ExecutionNameCollision");
	free(w);
}

static enum recap_dispatch_state in_flight_now(const char *execution, void *ctx)
{
	return RECAP_DISPATCH_IN_FLIGHT;
}

static enum recap_dispatch_state refused(const char *execution, void *ctx)
{
	return RECAP_DISPATCH_RETRY;
}

/* Killed between the status write and the creates: the restarted
 * controller does not know whether they happened. */
static void dispatched_but_never_created(void **state)
{
	struct world *w = fan_out(3);
	struct recap_plan p = plan(w);
	assert_int_equal(p.n_create, 3);
	record(w, &p);
	recap_strategy_plan_clear(&p);
	/* The same controller, its creates not in the cache yet: nothing twice. */
	w->unseen = in_flight_now;
	p = plan(w);
	assert_int_equal(p.n_create, 0);
	recap_strategy_plan_clear(&p);
	struct recap_run_status st = status(w);
	assert_int_equal(st.pending, 3);
	assert_false(st.complete);
	/* Refused by the API server: nothing exists, so it may be sent again. */
	w->unseen = refused;
	p = plan(w);
	assert_int_equal(p.n_create, 3);
	recap_strategy_plan_clear(&p);
	/* Restarted: never again, and not pending forever. */
	w->unseen = NULL;
	p = plan(w);
	assert_int_equal(p.n_create, 0);
	assert_int_equal(p.lost, 3);
	recap_strategy_plan_clear(&p);
	st = status(w);
	assert_true(st.complete);
	assert_int_equal(st.phase, RECAP_RUN_FAILED);
	assert_int_equal(st.failed, 3);
	assert_int_equal(st.n_failures, 3);
	free(w);
}

/* The pod went too: the target is no longer resolved, its record stays. */
static void dispatched_target_gone(void **state)
{
	struct world *w = fan_out(2);
	assert_int_equal(dispatch(w), 2);
	char gone[RECAP_NAME_MAX + 1];
	snprintf(gone, sizeof(gone), "%s", exec_of(w, "web-1")->name);
	vanish(w, "web-1");
	w->n = 1; /* web-1's pod is gone */
	assert_string_equal(w->t[0].pod, "web-0");
	struct recap_plan p = plan(w);
	assert_int_equal(p.n_create, 0);
	recap_strategy_plan_clear(&p);
	set_phase(w, "web-0", RECAP_EXEC_SUCCEEDED, NULL);
	struct recap_run_status st = status(w);
	assert_int_equal(st.targets, 2);
	assert_int_equal(st.failed, 1);
	assert_true(st.complete);
	assert_int_equal(st.phase, RECAP_RUN_PARTIALLY_FAILED);
	assert_string_equal(st.failures[0].execution, gone);
	assert_null(st.failures[0].pod);
	free(w);
}

/* Deleted while it runs: the node agent kills it and writes Cancelled
 * before it goes; the run counts it failed, not cancelled. */
static void execution_being_deleted(void **state)
{
	struct world *w = fan_out(2);
	assert_int_equal(dispatch(w), 2);
	set_phase(w, "web-0", RECAP_EXEC_SUCCEEDED, NULL);
	set_phase(w, "web-1", RECAP_EXEC_FAILED, "Cancelled");
	exec_of(w, "web-1")->deleting = true;
	struct recap_run_status st = status(w);
	assert_true(st.complete);
	assert_int_equal(st.cancelled, 0);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.phase, RECAP_RUN_PARTIALLY_FAILED);
	assert_string_equal(st.failures[0].reason, "ExecutionDeleted");
	free(w);
}

/* Foreground deletion of the run (or of its Capsule): nothing new starts. */
static void deleting_run_plans_nothing(void **state)
{
	struct world *w = fan_out(3);
	w->deleting = true;
	struct recap_plan p = plan(w);
	assert_int_equal(p.n_create, 0);
	assert_int_equal(p.blocked, 3);
	recap_strategy_plan_clear(&p);
	/* ... also in an Iterative rollout under way */
	struct world *r = rollout(3, RECAP_FAILURE_CONTINUE, 1);
	assert_string_equal(step(r), "web-0");
	set_phase(r, "web-0", RECAP_EXEC_SUCCEEDED, NULL);
	r->deleting = true;
	assert_string_equal(step(r), "");
	struct recap_run_status st = status(r);
	assert_true(st.complete);
	assert_int_equal(st.skipped, 2);
	free(r);
	free(w);
}

static void dispatched_ids(void **state)
{
	char name[RECAP_NAME_MAX + 1];
	recap_strategy_exec_name("tcpdump-29401230", "nginx-1", "nginx", name);
	const char *id = recap_strategy_dispatch_id(name);
	assert_non_null(id);
	assert_int_equal(strlen(id), RECAP_STRATEGY_DISPATCH_ID_LEN);
	char back[RECAP_NAME_MAX + 1];
	assert_true(recap_strategy_exec_name_of_id("tcpdump-29401230", id, back) > 0);
	assert_string_equal(back, name);
	assert_null(recap_strategy_dispatch_id("tcpdump-29401230"));
	assert_null(recap_strategy_dispatch_id("x-0123456789ABCDEF"));
	assert_int_equal(recap_strategy_exec_name_of_id("r", "nothex!!!!", back), -EINVAL);
	/* Entries that are not ids are dropped; the rest sorted, each once. */
	struct world *w = fan_out(2);
	const char *junk[] = {"ffffffffff", "not-an-id", "0000000000", "ffffffffff"};
	memcpy(w->disp, junk, sizeof(junk));
	w->nd = 4;
	struct recap_plan_input in = input(w);
	json_t *ids = NULL;
	assert_int_equal(recap_strategy_dispatched(&in, NULL, &ids, NULL), 0);
	assert_int_equal(json_array_size(ids), 2);
	assert_string_equal(json_string_value(json_array_get(ids, 0)), "0000000000");
	assert_string_equal(json_string_value(json_array_get(ids, 1)), "ffffffffff");
	json_decref(ids);
	free(w);
}

static void cancel(void **state)
{
	struct world *w = rollout(4, RECAP_FAILURE_STOP, 1);
	assert_string_equal(step(w), "web-0");
	set_phase(w, "web-0", RECAP_EXEC_RUNNING, NULL);
	w->cancel = true;
	struct recap_plan p = plan(w);
	assert_int_equal(p.n_create, 0);
	assert_int_equal(p.blocked, 3);
	recap_strategy_plan_clear(&p);
	struct recap_run_status st = status(w);
	assert_false(st.complete); /* web-0 is still being killed and escaped */
	assert_int_equal(st.phase, RECAP_RUN_RUNNING);
	set_phase(w, "web-0", RECAP_EXEC_FAILED, "Cancelled");
	st = status(w);
	assert_true(st.complete);
	assert_int_equal(st.phase, RECAP_RUN_CANCELLED);
	assert_int_equal(st.cancelled, 4);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.n_failures, 0);
	free(w);
}

/* Cancel deletes the executions: once gone, their targets stay cancelled. */
static void cancel_deletes(void **state)
{
	struct world *w = fan_out(2);
	assert_int_equal(dispatch(w), 2);
	set_phase(w, "web-0", RECAP_EXEC_RUNNING, NULL);
	w->cancel = true;
	exec_of(w, "web-0")->deleting = true;
	exec_of(w, "web-1")->deleting = true;
	vanish(w, "web-1"); /* never started: no finalizer held it */
	struct recap_run_status st = status(w);
	assert_false(st.complete);
	set_phase(w, "web-0", RECAP_EXEC_FAILED, "Cancelled");
	st = status(w);
	assert_true(st.complete);
	assert_int_equal(st.phase, RECAP_RUN_CANCELLED);
	assert_int_equal(st.cancelled, 2);
	assert_int_equal(st.failed, 0);
	vanish(w, "web-0");
	st = status(w);
	assert_int_equal(st.cancelled, 2);
	assert_int_equal(st.n_failures, 0);
	free(w);
}

static void bad_targets(void **state)
{
	struct world *w = rollout(2, RECAP_FAILURE_STOP, 1);
	add_target(w, "web-1", "app", 0, NULL, NULL);
	struct recap_plan_input in = input(w);
	struct recap_plan p;
	struct recap_error *err = NULL;
	assert_int_equal(recap_strategy_plan(&in, &p, &err), -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "target web-1/app is listed twice"));
	recap_error_free(err);
	free(w);
}

static void parse_spec(void **state)
{
	struct recap_strategy s;
	struct recap_error *err = NULL;
	json_t *spec = json_loads("{\"strategy\":{\"type\":\"Iterative\"}}", 0, NULL);
	assert_int_equal(recap_strategy_parse(spec, &s, &err), 0);
	assert_int_equal(s.type, RECAP_STRATEGY_ITERATIVE);
	assert_int_equal(s.max_concurrent, 1);
	assert_int_equal(s.order, RECAP_ORDER_NAME);
	assert_int_equal(s.failure_policy, RECAP_FAILURE_STOP);
	recap_strategy_clear(&s);
	json_decref(spec);
	spec = json_loads(
	    "{\"roles\":[{\"name\":\"server\"},{\"name\":\"client\",\"startAfter\":[\"server\"]}]}", 0, NULL);
	assert_int_equal(recap_strategy_parse(spec, &s, &err), 0);
	assert_int_equal(s.type, RECAP_STRATEGY_PARALLEL);
	assert_int_equal(s.n_roles, 2);
	assert_string_equal(s.roles[1].start_after[0], "server");
	recap_strategy_clear(&s);
	json_decref(spec);
	static const char *bad[][2] = {
	    {"{\"strategy\":{\"type\":\"Random\"}}", "\"Random\" is not Parallel or Iterative"},
	    {"{\"strategy\":{\"type\":\"Iterative\",\"order\":\"Age\"}}",
	     "\"Age\" is not Name or CreationTimestamp"},
	    {"{\"strategy\":{\"type\":\"Iterative\",\"failurePolicy\":\"Retry\"}}",
	     "\"Retry\" is not Stop or Continue"},
	    {"{\"strategy\":{\"type\":\"Iterative\",\"maxConcurrent\":0}}", "maxConcurrent: must be 1.."},
	    {"{\"roles\":[{\"startAfter\":[]}]}", "spec.roles[0].name: required"},
	    {"{\"roles\":[{\"name\":\"a\",\"startAfter\":[1]}]}",
	     "spec.roles[0].startAfter[0]: must be a string"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		spec = json_loads(bad[i][0], 0, NULL);
		assert_int_equal(recap_strategy_parse(spec, &s, &err), -EINVAL);
		if (!strstr(recap_error_message(err), bad[i][1]))
			fail_msg("\"%s\" lacks \"%s\"", recap_error_message(err), bad[i][1]);
		recap_error_free(err);
		err = NULL;
		json_decref(spec);
	}
	enum recap_exec_phase ph;
	assert_int_equal(recap_strategy_exec_phase_parse("Escaping", &ph), 0);
	assert_int_equal(ph, RECAP_EXEC_ESCAPING);
	assert_int_equal(recap_strategy_exec_phase_parse(NULL, &ph), 0);
	assert_int_equal(ph, RECAP_EXEC_PENDING);
	assert_int_equal(recap_strategy_exec_phase_parse("Done", &ph), -EINVAL);
	assert_string_equal(recap_strategy_run_phase_name(RECAP_RUN_PARTIALLY_FAILED), "PartiallyFailed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(names),
	    cmocka_unit_test(parallel_batches),
	    cmocka_unit_test(roles_start_after),
	    cmocka_unit_test(roles_failed_dependency),
	    cmocka_unit_test(roles_deleted_dependency),
	    cmocka_unit_test(roles_errors),
	    cmocka_unit_test(iterative_stop),
	    cmocka_unit_test(iterative_continue),
	    cmocka_unit_test(iterative_max_concurrent),
	    cmocka_unit_test(iterative_creation_order),
	    cmocka_unit_test(restarts_run_each_target_once),
	    cmocka_unit_test(phases_and_failures),
	    cmocka_unit_test(cancel),
	    cmocka_unit_test(cancel_deletes),
	    cmocka_unit_test(deleted_execution_is_not_recreated),
	    cmocka_unit_test(name_collision),
	    cmocka_unit_test(name_collision_held_by_execution),
	    cmocka_unit_test(dispatched_but_never_created),
	    cmocka_unit_test(dispatched_target_gone),
	    cmocka_unit_test(execution_being_deleted),
	    cmocka_unit_test(deleting_run_plans_nothing),
	    cmocka_unit_test(dispatched_ids),
	    cmocka_unit_test(bad_targets),
	    cmocka_unit_test(parse_spec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Which executions to create now. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/types.h"
#include "base/buf.h"
#include "sched/strategy_index.h"

void recap_strategy_plan_clear(struct recap_plan *p)
{
	for (size_t i = 0; i < p->n_create; i++)
		json_decref(p->create[i].env);
	free(p->create);
	*p = (struct recap_plan){0};
}

/* RECAP_ROLE_<ROLE>_IPS for every role: the pod IPs of its targets in
 * (pod, container) order, each pod once, comma-separated. */
static int role_env(const struct recap_plan_input *in, const struct run_index *ix, json_t **ret,
		    struct recap_error **err)
{
	json_t *env = json_array();
	if (!env)
		return -ENOMEM;
	for (size_t r = 0; r < in->strategy->n_roles; r++) {
		char name[128];
		const char *role = in->strategy->roles[r].name;
		struct recap_buf b = RECAP_BUF_INIT(RECAP_STRATEGY_ROLE_ENV_MAX);
		const char *last_pod = NULL;
		int rc = recap_strategy_role_env_name(role, name, sizeof(name));
		for (size_t k = 0; rc >= 0 && k < ix->n; k++) {
			const struct recap_target *t = &in->targets[ix->by_key[k]];
			if (ix->role[ix->by_key[k]] != (int)r || !t->pod_ip || !*t->pod_ip ||
			    (last_pod && strcmp(last_pod, t->pod) == 0))
				continue;
			last_pod = t->pod;
			rc = recap_buf_printf(&b, "%s%s", b.len ? "," : "", t->pod_ip);
		}
		for (size_t j = 0; rc >= 0 && j < json_array_size(env); j++) {
			if (strcmp(recap_api_env_name(json_array_get(env, j)), name) == 0)
				rc = -EEXIST;
		}
		if (rc >= 0)
			rc = json_array_append_new(env, json_pack("{s:s,s:s}", RECAP_API_ENV_NAME, name,
								  RECAP_API_ENV_VALUE, b.data ? b.data : ""));
		recap_buf_free(&b);
		if (rc < 0) {
			json_decref(env);
			if (rc == -EEXIST)
				return recap_error_set(err, EINVAL,
						       "role \"%s\": %s is also another role's variable",
						       role, name);
			return recap_error_set(err, rc == -ENOBUFS ? E2BIG : -rc,
					       "role \"%s\": %s longer than %d bytes or invalid", role, name,
					       RECAP_STRATEGY_ROLE_ENV_MAX);
		}
	}
	*ret = env;
	return 0;
}

static int add(struct recap_plan *p, const struct recap_plan_input *in, size_t target, json_t *env)
{
	struct recap_plan_item *it = &p->create[p->n_create];
	it->target = target;
	if (recap_strategy_exec_name(in->run, in->targets[target].pod, in->targets[target].container,
				     it->name) < 0)
		return -EINVAL;
	it->env = json_incref(env);
	p->n_create++;
	return 0;
}

static bool failed_any(const struct recap_plan_input *in, const struct run_index *ix)
{
	for (size_t e = 0; e < in->n_execs; e++) {
		if (in->execs[e].phase == RECAP_EXEC_FAILED)
			return true;
	}
	for (size_t i = 0; i < ix->n; i++) {
		if (ix->dispatch[i] == RECAP_DISPATCH_LOST || ix->dispatch[i] == NAME_COLLISION)
			return true;
	}
	return ix->n_orphans_lost > 0;
}

/* Executions not finished, and creates the cache does not show yet. */
static size_t in_flight(const struct recap_plan_input *in, const struct run_index *ix)
{
	size_t n = ix->n_orphans_in_flight;
	for (size_t i = 0; i < ix->n; i++) {
		n += ix->exec[i] >= 0 && !recap_sched_exec_terminal(in->execs[ix->exec[i]].phase);
		n += ix->dispatch[i] == RECAP_DISPATCH_IN_FLIGHT;
	}
	return n;
}

/* Walks the targets in order and decides, for each without an execution,
 * whether it is created now, later (waiting) or never (blocked). */
static int walk(const struct recap_plan_input *in, const struct run_index *ix, json_t *env,
		struct recap_plan *p)
{
	const struct recap_strategy *s = in->strategy;
	bool iterative = s->type == RECAP_STRATEGY_ITERATIVE;
	bool halted = iterative && s->failure_policy == RECAP_FAILURE_STOP && failed_any(in, ix);
	size_t batch = s->batch_size ? s->batch_size : RECAP_STRATEGY_BATCH_DEFAULT;
	size_t flight = in_flight(in, ix), max = s->max_concurrent ? s->max_concurrent : 1;
	for (size_t k = 0; k < ix->n; k++) {
		size_t t = ix->order[k];
		if (ix->exec[t] >= 0 || ix->dispatch[t] == RECAP_DISPATCH_IN_FLIGHT)
			continue;
		if (ix->dispatch[t] == RECAP_DISPATCH_LOST || ix->dispatch[t] == NAME_COLLISION) {
			p->lost++; /* at most once: never again; or never at all */
			continue;
		}
		int role = ix->role[t];
		if (in->cancel || in->deleting || halted || recap_sched_role_blocked(in, ix, role)) {
			p->blocked++;
			continue;
		}
		bool turn = iterative ? flight < max : recap_sched_role_startable(in, ix, role);
		if (!turn || p->n_create >= batch) {
			p->waiting++;
			continue;
		}
		int r = add(p, in, t, env);
		if (r < 0)
			return r;
		flight++;
	}
	return 0;
}

int recap_strategy_plan(const struct recap_plan_input *in, struct recap_plan *ret, struct recap_error **err)
{
	struct run_index ix;
	int r = recap_sched_run_index(in, &ix, err);
	if (r < 0)
		return r;
	json_t *env = NULL;
	struct recap_plan p = {0};
	size_t batch = in->strategy->batch_size ? in->strategy->batch_size : RECAP_STRATEGY_BATCH_DEFAULT;
	if (in->strategy->n_roles > 0)
		r = role_env(in, &ix, &env, err);
	if (r == 0 && !(p.create = calloc(batch < ix.n ? batch : (ix.n ? ix.n : 1), sizeof(*p.create))))
		r = -ENOMEM;
	if (r == 0)
		r = walk(in, &ix, env, &p);
	json_decref(env);
	recap_sched_run_index_free(&ix);
	if (r < 0) {
		recap_strategy_plan_clear(&p);
		return r == -EINVAL ? recap_error_set(err, EINVAL, "run name \"%s\" is not usable", in->run)
				    : r;
	}
	*ret = p;
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

static int push_id(json_t *ids, const char *id)
{
	if (!id)
		return 0;
	if (json_array_size(ids) >= RECAP_STRATEGY_TARGETS_MAX * 2)
		return -E2BIG;
	return json_array_append_new(ids, json_string(id)) < 0 ? -ENOMEM : 0;
}

/* Sorted, each once. */
static int sort_unique(json_t *ids, json_t **ret)
{
	size_t n = json_array_size(ids);
	json_t **v = calloc(n ? n : 1, sizeof(*v));
	json_t *out = json_array();
	int r = v && out ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && i < n; i++)
		v[i] = json_array_get(ids, i);
	if (r == 0)
		qsort(v, n, sizeof(*v), cmp_id);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (i > 0 && cmp_id(&v[i], &v[i - 1]) == 0)
			continue;
		if (json_array_size(out) >= RECAP_STRATEGY_TARGETS_MAX)
			r = -E2BIG;
		else if (json_array_append(out, v[i]) < 0)
			r = -ENOMEM;
	}
	free(v);
	if (r < 0) {
		json_decref(out);
		return r;
	}
	*ret = out;
	return 0;
}

int recap_strategy_dispatched(const struct recap_plan_input *in, const struct recap_plan *plan, json_t **ret,
			      struct recap_error **err)
{
	json_t *ids = json_array();
	int r = ids ? 0 : -ENOMEM;
	char name[RECAP_NAME_MAX + 1];
	for (size_t i = 0; r == 0 && i < in->n_dispatched; i++) {
		/* Anything that is not an id was not written by a controller. */
		bool id = recap_strategy_exec_name_of_id(in->run, in->dispatched[i], name) >= 0;
		r = push_id(ids, id ? in->dispatched[i] : NULL);
	}
	for (size_t e = 0; r == 0 && e < in->n_execs; e++)
		r = push_id(ids, recap_strategy_dispatch_id(in->execs[e].name));
	for (size_t c = 0; r == 0 && plan && c < plan->n_create; c++)
		r = push_id(ids, recap_strategy_dispatch_id(plan->create[c].name));
	if (r == 0)
		r = sort_unique(ids, ret);
	json_decref(ids);
	if (r == -E2BIG)
		return recap_error_set(err, E2BIG, "more than %d dispatched targets",
				       RECAP_STRATEGY_TARGETS_MAX);
	return r;
}

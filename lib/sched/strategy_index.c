#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/strategy_index.h"

bool recap_sched_exec_terminal(enum recap_exec_phase p)
{
	return p == RECAP_EXEC_SUCCEEDED || p == RECAP_EXEC_FAILED;
}

static bool is_up(enum recap_exec_phase p)
{
	return p == RECAP_EXEC_RUNNING || p == RECAP_EXEC_ESCAPING || p == RECAP_EXEC_SUCCEEDED;
}

void recap_sched_run_index_free(struct run_index *ix)
{
	free(ix->order);
	free(ix->by_key);
	ix->by_key = NULL;
	free(ix->exec);
	free(ix->role);
	free(ix->dispatch);
	ix->dispatch = NULL;
	ix->order = NULL;
	ix->exec = NULL;
	ix->role = NULL;
}

/* qsort has no context argument; the comparators read it from here. The
 * planner runs on one thread (the controller's loop). */
static __thread const struct recap_plan_input *sort_in;

static int cmp_key(const struct recap_target *a, const struct recap_target *b)
{
	int c = strcmp(a->pod, b->pod);
	return c ? c : strcmp(a->container, b->container);
}

static int by_key(const void *pa, const void *pb)
{
	return cmp_key(&sort_in->targets[*(const size_t *)pa], &sort_in->targets[*(const size_t *)pb]);
}

static int by_creation(const void *pa, const void *pb)
{
	const struct recap_target *a = &sort_in->targets[*(const size_t *)pa],
				  *b = &sort_in->targets[*(const size_t *)pb];
	if (a->created != b->created)
		return a->created < b->created ? -1 : 1;
	return cmp_key(a, b);
}

static int find_role(const struct recap_strategy *s, const char *name)
{
	for (size_t i = 0; name && i < s->n_roles; i++) {
		if (strcmp(s->roles[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

/* Joins executions to targets by (pod, container) with a binary search over
 * the targets in key order; duplicates are refused. */
static int join_execs(const struct recap_plan_input *in, struct run_index *ix, struct recap_error **err)
{
	for (size_t i = 0; i < in->n_targets; i++)
		ix->exec[i] = -1;
	size_t *key = ix->order; /* sorted by key at this point */
	for (size_t i = 1; i < in->n_targets; i++) {
		if (cmp_key(&in->targets[key[i - 1]], &in->targets[key[i]]) == 0)
			return recap_error_set(err, EINVAL, "target %s/%s is listed twice",
					       in->targets[key[i]].pod, in->targets[key[i]].container);
	}
	for (size_t e = 0; e < in->n_execs; e++) {
		struct recap_target probe = {.pod = in->execs[e].pod, .container = in->execs[e].container};
		size_t lo = 0, hi = in->n_targets;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int c = cmp_key(&in->targets[key[mid]], &probe);
			if (c == 0) {
				ix->exec[key[mid]] = (long)e;
				break;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return 0;
}

/* Kahn's algorithm: refuses unknown names and cycles in startAfter. */
static int check_role_graph(const struct recap_strategy *s, struct recap_error **err)
{
	int indeg[ROLES_MAX] = {0}, queue[ROLES_MAX], head = 0, tail = 0;
	for (size_t i = 0; i < s->n_roles; i++) {
		for (size_t j = 0; j < s->roles[i].n_start_after; j++) {
			if (find_role(s, s->roles[i].start_after[j]) < 0)
				return recap_error_set(err, EINVAL,
						       "role \"%s\": startAfter names unknown role \"%s\"",
						       s->roles[i].name, s->roles[i].start_after[j]);
			indeg[i]++;
		}
		if (indeg[i] == 0)
			queue[tail++] = (int)i;
	}
	while (head < tail) {
		const char *done = s->roles[queue[head++]].name;
		for (size_t i = 0; i < s->n_roles; i++) {
			for (size_t j = 0; j < s->roles[i].n_start_after; j++) {
				if (strcmp(s->roles[i].start_after[j], done) == 0 && --indeg[i] == 0)
					queue[tail++] = (int)i;
			}
		}
	}
	if ((size_t)tail != s->n_roles)
		return recap_error_set(err, EINVAL, "roles: startAfter forms a cycle");
	return 0;
}

static int index_roles(const struct recap_plan_input *in, struct run_index *ix, struct recap_error **err)
{
	const struct recap_strategy *s = in->strategy;
	if (s->n_roles > ROLES_MAX)
		return recap_error_set(err, EINVAL, "more than %d roles", ROLES_MAX);
	int r = check_role_graph(s, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < in->n_targets; i++) {
		const struct recap_target *t = &in->targets[i];
		ix->role[i] = find_role(s, t->role);
		if (s->n_roles > 0 && ix->role[i] < 0)
			return recap_error_set(err, EINVAL,
					       "target %s/%s has role \"%s\", not one of the Capsule's",
					       t->pod, t->container, t->role ? t->role : "");
		if (ix->role[i] < 0)
			continue;
		ix->role_targets[ix->role[i]]++;
		if (ix->exec[i] >= 0) {
			enum recap_exec_phase p = in->execs[ix->exec[i]].phase;
			ix->role_ready[ix->role[i]] += is_up(p);
			ix->role_failed[ix->role[i]] |= p == RECAP_EXEC_FAILED;
		} else if (ix->dispatch[i] == RECAP_DISPATCH_LOST || ix->dispatch[i] == NAME_COLLISION) {
			ix->role_failed[ix->role[i]] = true; /* it will never be up */
		}
	}
	/* A role is dead when it failed or something it waits for is dead. */
	for (size_t round = 0; round <= s->n_roles; round++) {
		for (size_t i = 0; i < s->n_roles; i++) {
			ix->role_dead[i] = ix->role_failed[i];
			for (size_t j = 0; j < s->roles[i].n_start_after; j++)
				ix->role_dead[i] |= ix->role_dead[find_role(s, s->roles[i].start_after[j])];
		}
	}
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void orphan(const struct recap_plan_input *in, struct run_index *ix, const char *id)
{
	char name[RECAP_NAME_MAX + 1];
	if (recap_strategy_exec_name_of_id(in->run, id, name) < 0)
		return;
	enum recap_dispatch_state st = in->unseen ? in->unseen(name, in->unseen_ctx) : RECAP_DISPATCH_LOST;
	if (st == RECAP_DISPATCH_IN_FLIGHT) {
		ix->n_orphans_in_flight++;
	} else if (st == RECAP_DISPATCH_LOST) {
		if (ix->n_orphans_lost < RECAP_STRATEGY_FAILURES_MAX)
			snprintf(ix->orphans[ix->n_orphans_lost], sizeof(ix->orphans[0]), "%s", name);
		ix->n_orphans_lost++;
	} /* RETRY: refused, nothing exists, and the pod is gone: not a target */
}

/* Marks the targets recorded as dispatched that have no execution, with
 * what became of it, and counts the ids no target has. */
static int index_dispatched(const struct recap_plan_input *in, struct run_index *ix)
{
	size_t n = in->n_dispatched;
	for (size_t i = 0; i < in->n_targets; i++)
		ix->dispatch[i] = UNDISPATCHED;
	if (n == 0 || !in->run)
		return 0;
	const char **ids = malloc(n * sizeof(*ids));
	bool *used = calloc(n, sizeof(*used));
	if (!ids || !used) {
		free(ids);
		free(used);
		return -ENOMEM;
	}
	memcpy(ids, in->dispatched, n * sizeof(*ids));
	qsort(ids, n, sizeof(*ids), cmp_id);
	for (size_t i = 0; i < in->n_targets; i++) {
		char name[RECAP_NAME_MAX + 1];
		const struct recap_target *t = &in->targets[i];
		if (recap_strategy_exec_name(in->run, t->pod, t->container, name) < 0)
			continue;
		const char *id = recap_strategy_dispatch_id(name);
		const char **hit = id ? bsearch(&id, ids, n, sizeof(*ids), cmp_id) : NULL;
		if (!hit)
			continue;
		for (size_t k = (size_t)(hit - ids); k < n && strcmp(ids[k], id) == 0; k++)
			used[k] = true;
		for (size_t k = (size_t)(hit - ids); k-- > 0 && strcmp(ids[k], id) == 0;)
			used[k] = true;
		if (ix->exec[i] < 0)
			ix->dispatch[i] =
			    in->unseen ? (int)in->unseen(name, in->unseen_ctx) : (int)RECAP_DISPATCH_LOST;
	}
	for (size_t k = 0; k < n; k++) {
		if (!used[k] && (k == 0 || strcmp(ids[k], ids[k - 1]) != 0))
			orphan(in, ix, ids[k]);
	}
	free(ids);
	free(used);
	return 0;
}

bool recap_sched_role_blocked(const struct recap_plan_input *in, const struct run_index *ix, int role)
{
	if (role < 0)
		return false;
	const struct recap_role *r = &in->strategy->roles[role];
	for (size_t j = 0; j < r->n_start_after; j++) {
		if (ix->role_dead[find_role(in->strategy, r->start_after[j])])
			return true;
	}
	return false;
}

bool recap_sched_role_startable(const struct recap_plan_input *in, const struct run_index *ix, int role)
{
	if (role < 0)
		return true;
	const struct recap_role *r = &in->strategy->roles[role];
	for (size_t j = 0; j < r->n_start_after; j++) {
		int dep = find_role(in->strategy, r->start_after[j]);
		if (ix->role_dead[dep] || ix->role_ready[dep] < ix->role_targets[dep])
			return false;
	}
	return true;
}

/* An execution name is a 40-bit hash of (run, pod, container), so two
 * targets of a large run can share one. The name then belongs to the
 * target whose execution has it, else to the first in (pod, container)
 * order; the other target has no name of its own and cannot run: it counts
 * failed with the reason, never silently skipped and never sharing the
 * other's execution. A later pass decides the same (an execution with the
 * name exists, or the owner is still first). */
static __thread char (*sort_names)[RECAP_NAME_MAX + 1];

/* By name, then by (pod, container) order. */
static int by_name(const void *pa, const void *pb)
{
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	int c = strcmp(sort_names[a], sort_names[b]);
	return c ? c : (a > b) - (a < b);
}

static int index_collisions(const struct recap_plan_input *in, struct run_index *ix)
{
	size_t n = in->n_targets;
	char(*names)[RECAP_NAME_MAX + 1] = calloc(n ? n : 1, sizeof(*names));
	size_t *by = calloc(n ? n : 1, sizeof(*by));
	const char **taken = calloc(in->n_execs ? in->n_execs : 1, sizeof(*taken));
	if (!names || !by || !taken) {
		free(names);
		free(by);
		free(taken);
		return -ENOMEM;
	}
	for (size_t e = 0; e < in->n_execs; e++)
		taken[e] = in->execs[e].name ? in->execs[e].name : "";
	qsort(taken, in->n_execs, sizeof(*taken), cmp_id);
	for (size_t k = 0; k < n; k++) { /* names[k]: the k-th target in (pod, container) order */
		size_t t = ix->by_key[k];
		by[k] = k;
		if (recap_strategy_exec_name(in->run, in->targets[t].pod, in->targets[t].container,
					     names[k]) < 0)
			names[k][0] = '\0';
	}
	sort_names = names;
	qsort(by, n, sizeof(*by), by_name);
	sort_names = NULL;
	for (size_t i = 0; i < n; i++) {
		size_t k = by[i], t = ix->by_key[k];
		if (ix->exec[t] >= 0 || !names[k][0])
			continue;
		const char *key = names[k];
		if ((i > 0 && strcmp(names[by[i - 1]], key) == 0) ||
		    (in->n_execs && bsearch(&key, taken, in->n_execs, sizeof(*taken), cmp_id)))
			ix->dispatch[t] = NAME_COLLISION;
	}
	free(names);
	free(by);
	free(taken);
	return 0;
}

int recap_sched_run_index(const struct recap_plan_input *in, struct run_index *ix, struct recap_error **err)
{
	*ix = (struct run_index){.n = in->n_targets};
	if (in->n_targets > RECAP_STRATEGY_TARGETS_MAX)
		return recap_error_set(err, E2BIG, "%zu targets, more than the limit of %d", in->n_targets,
				       RECAP_STRATEGY_TARGETS_MAX);
	for (size_t i = 0; i < in->n_targets; i++) {
		if (!in->targets[i].pod || !in->targets[i].container)
			return recap_error_set(err, EINVAL, "target %zu: pod and container are required", i);
	}
	for (size_t e = 0; e < in->n_execs; e++) {
		if (!in->execs[e].pod || !in->execs[e].container)
			return recap_error_set(err, EINVAL, "execution %zu: pod and container are required",
					       e);
	}
	for (size_t d = 0; d < in->n_dispatched; d++) {
		if (!in->dispatched[d])
			return recap_error_set(err, EINVAL, "dispatched %zu: null", d);
	}
	size_t n = in->n_targets ? in->n_targets : 1;
	ix->order = calloc(n, sizeof(*ix->order));
	ix->by_key = calloc(n, sizeof(*ix->by_key));
	ix->exec = calloc(n, sizeof(*ix->exec));
	ix->role = calloc(n, sizeof(*ix->role));
	ix->dispatch = calloc(n, sizeof(*ix->dispatch));
	if (!ix->order || !ix->by_key || !ix->exec || !ix->role || !ix->dispatch) {
		recap_sched_run_index_free(ix);
		return -ENOMEM;
	}
	for (size_t i = 0; i < in->n_targets; i++)
		ix->order[i] = i;
	sort_in = in;
	qsort(ix->order, in->n_targets, sizeof(*ix->order), by_key);
	memcpy(ix->by_key, ix->order, in->n_targets * sizeof(*ix->order));
	int r = join_execs(in, ix, err);
	if (r == 0)
		r = index_dispatched(in, ix);
	if (r == 0)
		r = index_collisions(in, ix);
	if (r == 0)
		r = index_roles(in, ix, err);
	if (r == 0 && in->strategy->order == RECAP_ORDER_CREATION)
		qsort(ix->order, in->n_targets, sizeof(*ix->order), by_creation);
	sort_in = NULL;
	if (r < 0)
		recap_sched_run_index_free(ix);
	return r;
}

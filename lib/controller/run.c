/* The CapsuleRun reconciler: admission, targets, the strategy's plan,
 * executions, cancel, status. */
#include <stdbool.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/names.h"
#include "api/types.h"
#include "base/json.h"
#include "controller/admit.h"
#include "controller/ctl.h"
#include "controller/objects.h"
#include "controller/runstatus.h"
#include "controller/status.h"
#include "controller/targets.h"

/* Executions a pass creates at most: RUN_BATCH, or a share of a big run's
 * targets so a fan-out takes about RUN_BATCHES passes, whatever its size
 * (a pass holds its batch's objects: 16 keeps that to a few MiB at 10,000).
 * Each pass reads every target and execution of the run, so passes of a
 * fixed size made a fan-out cost O(targets^2). The create window
 * (creates.c) bounds what is in flight either way. */
#define RUN_BATCH 250
#define RUN_BATCHES 16

struct run_pass {
	json_t *run;
	const char *ns, *name;
	json_t *spec; /* the Capsule spec it runs with (borrowed) */
	int64_t generation;
	json_t *capsule;		     /* holder when the spec comes from the Capsule */
	json_t *pinned;			     /* the snapshot with the image pinned to a digest */
	struct recap_controller_execs execs; /* the executions the run controls */
	struct ctl_admission adm;
	struct recap_strategy strategy;
	struct recap_controller_targets targets;
	struct recap_execution *ex;
	size_t n_ex;
	const char **dispatched; /* status.dispatched (borrowed strings) */
	size_t n_dispatched;
	time_t now;
};

static void pass_clear(struct run_pass *p)
{
	json_decref(p->capsule);
	json_decref(p->pinned);
	recap_ctl_admission_clear(&p->adm);
	recap_strategy_clear(&p->strategy);
	recap_controller_targets_clear(&p->targets);
	free(p->ex);
	free(p->dispatched);
	/* last: the targets borrow its strings */
	recap_controller_execs_clear(&p->execs);
}

/* Whether the run of uid controls e. The run's executions are joined by
 * owner uid, not by name: those of a deleted run of the same name (still
 * being escaped by their node agents) are not this run's. */
static bool owned_by(json_t *e, const char *uid)
{
	size_t j;
	json_t *ref;
	json_array_foreach (recap_api_meta_owner_references(e), j, ref) {
		const char *owner = recap_json_str(ref, "uid");
		if (json_is_true(json_object_get(ref, "controller")) && owner && uid &&
		    strcmp(owner, uid) == 0)
			return true;
	}
	return false;
}

/* status.dispatched: the targets this run has dispatched (execution ids). */
static int read_dispatched(struct run_pass *p)
{
	json_t *ids = recap_api_run_status_dispatched(p->run);
	p->dispatched = calloc(json_array_size(ids) + 1, sizeof(*p->dispatched));
	if (!p->dispatched)
		return -ENOMEM;
	size_t i;
	json_t *id;
	json_array_foreach (ids, i, id) {
		if (json_string_value(id))
			p->dispatched[p->n_dispatched++] = json_string_value(id);
	}
	return 0;
}

static int exec_views(struct run_pass *p, struct recap_error **err)
{
	p->ex = calloc(p->execs.n + 1, sizeof(*p->ex));
	if (!p->ex)
		return recap_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < p->execs.n; i++) {
		const struct recap_execution *x = &p->execs.v[i].view;
		if (x->name && x->pod && x->container)
			p->ex[p->n_ex++] = *x;
	}
	return 0;
}

/* The controller has no registry access: the first node to pull the image
 * reports its manifest digest (status.imageDigest), and the snapshot is
 * pinned to it, so executions created afterwards (later batches, the next
 * Iterative targets) run exactly that image even if the tag moves. */
static void pin_digest(struct run_pass *p)
{
	const char *image = recap_api_capsule_spec_image(p->spec);
	if (!image || strchr(image, '@'))
		return;
	for (size_t i = 0; i < p->execs.n; i++) {
		const char *digest = p->execs.v[i].image_digest;
		char *pinned = NULL;
		if (!digest || asprintf(&pinned, "%s@%s", image, digest) < 0)
			continue;
		p->pinned = json_deep_copy(p->spec);
		if (p->pinned) {
			json_object_set_new(p->pinned, RECAP_API_CAPSULE_SPEC_IMAGE, json_string(pinned));
			p->spec = p->pinned;
		}
		free(pinned);
		return;
	}
}

/* The spec the run executes: its snapshot, or the Capsule's now. */
static int choose_spec(struct recap_controller *ctl, struct run_pass *p)
{
	p->spec = recap_api_run_status_capsule_spec(p->run);
	p->generation = recap_api_run_status_capsule_generation(p->run);
	if (p->spec) {
		pin_digest(p);
		return 0;
	}
	const char *cname = recap_api_run_spec_capsule_ref_name(p->run);
	char key[600];
	snprintf(key, sizeof(key), "%s/%s", p->ns, cname ? cname : "");
	p->capsule = recap_kube_store_get(ctl_store(ctl, INF_CAPSULE), key);
	if (!p->capsule) {
		p->adm.reason = RECAP_CONDITION_REASON_CAPSULE_NOT_FOUND;
		if (asprintf(&p->adm.message, "Capsule %s not found in namespace %s", cname ? cname : "",
			     p->ns) < 0)
			p->adm.message = NULL;
		return p->adm.message ? 1 : -ENOMEM;
	}
	p->spec = recap_api_capsule_spec(p->capsule);
	p->generation = recap_api_meta_generation(p->capsule);
	return 0;
}

/* Executions waiting for the status write that records them. */
struct after_status {
	json_t *run, *objs;
	char *ns;
	size_t targets, waiting;
};

static void after_status_free(struct after_status *a)
{
	json_decref(a->run);
	json_decref(a->objs);
	free(a->ns);
	free(a);
}

static void create_now(struct ctl_op *op, struct after_status *a)
{
	size_t n = json_array_size(a->objs);
	recap_ctl_create_execs(op, a->ns, a->objs);
	a->objs = NULL;
	recap_ctl_op_event(op, a->run, RECAP_KIND_CAPSULE_RUN, "Normal", "ExecutionsCreated",
			   "creating %zu executions (%zu targets, %zu waiting)", n, a->targets, a->waiting);
	after_status_free(a);
}

/* The targets are recorded as dispatched: only now may they run. */
static void status_written(struct ctl_op *op, const struct recap_kube_response *resp, bool ok, void *arg)
{
	if (ok)
		create_now(op, arg);
	else
		after_status_free(arg);
}

/* Sends the status patch (NULL: nothing changed) with the resourceVersion
 * read as a precondition: a status computed from a stale cache would drop
 * targets recorded since. Executions in `after` are created once the patch
 * has succeeded, at once when there is nothing to write. */
static void send_status(struct ctl_op *op, struct run_pass *p, json_t *patch, struct after_status *after)
{
	const char *rv = recap_api_meta_resource_version(p->run);
	if (patch && rv)
		json_object_set_new(patch, "metadata", json_pack("{s:s}", "resourceVersion", rv));
	if (!patch && after) {
		create_now(op, after);
	} else if (after) {
		unsigned before = op->pending;
		recap_ctl_op_patch_answered(op, &recap_ctl_runs, p->ns, p->name, "status", patch,
					    status_written, after);
		if (op->pending == before) /* not sent: the pass failed */
			after_status_free(after);
	} else if (patch) {
		recap_ctl_op_patch(op, &recap_ctl_runs, p->ns, p->name, "status", patch);
	}
}

static void write_status(struct ctl_op *op, struct run_pass *p, const struct recap_run_status *st,
			 bool started, json_t *dispatched, struct after_status *after)
{
	struct recap_controller_run_view v = {
	    .run = p->run,
	    .capsule_spec = p->spec,
	    .capsule_generation = p->generation,
	    .refused_reason = p->adm.reason,
	    .refused_message = p->adm.message,
	    .st = st,
	    .started = started,
	    .dispatched = dispatched,
	    .now = p->now,
	};
	json_t *s = recap_controller_run_status(&v);
	if (!s) { /* nothing is created unless recorded first */
		if (after)
			after_status_free(after);
		struct recap_error *e = NULL;
		recap_error_set(&e, ENOMEM, "out of memory for the run's status");
		recap_ctl_op_fail(op, e);
		return;
	}
	json_t *patch = recap_controller_status_patch(recap_api_run_status(p->run), s);
	send_status(op, p, patch, after);
	/* The patch holds the whole new status (NULL: nothing changed). */
	enum recap_api_run_phase was = recap_api_run_status_phase(p->run),
				 now = recap_api_run_status_phase(patch);
	bool ok = now == RECAP_API_RUN_PHASE_SUCCEEDED;
	if (now != RECAP_API_RUN_PHASE_COUNT && recap_run_phase_final(recap_api_run_phase_names[now]) &&
	    was != now)
		recap_ctl_op_event(op, p->run, RECAP_KIND_CAPSULE_RUN, ok ? "Normal" : "Warning",
				   ok ? "RunSucceeded" : "RunFinished", "run %s: %s",
				   recap_api_run_phase_names[now],
				   recap_api_condition_message(recap_api_condition_get(
				       recap_api_run_status_conditions(patch), RECAP_CONDITION_COMPLETE)));
	json_decref(patch);
	json_decref(s);
}

static void refuse(struct ctl_op *op, struct run_pass *p)
{
	json_t *old =
	    recap_api_condition_get(recap_api_run_status_conditions(p->run), RECAP_CONDITION_ADMITTED);
	const char *was = recap_api_condition_reason(old);
	if (!was || strcmp(was, p->adm.reason) != 0)
		recap_ctl_op_event(op, p->run, RECAP_KIND_CAPSULE_RUN, "Warning", p->adm.reason, "%s",
				   p->adm.message);
	/* Without a snapshot taken, none is recorded for a run that never started. */
	p->spec = recap_api_run_status_capsule_spec(p->run);
	write_status(op, p, NULL, false, NULL, NULL);
}

/* The plan's executions less those created by an earlier pass that the
 * cache does not show yet; NULL when there are none (or out of memory:
 * the pass failed). */
static struct after_status *build_execs(struct ctl_op *op, struct run_pass *p, const struct recap_plan *plan)
{
	json_t *objs = json_array();
	for (size_t i = 0; objs && i < plan->n_create; i++) {
		const struct recap_plan_item *it = &plan->create[i];
		if (recap_ctl_expected(op->ctl, p->ns, it->name))
			continue;
		json_t *obj = recap_controller_exec_build(p->run, p->spec, &p->targets.v[it->target], it);
		uint64_t grace = op->ctl->opts.exec_start_grace_s;
		if (obj && recap_controller_exec_set_deadline(
			       obj, p->now, grace ? (int64_t)grace : RECAP_EXEC_START_GRACE_S) < 0) {
			json_decref(obj);
			obj = NULL;
		}
		/* kept as compact text until its create is sent (creates.c) */
		char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
		json_decref(obj);
		int r = text ? json_array_append_new(objs, json_string_nocheck(text)) : -1;
		free(text);
		if (r < 0) {
			json_decref(objs);
			objs = NULL;
		}
	}
	struct after_status *a = objs && json_array_size(objs) > 0 ? calloc(1, sizeof(*a)) : NULL;
	if (a && !(a->ns = strdup(p->ns))) {
		free(a);
		a = NULL;
	}
	if (!a && objs && json_array_size(objs) == 0) {
		json_decref(objs);
		return NULL;
	}
	if (!a) {
		json_decref(objs);
		struct recap_error *e = NULL;
		recap_error_set(&e, ENOMEM, "out of memory building executions");
		recap_ctl_op_fail(op, e);
		return NULL;
	}
	a->objs = objs;
	a->run = json_incref(p->run);
	return a;
}

/* Cancel: executions that have not finished are deleted; the node agent's
 * finalizer kills and escapes them before they go. */
static void cancel_execs(struct ctl_op *op, struct run_pass *p)
{
	for (size_t i = 0; i < p->execs.n; i++) {
		const struct recap_controller_exec *e = &p->execs.v[i];
		if (recap_controller_exec_final(e) || e->view.deleting || !e->view.name)
			continue;
		recap_ctl_op_delete(op, &recap_ctl_execs, p->ns, e->view.name, e->uid);
		op->ctl->execs_deleted++;
	}
}

/* Explicit pod names that are not targets: said once per run start. */
static void report_missing(struct ctl_op *op, struct run_pass *p, json_t *names)
{
	char missing[512] = "";
	size_t n = 0, i;
	json_t *name;
	if (p->execs.n > 0)
		return;
	json_array_foreach (names, i, name) {
		bool found = false;
		for (size_t t = 0; t < p->targets.n && !found; t++)
			found = strcmp(p->targets.v[t].pod,
				       json_string_value(name) ? json_string_value(name) : "") == 0;
		if (found)
			continue;
		size_t len = strlen(missing);
		if (len < sizeof(missing) - 1)
			snprintf(missing + len, sizeof(missing) - len, "%s%s", n ? ", " : "",
				 json_string_value(name));
		n++;
	}
	if (n > 0)
		recap_ctl_op_event(op, p->run, RECAP_KIND_CAPSULE_RUN, "Warning", "TargetsNotFound",
				   "%zu named pods are not running targets: %s", n, missing);
}

/* Plans, records and creates; a run whose plan cannot be made before
 * anything started is refused as InvalidSpec. */
static int decide(struct ctl_op *op, struct run_pass *p, const struct recap_plan_input *in,
		  struct recap_error **err)
{
	struct recap_plan plan = {0};
	struct recap_run_status st;
	json_t *dispatched = NULL;
	int r = recap_strategy_plan(in, &plan, err);
	if (r >= 0)
		r = recap_strategy_aggregate(in, &st, err);
	if (r >= 0)
		r = recap_strategy_dispatched(in, &plan, &dispatched, err);
	if (r >= 0) {
		struct after_status *after = build_execs(op, p, &plan);
		if (after) {
			after->targets = in->n_targets;
			after->waiting = plan.waiting;
		}
		if (in->cancel)
			cancel_execs(op, p);
		write_status(op, p, &st, p->n_ex > 0 || plan.n_create > 0 || p->n_dispatched > 0, dispatched,
			     after);
	} else if ((r == -EINVAL || r == -E2BIG) && p->n_ex == 0 && p->n_dispatched == 0 && err && *err) {
		/* The spec or the targets cannot be planned: say so, do not retry. */
		p->adm.reason = RECAP_CONDITION_REASON_INVALID_SPEC;
		p->adm.message = strdup(recap_error_message(*err));
		recap_error_free(*err);
		*err = NULL;
		r = p->adm.message ? 0 : -ENOMEM;
		if (r == 0)
			refuse(op, p);
	}
	recap_strategy_plan_clear(&plan);
	json_decref(dispatched);
	return r;
}

static int plan_and_act(struct recap_controller *ctl, struct ctl_op *op, struct run_pass *p,
			struct recap_error **err)
{
	json_t *names = recap_api_run_spec_targets(p->run);
	struct ctl_unseen unseen = {ctl, p->ns};
	int r = recap_ctl_resolve_targets(ctl, p->ns, p->spec, names, &p->execs, &p->targets, err);
	if (p->targets.n / RUN_BATCHES > p->strategy.batch_size)
		p->strategy.batch_size = p->targets.n / RUN_BATCHES;
	if (r >= 0)
		r = exec_views(p, err);
	if (r >= 0 && names)
		report_missing(op, p, names);
	struct recap_plan_input in = {
	    .run = p->name,
	    .strategy = &p->strategy,
	    .targets = p->targets.v,
	    .n_targets = p->targets.n,
	    .execs = p->ex,
	    .n_execs = p->n_ex,
	    .cancel = recap_api_run_spec_cancel(p->run),
	    /* Foreground deletion of the run or of its Capsule: the run stays
	     * while its executions go, and starts nothing more. */
	    .deleting = recap_json_path(p->run, RECAP_API_META_DELETION_TIMESTAMP) != NULL,
	    .dispatched = p->dispatched,
	    .n_dispatched = p->n_dispatched,
	    .unseen = recap_ctl_unseen,
	    .unseen_ctx = &unseen,
	};
	if (r >= 0)
		r = decide(op, p, &in, err);
	return r;
}

struct exec_visit {
	struct ctl_op *op;
	const char *uid; /* the run's; NULL: it is gone */
	struct recap_controller_execs *own;
	time_t now;
};

static int visit_exec(const char *key, json_t *e, void *userdata)
{
	struct exec_visit *v = userdata;
	recap_ctl_lost_exec(v->op, e, v->now);
	if (v->uid && owned_by(e, v->uid) && recap_controller_execs_add(v->own, e) < 0)
		return -ENOMEM;
	return 0;
}

/* Every execution labelled with the run's name, whoever owns it (those of
 * a deleted run too, whose node may be gone with them), is checked for a
 * lost node agent; the run's own are recorded in own. One execution is
 * parsed at a time. */
static int visit_execs(struct ctl_op *op, json_t *run, struct recap_controller_execs *own)
{
	struct exec_visit v = {
	    .op = op,
	    .uid = run ? recap_api_meta_uid(run) : NULL,
	    .own = own,
	    .now = recap_kube_client_now(op->ctl->client),
	};
	return recap_kube_store_by_index(ctl_store(op->ctl, INF_EXEC), "run", op->key, visit_exec, &v);
}

int recap_ctl_reconcile_run(struct recap_controller *ctl, struct ctl_op *op, struct recap_error **err)
{
	_cleanup_json_ json_t *run = recap_kube_store_get(ctl_store(ctl, INF_RUN), op->key);
	bool final = run && recap_run_phase_final(recap_json_str(run, RECAP_API_RUN_STATUS_PHASE));
	struct recap_controller_execs own = {0};
	/* a finished run's own executions are not needed */
	if (visit_execs(op, final ? NULL : run, &own) < 0) {
		recap_controller_execs_clear(&own);
		return recap_error_set(err, ENOMEM, "out of memory reading the run's executions");
	}
	if (final && !recap_json_path(run, RECAP_API_META_DELETION_TIMESTAMP))
		recap_ctl_run_expire(op, run, recap_kube_client_now(ctl->client));
	struct run_pass p = {
	    .run = run,
	    .ns = recap_api_meta_namespace(run),
	    .name = recap_api_meta_name(run),
	    .now = recap_kube_client_now(ctl->client),
	    .execs = own,
	};
	if (!run || final || !p.ns || !p.name) {
		pass_clear(&p);
		return 0;
	}
	int r = read_dispatched(&p) == 0 ? choose_spec(ctl, &p) : -ENOMEM;
	/* Admission is decided before the first execution, not after. */
	if (r == 0 && p.execs.n == 0 && p.n_dispatched == 0) {
		/* A spec read from the Capsule is decoded with it; a snapshot was
		 * decoded with its Capsule when it was taken. */
		int a = recap_ctl_admit(ctl, p.ns, p.capsule, p.spec, KIND_RUN, op->key, &p.adm);
		/* its image's signatures being checked: queued again when they are */
		r = a < 0 ? -ENOMEM : p.adm.reason ? 1 : p.adm.pending ? 2 : 0;
	}
	struct recap_error *e = NULL;
	if (r == 0 && recap_strategy_parse(p.spec, &p.strategy, &e) < 0) {
		p.adm.reason = RECAP_CONDITION_REASON_INVALID_SPEC;
		p.adm.message = strdup(recap_error_message(e));
		r = p.adm.message ? 1 : -ENOMEM;
	}
	recap_error_free(e);
	/* Bounded batches, large enough that the client's rate limit, not the
	 * number of passes, paces a big fan-out (more for a big run). */
	p.strategy.batch_size = RUN_BATCH;
	if (r == 2)
		r = 0;
	else if (r == 1)
		refuse(op, &p);
	else if (r == 0)
		r = plan_and_act(ctl, op, &p, err);
	else
		recap_error_set(err, ENOMEM, "out of memory");
	pass_clear(&p);
	return r < 0 ? r : 0;
}

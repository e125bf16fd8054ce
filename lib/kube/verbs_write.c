/* delete and patch: the verbs with options bodies and content types. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "kube/client_internal.h"

static json_t *delete_body(const struct recap_kube_delete_options *o)
{
	/* No kind/apiVersion: the server takes meta.k8s.io/v1 DeleteOptions for
	 * every group, built-in or custom. */
	json_t *b = json_object();
	if (!b)
		return NULL;
	json_t *pre = json_object();
	if (o->precondition_uid)
		json_object_set_new(pre, "uid", json_string(o->precondition_uid));
	if (o->precondition_resource_version)
		json_object_set_new(pre, "resourceVersion", json_string(o->precondition_resource_version));
	if (json_object_size(pre))
		json_object_set(b, "preconditions", pre);
	json_decref(pre);
	if (o->propagation_policy)
		json_object_set_new(b, "propagationPolicy", json_string(o->propagation_policy));
	if (o->grace_period_seconds >= 0)
		json_object_set_new(b, "gracePeriodSeconds", json_integer(o->grace_period_seconds));
	return b;
}

static int send_json(struct recap_kube_client *c, const char *method, const char *path, const char *ctype,
		     json_t *body, recap_kube_cb cb, void *userdata, struct recap_error **err)
{
	_cleanup_free_ char *data = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (body && !data)
		return recap_error_set(err, ENOMEM, "out of memory");
	struct recap_kube_request r = {.method = method,
				       .path = path,
				       .content_type = ctype,
				       .body = data,
				       .body_len = data ? strlen(data) : 0};
	return recap_kube_request(c, &r, cb, userdata, err);
}

int recap_kube_delete(struct recap_kube_client *c, const struct recap_kube_resource *res, const char *ns,
		      const char *name, const struct recap_kube_delete_options *opts, recap_kube_cb cb,
		      void *userdata, struct recap_error **err)
{
	struct recap_buf path = RECAP_BUF_INIT(RECAP_KUBE_PATH_MAX);
	int r = recap_kube_path(&path, res, ns, name ? name : "", NULL, err);
	_cleanup_json_ json_t *body = NULL;
	if (r >= 0 && opts && !(body = delete_body(opts)))
		r = recap_error_set(err, ENOMEM, "out of memory");
	if (r >= 0)
		r = send_json(c, "DELETE", path.data, NULL, body, cb, userdata, err);
	recap_buf_free(&path);
	return r;
}

static const char *patch_type(enum recap_kube_patch_type t)
{
	switch (t) {
	case RECAP_KUBE_PATCH_MERGE:
		return "application/merge-patch+json";
	case RECAP_KUBE_PATCH_JSON:
		return "application/json-patch+json";
	case RECAP_KUBE_PATCH_STRATEGIC:
		return "application/strategic-merge-patch+json";
	case RECAP_KUBE_PATCH_APPLY:
		return "application/apply-patch+yaml"; /* JSON is YAML */
	}
	return NULL;
}

int recap_kube_patch(struct recap_kube_client *c, const struct recap_kube_resource *res, const char *ns,
		     const char *name, const char *subresource, enum recap_kube_patch_type type,
		     json_t *patch, const struct recap_kube_patch_options *opts, recap_kube_cb cb,
		     void *userdata, struct recap_error **err)
{
	const char *ctype = patch_type(type);
	if (!ctype)
		return recap_error_set(err, EINVAL, "patch %s: unknown patch type %d", res->resource,
				       (int)type);
	if (!patch)
		return recap_error_set(err, EINVAL, "patch %s: no patch", res->resource);
	const char *manager = opts ? opts->field_manager : NULL;
	if (type == RECAP_KUBE_PATCH_APPLY && (!manager || !*manager))
		return recap_error_set(err, EINVAL, "server-side apply of %s needs a field manager",
				       res->resource);
	struct recap_buf path = RECAP_BUF_INIT(RECAP_KUBE_PATH_MAX);
	int r = recap_kube_path(&path, res, ns, name ? name : "", subresource, err);
	if (r >= 0 &&
	    (recap_kube_query_add(&path, "fieldManager", manager) < 0 ||
	     recap_kube_query_add(&path, "force",
				  type == RECAP_KUBE_PATCH_APPLY && opts->force ? "true" : NULL) < 0))
		r = recap_error_set(err, ENAMETOOLONG, "request path too long");
	if (r >= 0)
		r = send_json(c, "PATCH", path.data, ctype, patch, cb, userdata, err);
	recap_buf_free(&path);
	return r;
}

/* get, list, create, update, delete, patch on any resource. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "kube/client_internal.h"

/* Request bodies are objects the caller built; bound them like responses. */
#define BODY_MAX (16u << 20)

struct call {
	const char *method;
	const char *content_type;
	json_t *body;
	const struct recap_kube_decoder *decoder;
	void *decoder_data;
};

static int send_call(struct recap_kube_client *c, struct recap_buf *path, const struct call *call,
		     recap_kube_cb cb, void *userdata, struct recap_error **err)
{
	struct recap_buf body = RECAP_BUF_INIT(BODY_MAX);
	if (call->body && recap_json_dump(call->body, &body) < 0) {
		recap_buf_free(&body);
		return recap_error_set(err, EFBIG, "%s %s: request body larger than %u bytes", call->method,
				       path->data, BODY_MAX);
	}
	struct recap_kube_request r = {
	    .method = call->method,
	    .path = path->data,
	    .content_type = call->content_type,
	    .body = call->body ? body.data : NULL,
	    .body_len = body.len,
	    .decoder = call->decoder,
	    .decoder_data = call->decoder_data,
	};
	int ret = recap_kube_request(c, &r, cb, userdata, err);
	recap_buf_free(&body);
	return ret;
}

static int query_err(struct recap_error **err)
{
	return recap_error_set(err, ENAMETOOLONG, "request path longer than %u bytes", RECAP_KUBE_PATH_MAX);
}

int recap_kube_get(struct recap_kube_client *c, const struct recap_kube_resource *res, const char *ns,
		   const char *name, const char *subresource, recap_kube_cb cb, void *userdata,
		   struct recap_error **err)
{
	struct recap_buf path = RECAP_BUF_INIT(RECAP_KUBE_PATH_MAX);
	int r = recap_kube_path(&path, res, ns, name ? name : "", subresource, err);
	if (r >= 0)
		r = send_call(c, &path, &(struct call){.method = "GET"}, cb, userdata, err);
	recap_buf_free(&path);
	return r;
}

int recap_kube_list(struct recap_kube_client *c, const struct recap_kube_resource *res, const char *ns,
		    const struct recap_kube_list_options *opts, recap_kube_cb cb, void *userdata,
		    struct recap_error **err)
{
	struct recap_buf path = RECAP_BUF_INIT(RECAP_KUBE_PATH_MAX);
	int r = recap_kube_path(&path, res, ns, NULL, NULL, err);
	if (r >= 0 && opts) {
		char limit[32] = "";
		if (opts->limit > 0)
			snprintf(limit, sizeof(limit), "%ld", opts->limit);
		if (recap_kube_query_add(&path, "labelSelector", opts->label_selector) < 0 ||
		    recap_kube_query_add(&path, "fieldSelector", opts->field_selector) < 0 ||
		    recap_kube_query_add(&path, "limit", limit) < 0 ||
		    recap_kube_query_add(&path, "continue", opts->continue_token) < 0 ||
		    recap_kube_query_add(&path, "resourceVersion", opts->resource_version) < 0)
			r = query_err(err);
	}
	if (r >= 0)
		r = send_call(c, &path,
			      &(struct call){.method = "GET",
					     .decoder = opts ? opts->decoder : NULL,
					     .decoder_data = opts ? opts->decoder_data : NULL},
			      cb, userdata, err);
	recap_buf_free(&path);
	return r;
}

int recap_kube_create(struct recap_kube_client *c, const struct recap_kube_resource *res, const char *ns,
		      json_t *obj, recap_kube_cb cb, void *userdata, struct recap_error **err)
{
	if (!json_is_object(obj))
		return recap_error_set(err, EINVAL, "create %s: the object is not a JSON object",
				       res->resource);
	struct recap_buf path = RECAP_BUF_INIT(RECAP_KUBE_PATH_MAX);
	int r = recap_kube_path(&path, res, ns, NULL, NULL, err);
	if (r >= 0)
		r = send_call(c, &path, &(struct call){.method = "POST", .body = obj}, cb, userdata, err);
	recap_buf_free(&path);
	return r;
}

int recap_kube_update(struct recap_kube_client *c, const struct recap_kube_resource *res, const char *ns,
		      json_t *obj, const char *subresource, recap_kube_cb cb, void *userdata,
		      struct recap_error **err)
{
	const char *name = recap_json_str(obj, "metadata.name");
	if (!name)
		return recap_error_set(err, EINVAL, "update %s: the object has no metadata.name",
				       res->resource);
	struct recap_buf path = RECAP_BUF_INIT(RECAP_KUBE_PATH_MAX);
	int r = recap_kube_path(&path, res, ns, name, subresource, err);
	if (r >= 0)
		r = send_call(c, &path, &(struct call){.method = "PUT", .body = obj}, cb, userdata, err);
	recap_buf_free(&path);
	return r;
}

/* Blocking helper: run the loop until one call is done (CLIs, tests). */
#include <errno.h>

#include "kube/client_internal.h"

void recap_kube_sync_cb(const struct recap_kube_response *resp, void *userdata)
{
	struct recap_kube_sync *s = userdata;
	s->done = true;
	s->code = resp->code;
	s->http_status = resp->http_status;
	s->object = json_incref(resp->object);
	s->err = NULL;
	if (resp->err) {
		recap_error_set(&s->err, resp->err->code, "%s", recap_error_message(resp->err));
		if (!s->err)
			s->code = RECAP_KUBE_ERR_CANCELLED;
	}
}

int recap_kube_sync_wait(struct recap_kube_client *c, struct recap_kube_sync *s, json_t **ret,
			 struct recap_error **err)
{
	uv_loop_t *loop = c->loop;
	while (!s->done)
		if (uv_run(loop, UV_RUN_ONCE) == 0 && !s->done)
			return recap_error_set(err, EDEADLK,
					       "kube call: the loop ran out of work before the reply");
	int r = 0;
	if (s->code != RECAP_KUBE_OK) {
		r = recap_kube_code_errno(s->code);
		if (err && !*err && s->err) {
			*err = s->err;
			s->err = NULL;
		} else if (!s->err) {
			r = recap_error_set(err, -r, "kube call failed: %s", recap_kube_code_name(s->code));
		}
	} else if (ret) {
		*ret = s->object;
		s->object = NULL;
	}
	json_decref(s->object);
	recap_error_free(s->err);
	*s = (struct recap_kube_sync){.done = true, .code = s->code, .http_status = s->http_status};
	return r;
}

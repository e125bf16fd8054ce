#include <stdbool.h>
#include <errno.h>
#include <stdlib.h>

#include "api/names.h"
#include "api/types.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "controller/execs.h"

int64_t recap_controller_created_of(json_t *obj)
{
	time_t t = 0;
	const char *s = recap_api_meta_creation_timestamp(obj);
	if (!s || recap_time_parse(s, &t) < 0)
		return 0;
	return (int64_t)t;
}

/* A copy in the pool; false when s was set and could not be copied. */
static bool copy(struct recap_strpool *p, const char **dst, const char *s)
{
	*dst = recap_strpool_dup(p, s);
	return !s || *dst;
}

int recap_controller_execs_add(struct recap_controller_execs *x, json_t *e)
{
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 16;
		struct recap_controller_exec *v = realloc(x->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		x->v = v;
		x->cap = cap;
	}
	struct recap_strpool *p = &x->strings;
	struct recap_controller_exec r = {
	    .view =
		{
		    /* -1: no exit code (the getter's 0 would be one) */
		    .exit_code = (int)recap_json_int(e, RECAP_API_EXEC_STATUS_EXIT_CODE, -1),
		    .deleting = recap_json_path(e, RECAP_API_META_DELETION_TIMESTAMP) != NULL,
		},
	    .created = recap_controller_created_of(e),
	};
	/* an unknown phase plans as Pending: not final, so it is waited for */
	recap_strategy_exec_phase_parse(recap_json_str(e, RECAP_API_EXEC_STATUS_PHASE), &r.view.phase);
	bool ok = copy(p, &r.view.name, recap_api_meta_name(e)) &&
		  copy(p, &r.view.pod, recap_api_exec_spec_target_pod(e)) &&
		  copy(p, &r.view.container, recap_api_exec_spec_target_container(e)) &&
		  copy(p, &r.view.node, recap_api_exec_spec_node(e)) &&
		  copy(p, &r.view.reason, recap_api_exec_status_reason(e)) &&
		  copy(p, &r.view.message, recap_api_exec_status_message(e)) &&
		  copy(p, &r.ns, recap_api_meta_namespace(e)) && copy(p, &r.uid, recap_api_meta_uid(e)) &&
		  copy(p, &r.pod_uid, recap_api_exec_spec_target_pod_uid(e)) &&
		  copy(p, &r.container_id, recap_api_exec_spec_target_container_id(e)) &&
		  copy(p, &r.pod_ip, recap_api_exec_spec_target_pod_ip(e)) &&
		  copy(p, &r.role, recap_api_exec_spec_role(e)) &&
		  copy(p, &r.image_digest, recap_api_exec_status_image_digest(e));
	if (!ok)
		return -ENOMEM;
	x->v[x->n++] = r;
	return 0;
}

int recap_controller_execs_from_json(struct recap_controller_execs *x, json_t *execs)
{
	size_t i;
	json_t *e;
	json_array_foreach (execs, i, e) {
		int r = recap_controller_execs_add(x, e);
		if (r < 0)
			return r;
	}
	return 0;
}

void recap_controller_execs_clear(struct recap_controller_execs *x)
{
	free(x->v);
	recap_strpool_clear(&x->strings);
	*x = (struct recap_controller_execs){0};
}

bool recap_controller_exec_final(const struct recap_controller_exec *e)
{
	return e->view.phase == RECAP_EXEC_SUCCEEDED || e->view.phase == RECAP_EXEC_FAILED;
}

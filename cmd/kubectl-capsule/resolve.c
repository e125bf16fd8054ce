/* Workload targets to their pods: see resolve.h. */
#include "resolve.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "objects.h"

int plugin_resolve_workload(struct session *s, const struct plugin_target *t, json_t **ret,
			    struct recap_error **err)
{
	const char *kind = plugin_kind_name(t->kind);
	char what[300];
	snprintf(what, sizeof(what), "%s/%s", kind, t->name);
	_cleanup_json_ json_t *workload = NULL, *list = NULL;
	int r = session_get(s, plugin_kind_resource(t->kind), s->ns, kind, t->name, &workload, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *selector = NULL;
	r = plugin_workload_selector(workload, what, &selector, err);
	if (r < 0)
		return r;
	r = session_list(s, &plugin_res_pods, s->ns, selector, NULL, &list, err);
	if (r < 0)
		return recap_error_wrap(err, r, "listing the pods of %s (selector %s)", what, selector);
	json_t *pods = plugin_live_pods(list);
	if (!pods)
		return -ENOMEM;
	size_t all = json_array_size(json_object_get(list, "items"));
	if (json_array_size(pods) == 0) {
		json_decref(pods);
		if (all)
			return recap_error_set(err, ENOENT,
					       "%s has no pods to target in namespace \"%s\": its %zu "
					       "pods finished or are being deleted (selector %s)",
					       what, s->ns, all, selector);
		return recap_error_set(err, ENOENT, "%s has no pods in namespace \"%s\" (selector %s)", what,
				       s->ns, selector);
	}
	*ret = pods;
	return 0;
}

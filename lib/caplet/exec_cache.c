/* What the agent's informer keeps of each execution of its node. */
#include <stdbool.h>
#include <string.h>

#include "api/names.h"
#include "api/types.h"
#include "base/json.h"
#include "caplet/agent.h"

/* What the agent keeps of an execution of its node: everything but
 * metadata.managedFields (never read, and the most of a cached object's
 * memory) while it may still run; once it ended (Succeeded or Failed, by
 * this agent or the controller), only what tells it ended and whether its
 * finalizer is to be released: an agent keeps every execution of its node
 * until the API deletes it (a run's TTL, 7 days by default). */
static const char *const exec_paths[] = {
    "apiVersion",
    "kind",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "metadata.resourceVersion",
    "metadata.generation",
    "metadata.creationTimestamp",
    "metadata.deletionTimestamp",
    "metadata.deletionGracePeriodSeconds",
    "metadata.labels",
    "metadata.annotations",
    "metadata.ownerReferences",
    "metadata.finalizers",
    "spec",
    "status",
};
static const char *const ended_exec_paths[] = {
    "apiVersion",
    "kind",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "metadata.resourceVersion",
    "metadata.deletionTimestamp",
    "metadata.finalizers",
    RECAP_API_EXEC_SPEC_NODE,
    RECAP_API_EXEC_STATUS_PHASE,
    RECAP_API_EXEC_STATUS_REASON,
    RECAP_API_EXEC_STATUS_ESCAPED,
};

json_t *caplet_project_exec(json_t *obj, void *data)
{
	struct recap_caplet *c = data;
	const char *phase = recap_json_str(obj, RECAP_API_EXEC_STATUS_PHASE);
	bool ended =
	    phase && (strcmp(phase, RECAP_PHASE_SUCCEEDED) == 0 || strcmp(phase, RECAP_PHASE_FAILED) == 0);
	return recap_kube_projection_apply(ended ? c->ended_exec_fields : c->exec_fields, obj);
}

void caplet_exec_keep(struct caplet_exec *x, json_t *obj)
{
	json_t *kept = caplet_project_exec(obj, x->agent);
	json_decref(x->obj);
	x->obj = kept ? kept : json_incref(obj); /* out of memory: the whole object */
}

#define N_PATHS(a) (sizeof(a) / sizeof(a[0]))

int caplet_exec_cache_new(struct recap_caplet *c, struct recap_error **err)
{
	int r = recap_kube_projection_new(exec_paths, N_PATHS(exec_paths), &c->exec_fields, err);
	if (r >= 0)
		r = recap_kube_projection_new(ended_exec_paths, N_PATHS(ended_exec_paths),
					      &c->ended_exec_fields, err);
	return r;
}

void caplet_exec_cache_free(struct recap_caplet *c)
{
	recap_kube_projection_free(c->exec_fields);
	recap_kube_projection_free(c->ended_exec_fields);
	c->exec_fields = c->ended_exec_fields = NULL;
}

/* Resource names the tool knows without API discovery. */
#include "tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/names.h"
#include "base/cleanup.h"

static const struct {
	const char *name;
	struct recap_kube_resource res;
} known[] = {
    {"configmaps", {"", "v1", "configmaps", true}},
    {"secrets", {"", "v1", "secrets", true}},
    {"pods", {"", "v1", "pods", true}},
    {"services", {"", "v1", "services", true}},
    {"serviceaccounts", {"", "v1", "serviceaccounts", true}},
    {"events", {"events.k8s.io", "v1", "events", true}},
    {"namespaces", {"", "v1", "namespaces", false}},
    {"nodes", {"", "v1", "nodes", false}},
    {"leases", {"coordination.k8s.io", "v1", "leases", true}},
    {"customresourcedefinitions", {"apiextensions.k8s.io", "v1", "customresourcedefinitions", false}},
    {"capsules", {RECAP_API_GROUP, RECAP_API_VERSION, RECAP_RESOURCE_CAPSULE, true}},
    {"capsulepolicies", {RECAP_API_GROUP, RECAP_API_VERSION, RECAP_RESOURCE_CAPSULE_POLICY, false}},
    {"capsuleruns", {RECAP_API_GROUP, RECAP_API_VERSION, RECAP_RESOURCE_CAPSULE_RUN, true}},
    {"capsuleexecutions", {RECAP_API_GROUP, RECAP_API_VERSION, RECAP_RESOURCE_CAPSULE_EXECUTION, true}},
};

/* "configmaps", "v1/pods" or "group/version/resource" (namespaced unless
 * cluster_scoped). The strings point into `spec`, which must outlive res. */
int tool_parse_resource(char *spec, bool cluster_scoped, struct recap_kube_resource *res)
{
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (strcmp(spec, known[i].name) == 0) {
			*res = known[i].res;
			return 0;
		}
	char *a = strchr(spec, '/');
	char *b = a ? strchr(a + 1, '/') : NULL;
	if (!a || !a[1] || (b && (!b[1] || strchr(b + 1, '/'))))
		return -1;
	*a = '\0';
	if (b) {
		*b = '\0';
		*res = (struct recap_kube_resource){spec, a + 1, b + 1, !cluster_scoped};
	} else {
		*res = (struct recap_kube_resource){"", spec, a + 1, !cluster_scoped};
	}
	return 0;
}

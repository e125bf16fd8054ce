/* Resolving a run's targets from pods, as a pure function.
 *
 * A pod is a target when it is Running, not being deleted, scheduled on a
 * node, and the chosen container has a containerID in
 * status.containerStatuses. The container is the role's, else
 * spec.targets.container, else the pod's first container. With roles, each
 * role's selector picks its pods (a pod already taken by an earlier role
 * stays there). Explicit pod names replace spec.targets.selector.
 *
 * Executions that exist already keep their target even when the pod is gone
 * or changed, so counts and the at-most-once rule do not depend on what the
 * pods do during the run.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "api/types.h"
#include "base/error.h"
#include "sched/strategy.h"

struct recap_kube_strmap;

/* What targeting needs of a Pod, and all the controller's pod informer keeps
 * of one (its projection, kubecache/projection.h): the fields read here, the
 * labels that selectors match, the times. */
#define RECAP_CONTROLLER_POD_FIELDS_LEN 13
#define RECAP_CONTROLLER_POD_FIELD_LIST                                                                      \
	RECAP_API_META_NAME, RECAP_API_META_NAMESPACE, RECAP_API_META_UID, RECAP_API_META_LABELS,            \
	    RECAP_API_META_RESOURCE_VERSION, RECAP_API_META_CREATION_TIMESTAMP,                              \
	    RECAP_API_META_DELETION_TIMESTAMP, "spec.nodeName", "spec.containers[].name", "status.phase",    \
	    "status.podIP", "status.containerStatuses[].name", "status.containerStatuses[].containerID"
extern const char *const recap_controller_pod_fields[RECAP_CONTROLLER_POD_FIELDS_LEN];

struct recap_controller_targets {
	struct recap_target *v; /* strings borrowed from the pods and executions */
	size_t n, cap;
	struct recap_kube_strmap *seen; /* pods and pod/container pairs taken, while resolving */
};

/* spec: a Capsule spec; names: explicit pod names (JSON array) or NULL;
 * pods: the namespace's candidate pods (JSON array, projected pods);
 * execs: the run's CapsuleExecutions (JSON array) or NULL. */
int recap_controller_targets_resolve(json_t *spec, json_t *names, json_t *pods, json_t *execs,
				     struct recap_controller_targets *ret, struct recap_error **err);
void recap_controller_targets_clear(struct recap_controller_targets *t);

/* The container of pod a target uses (NULL when the pod has none by that
 * name or no containers); container may be NULL for the default. */
const char *recap_controller_pod_container(json_t *pod, const char *container);
/* The container's containerID in status.containerStatuses, or NULL. */
const char *recap_controller_container_id(json_t *pod, const char *container);

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
#include "base/strpool.h"
#include "controller/execs.h"
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
	/* strings copied into `strings`, except role names (borrowed from the
	 * spec) */
	struct recap_target *v;
	size_t n, cap;
	struct recap_kube_strmap *seen; /* pods and pod/container pairs taken, until add_execs */
	struct recap_strpool strings;
};

/* spec: a Capsule spec; names: explicit pod names (JSON array) or NULL;
 * pods: the namespace's candidate pods (JSON array, projected pods);
 * execs: the run's executions or NULL. */
int recap_controller_targets_resolve(json_t *spec, json_t *names, json_t *pods,
				     const struct recap_controller_execs *execs,
				     struct recap_controller_targets *ret, struct recap_error **err);
void recap_controller_targets_clear(struct recap_controller_targets *t);

/* The same resolution one pod at a time, for a caller that reads pods from
 * a cache and drops each after adding it: init, add_pod for each candidate
 * (with roles, every role's pods in the order of the roles, each with its
 * role's container and name), then add_execs. Nothing added keeps a
 * reference to a pod or an execution. */
int recap_controller_targets_init(struct recap_controller_targets *t, struct recap_error **err);
/* Adds pod's container (NULL: the default) when the pod is a usable target
 * not taken yet. */
int recap_controller_targets_add_pod(struct recap_controller_targets *t, json_t *pod, const char *container,
				     const char *role, struct recap_error **err);
/* Executions keep their target: adds (pod, container) of each one not
 * resolved from the pods (execs NULL: none). The last step: no pod can be
 * added after it. The targets borrow the executions' strings: execs must
 * outlive t. */
int recap_controller_targets_add_execs(struct recap_controller_targets *t,
				       const struct recap_controller_execs *execs, struct recap_error **err);
/* The container a role of a Capsule spec targets: the role's, else the
 * spec's targets.container (role NULL: the latter), NULL for the pod's first. */
const char *recap_controller_role_container(json_t *spec, json_t *role);

/* The container of pod a target uses (NULL when the pod has none by that
 * name or no containers); container may be NULL for the default. */
const char *recap_controller_pod_container(json_t *pod, const char *container);
/* The container's containerID in status.containerStatuses, or NULL. */
const char *recap_controller_container_id(json_t *pod, const char *container);

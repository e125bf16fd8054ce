/* Targets as kubectl names them (pure: unit-tested): a bare pod name, or
 * KIND/NAME with KIND one of kubectl's names for a pod or a workload
 * (deploy, deployment, deployments, deployment.apps, deployments.v1.apps,
 * sts, ds, rs, job, pod, ...; any case). A workload stands for its pods:
 * the pods its spec.selector matches in its namespace, as kubectl logs and
 * kubectl exec resolve deploy/NAME, less those that finished or are being
 * deleted. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "base/error.h"
#include "kube/resource.h"

enum plugin_kind {
	PLUGIN_KIND_POD,
	PLUGIN_KIND_DEPLOYMENT,
	PLUGIN_KIND_STATEFULSET,
	PLUGIN_KIND_DAEMONSET,
	PLUGIN_KIND_REPLICASET,
	PLUGIN_KIND_JOB,
	PLUGIN_KIND_COUNT,
};

struct plugin_target {
	enum plugin_kind kind;
	const char *name; /* borrowed from the argument */
};

/* The kind's name in messages ("deployment") and its API resource. */
const char *plugin_kind_name(enum plugin_kind kind);
const struct recap_kube_resource *plugin_kind_resource(enum plugin_kind kind);

/* The kind n bytes of s name ("deploy", "jobs.batch"), or PLUGIN_KIND_COUNT. */
enum plugin_kind plugin_kind_lookup(const char *s, size_t n);
/* kubectl's short name of a kind ("deploy", "sts"; "job" and "pod" have
 * none of their own: their singular). */
const char *plugin_kind_short(enum plugin_kind kind);

/* "web-1", "pod/web-1", "deploy/web", "deployments.apps/web", ... What
 * names no known kind is refused naming it and the kinds there are; a name
 * must be an object's name (lower case letters, digits, '-' and '.'). */
int plugin_parse_target(const char *arg, struct plugin_target *ret, struct recap_error **err);

/* The string form of a workload's spec.selector, for a pod list's
 * labelSelector. what: "deployment/web" in messages. Caller frees. A
 * workload without a selector, or one that selects everything or nothing,
 * is refused. */
int plugin_workload_selector(json_t *workload, const char *what, char **ret, struct recap_error **err);

/* Of a pod List's items, those a capsule can target (not finished, not
 * being deleted), sorted by name: a new array of borrowed pods. */
json_t *plugin_live_pods(json_t *list);

/* The pod kubectl exec and kubectl attach pick for a workload, of
 * plugin_live_pods' array: scheduled before unscheduled, running before
 * pending, ready before not ready, ready the longest, fewer restarts, the
 * oldest; then by name. Borrowed; NULL for an empty array. */
json_t *plugin_pick_pod(json_t *pods);

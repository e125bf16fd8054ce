/* The objects kubectl-capsule creates (pure: unit-tested).
 *
 * The API has no inline capsule in a CapsuleRun, so an ad hoc run is a
 * generated Capsule plus a CapsuleRun of the same name. The run is created
 * first and the Capsule is owned by it (ownerReferences), so the garbage
 * collector deletes the Capsule with the run and no Capsule ever exists
 * without an owner. With --pod the run names its targets (spec.targets) and
 * the Capsule's own selector matches no pod (label recap.dev/adhoc-run,
 * which no pod carries), so firing that Capsule again reaches nothing else.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "args.h"
#include "base/error.h"
#include "kube/resource.h"

#define PLUGIN_MANAGED_BY "kubectl-capsule"
#define PLUGIN_NAME_MAX 63 /* a run name is a label value */
#define PLUGIN_SUFFIX_LEN 5
#define PLUGIN_ATTACH_SHELL "sh" /* an interactive capsule's command when none is given */

extern const struct recap_kube_resource plugin_res_capsules;
extern const struct recap_kube_resource plugin_res_runs;
extern const struct recap_kube_resource plugin_res_executions;
extern const struct recap_kube_resource plugin_res_pods;

/* "<base>-<suffix>": base is the image's last path segment without tag or
 * digest (or the Capsule's name), lower-cased, other characters turned into
 * '-', cut so that the whole fits PLUGIN_NAME_MAX. `suffix` is
 * PLUGIN_SUFFIX_LEN characters of [a-z0-9]. Caller frees. */
char *plugin_run_name(const char *base_source, const char *suffix);
/* A random suffix for plugin_run_name (PLUGIN_SUFFIX_LEN + 1 bytes). */
void plugin_random_suffix(char out[PLUGIN_SUFFIX_LEN + 1]);

/* kubectl's -l string form to a metav1.LabelSelector object. */
int plugin_selector_json(const char *selector, json_t **ret, struct recap_error **err);

/* The CapsuleRun: capsuleRef, optional explicit targets (pods). */
json_t *plugin_run_object(const char *name, const char *capsule, json_t *pods);
/* The generated Capsule of an ad hoc run, owned by the run (run_uid).
 * a->interactive (attach): spec.interactive, spec.session (attach within
 * PLUGIN_ATTACH_WAIT_S, idle a->idle_timeout_s), command sh by default. */
int plugin_adhoc_capsule(const struct run_args *a, const char *name, const char *run_uid, json_t **ret,
			 struct recap_error **err);

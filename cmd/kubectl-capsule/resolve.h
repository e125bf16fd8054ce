/* Workload targets to their pods, as kubectl resolves deploy/NAME: the
 * workload's spec.selector, then the pods it matches in the namespace
 * (targets.h). */
#pragma once

#include <jansson.h>

#include "session.h"
#include "targets.h"

/* *ret: an array of the workload's live pods (plugin_live_pods), never
 * empty: a workload that is missing or has none is an error naming it. */
int plugin_resolve_workload(struct session *s, const struct plugin_target *t, json_t **ret,
			    struct recap_error **err);

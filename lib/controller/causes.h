/* The causes of a Capsule's triggers, as pure functions: which of its
 * targets has a pod condition that has held long enough, is new, or has a
 * matching Event recorded (docs/triggers.md).
 *
 * The controller's pod informer keeps each pod's conditions compacted to
 * "Type=Status@<lastTransitionTime in seconds>" strings under
 * status.conditionSince (recap_controller_pod_project): 24 to 44 bytes a
 * condition instead of whole condition objects. Its Event informer keeps
 * the Events about pods, projected to recap_controller_event_fields.
 * An Event recap-apiserver's alerts receiver recorded (reported by
 * RECAP_ALERTS_COMPONENT) is an alert: alert triggers match it, podEvent
 * triggers do not.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "api/types.h"
#include "base/error.h"
#include "controller/targets.h"
#include "sched/names.h"

/* The pod projection's fields (recap_controller_pod_fields) and the
 * conditions' type, status and lastTransitionTime, compacted. */
#define RECAP_CONTROLLER_POD_PROJECTION_LEN (RECAP_CONTROLLER_POD_FIELDS_LEN + 3)
extern const char *const recap_controller_pod_projection[RECAP_CONTROLLER_POD_PROJECTION_LEN];
/* A recap_kube_project_fn: projection (a struct recap_kube_projection of
 * recap_controller_pod_projection), then status.conditions compacted into
 * status.conditionSince. */
json_t *recap_controller_pod_project(json_t *obj, void *projection);

#define RECAP_CONTROLLER_EVENT_FIELDS_LEN 16
extern const char *const recap_controller_event_fields[RECAP_CONTROLLER_EVENT_FIELDS_LEN];
/* What the Event informer watches: Events about pods only. */
#define RECAP_CONTROLLER_EVENT_FIELD_SELECTOR "involvedObject.kind=Pod"

/* A cause's message is cut (at a character boundary) to this many bytes. */
#define RECAP_CAUSE_MESSAGE_MAX 1024

struct recap_controller_cause {
	enum recap_api_trigger trigger; /* PodCondition, PodCreated, PodEvent or Alert */
	const char *pod, *pod_uid;	/* borrowed from the target */
	char *reason, *message, *event; /* event: the Event's name, or NULL */
	int64_t time;			/* when it happened */
	char run_name[RECAP_NAME_MAX + 1];
};

struct recap_controller_causes {
	struct recap_controller_cause *v;
	size_t n, cap;
	/* When a condition that holds now will have held for its forSeconds
	 * (the pass is queued again then), or INT64_MAX. */
	int64_t next;
};

/* The causes of capsule's spec.triggers among its targets t (resolved from
 * pods, the candidate pods as a JSON array) at time now; events: the
 * namespace's projected Events (JSON array) or NULL. A pod is new when it
 * was created at or after the Capsule. Fills *ret (clear it after). */
int recap_controller_causes_find(json_t *capsule, const struct recap_controller_targets *t, json_t *pods,
				 json_t *events, int64_t now, struct recap_controller_causes *ret,
				 struct recap_error **err);
/* The same for one target whose pod (projected) is pod, added to *ret
 * (which starts as {.next = INT64_MAX}): for a caller that reads each
 * target's pod from a cache and drops it after. Causes borrow the target's
 * strings, not the pod's. */
int recap_controller_causes_add_target(json_t *capsule, const struct recap_target *tg, json_t *pod,
				       json_t *events, int64_t now, struct recap_controller_causes *ret,
				       struct recap_error **err);
void recap_controller_causes_clear(struct recap_controller_causes *c);

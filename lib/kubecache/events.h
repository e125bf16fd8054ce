/* Events (events.k8s.io/v1) with aggregation and a per-object limit.
 *
 * An event identical to one recorded within the series window (same
 * regarding object, type, reason, action and note) does not create a new
 * Event: it raises that Event's series.count, written back at most once per
 * flush interval. New Events for one regarding object pass a token bucket
 * (burst 25, then one per 5 minutes by default); beyond it they are dropped
 * and counted, so a hot loop cannot flood the API server. Memory is
 * bounded by max_tracked remembered events.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "kube/client.h"

#define RECAP_KUBE_EVENT_NOTE_MAX 1024
#define RECAP_KUBE_EVENT_FIELD_MAX 128

struct recap_kube_events;

struct recap_kube_events_options {
	const char *controller;	   /* reportingController, e.g. "recap.dev/controller" (required) */
	const char *instance;	   /* reportingInstance, e.g. the pod name (required) */
	uint64_t series_window_ms; /* default 6 min */
	uint64_t flush_ms;	   /* default 1 s */
	double object_qps;	   /* default 1/300 */
	unsigned object_burst;	   /* default 25 */
	size_t max_tracked;	   /* default 4096 */
};

/* What the event is about (uid and api_version may be NULL). */
struct recap_kube_event_ref {
	const char *api_version;
	const char *kind;
	const char *ns; /* NULL for cluster-scoped objects: the Event goes to "default" */
	const char *name;
	const char *uid;
};

int recap_kube_events_new(struct recap_kube_client *c, const struct recap_kube_events_options *opts,
			  struct recap_kube_events **ret, struct recap_error **err);

/* Records an event. type is "Normal" or "Warning"; reason and action are
 * CamelCase words of at most 128 bytes; the note at most 1024 bytes.
 * Returns 0 when a new Event is on its way, 1 when it was added to a
 * series, -EAGAIN when the object's limit dropped it, -EINVAL (with *err)
 * for bad input. Failures of the API calls themselves are only counted:
 * events are best effort. */
int recap_kube_events_emit(struct recap_kube_events *ev, const struct recap_kube_event_ref *regarding,
			   const char *type, const char *reason, const char *action, struct recap_error **err,
			   const char *note_fmt, ...) __attribute__((format(printf, 7, 8)));

struct recap_kube_events_stats {
	unsigned long created;	  /* Events written */
	unsigned long aggregated; /* occurrences folded into a series */
	unsigned long dropped;	  /* refused by the per-object limit or the memory bound */
	unsigned long failed;	  /* API calls that failed */
};
void recap_kube_events_stats(const struct recap_kube_events *ev, struct recap_kube_events_stats *ret);

typedef void (*recap_kube_events_done_fn)(struct recap_kube_events *ev, void *userdata);
/* Writes pending series counts now; done runs from the loop once nothing
 * is pending or in flight. */
void recap_kube_events_flush(struct recap_kube_events *ev, recap_kube_events_done_fn done, void *userdata);
/* Memory is released from the loop once calls in flight end. Accepts NULL. */
void recap_kube_events_free(struct recap_kube_events *ev);

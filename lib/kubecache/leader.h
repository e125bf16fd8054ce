/* Leader election on a coordination.k8s.io/v1 Lease, as client-go does it.
 *
 * Every retry period (with up to 20% jitter) a candidate reads the Lease.
 * It takes the Lease when it does not exist, has no holder, or has not
 * changed for a whole lease duration as timed by this process's own
 * monotonic clock (so clocks of different machines never matter). Writes
 * carry the resourceVersion read, so of two candidates racing only one
 * wins (the other gets 409 Conflict). The leader renews every retry
 * period; when it has not managed to renew for the renew deadline it stops
 * leading. A clean stop with release empties holderIdentity and sets
 * leaseDurationSeconds to 1, so another candidate takes over at once.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "kube/client.h"

#define RECAP_KUBE_LEASE_DURATION_MS 15000
#define RECAP_KUBE_RENEW_DEADLINE_MS 10000
#define RECAP_KUBE_RETRY_PERIOD_MS 2000

struct recap_kube_leader;

struct recap_kube_leader_config {
	const char *ns;
	const char *name;
	const char *identity;	    /* unique per candidate, e.g. pod name + random */
	uint64_t lease_duration_ms; /* 0: the defaults above */
	uint64_t renew_deadline_ms;
	uint64_t retry_period_ms;
	void (*started_leading)(struct recap_kube_leader *le, void *userdata);
	void (*stopped_leading)(struct recap_kube_leader *le, void *userdata);
	/* The holder changed (identity NULL: nobody holds it). */
	void (*new_leader)(struct recap_kube_leader *le, const char *identity, void *userdata);
	/* A round failed (for logs); the election goes on. */
	void (*error)(struct recap_kube_leader *le, const struct recap_error *err, void *userdata);
	void *userdata;
};

/* Checks names and timings: lease duration > renew deadline > retry
 * period * 1.2 > 0, each at most an hour. */
int recap_kube_leader_validate(const struct recap_kube_leader_config *cfg, struct recap_error **err);

int recap_kube_leader_new(struct recap_kube_client *c, const struct recap_kube_leader_config *cfg,
			  struct recap_kube_leader **ret, struct recap_error **err);
int recap_kube_leader_start(struct recap_kube_leader *le, struct recap_error **err);
/* Leading, and the last renewal is within the renew deadline on this
 * process's monotonic clock: false as soon as a leader that could not renew
 * (a hung request, a process stopped and continued) must step down, even
 * before the step-down has run. */
bool recap_kube_leader_is_leader(const struct recap_kube_leader *le);
/* The holder last observed, or NULL. */
const char *recap_kube_leader_holder(const struct recap_kube_leader *le);

typedef void (*recap_kube_leader_done_fn)(struct recap_kube_leader *le, void *userdata);
/* Stops campaigning. With release and while leading, the Lease is given up
 * first; done runs (from the loop) when that has been answered. Without
 * release the Lease simply expires. stopped_leading is not called. */
void recap_kube_leader_stop(struct recap_kube_leader *le, bool release, recap_kube_leader_done_fn done);
/* After stop's done (or without start). Memory is released from the loop.
 * Accepts NULL. */
void recap_kube_leader_free(struct recap_kube_leader *le);

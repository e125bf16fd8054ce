/* Signature checks at admission: whether an image carries the cosign
 * signatures the CapsulePolicies selecting its namespace require
 * (recap_policy_signature_key_sets), asked of its registry off the loop
 * (libuv's thread pool, lib/oci) and remembered for a while. The node agent
 * checks again before every execution, against the digest it runs; this
 * check refuses early what it can, and lets through what it cannot ask. */
#pragma once

#include <jansson.h>

#include "controller/ctl.h"

enum ctl_sig_verdict {
	CTL_SIG_PENDING,   /* being asked; the waiter is queued again when known */
	CTL_SIG_VERIFIED,  /* every set is met */
	CTL_SIG_REFUSED,   /* a set is not met: not signed, another key or digest, malformed */
	CTL_SIG_UNCHECKED, /* the registry could not be asked (unreachable, credentials) */
};

/* Verdicts are kept this long, then asked again. */
#define CTL_SIG_KEEP_MS (5 * 60 * 1000)
#define CTL_SIG_KEEP_UNCHECKED_MS (60 * 1000)
/* One check's deadline (every request of every set). */
#define CTL_SIG_DEADLINE_S 20
/* Images x key sets remembered at once. */
#define CTL_SIG_ENTRIES_MAX 1024

/* The verdict for image under sets (non-empty), *message (owned) saying
 * why for REFUSED and UNCHECKED. PENDING: a check runs, and (kind, key)
 * is added to its queue again when it ends. < 0 only when out of memory. */
int recap_ctl_sigcheck(struct recap_controller *ctl, const char *image, json_t *sets, enum ctl_kind kind,
		       const char *key, enum ctl_sig_verdict *ret, char **message);
/* At the controller's end: checks still running finish on their own and
 * free what they hold. */
void recap_ctl_sigcheck_free(struct recap_controller *ctl);

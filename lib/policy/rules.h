/* The individual rules of a CapsulePolicy. Internal to lib/policy. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "api/types.h"
#include "base/buf.h"

/* One policy's effective rules: its own fields over the baseline. */
struct policy_rules {
	json_t *images_allowed; /* NULL: any image */
	bool require_digest;
	json_t *digests;      /* NULL or empty: any digest */
	json_t *caps_allowed; /* NULL: none (baseline) */
	json_t *join_allowed; /* NULL: all types */
	enum recap_api_target_filesystem_max fs_max;
	bool allow_unconfined;
	json_t *localhost_profiles; /* NULL: no Localhost profile (baseline) */
	/* spec.limits, each NULL when the policy sets none */
	json_t *max_timeout_seconds, *max_memory, *max_cpu, *max_tail_bytes, *max_retention_seconds;
	json_t *max_session_idle_seconds;
	bool interactive_allowed;
};

/* Fills r from a CapsulePolicy (NULL: the baseline). */
int recap_policy_rules_from_policy(json_t *policy, struct policy_rules *r, struct recap_buf *why,
				   const char **rule);

/* Checks spec against r. Returns 1 and fills `why` (the sentence after the
 * policy's name) and *rule on a violation, 0 when admitted, -EINVAL with a
 * message in `why` when the spec cannot be read, -ENOTRECOVERABLE when the
 * policy cannot be read. */
int recap_policy_rules_check(const struct policy_rules *r, json_t *spec, struct recap_buf *why,
			     const char **rule);

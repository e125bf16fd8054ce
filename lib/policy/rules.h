/* The individual rules of a CapsulePolicy. Internal to lib/policy. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "base/buf.h"

/* One policy's effective rules: its own fields over the baseline. */
struct policy_rules {
	json_t *images_allowed; /* NULL: any image */
	bool require_digest;
	json_t *digests;      /* NULL or empty: any digest */
	json_t *caps_allowed; /* NULL: none (baseline) */
	json_t *join_allowed; /* NULL: all types */
	int fs_max;	      /* 0 None, 1 ReadOnly, 2 ReadWrite */
	bool allow_unconfined;
	json_t *localhost_profiles; /* NULL: no Localhost profile (baseline) */
	json_t *limits;		    /* NULL: none */
};

/* Fills r from a CapsulePolicy spec (NULL spec: the baseline). */
int recap_policy_rules_from_spec(json_t *spec, struct policy_rules *r, struct recap_buf *why,
				 const char **rule);

/* Checks spec against r. Returns 1 and fills `why` (the sentence after the
 * policy's name) and *rule on a violation, 0 when admitted, -EINVAL with a
 * message in `why` when the spec cannot be read, -ENOTRECOVERABLE when the
 * policy cannot be read. */
int recap_policy_rules_check(const struct policy_rules *r, json_t *spec, struct recap_buf *why,
			     const char **rule);

/* 0 None, 1 ReadOnly, 2 ReadWrite, -1 otherwise. */
int recap_policy_fs_rank(const char *mode);

/* CapsulePolicy evaluation, shared by the controller and the node agent.
 *
 * Every policy whose namespaceSelector selects the Capsule's namespace must
 * admit it (intersection). A field a policy leaves unset keeps the built-in
 * baseline, so adding a policy never loosens anything; with no policy at all
 * the baseline alone applies: no added capabilities, no Unconfined seccomp,
 * targetFilesystem at most ReadOnly. Policies are checked in name order and
 * the first violation is reported, naming the policy and the rule:
 *
 *   CapsulePolicy "production": image "docker.io/evil" is not allowed by
 *   images.allowed ["registry.local/capsules/\*"]
 *
 * See docs/policy.md.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct recap_policy_verdict {
	bool admitted;
	char *policy;	  /* refusing policy's name, "" for the baseline; NULL if admitted */
	char *rule;	  /* "images.allowed", "limits.maxMemory", ... */
	char *message;	  /* the full sentence; NULL if admitted */
	size_t governing; /* policies that select the namespace */
};

/* spec: the Capsule's spec (or an execution's spec.capsule: same fields);
 * ns_labels: the namespace's labels (object, or NULL); policies: a JSON array
 * of CapsulePolicy objects. Returns -EINVAL with a message for a spec whose
 * values cannot be read (e.g. a memory limit that is not a quantity). A
 * policy that cannot be read (bad selector, bad quantity) refuses the Capsules
 * it might govern: it fails closed. */
int recap_policy_evaluate(json_t *spec, const char *ns, json_t *ns_labels, json_t *policies,
			  struct recap_policy_verdict *ret, struct recap_error **err);
void recap_policy_verdict_clear(struct recap_policy_verdict *v);

/* The key sets images must be signed with: for each policy selecting the
 * namespace that sets images.signatures (in name order), an object
 * {"policy": NAME, "publicKeys": [PEM, ...]}; each set must be met by a
 * signature of the image's digest (docs/signatures.md). *ret is a new
 * array, empty when no policy asks. A set holds the policy's own
 * publicKeys and the keys its publicKeyRefs name, as the controller wrote
 * them to status.signatures for the policy's generation. Fails (each with
 * a message naming the policy) when a selector cannot be read (-EINVAL, as
 * recap_policy_evaluate would refuse), when the controller has not read
 * the referenced keys for this generation yet (-EAGAIN), and when it could
 * not read them all (-ENOKEY): a policy's keys are never taken in part. */
int recap_policy_signature_key_sets(json_t *policies, json_t *ns_labels, json_t **ret,
				    struct recap_error **err);

/* The smallest limits.maxConcurrentPerNode of the policies selecting the
 * namespace; 0 when none sets one. */
int recap_policy_max_concurrent_per_node(json_t *policies, json_t *ns_labels, int64_t *ret,
					 struct recap_error **err);
/* The smallest limits.maxConcurrentTriggeredRuns of the policies selecting
 * the namespace; 0 when none sets one. */
int recap_policy_max_concurrent_triggered_runs(json_t *policies, json_t *ns_labels, int64_t *ret,
					       struct recap_error **err);

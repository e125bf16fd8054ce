/* The CapsulePolicy reconciler: how many Capsules a policy governs and
 * how many of them it refuses. */
#include <stdbool.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "api/names.h"
#include "api/types.h"
#include "base/json.h"
#include "controller/ctl.h"
#include "controller/status.h"
#include "policy/policy.h"

struct policy_count {
	struct recap_controller *ctl;
	json_t *only; /* [the policy] */
	size_t governed, refused, unreadable;
};

static int count_capsule(const char *key, json_t *cap, void *userdata)
{
	struct policy_count *c = userdata;
	const char *ns = recap_api_meta_namespace(cap);
	if (!ns)
		return 0;
	json_t *holder = NULL;
	json_t *labels = recap_ctl_namespace_labels(c->ctl, ns, &holder);
	struct recap_policy_verdict v = {0};
	struct recap_error *err = NULL;
	int r = recap_policy_evaluate(recap_api_capsule_spec(cap), ns, labels, c->only, &v, &err);
	json_decref(holder);
	if (r < 0) {
		c->unreadable++; /* the Capsule's own InvalidSpec; not this policy's doing */
		recap_error_free(err);
		return 0;
	}
	if (v.governing > 0) {
		c->governed++;
		if (!v.admitted)
			c->refused++;
	}
	recap_policy_verdict_clear(&v);
	return 0;
}

void recap_ctl_policy_status(struct ctl_op *op, json_t *pol, size_t governed, size_t refused,
			     json_t *signatures)
{
	struct recap_controller *ctl = op->ctl;
	int64_t gen = recap_api_meta_generation(pol);
	const char *keys_why = recap_json_str(signatures, "message");
	char msg[1200];
	if (keys_why)
		snprintf(msg, sizeof(msg), "images it governs are refused: %s", keys_why);
	else
		snprintf(msg, sizeof(msg), "governs %zu Capsules, refuses %zu", governed, refused);
	/* Ready, and Stalled for kstatus and Argo CD: keys that cannot be read
	 * stay so until their ConfigMap or Secret (or the policy) changes */
	const char *reason =
	    keys_why ? RECAP_CONDITION_REASON_KEYS_UNAVAILABLE : RECAP_CONDITION_REASON_OBSERVED;
	time_t now = recap_kube_client_now(ctl->client);
	json_t *ready =
	    recap_api_condition_set(recap_api_policy_status_conditions(pol), RECAP_CONDITION_READY,
				    recap_api_condition_status_of(!keys_why), reason, msg, gen, now);
	json_t *conds =
	    ready ? recap_api_condition_set(ready, RECAP_CONDITION_STALLED,
					    recap_api_condition_status_of(keys_why), reason, msg, gen, now)
		  : NULL;
	json_decref(ready);
	json_t *st =
	    json_pack("{s:I, s:I, s:I, s:o}", "observedGeneration", (json_int_t)gen, "governedCapsules",
		      (json_int_t)governed, "refusedCapsules", (json_int_t)refused, "conditions", conds);
	if (st && signatures)
		json_object_set_new(st, "signatures", signatures);
	else
		json_decref(signatures);
	json_t *patch = st ? recap_controller_status_patch(recap_api_policy_status(pol), st) : NULL;
	if (patch)
		recap_ctl_op_patch(op, &recap_ctl_policies, NULL, recap_api_meta_name(pol), "status", patch);
	json_decref(patch);
	json_decref(st);
}

int recap_ctl_reconcile_policy(struct recap_controller *ctl, struct ctl_op *op, struct recap_error **err)
{
	_cleanup_json_ json_t *pol = recap_kube_store_get(ctl_store(ctl, INF_POLICY), op->key);
	if (!pol)
		return 0;
	struct policy_count c = {.ctl = ctl, .only = json_pack("[O]", pol)};
	if (!c.only)
		return recap_error_set(err, ENOMEM, "out of memory");
	recap_kube_store_foreach(ctl_store(ctl, INF_CAPSULE), count_capsule, &c);
	json_decref(c.only);
	int r = recap_ctl_policy_keys(op, pol, c.governed, c.refused);
	return r < 0 ? recap_error_set(err, -r, "out of memory") : 0;
}

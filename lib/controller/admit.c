#include <stdbool.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/check.h"
#include "api/names.h"
#include "api/types.h"
#include "base/json.h"
#include "controller/admit.h"
#include "base/cleanup.h"
#include "controller/ctl.h"
#include "controller/sigcheck.h"
#include "policy/image.h"
#include "policy/policy.h"
#include "sched/periodic.h"
#include "sched/strategy.h"

static int invalid(struct ctl_admission *a, struct recap_error *err)
{
	a->reason = RECAP_CONDITION_REASON_INVALID_SPEC;
	a->message = strdup(err ? recap_error_message(err) : "invalid spec");
	recap_error_free(err);
	return a->message ? 0 : -ENOMEM;
}

/* What the API server cannot check: strategy and roles (startAfter
 * cycles), the cron fields' ranges and the time zone. */
static int validate(json_t *spec, struct recap_error **err)
{
	int r = recap_policy_image_check_cluster(recap_api_capsule_spec_image(spec), err);
	if (r < 0)
		return r;
	struct recap_strategy s;
	r = recap_strategy_parse(spec, &s, err);
	if (r < 0)
		return r;
	/* Role order (startAfter cycles) is checked by planning. */
	struct recap_plan_input in = {.run = "validate", .strategy = &s};
	struct recap_plan plan = {0};
	r = recap_strategy_plan(&in, &plan, err);
	recap_strategy_plan_clear(&plan);
	recap_strategy_clear(&s);
	if (r < 0)
		return r;
	json_t *schedule = recap_api_capsule_spec_schedule(spec);
	if (!schedule)
		return 0;
	struct recap_periodic_schedule ps;
	struct recap_tz *tz = NULL;
	r = recap_periodic_schedule_parse(schedule, &ps, &tz, err);
	if (r >= 0)
		recap_tz_free(tz);
	return r < 0 ? recap_error_wrap(err, -r, "schedule") : 0;
}

int recap_ctl_admit_decode(json_t *capsule, struct ctl_admission *a)
{
	*a = (struct ctl_admission){0};
	struct recap_error *err = NULL;
	return recap_api_check(RECAP_API_KIND_CAPSULE, capsule, &err) < 0 ? invalid(a, err) : 0;
}

/* The signatures the policies require of the image, when they do. */
static int signatures(struct recap_controller *ctl, json_t *spec, json_t *policies, json_t *labels, int kind,
		      const char *key, struct ctl_admission *a)
{
	json_t *sets = NULL;
	struct recap_error *err = NULL;
	int r = recap_policy_signature_key_sets(policies, labels, &sets, &err);
	if (r == -ENOMEM)
		return r;
	if (r == -EAGAIN) { /* this controller writes the keys in a moment: the policy is queued */
		a->pending = true;
		recap_error_free(err);
		return 0;
	}
	if (r == -ENOKEY) {
		a->reason = RECAP_CONDITION_REASON_SIGNATURE_REFUSED;
		a->message = strdup(recap_error_message(err));
		recap_error_free(err);
		return a->message ? 0 : -ENOMEM;
	}
	if (r < 0) /* the evaluation refused such a policy already */
		return invalid(a, err);
	enum ctl_sig_verdict v = CTL_SIG_VERIFIED;
	char *msg = NULL;
	if (json_array_size(sets))
		r = recap_ctl_sigcheck(ctl, recap_api_capsule_spec_image(spec), sets, (enum ctl_kind)kind,
				       key, &v, &msg);
	json_decref(sets);
	if (r < 0)
		return r;
	a->pending = v == CTL_SIG_PENDING;
	if (v == CTL_SIG_REFUSED) {
		a->reason = RECAP_CONDITION_REASON_SIGNATURE_REFUSED;
		a->message = steal_ptr(msg);
		if (!a->message)
			a->message = strdup("the image's signatures do not satisfy the policies");
	}
	free(msg);
	return a->reason && !a->message ? -ENOMEM : 0;
}

int recap_ctl_admit(struct recap_controller *ctl, const char *ns, json_t *capsule, json_t *spec, int kind,
		    const char *key, struct ctl_admission *a)
{
	*a = (struct ctl_admission){0};
	int r = capsule ? recap_ctl_admit_decode(capsule, a) : 0;
	if (r < 0 || a->reason)
		return r;
	struct recap_error *err = NULL;
	if (validate(spec, &err) < 0)
		return invalid(a, err);
	json_t *policies = recap_ctl_list(ctl, INF_POLICY, NULL, NULL);
	json_t *holder = NULL;
	json_t *labels = recap_ctl_namespace_labels(ctl, ns, &holder);
	struct recap_policy_verdict v = {0};
	r = policies ? recap_policy_evaluate(spec, ns, labels, policies, &v, &err) : -ENOMEM;
	if (r >= 0 && v.admitted) {
		a->governing = v.governing;
		r = signatures(ctl, spec, policies, labels, kind, key, a);
		recap_policy_verdict_clear(&v);
		json_decref(policies);
		json_decref(holder);
		return r;
	}
	json_decref(policies);
	json_decref(holder);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return invalid(a, err);
	a->governing = v.governing;
	if (!v.admitted) {
		a->reason = RECAP_CONDITION_REASON_POLICY_VIOLATION;
		a->message = v.message ? strdup(v.message) : strdup("refused by policy");
	}
	recap_policy_verdict_clear(&v);
	return a->reason && !a->message ? -ENOMEM : 0;
}

void recap_ctl_admission_clear(struct ctl_admission *a)
{
	free(a->message);
	*a = (struct ctl_admission){0};
}

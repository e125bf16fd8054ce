#include "policy/policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/types.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "policy/rules.h"
#include "policy/selector.h"

/* Policies considered at once; the API lists them, input has a bound too. */
#define POLICIES_MAX 10000
#define MESSAGE_MAX 2048

void recap_policy_verdict_clear(struct recap_policy_verdict *v)
{
	free(v->policy);
	free(v->rule);
	free(v->message);
	*v = (struct recap_policy_verdict){0};
}

static const char *policy_name(json_t *p)
{
	const char *name = recap_api_meta_name(p);
	return name ? name : "";
}

static int by_name(const void *a, const void *b)
{
	return strcmp(policy_name(*(json_t *const *)a), policy_name(*(json_t *const *)b));
}

/* The policies as an array sorted by name, so the first violation is stable. */
static int sorted(json_t *policies, json_t ***ret, size_t *ret_n, struct recap_error **err)
{
	size_t n = json_array_size(policies);
	if (policies && !json_is_array(policies))
		return recap_error_set(err, EINVAL, "policies must be a list");
	if (n > POLICIES_MAX)
		return recap_error_set(err, E2BIG, "more than %d CapsulePolicies", POLICIES_MAX);
	json_t **v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(policies, i);
	qsort(v, n, sizeof(*v), by_name);
	*ret = v;
	*ret_n = n;
	return 0;
}

static int refuse(struct recap_policy_verdict *v, const char *policy, const char *rule, const char *message)
{
	v->admitted = false;
	v->policy = strdup(policy);
	v->rule = strdup(rule ? rule : "");
	v->message = strdup(message);
	return v->policy && v->rule && v->message ? 0 : -ENOMEM;
}

/* Checks one policy (NULL: the baseline). 1 when it refused. */
static int check_one(json_t *policy, const char *ns, json_t *spec, struct recap_policy_verdict *v,
		     struct recap_error **err)
{
	struct recap_buf why = RECAP_BUF_INIT(MESSAGE_MAX), msg = RECAP_BUF_INIT(MESSAGE_MAX);
	struct policy_rules rules;
	const char *rule = "";
	int r = recap_policy_rules_from_policy(policy, &rules, &why, &rule);
	if (r == 0)
		r = recap_policy_rules_check(&rules, spec, &why, &rule);
	if (r == -EINVAL) {
		r = recap_error_set(err, EINVAL, "%s", why.data ? why.data : "invalid spec");
	} else if (r != 0) {
		if (!policy)
			recap_buf_printf(&msg,
					 "baseline policy (no CapsulePolicy selects namespace \"%s\"): %s",
					 ns, why.data);
		else if (r == -ENOTRECOVERABLE)
			recap_buf_printf(&msg,
					 "CapsulePolicy \"%s\" cannot be read, so it admits nothing: %s",
					 policy_name(policy), why.data);
		else
			recap_buf_printf(&msg, "CapsulePolicy \"%s\": %s", policy_name(policy), why.data);
		r = refuse(v, policy ? policy_name(policy) : "", rule, msg.data ? msg.data : "refused");
		r = r < 0 ? r : 1;
	}
	recap_buf_free(&why);
	recap_buf_free(&msg);
	return r;
}

static int selects(json_t *policy, json_t *ns_labels, bool *ret, struct recap_policy_verdict *v)
{
	struct recap_error *e = NULL;
	if (recap_policy_selector_matches(recap_api_policy_spec_namespace_selector(policy), ns_labels, ret,
					  &e) == 0)
		return 0;
	/* Fail closed: a selector that cannot be read might select anything. */
	char msg[MESSAGE_MAX];
	snprintf(msg, sizeof(msg),
		 "CapsulePolicy \"%s\" cannot be read, so it admits nothing: namespaceSelector: %s",
		 policy_name(policy), recap_error_message(e));
	recap_error_free(e);
	*ret = true;
	int r = v->admitted ? refuse(v, policy_name(policy), "namespaceSelector", msg) : 0;
	return r < 0 ? r : 1;
}

int recap_policy_evaluate(json_t *spec, const char *ns, json_t *ns_labels, json_t *policies,
			  struct recap_policy_verdict *ret, struct recap_error **err)
{
	_cleanup_free_ json_t **list = NULL;
	size_t n = 0;
	int r = sorted(policies, &list, &n, err);
	if (r < 0)
		return r;
	struct recap_policy_verdict v = {.admitted = true};
	for (size_t i = 0; i < n && r >= 0; i++) {
		bool match = false;
		if ((r = selects(list[i], ns_labels, &match, &v)) != 0 || !match)
			continue;
		v.governing++;
		if (v.admitted)
			r = check_one(list[i], ns, spec, &v, err);
	}
	if (r >= 0 && v.governing == 0 && v.admitted)
		r = check_one(NULL, ns, spec, &v, err);
	if (r < 0) {
		recap_policy_verdict_clear(&v);
		return r;
	}
	*ret = v;
	return 0;
}

/* One policy's keys: its own publicKeys, then those its publicKeyRefs
 * name as status.signatures holds them for its generation. 1 with *ret (a
 * new array) when it requires signatures, 0 when not. */
static int policy_keys(json_t *p, json_t **ret, struct recap_error **err)
{
	json_t *own = recap_api_policy_spec_images_signatures_public_keys(p);
	json_t *refs = recap_api_policy_spec_images_signatures_public_key_refs(p);
	if (!own && !refs)
		return 0;
	if ((own && (!json_is_array(own) || json_array_size(own) == 0)) ||
	    (refs && (!json_is_array(refs) || json_array_size(refs) == 0)))
		return recap_error_set(err, EINVAL,
				       "CapsulePolicy \"%s\": images.signatures.publicKeys and publicKeyRefs "
				       "must be non-empty lists when set",
				       policy_name(p));
	json_t *keys = own ? json_copy(own) : json_array();
	if (!keys)
		return -ENOMEM;
	if (refs) {
		json_t *st = recap_api_policy_status_signatures(p);
		int64_t gen = recap_api_meta_generation(p);
		json_t *got = recap_api_policy_status_signatures_public_keys(p);
		const char *why = recap_api_policy_status_signatures_message(p);
		int r = 0;
		if (!st || recap_api_policy_status_signatures_observed_generation(p) != gen)
			r = recap_error_set(err, EAGAIN,
					    "CapsulePolicy \"%s\": the controller has not read the keys of "
					    "images.signatures.publicKeyRefs for generation %lld yet",
					    policy_name(p), (long long)gen);
		else if ((why && *why) || !json_is_array(got) ||
			 json_array_size(got) != json_array_size(refs))
			r = recap_error_set(
			    err, ENOKEY, "CapsulePolicy \"%s\": images.signatures.publicKeyRefs: %s",
			    policy_name(p), why && *why ? why : "the keys read are not one per reference");
		if (r == 0 && json_array_extend(keys, got) < 0)
			r = -ENOMEM;
		if (r < 0) {
			json_decref(keys);
			return r;
		}
	}
	*ret = keys;
	return 1;
}

int recap_policy_signature_key_sets(json_t *policies, json_t *ns_labels, json_t **ret,
				    struct recap_error **err)
{
	_cleanup_free_ json_t **list = NULL;
	size_t n = 0;
	int r = sorted(policies, &list, &n, err);
	if (r < 0)
		return r;
	json_t *sets = json_array();
	for (size_t i = 0; sets && i < n; i++) {
		bool match = false;
		r = recap_policy_selector_matches(recap_api_policy_spec_namespace_selector(list[i]),
						  ns_labels, &match, err);
		if (r < 0) {
			json_decref(sets);
			return recap_error_wrap(err, -r, "CapsulePolicy \"%s\"", policy_name(list[i]));
		}
		json_t *keys = NULL;
		if (!match)
			continue;
		r = policy_keys(list[i], &keys, err);
		if (r < 0) {
			json_decref(sets);
			return r;
		}
		if (r > 0 &&
		    json_array_append_new(sets, json_pack("{s:s, s:o}", "policy", policy_name(list[i]),
							  "publicKeys", keys)) < 0) {
			json_decref(sets);
			sets = NULL;
		}
	}
	if (!sets)
		return -ENOMEM;
	*ret = sets;
	return 0;
}

/* The smallest positive value limit() reads of the policies selecting the
 * namespace; 0 when none sets one. */
static int smallest_limit(json_t *policies, json_t *ns_labels, int64_t (*limit)(json_t *), int64_t *ret,
			  struct recap_error **err)
{
	int64_t min = 0;
	size_t i;
	json_t *p;
	json_array_foreach (policies, i, p) {
		bool match = false;
		int r = recap_policy_selector_matches(recap_api_policy_spec_namespace_selector(p), ns_labels,
						      &match, err);
		if (r < 0)
			return recap_error_wrap(err, r, "CapsulePolicy \"%s\"", policy_name(p));
		int64_t v = limit(p);
		if (match && v > 0 && (min == 0 || v < min))
			min = v;
	}
	*ret = min;
	return 0;
}

int recap_policy_max_concurrent_per_node(json_t *policies, json_t *ns_labels, int64_t *ret,
					 struct recap_error **err)
{
	return smallest_limit(policies, ns_labels, recap_api_policy_spec_limits_max_concurrent_per_node, ret,
			      err);
}

int recap_policy_max_concurrent_triggered_runs(json_t *policies, json_t *ns_labels, int64_t *ret,
					       struct recap_error **err)
{
	return smallest_limit(policies, ns_labels, recap_api_policy_spec_limits_max_concurrent_triggered_runs,
			      ret, err);
}

/* The node's own policy check (defence in depth), from the informers'
 * caches of CapsulePolicies and Namespaces. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/types.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "caplet/agent.h"
#include "policy/policy.h"

static int collect(const char *key, json_t *obj, void *data)
{
	return json_array_append(data, obj) < 0 ? -1 : 0;
}

static json_t *all_policies(struct recap_caplet *c)
{
	json_t *a = json_array();
	if (a && recap_kube_store_foreach(recap_kube_informer_store(c->policies), collect, a) != 0) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static json_t *ns_labels(struct recap_caplet *c, const char *ns)
{
	_cleanup_json_ json_t *obj = recap_kube_store_get(recap_kube_informer_store(c->namespaces), ns);
	json_t *l = recap_api_meta_labels(obj);
	return l ? json_incref(l) : json_object();
}

int caplet_policy_check(struct recap_caplet *c, json_t *exec, char **msg)
{
	const char *ns = recap_api_meta_namespace(exec);
	_cleanup_json_ json_t *policies = all_policies(c);
	_cleanup_json_ json_t *labels = ns_labels(c, ns ? ns : "");
	_cleanup_error_ struct recap_error *err = NULL;
	struct recap_policy_verdict v = {0};
	json_t *spec = recap_api_exec_spec_capsule(exec);
	if (!policies || !spec) {
		*msg = strdup("execution without spec.capsule, or out of memory");
		return -1;
	}
	int r = recap_policy_evaluate(spec, ns, labels, policies, &v, &err);
	if (r < 0) {
		*msg = strdup(recap_error_message(err));
		return r;
	}
	if (!v.admitted)
		*msg = strdup(v.message ? v.message : "refused by policy");
	r = v.admitted ? 1 : 0;
	recap_policy_verdict_clear(&v);
	return r;
}

int caplet_policy_signature_sets(struct recap_caplet *c, const char *ns, json_t **ret, char **msg)
{
	_cleanup_json_ json_t *policies = all_policies(c);
	_cleanup_json_ json_t *labels = ns_labels(c, ns ? ns : "");
	_cleanup_error_ struct recap_error *err = NULL;
	int r = policies ? recap_policy_signature_key_sets(policies, labels, ret, &err) : -ENOMEM;
	if (r < 0)
		*msg = strdup(err ? recap_error_message(err) : "out of memory");
	return r;
}

int64_t caplet_max_concurrent(struct recap_caplet *c, const char *ns)
{
	_cleanup_json_ json_t *policies = all_policies(c);
	_cleanup_json_ json_t *labels = ns_labels(c, ns);
	int64_t n = 0;
	if (!policies || recap_policy_max_concurrent_per_node(policies, labels, &n, NULL) < 0)
		return 1; /* cannot tell: one at a time */
	return n;
}

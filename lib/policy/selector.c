#include "policy/selector.h"

#include "kubesel/selector.h"

int recap_policy_selector_matches(json_t *selector, json_t *labels, bool *ret, struct recap_error **err)
{
	/* An absent namespaceSelector governs every namespace. */
	if (!selector || json_is_null(selector)) {
		*ret = true;
		return 0;
	}
	struct recap_kube_selector *sel = NULL;
	int r = recap_kube_selector_from_json(selector, &sel, err);
	if (r < 0)
		return r;
	*ret = recap_kube_selector_matches(sel, labels);
	recap_kube_selector_free(sel);
	return 0;
}

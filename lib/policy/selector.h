/* A CapsulePolicy's namespaceSelector (metav1.LabelSelector) on a
 * namespace's labels: absent or empty selects every namespace. The selector
 * itself is lib/kubesel's (kubesel/selector.h), linked without the API client. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "base/error.h"

/* labels: a JSON object of strings, or NULL for none. -EINVAL with a message
 * for a malformed selector. */
int recap_policy_selector_matches(json_t *selector, json_t *labels, bool *ret, struct recap_error **err);

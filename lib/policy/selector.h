/* Label selectors (metav1.LabelSelector) on a set of labels.
 *
 * matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist) are
 * ANDed; a NULL or empty selector selects everything. This matcher lives here,
 * not in lib/kube, so that the node agent's policy check does not depend on
 * the API client.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "base/error.h"

/* labels: a JSON object of strings, or NULL for none. -EINVAL with a message
 * for a malformed selector. */
int recap_policy_selector_matches(json_t *selector, json_t *labels, bool *ret, struct recap_error **err);

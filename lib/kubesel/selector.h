/* Label selectors: parsing and matching, as Kubernetes defines them.
 *
 * Two sources: the string form used in list/watch queries
 *   "a=b,c!=d,e in (x,y),f notin (z),g,!h"
 * and a metav1.LabelSelector object ({"matchLabels":{...},
 * "matchExpressions":[{"key":..,"operator":"In|NotIn|Exists|DoesNotExist",
 * "values":[..]}]}). Keys and values are checked against the label syntax
 * (key: optional DNS-subdomain prefix and "/", name of at most 63
 * characters; value: at most 63 characters); errors name the offending
 * text and its position. A selector with no requirements matches
 * everything; a null LabelSelector matches nothing.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/error.h"

#define RECAP_KUBE_SELECTOR_MAX_BYTES 8192
#define RECAP_KUBE_SELECTOR_MAX_REQUIREMENTS 64
#define RECAP_KUBE_SELECTOR_MAX_VALUES 256

enum recap_kube_selector_op {
	RECAP_KUBE_SEL_EQUALS,
	RECAP_KUBE_SEL_NOT_EQUALS,
	RECAP_KUBE_SEL_IN,
	RECAP_KUBE_SEL_NOT_IN,
	RECAP_KUBE_SEL_EXISTS,
	RECAP_KUBE_SEL_NOT_EXISTS,
};

struct recap_kube_requirement {
	char *key;
	enum recap_kube_selector_op op;
	char **values; /* EQUALS/NOT_EQUALS: one; IN/NOT_IN: at least one */
	size_t nvalues;
};

struct recap_kube_selector {
	struct recap_kube_requirement *reqs;
	size_t n;
	bool nothing; /* matches no object (a null LabelSelector) */
};

int recap_kube_selector_parse(const char *s, struct recap_kube_selector **ret, struct recap_error **err);
/* sel may be NULL or JSON null (matches nothing). */
int recap_kube_selector_from_json(json_t *sel, struct recap_kube_selector **ret, struct recap_error **err);
/* labels is the object's metadata.labels (may be NULL). */
bool recap_kube_selector_matches(const struct recap_kube_selector *sel, json_t *labels);
/* Appends the string form (parsable again; empty for "everything").
 * -EINVAL for a selector that matches nothing: it has no string form. */
int recap_kube_selector_format(const struct recap_kube_selector *sel, struct recap_buf *b);
void recap_kube_selector_free(struct recap_kube_selector *sel);

/* Label key / value syntax checks; on failure *err names the text. */
int recap_kube_label_key_check(const char *key, size_t len, struct recap_error **err);
int recap_kube_label_value_check(const char *value, size_t len, struct recap_error **err);

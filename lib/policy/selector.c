#include "policy/selector.h"

#include <errno.h>
#include <string.h>

static const char *label(json_t *labels, const char *key)
{
	return json_string_value(json_object_get(labels, key));
}

static bool in_values(json_t *values, const char *v)
{
	size_t i;
	json_t *item;
	json_array_foreach (values, i, item) {
		if (v && json_is_string(item) && strcmp(json_string_value(item), v) == 0)
			return true;
	}
	return false;
}

static int match_expression(json_t *e, json_t *labels, bool *ret, struct recap_error **err)
{
	const char *key = json_string_value(json_object_get(e, "key"));
	const char *op = json_string_value(json_object_get(e, "operator"));
	json_t *values = json_object_get(e, "values");
	size_t n = json_is_array(values) ? json_array_size(values) : 0;
	if (!key || !op)
		return recap_error_set(err, EINVAL, "matchExpressions: key and operator are required");
	if (values && !json_is_null(values) && !json_is_array(values))
		return recap_error_set(err, EINVAL, "matchExpressions[%s]: values must be a list", key);
	const char *v = label(labels, key);
	bool set_op = strcmp(op, "In") == 0 || strcmp(op, "NotIn") == 0;
	if (!set_op && strcmp(op, "Exists") != 0 && strcmp(op, "DoesNotExist") != 0)
		return recap_error_set(
		    err, EINVAL,
		    "matchExpressions[%s]: unknown operator \"%s\" (In, NotIn, Exists, DoesNotExist)", key,
		    op);
	if (set_op && n == 0)
		return recap_error_set(err, EINVAL, "matchExpressions[%s]: operator %s needs values", key,
				       op);
	if (!set_op && n > 0)
		return recap_error_set(err, EINVAL, "matchExpressions[%s]: operator %s takes no values", key,
				       op);
	if (strcmp(op, "In") == 0)
		*ret = in_values(values, v);
	else if (strcmp(op, "NotIn") == 0)
		*ret = !in_values(values, v);
	else if (strcmp(op, "Exists") == 0)
		*ret = v != NULL;
	else
		*ret = v == NULL;
	return 0;
}

int recap_policy_selector_matches(json_t *selector, json_t *labels, bool *ret, struct recap_error **err)
{
	bool match = true;
	if (!selector || json_is_null(selector)) {
		*ret = true;
		return 0;
	}
	if (!json_is_object(selector))
		return recap_error_set(err, EINVAL, "label selector must be an object");
	json_t *ml = json_object_get(selector, "matchLabels"),
	       *me = json_object_get(selector, "matchExpressions");
	if ((ml && !json_is_null(ml) && !json_is_object(ml)) ||
	    (me && !json_is_null(me) && !json_is_array(me)))
		return recap_error_set(err, EINVAL,
				       "label selector: matchLabels must be a map, matchExpressions a list");
	const char *key;
	json_t *value;
	json_object_foreach (ml, key, value) {
		const char *v = label(labels, key);
		if (!json_is_string(value))
			return recap_error_set(err, EINVAL, "matchLabels[%s]: value must be a string", key);
		match = match && v && strcmp(v, json_string_value(value)) == 0;
	}
	size_t i;
	json_t *e;
	json_array_foreach (me, i, e) {
		bool m = false;
		int r = match_expression(e, labels, &m, err);
		if (r < 0)
			return r;
		match = match && m;
	}
	*ret = match;
	return 0;
}

/* recap_api_check: a walk of the generated schema tables. */
#include "api/check.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/schema.h"
#include "base/quantity.h"
#include "base/timeutil.h"

/* The deepest field path with the longest keys the schemas allow (a map
 * key, such as a label key, is at most 317 characters) fits. */
#define PATH_MAX_LEN 2048

struct walk {
	char path[PATH_MAX_LEN];
	struct recap_error **err;
};

static int node_check(struct walk *w, const struct recap_api_node *n, json_t *v);

static int fail(struct walk *w, const char *what)
{
	return recap_error_set(w->err, EINVAL, "%s: %s", w->path[0] ? w->path : "(the object)", what);
}

/* Checks v against n with ".name" or "[i]" appended to the path meanwhile. */
static int child(struct walk *w, const char *name, size_t index, const struct recap_api_node *n, json_t *v)
{
	size_t len = strlen(w->path);
	if (name)
		snprintf(w->path + len, sizeof(w->path) - len, "%s%s", len ? "." : "", name);
	else
		snprintf(w->path + len, sizeof(w->path) - len, "[%zu]", index);
	int r = node_check(w, n, v);
	w->path[len] = '\0';
	return r;
}

static int bounds(struct walk *w, const struct recap_api_node *n, int64_t x, const char *unit)
{
	char msg[128];
	if (x < n->min)
		snprintf(msg, sizeof(msg), "%" PRId64 " %s, fewer than %" PRId64, x, unit, n->min);
	else if (x > n->max)
		snprintf(msg, sizeof(msg), "%" PRId64 " %s, more than %" PRId64, x, unit, n->max);
	else
		return 0;
	return fail(w, msg);
}

static int string_check(struct walk *w, const struct recap_api_node *n, json_t *v)
{
	if (!json_is_string(v))
		return fail(w, "must be a string");
	const char *s = json_string_value(v);
	int64_t chars = 0; /* the schema counts characters, as the API server does */
	for (size_t i = 0; i < json_string_length(v); i++)
		chars += ((unsigned char)s[i] & 0xC0) != 0x80;
	int r = bounds(w, n, chars, "characters");
	if (r < 0)
		return r;
	if (n->values) {
		size_t i = 0;
		while (n->values[i] && strcmp(n->values[i], s) != 0)
			i++;
		if (!n->values[i])
			return fail(w, "is not one of the values the schema allows");
	}
	time_t t;
	if (n->type == RECAP_API_T_TIME && recap_time_parse(s, &t) < 0)
		return fail(w, "is not an RFC 3339 time");
	return 0;
}

static int integer_check(struct walk *w, const struct recap_api_node *n, json_t *v)
{
	if (!json_is_integer(v))
		return fail(w, "must be an integer");
	int64_t x = json_integer_value(v);
	if (x < n->min || x > n->max) {
		char msg[96];
		snprintf(msg, sizeof(msg), "%" PRId64 " is out of range", x);
		return fail(w, msg);
	}
	return 0;
}

static int quantity_check(struct walk *w, const struct recap_api_node *n, json_t *v)
{
	if (json_is_integer(v))
		return 0;
	if (!json_is_string(v))
		return fail(w, "must be a quantity (an integer or a string such as 64Mi)");
	if ((int64_t)json_string_length(v) > n->max)
		return fail(w, "is too long for a quantity");
	struct recap_quantity q;
	struct recap_error *qerr = NULL;
	if (recap_quantity_parse(json_string_value(v), &q, &qerr) < 0) {
		int r = fail(w, qerr ? qerr->msg : "is not a quantity");
		recap_error_free(qerr);
		return r;
	}
	return 0;
}

static int object_check(struct walk *w, const struct recap_api_node *n, json_t *v)
{
	if (!json_is_object(v))
		return fail(w, "must be an object");
	for (size_t i = 0; i < n->n_sub; i++) {
		const struct recap_api_node *c = &n->sub[i];
		json_t *cv = json_object_get(v, c->name);
		if (!cv && c->required) {
			char msg[96];
			snprintf(msg, sizeof(msg), "the required field %s is missing", c->name);
			return fail(w, msg);
		}
		int r = cv ? child(w, c->name, 0, c, cv) : 0;
		if (r < 0)
			return r;
	}
	return 0;
}

static int array_check(struct walk *w, const struct recap_api_node *n, json_t *v)
{
	if (!json_is_array(v))
		return fail(w, "must be a list");
	int r = bounds(w, n, (int64_t)json_array_size(v), "items");
	size_t i;
	json_t *item;
	json_array_foreach (v, i, item) {
		if (r >= 0)
			r = child(w, NULL, i, n->sub, item);
	}
	return r;
}

static int map_check(struct walk *w, const struct recap_api_node *n, json_t *v)
{
	if (!json_is_object(v))
		return fail(w, "must be an object");
	int r = bounds(w, n, (int64_t)json_object_size(v), "entries");
	const char *k;
	json_t *item;
	json_object_foreach (v, k, item) {
		if (r >= 0)
			r = child(w, k, 0, n->sub, item);
	}
	return r;
}

static int node_check(struct walk *w, const struct recap_api_node *n, json_t *v)
{
	switch (n->type) {
	case RECAP_API_T_STRING:
	case RECAP_API_T_TIME:
		return string_check(w, n, v);
	case RECAP_API_T_INTEGER:
		return integer_check(w, n, v);
	case RECAP_API_T_BOOLEAN:
		return json_is_boolean(v) ? 0 : fail(w, "must be true or false");
	case RECAP_API_T_QUANTITY:
		return quantity_check(w, n, v);
	case RECAP_API_T_OBJECT:
		return object_check(w, n, v);
	case RECAP_API_T_ARRAY:
		return array_check(w, n, v);
	case RECAP_API_T_MAP:
		return map_check(w, n, v);
	default:
		return 0;
	}
}

int recap_api_check(enum recap_api_kind kind, json_t *obj, struct recap_error **err)
{
	if ((unsigned)kind >= RECAP_API_KINDS)
		return recap_error_set(err, EINVAL, "kind %d is not one of RECap's", (int)kind);
	struct walk w = {.err = err};
	return node_check(&w, &recap_api_kinds[kind], obj);
}

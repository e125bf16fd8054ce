#include "kubesel/selector.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"

#define NAME_MAX_LEN 63
#define PREFIX_MAX_LEN 253

/* ---- syntax checks ---- */

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])? of at most 63 characters. */
static bool qualified_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > NAME_MAX_LEN || !is_alnum(s[0]) || !is_alnum(s[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

/* Lowercase RFC 1123 subdomain: labels of [a-z0-9-] joined by dots. */
static bool dns_subdomain_ok(const char *s, size_t len)
{
	if (len == 0 || len > PREFIX_MAX_LEN)
		return false;
	size_t label = 0;
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? s[i] : '.';
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-' || (i - label < len && s[i - label] == '-'))
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
			if (++label > NAME_MAX_LEN)
				return false;
		} else {
			return false;
		}
	}
	return true;
}

int recap_kube_label_key_check(const char *key, size_t len, struct recap_error **err)
{
	const char *slash = memchr(key, '/', len);
	bool ok;
	if (slash)
		ok = dns_subdomain_ok(key, slash - key) &&
		     qualified_name_ok(slash + 1, len - (slash - key) - 1);
	else
		ok = qualified_name_ok(key, len);
	if (!ok)
		return recap_error_set(
		    err, EINVAL,
		    "invalid label key '%.*s': want an optional DNS subdomain prefix and '/', "
		    "then at most 63 characters of [A-Za-z0-9-_.] starting and ending "
		    "alphanumeric",
		    (int)(len > 300 ? 300 : len), key);
	return 0;
}

int recap_kube_label_value_check(const char *value, size_t len, struct recap_error **err)
{
	if (len == 0 || qualified_name_ok(value, len))
		return 0;
	return recap_error_set(err, EINVAL,
			       "invalid label value '%.*s': want at most 63 characters of [A-Za-z0-9-_.] "
			       "starting and ending alphanumeric",
			       (int)(len > 300 ? 300 : len), value);
}

/* ---- building ---- */

static void requirement_clear(struct recap_kube_requirement *r)
{
	free(r->key);
	for (size_t i = 0; i < r->nvalues; i++)
		free(r->values[i]);
	free(r->values);
}

void recap_kube_selector_free(struct recap_kube_selector *sel)
{
	if (!sel)
		return;
	for (size_t i = 0; i < sel->n; i++)
		requirement_clear(&sel->reqs[i]);
	free(sel->reqs);
	free(sel);
}

static void selector_freep(struct recap_kube_selector **s)
{
	recap_kube_selector_free(*s);
}
#define _cleanup_selector_ _cleanup_(selector_freep)

/* Appends an empty requirement for key (checked by the caller). */
static int add_requirement(struct recap_kube_selector *sel, const char *key, size_t len,
			   enum recap_kube_selector_op op, struct recap_kube_requirement **ret,
			   struct recap_error **err)
{
	if (sel->n >= RECAP_KUBE_SELECTOR_MAX_REQUIREMENTS)
		return recap_error_set(err, E2BIG, "label selector: more than %d requirements",
				       RECAP_KUBE_SELECTOR_MAX_REQUIREMENTS);
	struct recap_kube_requirement *reqs = realloc(sel->reqs, (sel->n + 1) * sizeof(*reqs));
	if (!reqs)
		return recap_error_set(err, ENOMEM, "label selector: out of memory");
	sel->reqs = reqs;
	struct recap_kube_requirement *r = &reqs[sel->n];
	*r = (struct recap_kube_requirement){.op = op};
	r->key = strndup(key, len);
	if (!r->key)
		return recap_error_set(err, ENOMEM, "label selector: out of memory");
	sel->n++;
	*ret = r;
	return 0;
}

static int add_value(struct recap_kube_requirement *r, const char *v, size_t len, struct recap_error **err)
{
	int rc = recap_kube_label_value_check(v, len, err);
	if (rc < 0)
		return rc;
	if (r->nvalues >= RECAP_KUBE_SELECTOR_MAX_VALUES)
		return recap_error_set(err, E2BIG, "label selector: more than %d values for '%s'",
				       RECAP_KUBE_SELECTOR_MAX_VALUES, r->key);
	char **values = realloc(r->values, (r->nvalues + 1) * sizeof(*values));
	if (!values)
		return recap_error_set(err, ENOMEM, "label selector: out of memory");
	r->values = values;
	r->values[r->nvalues] = strndup(v, len);
	if (!r->values[r->nvalues])
		return recap_error_set(err, ENOMEM, "label selector: out of memory");
	r->nvalues++;
	return 0;
}

/* ---- string form ---- */

struct cursor {
	const char *s;
	size_t pos;
};

static void skip_space(struct cursor *c)
{
	while (c->s[c->pos] == ' ' || c->s[c->pos] == '\t')
		c->pos++;
}

static bool is_word_char(char ch)
{
	return is_alnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '/';
}

/* A run of key/value characters; may be empty. */
static size_t word(struct cursor *c, const char **ret)
{
	*ret = c->s + c->pos;
	size_t start = c->pos;
	while (is_word_char(c->s[c->pos]))
		c->pos++;
	return c->pos - start;
}

static int syntax_error(struct cursor *c, const char *want, struct recap_error **err)
{
	return recap_error_set(err, EINVAL, "label selector '%s': at position %zu: expected %s", c->s, c->pos,
			       want);
}

static bool accept(struct cursor *c, const char *tok)
{
	size_t n = strlen(tok);
	if (strncmp(c->s + c->pos, tok, n) != 0)
		return false;
	c->pos += n;
	return true;
}

/* "(v1, v2, ...)" */
static int parse_set(struct cursor *c, struct recap_kube_requirement *r, struct recap_error **err)
{
	skip_space(c);
	if (!accept(c, "("))
		return syntax_error(c, "'(' to open the value set", err);
	for (;;) {
		skip_space(c);
		const char *v;
		size_t len = word(c, &v);
		int rc = add_value(r, v, len, err);
		if (rc < 0)
			return recap_error_wrap(err, rc, "label selector '%s'", c->s);
		skip_space(c);
		if (accept(c, ")"))
			break;
		if (!accept(c, ","))
			return syntax_error(c, "',' or ')' in the value set", err);
	}
	if (r->nvalues == 1 && r->values[0][0] == '\0')
		return recap_error_set(err, EINVAL,
				       "label selector '%s': '%s %s ()' needs at least one value", c->s,
				       r->key, r->op == RECAP_KUBE_SEL_IN ? "in" : "notin");
	return 0;
}

static int parse_single_value(struct cursor *c, struct recap_kube_requirement *r, struct recap_error **err)
{
	skip_space(c);
	const char *v;
	size_t len = word(c, &v);
	int rc = add_value(r, v, len, err);
	return rc < 0 ? recap_error_wrap(err, rc, "label selector '%s'", c->s) : 0;
}

/* key [op value|set] or !key */
static int parse_requirement(struct cursor *c, struct recap_kube_selector *sel, struct recap_error **err)
{
	skip_space(c);
	bool negated = accept(c, "!");
	skip_space(c);
	const char *key;
	size_t klen = word(c, &key);
	if (klen == 0)
		return syntax_error(c, "a label key", err);
	int rc = recap_kube_label_key_check(key, klen, err);
	if (rc < 0)
		return recap_error_wrap(err, rc, "label selector '%s'", c->s);
	struct recap_kube_requirement *r;
	skip_space(c);
	if (negated || c->s[c->pos] == ',' || c->s[c->pos] == '\0')
		return add_requirement(sel, key, klen,
				       negated ? RECAP_KUBE_SEL_NOT_EXISTS : RECAP_KUBE_SEL_EXISTS, &r, err);
	if (accept(c, "==") || accept(c, "=")) {
		rc = add_requirement(sel, key, klen, RECAP_KUBE_SEL_EQUALS, &r, err);
		return rc < 0 ? rc : parse_single_value(c, r, err);
	}
	if (accept(c, "!=")) {
		rc = add_requirement(sel, key, klen, RECAP_KUBE_SEL_NOT_EQUALS, &r, err);
		return rc < 0 ? rc : parse_single_value(c, r, err);
	}
	const char *op;
	size_t oplen = word(c, &op);
	enum recap_kube_selector_op sop;
	if (oplen == 2 && strncmp(op, "in", 2) == 0)
		sop = RECAP_KUBE_SEL_IN;
	else if (oplen == 5 && strncmp(op, "notin", 5) == 0)
		sop = RECAP_KUBE_SEL_NOT_IN;
	else
		return syntax_error(c, "an operator (=, ==, !=, in, notin)", err);
	rc = add_requirement(sel, key, klen, sop, &r, err);
	return rc < 0 ? rc : parse_set(c, r, err);
}

int recap_kube_selector_parse(const char *s, struct recap_kube_selector **ret, struct recap_error **err)
{
	size_t len = strnlen(s, RECAP_KUBE_SELECTOR_MAX_BYTES + 1);
	if (len > RECAP_KUBE_SELECTOR_MAX_BYTES)
		return recap_error_set(err, E2BIG, "label selector longer than %d bytes",
				       RECAP_KUBE_SELECTOR_MAX_BYTES);
	_cleanup_selector_ struct recap_kube_selector *sel = calloc(1, sizeof(*sel));
	if (!sel)
		return recap_error_set(err, ENOMEM, "label selector: out of memory");
	struct cursor c = {.s = s};
	skip_space(&c);
	while (s[c.pos]) {
		int rc = parse_requirement(&c, sel, err);
		if (rc < 0)
			return rc;
		skip_space(&c);
		if (s[c.pos] && !accept(&c, ","))
			return syntax_error(&c, "',' between requirements", err);
		if (s[c.pos - 1] == ',' && !s[c.pos])
			return syntax_error(&c, "a requirement after ','", err);
	}
	*ret = steal_ptr(sel);
	return 0;
}

/* ---- metav1.LabelSelector ---- */

static int parse_op(const char *s, enum recap_kube_selector_op *ret)
{
	static const struct {
		const char *name;
		enum recap_kube_selector_op op;
	} ops[] = {
	    {"In", RECAP_KUBE_SEL_IN},
	    {"NotIn", RECAP_KUBE_SEL_NOT_IN},
	    {"Exists", RECAP_KUBE_SEL_EXISTS},
	    {"DoesNotExist", RECAP_KUBE_SEL_NOT_EXISTS},
	};
	for (size_t i = 0; s && i < ARRAY_SIZE(ops); i++)
		if (strcmp(s, ops[i].name) == 0) {
			*ret = ops[i].op;
			return 0;
		}
	return -EINVAL;
}

static int add_checked(struct recap_kube_selector *sel, const char *key, enum recap_kube_selector_op op,
		       struct recap_kube_requirement **ret, struct recap_error **err)
{
	int rc = recap_kube_label_key_check(key, strlen(key), err);
	return rc < 0 ? rc : add_requirement(sel, key, strlen(key), op, ret, err);
}

static int from_match_labels(struct recap_kube_selector *sel, json_t *ml, struct recap_error **err)
{
	if (ml && !json_is_object(ml))
		return recap_error_set(err, EINVAL, "matchLabels: not an object");
	const char *key;
	json_t *v;
	json_object_foreach (ml, key, v) {
		if (!json_is_string(v))
			return recap_error_set(err, EINVAL, "matchLabels.%s: not a string", key);
		struct recap_kube_requirement *r;
		int rc = add_checked(sel, key, RECAP_KUBE_SEL_EQUALS, &r, err);
		if (rc >= 0)
			rc = add_value(r, json_string_value(v), json_string_length(v), err);
		if (rc < 0)
			return recap_error_wrap(err, rc, "matchLabels");
	}
	return 0;
}

static int from_expression(struct recap_kube_selector *sel, json_t *e, struct recap_error **err)
{
	const char *key = json_string_value(json_object_get(e, "key"));
	const char *opname = json_string_value(json_object_get(e, "operator"));
	json_t *values = json_object_get(e, "values");
	enum recap_kube_selector_op op;
	if (!key)
		return recap_error_set(err, EINVAL, "key: missing");
	if (parse_op(opname, &op) < 0)
		return recap_error_set(err, EINVAL, "operator '%s': want In, NotIn, Exists or DoesNotExist",
				       opname ? opname : "");
	if (values && !json_is_array(values))
		return recap_error_set(err, EINVAL, "values: not an array");
	bool want_values = op == RECAP_KUBE_SEL_IN || op == RECAP_KUBE_SEL_NOT_IN;
	if (want_values != (json_array_size(values) > 0))
		return recap_error_set(err, EINVAL, "values: %s must %s", opname,
				       want_values ? "have at least one value" : "have no values");
	struct recap_kube_requirement *r;
	int rc = add_checked(sel, key, op, &r, err);
	size_t i;
	json_t *v;
	json_array_foreach (values, i, v) {
		if (rc < 0)
			break;
		if (!json_is_string(v))
			return recap_error_set(err, EINVAL, "values[%zu]: not a string", i);
		rc = add_value(r, json_string_value(v), json_string_length(v), err);
	}
	return rc;
}

int recap_kube_selector_from_json(json_t *j, struct recap_kube_selector **ret, struct recap_error **err)
{
	_cleanup_selector_ struct recap_kube_selector *sel = calloc(1, sizeof(*sel));
	if (!sel)
		return recap_error_set(err, ENOMEM, "label selector: out of memory");
	if (!j || json_is_null(j)) {
		sel->nothing = true;
		*ret = steal_ptr(sel);
		return 0;
	}
	if (!json_is_object(j))
		return recap_error_set(err, EINVAL, "label selector: not an object");
	int rc = from_match_labels(sel, json_object_get(j, "matchLabels"), err);
	if (rc < 0)
		return recap_error_wrap(err, rc, "label selector");
	json_t *exprs = json_object_get(j, "matchExpressions");
	if (exprs && !json_is_array(exprs))
		return recap_error_set(err, EINVAL, "label selector: matchExpressions: not an array");
	size_t i;
	json_t *e;
	json_array_foreach (exprs, i, e) {
		rc = from_expression(sel, e, err);
		if (rc < 0)
			return recap_error_wrap(err, rc, "label selector: matchExpressions[%zu]", i);
	}
	*ret = steal_ptr(sel);
	return 0;
}

/* ---- matching and formatting ---- */

static bool has_value(const struct recap_kube_requirement *r, const char *v)
{
	for (size_t i = 0; i < r->nvalues; i++)
		if (strcmp(r->values[i], v) == 0)
			return true;
	return false;
}

static bool requirement_matches(const struct recap_kube_requirement *r, json_t *labels)
{
	const char *v = json_string_value(json_object_get(labels, r->key));
	switch (r->op) {
	case RECAP_KUBE_SEL_EQUALS:
	case RECAP_KUBE_SEL_IN:
		return v && has_value(r, v);
	case RECAP_KUBE_SEL_NOT_EQUALS:
	case RECAP_KUBE_SEL_NOT_IN:
		return !v || !has_value(r, v);
	case RECAP_KUBE_SEL_EXISTS:
		return v != NULL;
	case RECAP_KUBE_SEL_NOT_EXISTS:
		return v == NULL;
	}
	return false;
}

bool recap_kube_selector_matches(const struct recap_kube_selector *sel, json_t *labels)
{
	if (sel->nothing)
		return false;
	for (size_t i = 0; i < sel->n; i++)
		if (!requirement_matches(&sel->reqs[i], labels))
			return false;
	return true;
}

static int format_requirement(const struct recap_kube_requirement *r, struct recap_buf *b)
{
	static const char *const ops[] = {
	    [RECAP_KUBE_SEL_EQUALS] = "=",
	    [RECAP_KUBE_SEL_NOT_EQUALS] = "!=",
	    [RECAP_KUBE_SEL_IN] = " in (",
	    [RECAP_KUBE_SEL_NOT_IN] = " notin (",
	};
	if (r->op == RECAP_KUBE_SEL_EXISTS)
		return recap_buf_appends(b, r->key);
	if (r->op == RECAP_KUBE_SEL_NOT_EXISTS)
		return recap_buf_printf(b, "!%s", r->key);
	int rc = recap_buf_printf(b, "%s%s", r->key, ops[r->op]);
	for (size_t i = 0; rc >= 0 && i < r->nvalues; i++)
		rc = recap_buf_printf(b, "%s%s", i ? "," : "", r->values[i]);
	if (rc >= 0 && (r->op == RECAP_KUBE_SEL_IN || r->op == RECAP_KUBE_SEL_NOT_IN))
		rc = recap_buf_appends(b, ")");
	return rc;
}

int recap_kube_selector_format(const struct recap_kube_selector *sel, struct recap_buf *b)
{
	if (sel->nothing)
		return -EINVAL;
	for (size_t i = 0; i < sel->n; i++) {
		int rc = i ? recap_buf_appends(b, ",") : 0;
		if (rc >= 0)
			rc = format_requirement(&sel->reqs[i], b);
		if (rc < 0)
			return rc;
	}
	return 0;
}

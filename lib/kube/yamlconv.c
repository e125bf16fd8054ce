#include "kube/yamlconv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/cleanup.h"

struct conv {
	yaml_document_t *doc;
	size_t nodes;
	int code; /* first error's errno */
	struct recap_error **err;
};

static json_t *node_to_json(struct conv *cv, yaml_node_t *node, int depth);

static json_t *plain_scalar(const char *s, size_t len)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0)
		return json_true();
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0)
		return json_false();
	if (strcmp(s, "null") == 0 || strcmp(s, "~") == 0 || len == 0)
		return json_null();
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno == 0 && end && *end == '\0' && end != s)
		return json_integer(v);
	/* Decimals like 0.5 or 1e3; not inf/nan or hex, which stay strings. */
	if (strspn(s, "0123456789+-.eE") == len) {
		errno = 0;
		double d = strtod(s, &end);
		if (errno == 0 && end && *end == '\0' && end != s)
			return json_real(d);
	}
	return json_stringn(s, len);
}

static json_t *scalar_to_json(yaml_node_t *node)
{
	const char *s = (const char *)node->data.scalar.value;
	size_t len = node->data.scalar.length;
	if (strlen(s) != len)
		return NULL; /* embedded NUL */
	if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		return plain_scalar(s, len);
	return json_stringn(s, len);
}

static json_t *seq_to_json(struct conv *cv, yaml_node_t *node, int depth)
{
	json_t *arr = json_array();
	for (yaml_node_item_t *it = node->data.sequence.items.start;
	     arr && it < node->data.sequence.items.top; it++) {
		json_t *v = node_to_json(cv, yaml_document_get_node(cv->doc, *it), depth + 1);
		if (!v || json_array_append_new(arr, v) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *map_to_json(struct conv *cv, yaml_node_t *node, int depth)
{
	json_t *obj = json_object();
	for (yaml_node_pair_t *p = node->data.mapping.pairs.start; obj && p < node->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(cv->doc, p->key);
		if (!k || k->type != YAML_SCALAR_NODE) {
			cv->code = recap_error_set(cv->err, EINVAL, "line %zu: mapping key is not a scalar",
						   k ? k->start_mark.line + 1 : 0);
			json_decref(obj);
			return NULL;
		}
		json_t *v = node_to_json(cv, yaml_document_get_node(cv->doc, p->value), depth + 1);
		if (!v || json_object_setn_new(obj, (const char *)k->data.scalar.value, k->data.scalar.length,
					       v) < 0) {
			json_decref(obj);
			return NULL;
		}
	}
	return obj;
}

static json_t *node_to_json(struct conv *cv, yaml_node_t *node, int depth)
{
	if (!node)
		return NULL;
	if (depth > RECAP_KUBE_YAML_MAX_DEPTH) {
		cv->code = recap_error_set(cv->err, EINVAL, "line %zu: nested deeper than %d levels",
					   node->start_mark.line + 1, RECAP_KUBE_YAML_MAX_DEPTH);
		return NULL;
	}
	if (++cv->nodes > RECAP_KUBE_YAML_MAX_NODES) {
		cv->code = recap_error_set(cv->err, E2BIG, "more than %d nodes (aliases expanded)",
					   RECAP_KUBE_YAML_MAX_NODES);
		return NULL;
	}
	switch (node->type) {
	case YAML_SCALAR_NODE:
		return scalar_to_json(node);
	case YAML_SEQUENCE_NODE:
		return seq_to_json(cv, node, depth);
	case YAML_MAPPING_NODE:
		return map_to_json(cv, node, depth);
	default:
		return NULL;
	}
}

int recap_kube_yaml_parse(const char *data, size_t len, json_t **ret, struct recap_error **err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&parser))
		return recap_error_set(err, ENOMEM, "cannot initialize the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &doc)) {
		int r = recap_error_set(err, EINVAL, "invalid YAML at line %zu column %zu: %s",
					parser.problem_mark.line + 1, parser.problem_mark.column + 1,
					parser.problem ? parser.problem : "parse error");
		yaml_parser_delete(&parser);
		return r;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	struct conv cv = {.doc = &doc, .err = err};
	json_t *v = root ? node_to_json(&cv, root, 0) : json_object();
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (!v)
		return cv.code ? cv.code
			       : recap_error_set(err, EINVAL, "YAML holds an unsupported node or NUL byte");
	*ret = v;
	return 0;
}

/* JSON to YAML with libyaml's emitter: see yamlout.h. */
#include "yamlout.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "sanitize.h"

/* Plain scalars YAML 1.1 or 1.2 resolvers read as something else. */
static bool needs_quotes(const char *s)
{
	static const char *const special[] = {"true", "false", "yes", "no",   "on",    "off",	"y",
					      "n",    "null",  "~",   ".inf", "-.inf", "+.inf", ".nan"};
	if (!*s)
		return true;
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (strcasecmp(s, special[i]) == 0)
			return true;
	char *end;
	(void)strtod(s, &end);
	if (*end == '\0')
		return true; /* 42, 1e3, 0x1f, .5, inf, nan */
	return strchr("0123456789+-.", s[0]) && strspn(s, "0123456789_:.+-eE") == strlen(s);
}

static int emit(yaml_emitter_t *em, yaml_event_t *ev)
{
	return yaml_emitter_emit(em, ev) ? 0 : -EIO;
}

static int scalar(yaml_emitter_t *em, const char *s, bool plain_only)
{
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
	if (!plain_only && (needs_quotes(s) || plugin_has_bidi_control(s)))
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE; /* a bidi control: escaped in print_doc */
	else if (!plain_only && strchr(s, '\n'))
		style = YAML_LITERAL_SCALAR_STYLE;
	yaml_event_t ev;
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1, style))
		return -ENOMEM;
	return emit(em, &ev);
}

static int node(yaml_emitter_t *em, json_t *v);

static int mapping(yaml_emitter_t *em, json_t *v)
{
	yaml_event_t ev;
	yaml_mapping_start_event_initialize(
	    &ev, NULL, NULL, 1, json_object_size(v) ? YAML_BLOCK_MAPPING_STYLE : YAML_FLOW_MAPPING_STYLE);
	int r = emit(em, &ev);
	const char *k;
	json_t *x;
	json_object_foreach (v, k, x) {
		if (r >= 0)
			r = scalar(em, k, false);
		if (r >= 0)
			r = node(em, x);
	}
	yaml_mapping_end_event_initialize(&ev);
	return r < 0 ? r : emit(em, &ev);
}

static int sequence(yaml_emitter_t *em, json_t *v)
{
	yaml_event_t ev;
	yaml_sequence_start_event_initialize(
	    &ev, NULL, NULL, 1, json_array_size(v) ? YAML_BLOCK_SEQUENCE_STYLE : YAML_FLOW_SEQUENCE_STYLE);
	int r = emit(em, &ev);
	size_t i;
	json_t *x;
	json_array_foreach (v, i, x)
		if (r >= 0)
			r = node(em, x);
	yaml_sequence_end_event_initialize(&ev);
	return r < 0 ? r : emit(em, &ev);
}

static int node(yaml_emitter_t *em, json_t *v)
{
	char num[64];
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return mapping(em, v);
	case JSON_ARRAY:
		return sequence(em, v);
	case JSON_STRING:
		return scalar(em, json_string_value(v), false);
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return scalar(em, num, true);
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		return scalar(em, num, true);
	case JSON_TRUE:
		return scalar(em, "true", true);
	case JSON_FALSE:
		return scalar(em, "false", true);
	default:
		return scalar(em, "null", true);
	}
}

int plugin_yaml_write(FILE *f, json_t *v)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	if (!yaml_emitter_initialize(&em))
		return -ENOMEM;
	yaml_emitter_set_output_file(&em, f);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	int r = emit(&em, &ev);
	if (r >= 0) {
		yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
		r = emit(&em, &ev);
	}
	if (r >= 0)
		r = node(&em, v);
	if (r >= 0) {
		yaml_document_end_event_initialize(&ev, 1);
		r = emit(&em, &ev);
	}
	if (r >= 0) {
		yaml_stream_end_event_initialize(&ev);
		r = emit(&em, &ev);
	}
	yaml_emitter_delete(&em);
	return r;
}

/* JSON values written as YAML with libyaml's emitter (-o yaml). Strings that
 * would read back as another type ("true", "42", "null", "") are quoted, and
 * multi-line strings use the literal block style, so the YAML parses back to
 * the same JSON. */
#pragma once

#include <jansson.h>
#include <stdio.h>

/* One document. Returns 0 or -EIO when the emitter fails. */
int plugin_yaml_write(FILE *f, json_t *v);

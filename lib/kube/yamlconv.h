/* YAML (one document) to a jansson tree, for kubeconfig files. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "base/error.h"

#define RECAP_KUBE_YAML_MAX_DEPTH 64
#define RECAP_KUBE_YAML_MAX_NODES 200000

/* Plain scalars true/false/null and integers become JSON values; everything
 * else is a string. Aliases are expanded, bounded by MAX_NODES (so a
 * "billion laughs" document is an error). An empty document is {}. */
int recap_kube_yaml_parse(const char *data, size_t len, json_t **ret, struct recap_error **err);

/* recap-kube: a small client for manual use and scripts. */
#pragma once

#include <stdbool.h>

#include "kube/client.h"
#include "kube/watch.h"

struct tool {
	uv_loop_t loop;
	struct recap_kube_client *c;
	const char *ns;
	struct recap_kube_resource res;
	const char *name;     /* object name or NULL */
	const char *file;     /* apply: YAML or JSON file */
	const char *selector; /* list/watch: label selector */
	const char *manager;  /* apply: field manager */
	bool force;
};

int tool_parse_resource(char *spec, bool cluster_scoped, struct recap_kube_resource *res);

int tool_get(struct tool *t);
int tool_list(struct tool *t);
int tool_watch(struct tool *t);
int tool_apply(struct tool *t);
int tool_delete(struct tool *t);

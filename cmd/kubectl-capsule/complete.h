/* Shell completion (pure: unit-tested): what to offer for the word being
 * typed, given the words before it, as cobra's __complete protocol has it
 * (kubectl >= 1.26 runs kubectl_complete-capsule ARGS... PARTIAL for
 * `kubectl capsule <TAB>`): candidates one a line ("value\tdescription"),
 * then ":DIRECTIVE". Candidates that live in the cluster (runs, pods,
 * namespaces, ...) are asked for through a callback. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "args.h"
#include "targets.h"

/* cobra's ShellCompDirective bits */
#define PLUGIN_COMP_DEFAULT 0 /* the shell may offer files */
#define PLUGIN_COMP_NOSPACE 2
#define PLUGIN_COMP_NOFILE 4

enum plugin_comp_source {
	PLUGIN_COMP_RUNS,
	PLUGIN_COMP_PODS,
	PLUGIN_COMP_CAPSULES,
	PLUGIN_COMP_NAMESPACES,
	PLUGIN_COMP_WORKLOADS, /* of comp_request.kind */
};

struct plugin_comp_request {
	enum plugin_comp_source source;
	enum plugin_kind kind; /* PLUGIN_COMP_WORKLOADS */
	const char *prefix;    /* prepended to each name ("deploy/", or "" ) */
	const char *suffix;    /* appended (":" for cp's RUN:) */
};

/* Prints the names of what req asks for that start with partial (after
 * req->prefix), each with the prefix and suffix, one a line. g: the
 * connection flags found among the words. Errors print nothing. */
typedef void (*plugin_comp_lister)(const struct plugin_globals *g, const struct plugin_comp_request *req,
				   const char *partial, FILE *out, void *data);

/* words[0..n-1]: the words after `capsule`, the last one being the word
 * being completed (maybe ""). Writes the candidates and the directive. */
void plugin_complete(char **words, int n, FILE *out, plugin_comp_lister list, void *data);

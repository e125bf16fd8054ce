/* Options shared by `capsule run` and `capsule attach`. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "oci_opts.h"
#include "runtime/spec.h"
#include "verbs.h"

struct run_cli {
	struct recap_run_spec spec;
	const struct capsule_globals *globals;
	const char *root;
	const char *cgroup_parent;
	bool json;		     /* -o json */
	struct capsule_oci_opts oci; /* checked here, used by capsule-pull */
};

/* Parses argv into c (argv[0] is the verb). Returns 0, or the exit status
 * to end with (2 for usage errors, 0 after --help). */
int run_cli_parse(struct run_cli *c, const struct capsule_globals *g, int argc, char **argv, bool attach);
void run_cli_free(struct run_cli *c);
/* --image: fills c->spec's layers (lowest first) and image config from the
 * node store (pulled by capsule-pull if needed) and says how long that took. Prints its
 * own error and returns < 0 on failure. */
int capsule_image_resolve(struct run_cli *c, uint64_t *ret_pull_ms);
/* Runs the parsed spec (tty: attach) and returns the exit status. */
int capsule_run_execute(struct run_cli *c, bool tty);

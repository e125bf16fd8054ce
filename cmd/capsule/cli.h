/* What capsule and capsule-pull share: the global options and the verb
 * dispatch. */
#pragma once

#include <stddef.h>

#include "verbs.h"

struct capsule_verb {
	const char *name;
	capsule_verb_fn fn;
	const char *summary;
};

/* Parses the global options, then runs the verb named next; returns the
 * process exit status. */
int capsule_cli_main(const char *prog, const struct capsule_verb *verbs, size_t n_verbs, int argc,
		     char **argv);

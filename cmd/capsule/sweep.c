/* capsule sweep: not wired yet; lib/runtime lands next. */
#include <stdio.h>

#include "verbs.h"

int capsule_verb_sweep(const struct capsule_globals *g, int argc, char **argv)
{
	fprintf(stderr, "capsule sweep: not available in this build yet\n");
	return 2;
}

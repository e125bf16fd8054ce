/* capsule attach: an interactive shell attached to a container, with a real
 * PTY (resize, Ctrl-C/Ctrl-D passed through), escape on exit. */
#include <stdio.h>
#include <unistd.h>

#include "runopts.h"
#include "verbs.h"

int capsule_verb_attach(const struct capsule_globals *g, int argc, char **argv)
{
	struct run_cli c = {0};
	int r = run_cli_parse(&c, g, argc, argv, true);
	if (r == 0)
		r = capsule_run_execute(&c, true);
	run_cli_free(&c);
	return r < 0 ? 0 : r;
}

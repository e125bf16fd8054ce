/* kubectl capsule logs RUN: each target's output, as the run left it. */
#include <stdio.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "objects.h"
#include "session.h"
#include "verbs.h"

static const char usage[] = "Print each target's output of a CapsuleRun (stdout and stderr tails).\n"
			    "\n"
			    "usage: kubectl capsule logs RUN [-o json|yaml] [--raw]\n"
			    "       [--kubeconfig FILE] [--context NAME] [-n NS]\n"
			    "\n"
			    "A run still going shows what has finished so far. Exit status 0 when the\n"
			    "output was printed, whatever the run's phase.\n"
			    "\n"
			    "Terminal control characters in the output and in messages (escape\n"
			    "sequences, C1 controls, DEL, bidi overrides, a lone CR) and bytes that\n"
			    "are not UTF-8 are shown as visible escapes (^[, \\u009b, \\x9b), on a\n"
			    "terminal and into a pipe alike. --raw writes the output byte for byte.\n";

int plugin_verb_logs(int argc, char **argv)
{
	struct simple_args a = {0};
	struct recap_error *err = NULL;
	if (plugin_parse_simple(argc, argv, "logs", true, true, false, &a, &err) < 0)
		return plugin_fail(err, 2);
	if (a.g.help) {
		fputs(usage, stdout);
		return 0;
	}
	struct session s;
	_cleanup_json_ json_t *run = NULL;
	int r = session_open(&s, &a.g, &err);
	if (r >= 0)
		r = session_get(&s, &plugin_res_runs, s.ns, "capsulerun", a.name, &run, &err);
	int shown = r < 0 ? -1 : plugin_show_results(&s, run, a.g.output, a.g.raw);
	session_close(&s);
	if (r < 0)
		return plugin_fail(err, 1);
	return shown < 0 ? 1 : 0;
}

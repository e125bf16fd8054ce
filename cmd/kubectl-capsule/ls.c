/* kubectl capsule ls: the CapsuleRuns of a namespace, as a table or a List. */
#include <stdio.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "format.h"
#include "objects.h"
#include "session.h"
#include "verbs.h"

static const char usage[] = "List CapsuleRuns (what kubectl get capsuleruns shows).\n"
			    "\n"
			    "usage: kubectl capsule ls [-l SELECTOR] [-A] [-o json|yaml]\n"
			    "       [--kubeconfig FILE] [--context NAME] [-n NS]\n";

int plugin_verb_ls(int argc, char **argv)
{
	struct simple_args a = {0};
	struct recap_error *err = NULL;
	if (plugin_parse_simple(argc, argv, "ls", false, true, true, &a, &err) < 0)
		return plugin_fail(err, 2);
	if (a.g.help) {
		fputs(usage, stdout);
		return 0;
	}
	struct session s;
	_cleanup_json_ json_t *list = NULL;
	int r = session_open(&s, &a.g, &err);
	if (r >= 0)
		r = session_list(&s, &plugin_res_runs, a.all_namespaces ? NULL : s.ns, a.selector, NULL,
				 &list, &err);
	if (r >= 0 && a.g.output == PLUGIN_OUT_TEXT && json_array_size(json_object_get(list, "items")) == 0)
		fprintf(stderr, a.all_namespaces ? "No CapsuleRuns.\n" : "No CapsuleRuns in namespace %s.\n",
			s.ns);
	else if (r >= 0 && a.g.output == PLUGIN_OUT_TEXT)
		plugin_print_runs(stdout, list, time(NULL), a.all_namespaces);
	else if (r >= 0)
		plugin_print_doc(stdout, list, a.g.output, false);
	session_close(&s);
	return r < 0 ? plugin_fail(err, 1) : 0;
}

/* kubectl capsule cancel RUN: spec.cancel=true; the controller stops what
 * runs (caplet kills and escapes it) and starts nothing more. */
#include <errno.h>
#include <stdio.h>

#include "api/types.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "format.h"
#include "objects.h"
#include "session.h"
#include "verbs.h"

static const char usage[] =
    "Cancel a CapsuleRun: running executions are killed and escaped, pending\n"
    "ones never start (spec.cancel, which cannot be undone).\n"
    "\n"
    "usage: kubectl capsule cancel RUN [--kubeconfig FILE] [--context NAME] [-n NS]\n";

static int cancel(struct session *s, const char *name, struct recap_error **err)
{
	_cleanup_json_ json_t *run = NULL, *patch = json_pack("{s:{s:b}}", "spec", "cancel", 1);
	int r = session_get(s, &plugin_res_runs, s->ns, "capsulerun", name, &run, err);
	if (r < 0)
		return r;
	if (plugin_run_finished(run))
		return recap_error_set(err, EALREADY, "run %s already finished (%s): nothing to cancel", name,
				       recap_json_str(run, RECAP_API_RUN_STATUS_PHASE));
	return session_merge_patch(s, &plugin_res_runs, "capsulerun", name, patch, NULL, err);
}

int plugin_verb_cancel(int argc, char **argv)
{
	struct simple_args a = {0};
	struct recap_error *err = NULL;
	if (plugin_parse_simple(argc, argv, "cancel", true, false, false, &a, &err) < 0)
		return plugin_fail(err, 2);
	if (a.g.help) {
		fputs(usage, stdout);
		return 0;
	}
	struct session s;
	int r = session_open(&s, &a.g, &err);
	if (r >= 0)
		r = cancel(&s, a.name, &err);
	session_close(&s);
	if (r < 0)
		return plugin_fail(err, 1);
	printf("capsulerun.recap.dev/%s cancelled\n", a.name);
	return 0;
}

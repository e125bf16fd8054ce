/* kubectl capsule describe RUN: the run, the capsule spec it ran with, its
 * failures, executions and Events, as kubectl describe shows an object. */
#include <stdio.h>
#include <time.h>

#include "api/names.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "describe.h"
#include "objects.h"
#include "sanitize.h"
#include "session.h"
#include "verbs.h"

static const char usage[] =
    "Describe a CapsuleRun: its capsule, trigger, phase, counts and times, the capsule\n"
    "spec it ran with (image and digest, command), its failures, each execution (pod,\n"
    "container, node, phase, exit code) and the run's recent Events.\n"
    "\n"
    "usage: kubectl capsule describe RUN [--kubeconfig FILE] [--context NAME] [-n NS]\n";

static const struct recap_kube_resource res_events = {"", "v1", "events", true};

static int describe(struct session *s, const char *name, struct recap_error **err)
{
	_cleanup_json_ json_t *run = NULL, *execs = NULL, *events = NULL;
	int r = session_get(s, &plugin_res_runs, s->ns, "capsulerun", name, &run, err);
	if (r < 0)
		return r;
	char selector[320], fields[400];
	snprintf(selector, sizeof(selector), RECAP_LABEL_RUN "=%s", name);
	r = session_list(s, &plugin_res_executions, s->ns, selector, NULL, &execs, err);
	if (r < 0)
		return recap_error_wrap(err, r, "listing the executions of run %s", name);
	/* as kubectl describe: the Events whose involvedObject is the run */
	snprintf(fields, sizeof(fields), "involvedObject.name=%s,involvedObject.kind=%s", name,
		 RECAP_KIND_CAPSULE_RUN);
	struct recap_error *e = NULL;
	if (session_list(s, &res_events, s->ns, NULL, fields, &events, &e) < 0) {
		plugin_printf_safe(stderr, "warning: the run's events: %s\n", recap_error_message(e));
		recap_error_free(e);
	}
	plugin_print_describe(stdout, run, execs, events, (time_t)recap_kube_client_now(s->c));
	return 0;
}

int plugin_verb_describe(int argc, char **argv)
{
	struct simple_args a = {0};
	struct recap_error *err = NULL;
	if (plugin_parse_simple(argc, argv, "describe", true, false, false, &a, &err) < 0)
		return plugin_fail(err, 2);
	if (a.g.help) {
		fputs(usage, stdout);
		return 0;
	}
	struct session s;
	int r = session_open(&s, &a.g, &err);
	if (r >= 0)
		r = describe(&s, a.name, &err);
	session_close(&s);
	return r < 0 ? plugin_fail(err, 1) : 0;
}

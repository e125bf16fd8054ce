/* kubectl capsule logs RUN: each target's whole output, from the node that
 * ran it through recap-apiserver (subresources.recap.dev); -f follows one
 * target as it runs. --tails (or -o json|yaml) shows the tails the run's
 * status holds instead. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>

#include "api/names.h"
#include "api/types.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "format.h"
#include "objects.h"
#include "sanitize.h"
#include "session.h"
#include "stream.h"
#include "verbs.h"

static const char usage[] = "Print each target's output of a CapsuleRun.\n"
			    "\n"
			    "usage: kubectl capsule logs RUN [-f] [--target POD] [--limit-bytes N] [--raw]\n"
			    "       kubectl capsule logs RUN --tails [-o json|yaml] [--raw]\n"
			    "       [--kubeconfig FILE] [--context NAME] [-n NS]\n"
			    "\n"
			    "The whole output (stdout and stderr in the order they came, as the node\n"
			    "keeps it for the Capsule's output.retentionSeconds) comes from the node\n"
			    "that ran each target, through the API server's aggregation layer\n"
			    "(capsuleruns/log in subresources.recap.dev: RBAC 'get' on it, which the\n"
			    "view role holds). -f follows one target while it runs (--target names it\n"
			    "when the run has several). --tails, or -o json|yaml, shows the last bytes\n"
			    "the run's status holds instead; a cluster without recap-apiserver gets\n"
			    "those, with a note. Exit status 0 when the output was printed.\n"
			    "\n"
			    "Terminal control characters in the output and in messages (escape\n"
			    "sequences, C1 controls, DEL, bidi overrides, a lone CR) and bytes that\n"
			    "are not UTF-8 are shown as visible escapes (^[, \\u009b, \\x9b), on a\n"
			    "terminal and into a pipe alike. --raw writes the output byte for byte.\n";

static int path_of(char *out, size_t len, const char *ns, const char *run, const char *pod,
		   const struct simple_args *a)
{
	int n = snprintf(out, len, "/apis/%s/namespaces/%s/capsuleruns/%s/log?",
			 RECAP_SUBRESOURCES_GROUP_VERSION, ns, run);
	if (*pod)
		n += snprintf(out + n, len - (size_t)n, "&target=%s", pod);
	if (a->follow)
		n += snprintf(out + n, len - (size_t)n, "&follow=true");
	if (a->limit_bytes)
		n += snprintf(out + n, len - (size_t)n, "&limitBytes=%lld", a->limit_bytes);
	return (size_t)n < len ? 0 : -1;
}

/* One target's whole log; PLUGIN_STREAM_UNSERVED when recap-apiserver is not there. */
static int one(struct session *s, const char *run, const char *pod, const struct simple_args *a)
{
	char path[1024];
	struct recap_error *err = NULL;
	if (path_of(path, sizeof(path), s->ns, run, pod, a) < 0) {
		recap_error_set(&err, ENAMETOOLONG, "the log's path is too long");
		return plugin_fail(err, -1);
	}
	int r = plugin_stream(s, path, stdout, a->g.raw, &err);
	if (r < 0) {
		recap_error_wrap(&err, r, "the log of pod %s", pod);
		plugin_fail(err, -1);
	}
	return r;
}

static int tails(struct session *s, json_t *run, const struct simple_args *a, const char *note)
{
	if (note)
		fputs(note, stderr);
	/* printed: 0, whatever the run's phase */
	return plugin_show_results(s, run, a->g.output, a->g.raw) < 0 ? -1 : 0;
}

static int whole(struct session *s, json_t *run, const struct simple_args *a)
{
	const char *name = recap_api_meta_name(run);
	const char *unserved =
	    "note: recap-apiserver (subresources.recap.dev) does not answer in this cluster: "
	    "showing the tails the run's status holds\n";
	if (a->target || a->follow) {
		int r = one(s, name, a->target ? a->target : "", a);
		if (r == PLUGIN_STREAM_UNSERVED)
			fprintf(
			    stderr,
			    "error: following a log needs recap-apiserver (subresources.recap.dev), which "
			    "this cluster does not serve; --tails shows the status tails\n");
		return r == 0 ? 0 : 1;
	}
	char why[256];
	if (plugin_log_served(s, name, why, sizeof(why)) == PLUGIN_STREAM_UNSERVED)
		return tails(s, run, a, unserved); /* before any header is printed */
	char selector[320];
	snprintf(selector, sizeof(selector), RECAP_LABEL_RUN "=%s", name);
	_cleanup_json_ json_t *execs = NULL, *doc = NULL;
	struct recap_error *err = NULL;
	if (session_list(s, &plugin_res_executions, s->ns, selector, NULL, &execs, &err) < 0 ||
	    !(doc = plugin_results_doc(run, execs)))
		return plugin_fail(err, 1);
	size_t i;
	json_t *res;
	json_array_foreach (json_object_get(doc, "results"), i, res) {
		plugin_print_result_header(stdout, res);
		fflush(stdout);
		int r = one(s, name, recap_json_str(res, "pod") ?: "", a);
		if (r == PLUGIN_STREAM_UNSERVED && i == 0)
			return tails(s, run, a, unserved);
		if (r != 0)
			return 1;
	}
	return 0;
}

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
	int shown = r < 0				       ? -1
		    : a.tails || a.g.output != PLUGIN_OUT_TEXT ? tails(&s, run, &a, NULL)
							       : whole(&s, run, &a);
	session_close(&s);
	if (r < 0)
		return plugin_fail(err, 1);
	return shown < 0 ? 1 : shown;
}

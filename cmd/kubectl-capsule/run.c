/* kubectl capsule run: an ad hoc capsule (IMAGE) or an existing Capsule
 * (--capsule) on pods, wait for the run, print every target's output: live
 * through recap-apiserver (each target's log followed), or the tails the
 * status holds (--no-stream, -o json|yaml, a cluster without it). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/types.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "format.h"
#include "objects.h"
#include "api/names.h"
#include "resolve.h"
#include "sanitize.h"
#include "session.h"
#include "stream.h"
#include "verbs.h"
#include "wait.h"

#define NAME_ATTEMPTS 5

static const char usage[] =
    "Run a capsule on pods and print each target's output.\n"
    "\n"
    "usage: kubectl capsule run IMAGE (TARGET... | -l SELECTOR) [flags] [-- COMMAND ARGS...]\n"
    "       kubectl capsule run --capsule NAME [TARGET...] [flags]\n"
    "\n"
    "targets:\n"
    "  TARGET                POD, pod/POD, or a workload: deploy/NAME, sts/NAME, ds/NAME,\n"
    "                        rs/NAME, job/NAME (long forms too: deployment.apps/NAME): the\n"
    "                        pods its spec.selector matches, less the finished ones\n"
    "  --pod NAME[,NAME]     target pod (repeatable; at most 1000 pods in all)\n"
    "  -l, --selector SEL    target the pods matching a label selector (a=b,c in (d),!e)\n"
    "  -c, --container NAME  the pod's container (default: its first)\n"
    "  --capsule NAME        fire an existing Capsule (its own image, command and targets)\n"
    "capsule (ad hoc runs):\n"
    "  --join LIST           namespaces to share: net,pid,ipc,uts,cgroup (default net,pid,ipc,uts)\n"
    "  --target-fs MODE      target root at /target: None, ReadOnly (default), ReadWrite\n"
    "  --cap-add CAP[,CAP]   capabilities on top of the default set (repeatable)\n"
    "  --cap-drop CAP[,CAP]  capabilities taken from the default set, or ALL (repeatable)\n"
    "  --env NAME=VALUE      environment variable (repeatable)\n"
    "  --image-pull-secret NAME  a Secret with the image's registry credentials (repeatable)\n"
    "  --timeout SECONDS     per-target deadline (default 300)\n"
    "  --strategy S          Parallel (default: all at once) or Iterative (one after another)\n"
    "  --max-concurrent N    Iterative batch size\n"
    "waiting:\n"
    "  --no-stream           print the output once the run ended (the status tails) instead\n"
    "                        of following each target's log as it runs\n"
    "  --no-wait             create the run and return\n"
    "  --wait-timeout S      stop waiting after S seconds (the run goes on; default: no limit)\n"
    "  --rm                  delete the run (and its generated Capsule) after printing\n"
    "  -o, --output FORMAT   json or yaml: a results document instead of text\n"
    "  --raw                 each target's output byte for byte (default: terminal control\n"
    "                        characters shown as visible escapes such as ^[ and \\u009b)\n"
    "connection: --kubeconfig FILE, --context NAME, -n/--namespace NS\n"
    "\n"
    "The output is streamed as the targets write it (kubectl logs -f), through the\n"
    "API server's aggregation layer (capsuleruns/log in subresources.recap.dev);\n"
    "with several targets each line is prefixed [POD]. Each target's header and\n"
    "the run's phase then go to stderr. Without recap-apiserver, with --no-stream\n"
    "and with -o json|yaml the output is the tails the run's status holds, after\n"
    "the run ended.\n"
    "\n"
    "Progress goes to stderr, results to stdout. Exit status: 0 when every target\n"
    "succeeded, 1 otherwise, 2 for bad flags, 130 when interrupted while waiting\n"
    "(Ctrl-C stops waiting; the run goes on).\n";

static bool has_pod(json_t *pods, const char *name)
{
	size_t i;
	json_t *p;
	json_array_foreach (pods, i, p)
		if (strcmp(json_string_value(p), name) == 0)
			return true;
	return false;
}

/* Each workload's pods join the run's targets (each pod once). */
static int resolve_workloads(struct session *s, struct run_args *a, struct recap_error **err)
{
	if (a->nworkloads && !a->pods && !(a->pods = json_array()))
		return -ENOMEM;
	for (size_t w = 0; w < a->nworkloads; w++) {
		_cleanup_json_ json_t *pods = NULL;
		int r = plugin_resolve_workload(s, &a->workloads[w], &pods, err);
		if (r < 0)
			return r;
		size_t i;
		json_t *pod;
		json_array_foreach (pods, i, pod) {
			const char *name = recap_api_meta_name(pod);
			if (has_pod(a->pods, name))
				continue;
			if (json_array_size(a->pods) >= PLUGIN_MAX_PODS)
				return recap_error_set(err, E2BIG, "run: more than %d target pods",
						       PLUGIN_MAX_PODS);
			json_array_append_new(a->pods, json_string(name));
		}
	}
	return 0;
}

/* The targets exist before anything is created, so a typo costs nothing. */
static int check_targets(struct session *s, struct run_args *a, struct recap_error **err)
{
	size_t i;
	json_t *pod;
	json_array_foreach (a->pods, i, pod) {
		int r = session_get(s, &plugin_res_pods, s->ns, "pod", json_string_value(pod), NULL, err);
		if (r < 0)
			return r;
	}
	int r = resolve_workloads(s, a, err);
	if (r < 0)
		return r;
	if (a->capsule)
		return session_get(s, &plugin_res_capsules, s->ns, "capsule", a->capsule, NULL, err);
	if (!a->selector)
		return 0;
	_cleanup_json_ json_t *list = NULL;
	r = session_list(s, &plugin_res_pods, s->ns, a->selector, NULL, &list, err);
	if (r < 0)
		return recap_error_wrap(err, r, "listing pods with selector \"%s\"", a->selector);
	if (json_array_size(json_object_get(list, "items")) == 0)
		return recap_error_set(err, ENOENT, "no pods match selector \"%s\" in namespace \"%s\"",
				       a->selector, s->ns);
	return 0;
}

/* The CapsuleRun, under a fresh name (a clash picks another). */
static int create_run(struct session *s, const struct run_args *a, json_t **ret, struct recap_error **err)
{
	const char *base = a->capsule ? a->capsule : a->image;
	int r = -EEXIST;
	for (int i = 0; i < NAME_ATTEMPTS && r == -EEXIST; i++) {
		char suffix[PLUGIN_SUFFIX_LEN + 1];
		plugin_random_suffix(suffix);
		_cleanup_free_ char *name = plugin_run_name(base, suffix);
		_cleanup_json_ json_t *obj = plugin_run_object(name, a->capsule ? a->capsule : name, a->pods);
		if (!name || !obj)
			return -ENOMEM;
		recap_error_free(*err);
		*err = NULL;
		r = session_create(s, &plugin_res_runs, obj, ret, err);
	}
	return r < 0 ? recap_error_wrap(err, r, "creating the CapsuleRun") : r;
}

int plugin_create_objects(struct session *s, const struct run_args *a, json_t **ret, struct recap_error **err)
{
	_cleanup_json_ json_t *run = NULL, *capsule = NULL;
	int r = create_run(s, a, &run, err);
	if (r < 0 || a->capsule)
		goto out;
	const char *name = recap_api_meta_name(run);
	r = plugin_adhoc_capsule(a, name, recap_api_meta_uid(run), &capsule, err);
	if (r >= 0)
		r = session_create(s, &plugin_res_capsules, capsule, NULL, err);
	if (r < 0) {
		recap_error_wrap(err, r, "creating Capsule %s", name);
		session_delete(s, &plugin_res_runs, name, NULL); /* nothing half-made stays */
	}
out:
	if (r >= 0)
		*ret = steal_ptr(run);
	return r;
}

static int no_wait(json_t *run, enum plugin_output output)
{
	if (output == PLUGIN_OUT_TEXT)
		printf("capsulerun.recap.dev/%s created\n", recap_api_meta_name(run));
	else
		plugin_print_doc(stdout, run, output, false);
	return 0;
}

/* Following each target's log while waiting for the run. */
struct live {
	struct session *s;
	const struct run_args *a;
	struct target {
		char pod[254];
		struct plugin_follow *fl;
		bool seen; /* the run has an execution for it (else: an early follow) */
	} * t;
	size_t n;
	bool prefix; /* several targets: each line "[POD] " */
};

static struct target *started(const struct live *l, const char *pod)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->t[i].pod, pod) == 0)
			return &l->t[i];
	return NULL;
}

/* Follows the log of run's target pod; early: the run may have no execution
 * for it yet (recap-apiserver waits for it). */
static int follow_pod(struct live *l, const char *run, const char *pod, bool early, struct recap_error **err)
{
	struct target *t = realloc(l->t, (l->n + 1) * sizeof(*t));
	if (!t)
		return recap_error_set(err, ENOMEM, "out of memory");
	l->t = t;
	t = &l->t[l->n];
	*t = (struct target){.seen = !early};
	snprintf(t->pod, sizeof(t->pod), "%s", pod);
	char path[1024], prefix[260];
	snprintf(path, sizeof(path), "/apis/%s/namespaces/%s/capsuleruns/%s/log?target=%s&follow=true",
		 RECAP_SUBRESOURCES_GROUP_VERSION, l->s->ns, run, pod);
	snprintf(prefix, sizeof(prefix), "[%s] ", pod);
	int r = plugin_follow_start(l->s, path, stdout, l->a->g.raw, l->prefix ? prefix : NULL, &t->fl, err);
	if (r < 0)
		return recap_error_wrap(err, r, "following the log of pod %s", pod);
	l->n++;
	return 0;
}

/* One pod named and no selector: its execution is the run's only one, so
 * its log is followed from the start, not once the run's status counts the
 * execution (recap-apiserver waits for the execution and its start; the
 * first output comes as soon as the node has it). */
static int follow_early(struct live *l, json_t *run, struct recap_error **err)
{
	const struct run_args *a = l->a;
	if (a->selector || json_array_size(a->pods) != 1 || !json_is_string(json_array_get(a->pods, 0)))
		return 0;
	const char *pod = json_string_value(json_array_get(a->pods, 0));
	if (strlen(pod) >= sizeof(l->t[0].pod))
		return 0;
	return follow_pod(l, recap_api_meta_name(run), pod, true, err);
}

/* A follow for each execution that has none yet. */
static int follow_new(json_t *run, void *data, struct recap_error **err)
{
	struct live *l = data;
	const char *name = recap_api_meta_name(run);
	long long targets = recap_api_run_status_targets(run);
	if (targets <= 0 && !plugin_run_finished(run))
		return 0; /* the controller has not made the executions yet */
	_cleanup_json_ json_t *execs = NULL;
	int r = plugin_list_executions(l->s, run, &execs, err);
	if (r < 0)
		return recap_error_wrap(err, r, "listing the executions of run %s", name);
	json_t *items = json_object_get(execs, "items"), *e;
	if (l->n == 0)
		l->prefix = targets > 1 || json_array_size(items) > 1;
	size_t i;
	json_array_foreach (items, i, e) {
		const char *pod = recap_json_str(e, "spec.target.pod");
		if (!pod || strlen(pod) >= sizeof(l->t[0].pod))
			continue;
		struct target *t = started(l, pod);
		if (t)
			t->seen = true;
		else if ((r = follow_pod(l, name, pod, false, err)) < 0)
			return r;
	}
	return 0;
}

/* Every follow to its end (done: all of them read; else stopped). An early
 * follow of a pod the run never got an execution for (a refused run, a pod
 * gone) is stopped, not read: there is nothing to read, and the summary says
 * why. */
static void follows_end(struct live *l, bool done)
{
	for (bool busy = done; busy;) {
		busy = false;
		for (size_t i = 0; i < l->n; i++)
			busy = busy || (l->t[i].seen && !plugin_follow_done(l->t[i].fl));
		if (busy && !uv_run(&l->s->loop, UV_RUN_ONCE))
			break;
	}
	for (size_t i = 0; i < l->n; i++) {
		struct recap_error *err = NULL;
		int r = plugin_follow_end(l->t[i].fl, NULL, &err);
		if (done && r != 0 && l->t[i].seen)
			plugin_printf_safe(stderr, "warning: the log of pod %s: %s\n", l->t[i].pod,
					   err ? recap_error_message(err)
					       : "recap-apiserver does not answer");
		recap_error_free(err);
	}
	free(l->t);
	l->t = NULL;
	l->n = 0;
}

/* Whether the streams are served, asked beside an early follow already
 * under way (on the same loop), so that the follow does not wait for the
 * answer: a follow that has printed something is served whatever the
 * question met. Not served: the early follow is stopped, and the output
 * is the status tails at the end. */
static bool streams_served(struct live *l, json_t *run)
{
	char why[1024];
	bool served = plugin_log_served(l->s, recap_api_meta_name(run), why, sizeof(why)) == 0;
	for (size_t i = 0; !served && i < l->n; i++)
		served = plugin_follow_got_data(l->t[i].fl);
	if (!served) {
		follows_end(l, false);
		plugin_printf_safe(
		    stderr, "note: %s: the output is shown once the run ended (the status tails)\n", why);
	}
	return served;
}

static int wait_and_show(struct session *s, const struct run_args *a, json_t *run)
{
	bool live = a->g.output == PLUGIN_OUT_TEXT && !a->no_stream;
	struct live l = {.s = s, .a = a};
	struct wait_options wo = {
	    .timeout_ms = (uint64_t)a->wait_timeout_s * 1000,
	    .progress = live ? NULL : stderr, /* live: stdout is the targets' */
	    .tty = isatty(STDERR_FILENO),
	    .on_change = live ? follow_new : NULL,
	    .data = &l,
	};
	_cleanup_json_ json_t *done = NULL;
	struct recap_error *err = NULL;
	int r = live ? follow_early(&l, run, &err) : 0;
	if (r >= 0 && live && !(live = streams_served(&l, run))) {
		wo.progress = stderr;
		wo.on_change = NULL;
	}
	if (r >= 0)
		r = plugin_wait_run(s, run, &wo, &done, &err);
	if (r >= 0 && live)
		r = follow_new(done, &l, &err); /* targets that ended before they were seen */
	if (live)
		follows_end(&l, r >= 0);
	if (r < 0)
		return plugin_fail(err, r == -EINTR ? 130 : 1); /* 128 + SIGINT, as shells report it */
	int status =
	    live ? plugin_show_summary(s, done) : plugin_show_results(s, done, a->g.output, a->g.raw);
	if (status < 0)
		return 1;
	const char *name = recap_api_meta_name(done);
	if (a->rm && (r = session_delete(s, &plugin_res_runs, name, &err)) < 0) {
		recap_error_wrap(&err, r, "deleting run %s", name);
		return plugin_fail(err, 1);
	}
	return status;
}

int plugin_verb_run(int argc, char **argv)
{
	struct run_args a = {0};
	struct recap_error *err = NULL;
	struct session s = {0};
	_cleanup_json_ json_t *run = NULL;
	int status = 2;
	if (plugin_parse_run(argc, argv, &a, &err) < 0)
		goto out;
	if (a.g.help) {
		fputs(usage, stdout);
		status = 0;
		goto out;
	}
	status = 1;
	int r = session_open(&s, &a.g, &err);
	if (r >= 0)
		r = check_targets(&s, &a, &err);
	if (r >= 0)
		r = plugin_create_objects(&s, &a, &run, &err);
	if (r >= 0)
		status = a.no_wait ? no_wait(run, a.g.output) : wait_and_show(&s, &a, run);
out:
	session_close(&s);
	run_args_free(&a);
	return err ? plugin_fail(err, status) : status;
}

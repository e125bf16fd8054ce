/* kubectl capsule ls: the CapsuleRuns of a namespace, as a table or a List;
 * -w then prints a row (or a document) per change, as kubectl get -w. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "format.h"
#include "kube/watch.h"
#include "objects.h"
#include "session.h"
#include "verbs.h"

/* Runs remembered by -w, to print each change once (a relist after the
 * watch expired re-reads them all). */
#define MAX_WATCHED_RUNS 100000

static const char usage[] = "List CapsuleRuns (what kubectl get capsuleruns shows).\n"
			    "\n"
			    "usage: kubectl capsule ls [-l SELECTOR] [-A] [-w] [-o json|yaml]\n"
			    "       [--kubeconfig FILE] [--context NAME] [-n NS]\n"
			    "\n"
			    "  -l, --selector SEL     only runs with these labels\n"
			    "  -A, --all-namespaces   runs of every namespace\n"
			    "  -w, --watch            after the list, a row per change of a run (as\n"
			    "                         kubectl get -w) until interrupted; with -o, a\n"
			    "                         document per run and per change\n";

struct lswatch {
	struct session *s;
	const struct simple_args *a;
	const char *ns; /* NULL: every namespace */
	json_t *seen;	/* "ns/name" -> resourceVersion printed */
	int widths[PLUGIN_RUN_COLUMNS];
	bool table_shown; /* the header is out */
	char rv[128];	  /* where the watch starts */
	struct recap_kube_watch *watch;
	uv_signal_t sigint, sigterm;
	int result; /* 1 while watching */
	bool relist;
};

/* One run, unless this version of it was printed already. */
static int show(struct lswatch *w, json_t *run, bool deleted, struct recap_error **err)
{
	char key[600];
	snprintf(key, sizeof(key), "%s/%s", recap_json_str(run, "metadata.namespace") ?: "",
		 recap_json_str(run, "metadata.name") ?: "");
	const char *rv = recap_json_str(run, "metadata.resourceVersion") ?: "";
	const char *was = json_string_value(json_object_get(w->seen, key));
	if (!deleted && was && strcmp(was, rv) == 0)
		return 0;
	if (deleted)
		json_object_del(w->seen, key);
	else if (json_object_size(w->seen) >= MAX_WATCHED_RUNS && !was)
		return recap_error_set(err, E2BIG, "ls -w: more than %d runs to follow", MAX_WATCHED_RUNS);
	else
		json_object_set_new(w->seen, key, json_string(rv));
	if (w->a->g.output == PLUGIN_OUT_TEXT) {
		plugin_print_run_row(stdout, run, (time_t)recap_kube_client_now(w->s->c), !w->ns, w->widths,
				     !w->table_shown);
		w->table_shown = true;
	} else {
		if (w->a->g.output == PLUGIN_OUT_YAML)
			fputs("---\n", stdout);
		plugin_print_doc(stdout, run, w->a->g.output, false);
	}
	fflush(stdout);
	return 0;
}

/* The list, and where a watch goes on from it. */
static int list(struct lswatch *w, json_t **ret, struct recap_error **err)
{
	json_t *l = NULL;
	int r = session_list(w->s, &plugin_res_runs, w->ns, w->a->selector, NULL, &l, err);
	if (r < 0)
		return r;
	snprintf(w->rv, sizeof(w->rv), "%s", recap_json_str(l, "metadata.resourceVersion") ?: "");
	*ret = l;
	return 0;
}

static int relist(struct lswatch *w, struct recap_error **err)
{
	_cleanup_json_ json_t *l = NULL;
	int r = list(w, &l, err);
	size_t i;
	json_t *run;
	json_array_foreach (json_object_get(l, "items"), i, run)
		if (r >= 0)
			r = show(w, run, false, err);
	return r;
}

static void stop(struct lswatch *w, int result)
{
	w->result = result;
	if (w->watch)
		recap_kube_watch_stop(w->watch);
	w->watch = NULL;
}

static void on_event(struct recap_kube_watch *watch, enum recap_kube_watch_note note,
		     const struct recap_kube_watch_event *ev, const struct recap_error *err, void *userdata)
{
	struct lswatch *w = userdata;
	if (note == RECAP_KUBE_WATCH_GONE) {
		w->relist = true; /* expired: list afresh, print what changed, watch from there */
		stop(w, 1);
		return;
	}
	if (note != RECAP_KUBE_WATCH_EVENT || ev->type == RECAP_KUBE_WATCH_BOOKMARK ||
	    ev->type == RECAP_KUBE_WATCH_ERROR)
		return;
	struct recap_error *e = NULL;
	if (show(w, ev->object, ev->type == RECAP_KUBE_WATCH_DELETED, &e) < 0) {
		plugin_fail(e, 1);
		stop(w, -E2BIG);
	}
}

static void on_signal(uv_signal_t *sig, int signum)
{
	stop(sig->data, 0); /* interrupted: the end of watching, not a failure */
}

static int start(struct lswatch *w, struct recap_error **err)
{
	struct recap_kube_watch_options wo = {
	    .label_selector = w->a->selector,
	    .resource_version = w->rv[0] ? w->rv : NULL,
	};
	w->relist = false;
	return recap_kube_watch_start(w->s->c, &plugin_res_runs, w->ns, &wo, on_event, w, &w->watch, err);
}

static int watch(struct lswatch *w, struct recap_error **err)
{
	uv_signal_init(&w->s->loop, &w->sigint);
	uv_signal_init(&w->s->loop, &w->sigterm);
	w->sigint.data = w->sigterm.data = w;
	uv_signal_start(&w->sigint, on_signal, SIGINT);
	uv_signal_start(&w->sigterm, on_signal, SIGTERM);
	w->result = 1;
	int r = start(w, err);
	while (r >= 0 && w->result == 1) {
		uv_run(&w->s->loop, UV_RUN_ONCE);
		if (w->relist && w->result == 1 && (r = relist(w, err)) >= 0)
			r = start(w, err);
	}
	stop(w, w->result);
	uv_close((uv_handle_t *)&w->sigint, NULL);
	uv_close((uv_handle_t *)&w->sigterm, NULL);
	uv_run(&w->s->loop, UV_RUN_NOWAIT);
	return r < 0 ? r : w->result < 0 ? w->result : 0;
}

/* The list as it is, then (-w) its changes. */
static int ls(struct session *s, const struct simple_args *a, struct recap_error **err)
{
	struct lswatch w = {.s = s, .a = a, .ns = a->all_namespaces ? NULL : s->ns, .seen = json_object()};
	_cleanup_json_ json_t *l = NULL;
	_cleanup_json_ json_t *seen = w.seen;
	int r = seen ? list(&w, &l, err) : -ENOMEM;
	if (r < 0)
		return r;
	json_t *items = json_object_get(l, "items"), *run;
	if (a->g.output == PLUGIN_OUT_TEXT && json_array_size(items) == 0) {
		fprintf(stderr, a->all_namespaces ? "No CapsuleRuns.\n" : "No CapsuleRuns in namespace %s.\n",
			s->ns);
	} else if (a->g.output == PLUGIN_OUT_TEXT) {
		plugin_print_runs(stdout, l, (time_t)recap_kube_client_now(s->c), a->all_namespaces,
				  w.widths);
		w.table_shown = true;
	} else if (!a->watch) {
		plugin_print_doc(stdout, l, a->g.output, false);
	}
	if (!a->watch)
		return 0;
	size_t i;
	bool text = a->g.output == PLUGIN_OUT_TEXT;
	json_array_foreach (items, i, run) {
		const char *rv = recap_json_str(run, "metadata.resourceVersion") ?: "";
		char key[600];
		snprintf(key, sizeof(key), "%s/%s", recap_json_str(run, "metadata.namespace") ?: "",
			 recap_json_str(run, "metadata.name") ?: "");
		if (text)
			json_object_set_new(seen, key, json_string(rv)); /* in the table already */
		else if ((r = show(&w, run, false, err)) < 0)
			return r;
	}
	fflush(stdout);
	return watch(&w, err);
}

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
	int r = session_open(&s, &a.g, &err);
	if (r >= 0)
		r = ls(&s, &a, &err);
	session_close(&s);
	if (r == -E2BIG && !err)
		return 1; /* said already */
	return r < 0 ? plugin_fail(err, 1) : 0;
}

/* Waiting for a CapsuleRun to finish: see wait.h. */
#include "wait.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "api/types.h"
#include "base/json.h"
#include "format.h"
#include "kube/watch.h"
#include "objects.h"
#include "sanitize.h"

struct waiter {
	struct session *s;
	const struct wait_options *o;
	json_t *run;
	char last_line[256];
	struct recap_kube_watch *watch;
	uv_timer_t timer;
	uv_signal_t sigint, sigterm;
	int result; /* 1 while waiting */
	bool relist, changed;
};

static void progress(struct waiter *w)
{
	char line[256];
	if (!w->o->progress)
		return;
	plugin_format_progress(w->run, line, sizeof(line));
	if (strcmp(line, w->last_line) == 0)
		return;
	snprintf(w->last_line, sizeof(w->last_line), "%s", line);
	if (w->o->tty)
		fputs("\r\033[K", w->o->progress); /* ours: the line is redrawn */
	plugin_printf_safe(w->o->progress, w->o->tty ? "%s" : "%s\n", line);
	fflush(w->o->progress);
}

static void stop(struct waiter *w, int result)
{
	w->result = result;
	if (w->watch)
		recap_kube_watch_stop(w->watch);
	w->watch = NULL;
}

static void on_event(struct recap_kube_watch *watch, enum recap_kube_watch_note note,
		     const struct recap_kube_watch_event *ev, const struct recap_error *err, void *userdata)
{
	struct waiter *w = userdata;
	if (note == RECAP_KUBE_WATCH_GONE) {
		w->relist = true; /* read the run again and watch from there */
		stop(w, w->result);
		return;
	}
	if (note != RECAP_KUBE_WATCH_EVENT || ev->type == RECAP_KUBE_WATCH_BOOKMARK ||
	    ev->type == RECAP_KUBE_WATCH_ERROR)
		return;
	if (ev->type == RECAP_KUBE_WATCH_DELETED) {
		stop(w, -ENOENT);
		return;
	}
	json_decref(w->run);
	w->run = json_incref(ev->object);
	w->changed = true;
	progress(w);
	if (plugin_run_finished(w->run))
		stop(w, 0);
}

static void on_timeout(uv_timer_t *t)
{
	stop(t->data, -ETIMEDOUT);
}

static void on_signal(uv_signal_t *sig, int signum)
{
	stop(sig->data, -EINTR);
}

static int start_watch(struct waiter *w, struct recap_error **err)
{
	char field[320];
	snprintf(field, sizeof(field), RECAP_API_META_NAME "=%s", recap_api_meta_name(w->run));
	struct recap_kube_watch_options wo = {
	    .field_selector = field,
	    .resource_version = recap_api_meta_resource_version(w->run),
	};
	w->relist = false;
	return recap_kube_watch_start(w->s->c, &plugin_res_runs, w->s->ns, &wo, on_event, w, &w->watch, err);
}

static int reread(struct waiter *w, struct recap_error **err)
{
	json_t *fresh = NULL;
	const char *name = recap_api_meta_name(w->run);
	int r = session_get(w->s, &plugin_res_runs, w->s->ns, "capsulerun", name, &fresh, err);
	if (r < 0)
		return r;
	json_decref(w->run);
	w->run = fresh;
	w->changed = true;
	progress(w);
	if (plugin_run_finished(w->run))
		w->result = 0;
	return 0;
}

static void close_handles(struct waiter *w)
{
	uv_close((uv_handle_t *)&w->timer, NULL);
	uv_close((uv_handle_t *)&w->sigint, NULL);
	uv_close((uv_handle_t *)&w->sigterm, NULL);
	uv_run(&w->s->loop, UV_RUN_NOWAIT); /* the close callbacks, before w goes */
}

static int fail(int r, json_t *run, const struct wait_options *o, struct recap_error **err)
{
	const char *name = recap_api_meta_name(run);
	switch (r) {
	case -ETIMEDOUT:
		return recap_error_set(
		    err, ETIMEDOUT,
		    "run %s did not finish within %llu s; it goes on (kubectl capsule logs %s "
		    "shows it later)",
		    name, (unsigned long long)(o->timeout_ms / 1000), name);
	case -EINTR:
		return recap_error_set(err, EINTR,
				       "interrupted; run %s goes on (kubectl capsule cancel %s stops it)",
				       name, name);
	case -ENOENT:
		return recap_error_set(err, ENOENT, "run %s was deleted while waiting for it", name);
	default:
		return r;
	}
}

static void handles_init(struct waiter *w)
{
	uv_timer_init(&w->s->loop, &w->timer);
	uv_signal_init(&w->s->loop, &w->sigint);
	uv_signal_init(&w->s->loop, &w->sigterm);
	w->timer.data = w->sigint.data = w->sigterm.data = w;
	uv_signal_start(&w->sigint, on_signal, SIGINT);
	uv_signal_start(&w->sigterm, on_signal, SIGTERM);
	if (w->o->timeout_ms)
		uv_timer_start(&w->timer, on_timeout, w->o->timeout_ms, 0);
}

int plugin_wait_run(struct session *s, json_t *run, const struct wait_options *o, json_t **ret,
		    struct recap_error **err)
{
	struct waiter w = {.s = s, .o = o, .run = json_incref(run), .result = 1};
	handles_init(&w);
	progress(&w);
	int r = 0;
	if (plugin_run_finished(w.run))
		w.result = 0;
	else
		r = start_watch(&w, err);
	w.changed = true;
	while (r >= 0 && w.result == 1) {
		if (w.relist && (r = reread(&w, err)) >= 0 && w.result == 1)
			r = start_watch(&w, err);
		if (r >= 0 && w.result == 1 && w.changed && o->on_change) {
			w.changed = false;
			r = o->on_change(w.run, o->data, err);
		}
		if (r >= 0 && w.result == 1)
			uv_run(&s->loop, UV_RUN_ONCE);
	}
	stop(&w, r < 0 ? r : w.result);
	if (o->progress && o->tty && w.last_line[0])
		fputc('\n', o->progress);
	close_handles(&w);
	if (w.result < 0 && r >= 0)
		r = fail(w.result, w.run, o, err);
	if (r >= 0)
		*ret = json_incref(w.run);
	json_decref(w.run);
	return r;
}

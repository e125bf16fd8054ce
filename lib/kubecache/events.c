#include "kubecache/events.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "kubecache/microtime.h"
#include "kubecache/ratelimit.h"
#include "kubecache/strmap.h"

#define DEFAULT_WINDOW_MS (6 * 60 * 1000)
#define DEFAULT_FLUSH_MS 1000
#define DEFAULT_QPS (1.0 / 300)
#define DEFAULT_BURST 25
#define DEFAULT_MAX_TRACKED 4096
#define NAME_MAX_LEN 253

static const struct recap_kube_resource EVENTS = {"events.k8s.io", "v1", "events", true};

struct entry {
	struct recap_kube_events *ev;
	char *key;
	char *ns, *name;
	unsigned count;	  /* occurrences */
	unsigned written; /* count the server has */
	unsigned sending; /* count of the write in flight */
	uint64_t last_ms;
	char last_time[RECAP_KUBE_MICROTIME_LEN];
	bool created, failed, in_flight;
	bool detached; /* no longer in the map: freed when its call ends */
};

struct recap_kube_events {
	struct recap_kube_client *c;
	struct recap_kube_events_options o;
	char *controller, *instance;
	struct recap_kube_strmap *entries; /* aggregation key -> entry */
	struct recap_kube_strmap *buckets; /* object key -> struct recap_kube_bucket */
	uv_timer_t timer;
	unsigned in_flight;
	struct recap_kube_events_stats stats;
	bool freed, timer_closed;
	recap_kube_events_done_fn done;
	void *done_data;
};

static void entry_free(struct entry *e)
{
	if (!e)
		return;
	free(e->key);
	free(e->ns);
	free(e->name);
	free(e);
}

static void entry_freev(void *e)
{
	entry_free(e);
}

static void destroy(struct recap_kube_events *ev)
{
	recap_kube_strmap_free(ev->entries, entry_freev);
	recap_kube_strmap_free(ev->buckets, free);
	free(ev->controller);
	free(ev->instance);
	free(ev);
}

static void maybe_destroy(struct recap_kube_events *ev)
{
	if (ev->freed && ev->in_flight == 0 && ev->timer_closed)
		destroy(ev);
}

static void on_timer_closed(uv_handle_t *h)
{
	struct recap_kube_events *ev = h->data;
	ev->timer_closed = true;
	maybe_destroy(ev);
}

void recap_kube_events_free(struct recap_kube_events *ev)
{
	if (!ev || ev->freed)
		return;
	ev->freed = true;
	uv_close((uv_handle_t *)&ev->timer, on_timer_closed);
}

void recap_kube_events_stats(const struct recap_kube_events *ev, struct recap_kube_events_stats *ret)
{
	*ret = ev->stats;
}

static bool dirty(const struct entry *e)
{
	return e->created && !e->failed && e->count > e->written;
}

static bool anything_pending(struct recap_kube_events *ev)
{
	if (ev->in_flight)
		return true;
	struct recap_kube_strmap_iter it = RECAP_KUBE_STRMAP_ITER_INIT;
	void *v;
	while (recap_kube_strmap_next(ev->entries, &it, NULL, &v))
		if (dirty(v))
			return true;
	return false;
}

static void on_flush_timer(uv_timer_t *t);

static void arm(struct recap_kube_events *ev, uint64_t delay_ms)
{
	if (ev->freed)
		return;
	if (uv_is_active((uv_handle_t *)&ev->timer) && uv_timer_get_due_in(&ev->timer) <= delay_ms)
		return;
	uv_timer_start(&ev->timer, on_flush_timer, delay_ms, 0);
}

/* A call ended: free a detached entry, finish a flush, or schedule the next. */
static void call_ended(struct entry *e)
{
	struct recap_kube_events *ev = e->ev;
	e->in_flight = false;
	ev->in_flight--;
	if (e->detached)
		entry_free(e);
	else if (dirty(e))
		arm(ev, ev->done ? 0 : ev->o.flush_ms);
	if (ev->freed) {
		maybe_destroy(ev);
		return;
	}
	if (ev->done && !anything_pending(ev))
		arm(ev, 0); /* the timer calls done */
}

/* ---- API calls ---- */

static void on_created(const struct recap_kube_response *resp, void *userdata)
{
	struct entry *e = userdata;
	if (resp->code == RECAP_KUBE_OK) {
		e->created = true;
		e->written = 1;
		e->ev->stats.created++;
	} else {
		e->failed = true;
		e->ev->stats.failed++;
	}
	call_ended(e);
}

static void on_patched(const struct recap_kube_response *resp, void *userdata)
{
	struct entry *e = userdata;
	if (resp->code == RECAP_KUBE_OK) {
		e->written = e->sending;
	} else {
		e->failed = true; /* best effort: no retry storm against a failing server */
		e->ev->stats.failed++;
	}
	call_ended(e);
}

static void write_series(struct recap_kube_events *ev, struct entry *e)
{
	_cleanup_json_ json_t *patch = json_pack("{s:{s:I, s:s}}", "series", "count", (json_int_t)e->count,
						 "lastObservedTime", e->last_time);
	if (!patch || recap_kube_patch(ev->c, &EVENTS, e->ns, e->name, NULL, RECAP_KUBE_PATCH_MERGE, patch,
				       NULL, on_patched, e, NULL) < 0) {
		e->failed = true;
		ev->stats.failed++;
		return;
	}
	e->sending = e->count;
	e->in_flight = true;
	ev->in_flight++;
}

static void on_flush_timer(uv_timer_t *t)
{
	struct recap_kube_events *ev = t->data;
	struct recap_kube_strmap_iter it = RECAP_KUBE_STRMAP_ITER_INIT;
	void *v;
	while (recap_kube_strmap_next(ev->entries, &it, NULL, &v)) {
		struct entry *e = v;
		if (dirty(e) && !e->in_flight)
			write_series(ev, e);
	}
	if (ev->done && !anything_pending(ev)) {
		recap_kube_events_done_fn done = ev->done;
		ev->done = NULL;
		done(ev, ev->done_data);
	}
}

void recap_kube_events_flush(struct recap_kube_events *ev, recap_kube_events_done_fn done, void *userdata)
{
	ev->done = done;
	ev->done_data = userdata;
	arm(ev, 0);
}

static json_t *event_object(struct recap_kube_events *ev, const struct entry *e,
			    const struct recap_kube_event_ref *ref, const char *type, const char *reason,
			    const char *action, const char *note)
{
	json_t *regarding = json_pack("{s:s, s:s}", "kind", ref->kind, "name", ref->name);
	if (regarding && ref->ns)
		json_object_set_new(regarding, "namespace", json_string(ref->ns));
	if (regarding && ref->uid)
		json_object_set_new(regarding, "uid", json_string(ref->uid));
	if (regarding && ref->api_version)
		json_object_set_new(regarding, "apiVersion", json_string(ref->api_version));
	if (!regarding)
		return NULL;
	return json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "apiVersion",
			 "events.k8s.io/v1", "kind", "Event", "metadata", "name", e->name, "namespace", e->ns,
			 "eventTime", e->last_time, "reportingController", ev->controller,
			 "reportingInstance", ev->instance, "type", type, "reason", reason, "action", action,
			 "note", note, "regarding", regarding);
}

static int send_create(struct recap_kube_events *ev, struct entry *e, const struct recap_kube_event_ref *ref,
		       const char *type, const char *reason, const char *action, const char *note,
		       struct recap_error **err)
{
	_cleanup_json_ json_t *obj = event_object(ev, e, ref, type, reason, action, note);
	if (!obj)
		return recap_error_set(err, ENOMEM, "event: out of memory");
	int r = recap_kube_create(ev->c, &EVENTS, e->ns, obj, on_created, e, err);
	if (r < 0)
		return r;
	e->in_flight = true;
	ev->in_flight++;
	return 0;
}

/* ---- recording ---- */

static int check_word(const char *what, const char *s, struct recap_error **err)
{
	if (!s || !*s)
		return recap_error_set(err, EINVAL, "event: %s must not be empty", what);
	if (strlen(s) > RECAP_KUBE_EVENT_FIELD_MAX)
		return recap_error_set(err, EINVAL, "event: %s longer than %d bytes", what,
				       RECAP_KUBE_EVENT_FIELD_MAX);
	return 0;
}

static int check_input(const struct recap_kube_event_ref *ref, const char *type, const char *reason,
		       const char *action, struct recap_error **err)
{
	if (!ref || !ref->kind || !*ref->kind || !ref->name || !*ref->name)
		return recap_error_set(err, EINVAL, "event: the regarding object needs a kind and a name");
	if (!type || (strcmp(type, "Normal") != 0 && strcmp(type, "Warning") != 0))
		return recap_error_set(err, EINVAL, "event: type '%s' is neither Normal nor Warning",
				       type ? type : "");
	int r = check_word("reason", reason, err);
	return r < 0 ? r : check_word("action", action, err);
}

/* Takes a token from the regarding object's bucket. */
static bool object_allows(struct recap_kube_events *ev, const char *objkey)
{
	struct recap_kube_bucket *b = recap_kube_strmap_get(ev->buckets, objkey);
	if (!b) {
		if (recap_kube_strmap_size(ev->buckets) >= recap_kube_strmap_max(ev->buckets)) {
			/* forget objects whose bucket is full again: they are idle */
			struct recap_kube_strmap_iter it = RECAP_KUBE_STRMAP_ITER_INIT;
			const char *k;
			void *v;
			while (recap_kube_strmap_next(ev->buckets, &it, &k, &v))
				if (recap_kube_bucket_tokens(v) >= ev->o.object_burst) {
					recap_kube_strmap_remove(ev->buckets, k, NULL);
					free(v);
				}
		}
		b = malloc(sizeof(*b));
		if (!b ||
		    recap_kube_bucket_init(b, ev->o.object_qps, ev->o.object_burst, NULL, NULL, NULL) < 0 ||
		    recap_kube_strmap_put(ev->buckets, objkey, b, NULL) < 0) {
			free(b);
			return false;
		}
	}
	return recap_kube_bucket_try_take(b);
}

static void detach(struct recap_kube_events *ev, struct entry *e)
{
	recap_kube_strmap_remove(ev->entries, e->key, NULL);
	if (e->in_flight)
		e->detached = true;
	else
		entry_free(e);
}

/* Makes room for one entry by forgetting those past the series window. */
static bool make_room(struct recap_kube_events *ev, uint64_t now)
{
	if (recap_kube_strmap_size(ev->entries) < recap_kube_strmap_max(ev->entries))
		return true;
	struct recap_kube_strmap_iter it = RECAP_KUBE_STRMAP_ITER_INIT;
	void *v;
	while (recap_kube_strmap_next(ev->entries, &it, NULL, &v)) {
		struct entry *e = v;
		if (now - e->last_ms > ev->o.series_window_ms && !dirty(e))
			detach(ev, e);
	}
	return recap_kube_strmap_size(ev->entries) < recap_kube_strmap_max(ev->entries);
}

static struct entry *entry_new(const char *key, const struct recap_kube_event_ref *ref)
{
	struct entry *e = calloc(1, sizeof(*e));
	uint64_t rnd = 0;
	if (!e || getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		goto fail;
	e->key = strdup(key);
	e->ns = strdup(ref->ns && *ref->ns ? ref->ns : "default");
	if (!e->key || !e->ns ||
	    asprintf(&e->name, "%.*s.%016llx", NAME_MAX_LEN - 17, ref->name, (unsigned long long)rnd) < 0) {
		e->name = NULL;
		goto fail;
	}
	e->count = 1;
	return e;
fail:
	entry_free(e);
	return NULL;
}

static int record(struct recap_kube_events *ev, const struct recap_kube_event_ref *ref, const char *type,
		  const char *reason, const char *action, const char *note, struct recap_error **err)
{
	_cleanup_free_ char *objkey = NULL, *key = NULL;
	if (asprintf(&objkey, "%s/%s/%s/%s", ref->kind, ref->ns ? ref->ns : "", ref->name,
		     ref->uid ? ref->uid : "") < 0 ||
	    asprintf(&key, "%s\x1f%s\x1f%s\x1f%s\x1f%s", objkey, type, reason, action, note) < 0)
		return recap_error_set(err, ENOMEM, "event: out of memory");
	uint64_t now = recap_now_mono_ms();
	struct entry *e = recap_kube_strmap_get(ev->entries, key);
	if (e && !e->failed && now - e->last_ms <= ev->o.series_window_ms) {
		e->count++;
		e->last_ms = now;
		recap_kube_microtime_now(e->last_time);
		ev->stats.aggregated++;
		if (dirty(e) && !e->in_flight)
			arm(ev, ev->o.flush_ms);
		return 1;
	}
	if (!object_allows(ev, objkey)) {
		ev->stats.dropped++;
		return -EAGAIN;
	}
	if (e)
		detach(ev, e); /* past its window, or its create failed: a new Event */
	if (!make_room(ev, now)) {
		ev->stats.dropped++;
		return -EAGAIN;
	}
	e = entry_new(key, ref);
	if (!e || recap_kube_strmap_put(ev->entries, key, e, NULL) < 0) {
		entry_free(e);
		return recap_error_set(err, ENOMEM, "event: out of memory");
	}
	e->ev = ev;
	e->last_ms = now;
	recap_kube_microtime_now(e->last_time);
	int r = send_create(ev, e, ref, type, reason, action, note, err);
	if (r < 0)
		detach(ev, e);
	return r;
}

int recap_kube_events_emit(struct recap_kube_events *ev, const struct recap_kube_event_ref *regarding,
			   const char *type, const char *reason, const char *action, struct recap_error **err,
			   const char *note_fmt, ...)
{
	int r = check_input(regarding, type, reason, action, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *note = NULL;
	va_list ap;
	va_start(ap, note_fmt);
	r = vasprintf(&note, note_fmt, ap);
	va_end(ap);
	if (r < 0)
		return recap_error_set(err, ENOMEM, "event: out of memory");
	if (strlen(note) > RECAP_KUBE_EVENT_NOTE_MAX)
		return recap_error_set(err, EINVAL, "event %s: note longer than %d bytes (%zu)", reason,
				       RECAP_KUBE_EVENT_NOTE_MAX, strlen(note));
	return record(ev, regarding, type, reason, action, note, err);
}

int recap_kube_events_new(struct recap_kube_client *c, const struct recap_kube_events_options *opts,
			  struct recap_kube_events **ret, struct recap_error **err)
{
	struct recap_kube_events_options o = opts ? *opts : (struct recap_kube_events_options){0};
	if (check_word("reporting controller", o.controller, err) < 0 ||
	    check_word("reporting instance", o.instance, err) < 0)
		return -EINVAL;
	o.series_window_ms = o.series_window_ms ? o.series_window_ms : DEFAULT_WINDOW_MS;
	o.flush_ms = o.flush_ms ? o.flush_ms : DEFAULT_FLUSH_MS;
	o.object_qps = o.object_qps > 0 ? o.object_qps : DEFAULT_QPS;
	o.object_burst = o.object_burst ? o.object_burst : DEFAULT_BURST;
	o.max_tracked = o.max_tracked ? o.max_tracked : DEFAULT_MAX_TRACKED;
	struct recap_kube_events *ev = calloc(1, sizeof(*ev));
	if (!ev)
		return recap_error_set(err, ENOMEM, "events: out of memory");
	ev->o = o;
	ev->controller = strdup(o.controller);
	ev->instance = strdup(o.instance);
	ev->entries = recap_kube_strmap_new(o.max_tracked);
	ev->buckets = recap_kube_strmap_new(o.max_tracked);
	ev->timer_closed = true;
	int r = -ENOMEM;
	if (ev->controller && ev->instance && ev->entries && ev->buckets)
		r = uv_timer_init(recap_kube_client_loop(c), &ev->timer);
	if (r < 0) {
		destroy(ev);
		return recap_error_set(err, -r, "events: %s",
				       r == -ENOMEM ? "out of memory" : uv_strerror(r));
	}
	ev->timer.data = ev;
	ev->timer_closed = false;
	ev->c = c;
	*ret = ev;
	return 0;
}

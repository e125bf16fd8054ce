/* Watch: one long GET ?watch=1 at a time, resumed from the last
 * resourceVersion after timeouts and lost connections, given up (GONE) when
 * the server can never serve that version: too old (410) or newer than it
 * has (ResourceVersionTooLarge). */
#include "kube/watch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/backoff.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "kube/client_internal.h"
#include "kube/errors.h"

#define DEFAULT_TIMEOUT_MIN_S 300
#define DEFAULT_TIMEOUT_MAX_S 600
#define DEFAULT_BACKOFF_MIN_MS 800
#define DEFAULT_BACKOFF_MAX_MS 30000
#define ERROR_BODY_MAX (64u << 10)
#define RV_MAX 256

struct recap_kube_watch {
	struct recap_kube_client *c;
	struct recap_kube_watch *prev, *next;
	char *base; /* path with selectors, without watch parameters */
	char rv[RV_MAX];
	struct recap_kube_watch_options o;
	struct recap_kube_watch_decoder dec;
	struct recap_kube_http_xfer *xfer; /* the attempt in flight */
	uv_timer_t timer;
	unsigned failures;	   /* consecutive, for backoff */
	long status;		   /* HTTP status of the current attempt, 0 until known */
	unsigned token_generation; /* of the credential the attempt sent */
	struct recap_buf errbody;
	struct recap_error *stream_err; /* decoding failure of the current attempt */
	uint64_t started_ms;
	uint64_t retry_after_ms; /* from the last 429/503 answer */
	bool running, stopped, gone, in_callback, got_event;
	recap_kube_watch_cb cb;
	void *userdata;
};

static void notify(struct recap_kube_watch *w, enum recap_kube_watch_note note,
		   const struct recap_kube_watch_event *ev, const struct recap_error *err)
{
	w->in_callback = true;
	w->cb(w, note, ev, err, w->userdata);
	w->in_callback = false;
}

/* Same, from inside a transport callback. */
static void notify_in_http(struct recap_kube_watch *w, enum recap_kube_watch_note note,
			   const struct recap_kube_watch_event *ev)
{
	struct recap_kube_client *c = w->c;
	c->in_http_callback++;
	notify(w, note, ev, NULL);
	c->in_http_callback--;
}

static int on_event(const struct recap_kube_watch_event *ev, void *userdata)
{
	struct recap_kube_watch *w = userdata;
	if (ev->type == RECAP_KUBE_WATCH_ERROR) {
		const char *msg = recap_json_str(ev->object, "message");
		if (ev->status_code == 410 || recap_kube_status_resource_version_too_large(ev->object))
			w->gone = true;
		recap_error_set(&w->stream_err, w->gone ? ESTALE : EIO, "watch %s: server error %ld: %s",
				w->base, ev->status_code, msg ? msg : "(no message)");
		return -ECANCELED;
	}
	if (ev->resource_version && strlen(ev->resource_version) < RV_MAX)
		strcpy(w->rv, ev->resource_version);
	w->got_event = true;
	notify_in_http(w, RECAP_KUBE_WATCH_EVENT, ev);
	return w->stopped || w->c->closing ? -ECANCELED : 0;
}

static int on_data(const char *data, size_t len, void *userdata)
{
	struct recap_kube_watch *w = userdata;
	if (w->stopped)
		return -ECANCELED;
	if (w->status != 200) {
		/* An error answer is one Status object, not a stream. */
		return recap_buf_append(&w->errbody, data, len);
	}
	return recap_kube_watch_decoder_feed(&w->dec, data, len, on_event, w, &w->stream_err);
}

static int on_head(long status, void *userdata)
{
	struct recap_kube_watch *w = userdata;
	w->status = status;
	if (status == 200) {
		notify_in_http(w, RECAP_KUBE_WATCH_CONNECTED, NULL);
		if (w->stopped || w->c->closing)
			return -ECANCELED;
	}
	return 0;
}

static unsigned pick_timeout(const struct recap_kube_watch_options *o)
{
	unsigned span = o->timeout_max_s - o->timeout_min_s;
	return o->timeout_min_s + (span ? (unsigned)random() % (span + 1) : 0);
}

static int build_path(struct recap_kube_watch *w, struct recap_buf *p, unsigned timeout_s)
{
	char t[16];
	snprintf(t, sizeof(t), "%u", timeout_s);
	if (recap_buf_appends(p, w->base) < 0 || recap_kube_query_add(p, "watch", "1") < 0 ||
	    recap_kube_query_add(p, "resourceVersion", w->rv) < 0 ||
	    recap_kube_query_add(p, "allowWatchBookmarks", w->o.allow_bookmarks ? "true" : NULL) < 0 ||
	    recap_kube_query_add(p, "timeoutSeconds", t) < 0)
		return -ENAMETOOLONG;
	return 0;
}

static void done(const struct recap_kube_http_result *r, void *userdata);

static int start_attempt(struct recap_kube_watch *w, struct recap_error **err)
{
	unsigned timeout_s = pick_timeout(&w->o);
	struct recap_buf url = RECAP_BUF_INIT(RECAP_KUBE_PATH_MAX + strlen(w->c->server));
	if (recap_buf_appends(&url, w->c->server) < 0 || build_path(w, &url, timeout_s) < 0) {
		recap_buf_free(&url);
		return recap_error_set(err, ENAMETOOLONG, "watch %s: path too long", w->base);
	}
	struct recap_kube_headers hd;
	int r = recap_kube_client_headers(w->c, NULL, &hd, err);
	if (r < 0) {
		recap_buf_free(&url);
		return r;
	}
	w->token_generation = hd.token_generation;
	/* The server ends the watch after timeoutSeconds; ours is a backstop. */
	struct recap_kube_http_request req = {.method = "GET",
					      .url = url.data,
					      .headers = (const char *const *)hd.h,
					      .n_headers = hd.n,
					      .timeout_ms = (uint64_t)(timeout_s + 60) * 1000,
					      .on_head = on_head,
					      .on_data = on_data,
					      .on_done = done,
					      .userdata = w};
	r = recap_kube_http_start(w->c->http, &req, &w->xfer, err);
	recap_kube_headers_free(&hd);
	recap_buf_free(&url);
	return r;
}

static void connect_now(struct recap_kube_watch *w);

static void timer_fired(uv_timer_t *h)
{
	connect_now(h->data);
}

static void retry_later(struct recap_kube_watch *w, struct recap_error *err)
{
	w->failures++;
	notify(w, RECAP_KUBE_WATCH_RETRYING, NULL, err);
	recap_error_free(err);
	if (w->stopped)
		return;
	uint64_t d = recap_backoff_ms(w->o.backoff_min_ms * 2, w->o.backoff_max_ms, w->failures);
	if (d < w->o.backoff_min_ms)
		d = w->o.backoff_min_ms;
	if (d < w->retry_after_ms)
		d = w->retry_after_ms;
	w->retry_after_ms = 0;
	/* From now, not from the start of this loop iteration (the answer may
	 * have been read and parsed in it). */
	uv_update_time(w->c->loop);
	uv_timer_start(&w->timer, timer_fired, d, 0);
}

static void connect_now(struct recap_kube_watch *w)
{
	struct recap_error *err = NULL;
	if (w->stopped)
		return;
	w->status = 0;
	w->got_event = false;
	recap_buf_reset(&w->errbody);
	recap_kube_watch_decoder_reset(&w->dec);
	recap_error_free(w->stream_err);
	w->stream_err = NULL;
	int r = start_attempt(w, &err);
	if (r < 0) {
		retry_later(w, err);
		return;
	}
	w->running = true;
	w->started_ms = recap_now_mono_ms();
}

static void closed(uv_handle_t *h)
{
	struct recap_kube_watch *w = h->data;
	struct recap_kube_client *c = w->c;
	free(w);
	recap_kube_client_handle_closed(c);
}

static void destroy(struct recap_kube_watch *w)
{
	if (w->xfer)
		recap_kube_http_cancel(w->c->http, w->xfer);
	w->xfer = NULL;
	recap_kube_watch_decoder_free(&w->dec);
	recap_buf_free(&w->errbody);
	recap_error_free(w->stream_err);
	free(w->base);
	uv_close((uv_handle_t *)&w->timer, closed);
}

static void destroy_fired(uv_timer_t *h)
{
	destroy(h->data);
}

static void gone(struct recap_kube_watch *w, struct recap_error *err)
{
	w->gone = true;
	notify(w, RECAP_KUBE_WATCH_GONE, NULL, err);
	recap_error_free(err);
}

/* Why the attempt ended, or NULL for a clean end (the server's timeout). */
static struct recap_error *attempt_error(struct recap_kube_watch *w, const struct recap_kube_http_result *r)
{
	struct recap_error *err = NULL;
	if (w->stream_err) {
		err = w->stream_err;
		w->stream_err = NULL;
	} else if (w->status && w->status != 200) {
		if (w->status == 401) /* a plugin's credential runs again for the next attempt */
			recap_kube_token_refused(&w->c->token, w->token_generation);
		_cleanup_json_ json_t *body = NULL;
		if (w->errbody.len)
			recap_json_parse(w->errbody.data, w->errbody.len, ERROR_BODY_MAX, &body, NULL);
		char what[300];
		snprintf(what, sizeof(what), "watch %.280s", w->base);
		if (recap_kube_error_from_response(w->status, body, w->errbody.data, w->errbody.len, what,
						   &err) == RECAP_KUBE_ERR_GONE ||
		    recap_kube_status_resource_version_too_large(body))
			w->gone = true;
		w->retry_after_ms = r->retry_after_ms;
	} else if (r->code != RECAP_KUBE_HTTP_OK) {
		/* a plugin's client certificate refused in the handshake: renewed too */
		recap_kube_client_tls_refused(w->c, r, w->token_generation);
		recap_error_set(&err, EIO, "watch %s: %s", w->base, r->message);
	} else if (recap_kube_watch_decoder_pending(&w->dec)) {
		recap_error_set(&err, EBADMSG, "watch %s: the stream ended in the middle of an event",
				w->base);
	}
	return err;
}

static void done(const struct recap_kube_http_result *r, void *userdata)
{
	struct recap_kube_watch *w = userdata;
	w->xfer = NULL;
	w->running = false;
	if (w->stopped || w->c->closing)
		return; /* destroy is on its way */
	if (w->got_event)
		w->failures = 0;
	struct recap_error *err = attempt_error(w, r);
	if (w->gone) {
		gone(w, err);
		return;
	}
	if (err) {
		retry_later(w, err);
		return;
	}
	/* A clean end: resume at once, unless the server ends watches early
	 * again and again (then back off like after an error). */
	if (recap_now_mono_ms() - w->started_ms >= 1000 || w->got_event) {
		connect_now(w);
		return;
	}
	recap_error_set(&err, EPROTO, "watch %s: the server ended the watch at once", w->base);
	retry_later(w, err);
}

static int watch_init(struct recap_kube_watch *w, struct recap_kube_client *c,
		      const struct recap_kube_resource *res, const char *ns,
		      const struct recap_kube_watch_options *opts, struct recap_error **err)
{
	struct recap_kube_watch_options o = opts ? *opts : (struct recap_kube_watch_options){0};
	if (!o.timeout_min_s)
		o.timeout_min_s = DEFAULT_TIMEOUT_MIN_S;
	if (!o.timeout_max_s || o.timeout_max_s < o.timeout_min_s)
		o.timeout_max_s =
		    o.timeout_min_s > DEFAULT_TIMEOUT_MAX_S ? o.timeout_min_s : DEFAULT_TIMEOUT_MAX_S;
	o.backoff_min_ms = o.backoff_min_ms ? o.backoff_min_ms : DEFAULT_BACKOFF_MIN_MS;
	o.backoff_max_ms = o.backoff_max_ms ? o.backoff_max_ms : DEFAULT_BACKOFF_MAX_MS;
	if (o.backoff_max_ms < o.backoff_min_ms)
		o.backoff_max_ms = o.backoff_min_ms;
	if (o.resource_version && strlen(o.resource_version) >= RV_MAX)
		return recap_error_set(err, EINVAL, "watch: resourceVersion longer than %d bytes",
				       RV_MAX - 1);
	if (o.resource_version)
		strcpy(w->rv, o.resource_version);
	o.resource_version = NULL;
	o.label_selector = o.field_selector = NULL;
	w->o = o;
	struct recap_buf p = RECAP_BUF_INIT(RECAP_KUBE_PATH_MAX);
	int r = recap_kube_path(&p, res, ns, NULL, NULL, err);
	if (r >= 0 && opts &&
	    (recap_kube_query_add(&p, "labelSelector", opts->label_selector) < 0 ||
	     recap_kube_query_add(&p, "fieldSelector", opts->field_selector) < 0))
		r = recap_error_set(err, ENAMETOOLONG, "watch: path too long");
	if (r < 0) {
		recap_buf_free(&p);
		return r;
	}
	w->base = recap_buf_steal(&p);
	recap_kube_watch_decoder_init(&w->dec, o.max_line_bytes);
	recap_buf_init(&w->errbody, ERROR_BODY_MAX);
	if (!w->base)
		return recap_error_set(err, ENOMEM, "out of memory");
	return 0;
}

int recap_kube_watch_start(struct recap_kube_client *c, const struct recap_kube_resource *res, const char *ns,
			   const struct recap_kube_watch_options *opts, recap_kube_watch_cb cb,
			   void *userdata, struct recap_kube_watch **ret, struct recap_error **err)
{
	if (c->closing)
		return recap_error_set(err, ECANCELED, "watch: client is closed");
	struct recap_kube_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return recap_error_set(err, ENOMEM, "out of memory");
	w->c = c;
	w->cb = cb;
	w->userdata = userdata;
	int r = uv_timer_init(c->loop, &w->timer);
	if (r < 0) {
		free(w);
		return recap_error_set(err, -r, "watch: uv_timer_init: %s", uv_strerror(r));
	}
	w->timer.data = w;
	c->open_handles++;
	r = watch_init(w, c, res, ns, opts, err);
	if (r < 0) {
		destroy(w);
		return r;
	}
	w->next = c->watches;
	if (c->watches)
		c->watches->prev = w;
	c->watches = w;
	/* Connect from the loop: no callback runs inside this call. */
	uv_timer_start(&w->timer, timer_fired, 0, 0);
	*ret = w;
	return 0;
}

void recap_kube_watch_stop(struct recap_kube_watch *w)
{
	if (!w || w->stopped)
		return;
	w->stopped = true;
	struct recap_kube_client *c = w->c;
	if (w->prev)
		w->prev->next = w->next;
	else
		c->watches = w->next;
	if (w->next)
		w->next->prev = w->prev;
	uv_timer_stop(&w->timer);
	/* Our caller may still use w, or the transport may be inside a callback
	 * of another exchange (where it must not be re-entered): free from the loop. */
	if (w->in_callback || c->in_http_callback)
		uv_timer_start(&w->timer, destroy_fired, 0, 0);
	else
		destroy(w);
}

void recap_kube_watches_stop_all(struct recap_kube_client *c)
{
	while (c->watches)
		recap_kube_watch_stop(c->watches);
}

const char *recap_kube_watch_resource_version(const struct recap_kube_watch *w)
{
	return w->rv[0] ? w->rv : NULL;
}

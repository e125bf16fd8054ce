/* One API request: throttling, the transfer, bounded response, retries
 * with jittered backoff, classification, the callback. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/backoff.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "kube/client_internal.h"

struct recap_kube_req {
	struct recap_kube_client *c;
	struct recap_kube_req *prev, *next;
	struct recap_kube_http_xfer *xfer; /* the attempt in flight */
	char *method, *path, *content_type, *body;
	size_t body_len;
	uint64_t timeout_ms;
	const struct recap_kube_decoder *decoder;
	void *decoder_data;
	void *decoding;			/* the decoder's state for a successful answer */
	size_t decoded_bytes;		/* of the body fed to it */
	struct recap_error *decode_err; /* why the decoder refused the body */
	struct recap_buf resp;
	bool too_large;
	unsigned attempts;
	unsigned token_generation; /* of the credential the attempt sent */
	bool sent_again_for_401;   /* once, with a fresh credential from the plugin */
	int http_version;	   /* of the last answer */
	uv_timer_t timer;
	recap_kube_cb cb;
	void *userdata;
	bool has_slot; /* counted in c->in_flight */
	bool queued;   /* in c->waiting */
	struct recap_kube_req *next_waiting;
};

static void timer_fired(uv_timer_t *h);

/* The attempt is over: its slot goes to the oldest waiting request, which
 * starts from the loop (never inside this call). */
static void slot_release(struct recap_kube_req *q)
{
	struct recap_kube_client *c = q->c;
	if (!q->has_slot)
		return;
	q->has_slot = false;
	struct recap_kube_req *w = c->waiting;
	if (!w) {
		c->in_flight--;
		return;
	}
	c->waiting = w->next_waiting;
	if (!c->waiting)
		c->waiting_tail = NULL;
	w->queued = false;
	w->next_waiting = NULL;
	w->has_slot = true;
	if (uv_timer_start(&w->timer, timer_fired, 0, 0) < 0) {
		/* cannot fail on an initialised timer; keep the count right */
		w->has_slot = false;
		c->in_flight--;
	}
}

/* true: q may start its transfer now; false: it waits its turn. */
static bool slot_take(struct recap_kube_req *q)
{
	struct recap_kube_client *c = q->c;
	if (q->has_slot)
		return true;
	if (c->opts.max_in_flight && c->in_flight >= c->opts.max_in_flight) {
		q->queued = true;
		if (c->waiting_tail)
			c->waiting_tail->next_waiting = q;
		else
			c->waiting = q;
		c->waiting_tail = q;
		return false;
	}
	q->has_slot = true;
	c->in_flight++;
	return true;
}

static void unqueue(struct recap_kube_req *q)
{
	struct recap_kube_client *c = q->c;
	struct recap_kube_req *prev = NULL;
	if (!q->queued)
		return;
	for (struct recap_kube_req *w = c->waiting; w; prev = w, w = w->next_waiting) {
		if (w != q)
			continue;
		if (prev)
			prev->next_waiting = w->next_waiting;
		else
			c->waiting = w->next_waiting;
		if (c->waiting_tail == q)
			c->waiting_tail = prev;
		break;
	}
	q->queued = false;
}

static void req_closed(uv_handle_t *h)
{
	struct recap_kube_req *q = h->data;
	struct recap_kube_client *c = q->c;
	free(q);
	recap_kube_client_handle_closed(c);
}

/* Ends the decoding of an answer that did not complete. */
static void decoding_stop(struct recap_kube_req *q)
{
	if (q->decoding)
		q->decoder->abort(q->decoding);
	q->decoding = NULL;
}

/* Unlinks, frees everything but the timer, closes the timer. */
static void req_destroy(struct recap_kube_req *q)
{
	struct recap_kube_client *c = q->c;
	unqueue(q);
	slot_release(q);
	if (q->prev)
		q->prev->next = q->next;
	else
		c->reqs = q->next;
	if (q->next)
		q->next->prev = q->prev;
	free(q->method);
	free(q->path);
	free(q->content_type);
	free(q->body);
	recap_buf_free(&q->resp);
	decoding_stop(q);
	recap_error_free(q->decode_err);
	uv_close((uv_handle_t *)&q->timer, req_closed);
}

static void finish(struct recap_kube_req *q, enum recap_kube_code code, long status, json_t *obj,
		   struct recap_error *err)
{
	struct recap_kube_response resp = {.code = code,
					   .http_status = status,
					   .object = obj,
					   .err = err,
					   .attempts = q->attempts,
					   .http_version = q->http_version};
	recap_kube_cb cb = q->cb;
	void *ud = q->userdata;
	req_destroy(q);
	cb(&resp, ud);
	json_decref(obj);
	recap_error_free(err);
}

/* A successful answer goes to the decoder as it arrives, when there is one. */
static int on_head(long status, void *userdata)
{
	struct recap_kube_req *q = userdata;
	if (!q->decoder || status < 200 || status >= 300)
		return 0;
	q->decoding = q->decoder->begin(q->decoder_data);
	if (!q->decoding) {
		recap_error_set(&q->decode_err, ENOMEM, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int on_data(const char *data, size_t len, void *userdata)
{
	struct recap_kube_req *q = userdata;
	if (q->decoding) {
		q->decoded_bytes += len;
		if (q->decoded_bytes > q->resp.max) {
			q->too_large = true;
			return -EFBIG;
		}
		/* what the decoder hands on may close the client: from the loop */
		q->c->in_http_callback++;
		int r = q->decoder->feed(q->decoding, data, len, &q->decode_err);
		q->c->in_http_callback--;
		return r < 0 ? r : 0;
	}
	if (recap_buf_append(&q->resp, data, len) < 0) {
		q->too_large = true;
		return -EFBIG;
	}
	return 0;
}

static void done(const struct recap_kube_http_result *r, void *userdata);

/* Starts an attempt now. On failure the request finishes with the error. */
static void start_now(struct recap_kube_req *q)
{
	struct recap_kube_client *c = q->c;
	struct recap_error *err = NULL;
	if (!slot_take(q))
		return; /* started when a slot is free (slot_release) */
	recap_buf_reset(&q->resp);
	decoding_stop(q);
	q->decoded_bytes = 0;
	q->too_large = false;
	q->attempts++;
	_cleanup_free_ char *url = NULL;
	struct recap_kube_headers hd;
	if (asprintf(&url, "%s%s", c->server, q->path) < 0) {
		recap_error_set(&err, ENOMEM, "out of memory");
		finish(q, RECAP_KUBE_ERR_TRANSPORT, 0, NULL, err);
		return;
	}
	int r = recap_kube_client_headers(c, q->content_type, &hd, &err);
	if (r < 0) { /* no credential: the plugin failed, its error says why */
		recap_error_wrap(&err, r, "%s %s", q->method, q->path);
		finish(q, RECAP_KUBE_ERR_UNAUTHORIZED, 0, NULL, err);
		return;
	}
	q->token_generation = hd.token_generation;
	struct recap_kube_http_request req = {.method = q->method,
					      .url = url,
					      .headers = (const char *const *)hd.h,
					      .n_headers = hd.n,
					      .body = q->body,
					      .body_len = q->body_len,
					      .timeout_ms = q->timeout_ms,
					      .max_body = q->resp.max,
					      .on_head = on_head,
					      .on_data = on_data,
					      .on_done = done,
					      .userdata = q};
	r = recap_kube_http_start(c->http, &req, &q->xfer, &err);
	recap_kube_headers_free(&hd);
	if (r < 0)
		finish(q, RECAP_KUBE_ERR_TRANSPORT, 0, NULL, err);
}

static void timer_fired(uv_timer_t *h)
{
	start_now(h->data);
}

/* Waits `delay_ms`, plus whatever the client's rate limit asks, then starts. */
static void schedule(struct recap_kube_req *q, uint64_t delay_ms)
{
	if (q->c->limited) {
		uint64_t wait = (recap_kube_bucket_reserve(&q->c->bucket) + RECAP_KUBE_NS_PER_MS - 1) /
				RECAP_KUBE_NS_PER_MS;
		if (wait > delay_ms)
			delay_ms = wait;
	}
	/* Always through the timer: the callback must never run inside the call. */
	int r = uv_timer_start(&q->timer, timer_fired, delay_ms, 0);
	if (r < 0)
		finish(q, RECAP_KUBE_ERR_TRANSPORT, 0, NULL, NULL);
}

/* Safe to send twice: a create or a JSON/merge patch may not be. Server-side
 * apply is declarative, an update carries its resourceVersion. */
static bool idempotent(const struct recap_kube_req *q)
{
	if (strcmp(q->method, "PATCH") == 0)
		return q->content_type && strcmp(q->content_type, "application/apply-patch+yaml") == 0;
	return strcmp(q->method, "POST") != 0;
}

/* The server cannot have acted on the request. */
static bool should_retry(struct recap_kube_req *q, const struct recap_kube_http_result *r)
{
	if (q->attempts > (unsigned)q->c->opts.max_retries || q->c->closing || q->too_large ||
	    r->code == RECAP_KUBE_HTTP_TOO_LARGE)
		return false;
	if (r->code != RECAP_KUBE_HTTP_OK)
		return idempotent(q) || r->code == RECAP_KUBE_HTTP_UNREACHED;
	long status = r->status;
	if (status == 429 || status == 503)
		return true;
	return status >= 500 && status < 600 && idempotent(q);
}

static void fail_transport(struct recap_kube_req *q, const struct recap_kube_http_result *r)
{
	struct recap_error *err = NULL;
	if (q->too_large || r->code == RECAP_KUBE_HTTP_TOO_LARGE) {
		recap_error_set(&err, EFBIG, "%s %s: response larger than the limit of %zu bytes", q->method,
				q->path, q->resp.max);
		finish(q, RECAP_KUBE_ERR_TOO_LARGE, 0, NULL, err);
		return;
	}
	recap_error_set(&err, EIO, "%s %s%s: %s (after %u attempt%s)", q->method, q->c->server, q->path,
			r->message, q->attempts, q->attempts == 1 ? "" : "s");
	finish(q, RECAP_KUBE_ERR_TRANSPORT, 0, NULL, err);
}

static void complete(struct recap_kube_req *q, long status)
{
	struct recap_error *err = NULL;
	json_t *obj = NULL;
	char what[512];
	snprintf(what, sizeof(what), "%s %s", q->method, q->path);
	if (status < 200 || status >= 300) {
		if (q->resp.len)
			recap_json_parse(q->resp.data, q->resp.len, q->resp.max, &obj, NULL);
		enum recap_kube_code code =
		    recap_kube_error_from_response(status, obj, q->resp.data, q->resp.len, what, &err);
		json_decref(obj);
		/* the API server's Status says only "Unauthorized": name whose credential it was */
		if (status == 401 && q->c->token.exec)
			recap_error_wrap(
			    &err, EACCES, "the API server refused the credential of exec plugin %s%s",
			    q->c->token.exec->command,
			    q->sent_again_for_401 ? ", also the fresh one it gave after a first refusal"
						  : "");
		finish(q, code, status, NULL, err);
		return;
	}
	int r = 0;
	if (q->decoding) {
		void *d = q->decoding;
		q->decoding = NULL;
		r = q->decoder->end(d, &obj, &err);
	} else if (q->resp.len) {
		r = recap_json_parse(q->resp.data, q->resp.len, q->resp.max, &obj, &err);
	}
	if (r < 0) {
		recap_error_wrap(&err, EBADMSG, "%s: response", what);
		finish(q, RECAP_KUBE_ERR_DECODE, status, NULL, err);
		return;
	}
	finish(q, RECAP_KUBE_OK, status, obj, NULL);
}

static void done(const struct recap_kube_http_result *r, void *userdata)
{
	struct recap_kube_req *q = userdata;
	q->xfer = NULL;
	slot_release(q); /* a retry waits its turn again */
	q->http_version = r->http_version;
	if (r->code == RECAP_KUBE_HTTP_OK && r->server_date)
		recap_kube_clock_sample(&q->c->clock, r->server_date, recap_now_wall_ms());
	/* refused: a credential from a plugin may have been revoked or expired
	 * early, a token file rotated; the request goes again once with a
	 * fresh one */
	if (r->code == RECAP_KUBE_HTTP_OK && r->status == 401 && !q->sent_again_for_401 && !q->c->closing &&
	    recap_kube_token_refused(&q->c->token, q->token_generation)) {
		q->sent_again_for_401 = true;
		schedule(q, 0);
		return;
	}
	/* a plugin's client certificate the TLS handshake may have refused:
	 * renewed for the next attempt, which is a retry as for any
	 * connection failure (so a request the server may have acted on is
	 * not sent again) */
	recap_kube_client_tls_refused(q->c, r, q->token_generation);
	if (q->decode_err) { /* the body was refused while it arrived */
		struct recap_error *err = q->decode_err;
		q->decode_err = NULL;
		recap_error_wrap(&err, EBADMSG, "%s %s: response", q->method, q->path);
		finish(q, RECAP_KUBE_ERR_DECODE, r->status, NULL, err);
		return;
	}
	if (should_retry(q, r)) {
		uint64_t d = recap_backoff_ms(q->c->opts.retry_base_ms, q->c->opts.retry_max_ms, q->attempts);
		uint64_t ra = r->code == RECAP_KUBE_HTTP_OK ? r->retry_after_ms : 0;
		schedule(q, ra > d ? ra : d);
		return;
	}
	if (r->code != RECAP_KUBE_HTTP_OK)
		fail_transport(q, r);
	else
		complete(q, r->status);
}

static int req_new(struct recap_kube_client *c, const struct recap_kube_request *r, recap_kube_cb cb,
		   void *userdata, struct recap_kube_req **ret)
{
	struct recap_kube_req *q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->c = c;
	q->cb = cb;
	q->userdata = userdata;
	q->timeout_ms = r->timeout_ms ? r->timeout_ms : c->opts.timeout_ms;
	recap_buf_init(&q->resp, c->opts.max_response_bytes);
	q->method = strdup(r->method);
	q->path = strdup(r->path);
	const char *ct = r->content_type ? r->content_type : (r->body ? "application/json" : NULL);
	q->content_type = ct ? strdup(ct) : NULL;
	q->body = r->body ? malloc(r->body_len + 1) : NULL;
	if (!q->method || !q->path || (ct && !q->content_type) || (r->body && !q->body) ||
	    uv_timer_init(c->loop, &q->timer) < 0) {
		free(q->method), free(q->path), free(q->content_type), free(q->body), free(q);
		return -ENOMEM;
	}
	if (q->body)
		memcpy(q->body, r->body, r->body_len);
	q->body_len = r->body_len;
	q->decoder = r->decoder;
	q->decoder_data = r->decoder_data;
	q->timer.data = q;
	*ret = q;
	return 0;
}

int recap_kube_request(struct recap_kube_client *c, const struct recap_kube_request *r, recap_kube_cb cb,
		       void *userdata, struct recap_error **err)
{
	if (c->closing)
		return recap_error_set(err, ECANCELED, "%s %s: client is closed", r->method, r->path);
	if (!r->method || !r->path || r->path[0] != '/' || !cb)
		return recap_error_set(err, EINVAL,
				       "request needs a method, a path starting with '/' and a callback");
	struct recap_kube_req *q;
	if (req_new(c, r, cb, userdata, &q) < 0)
		return recap_error_set(err, ENOMEM, "out of memory");
	c->open_handles++;
	q->next = c->reqs;
	if (c->reqs)
		c->reqs->prev = q;
	c->reqs = q;
	schedule(q, 0);
	return 0;
}

void recap_kube_requests_cancel_all(struct recap_kube_client *c)
{
	while (c->reqs) {
		struct recap_kube_req *q = c->reqs;
		uv_timer_stop(&q->timer);
		if (q->xfer)
			recap_kube_http_cancel(c->http, q->xfer);
		q->xfer = NULL;
		struct recap_error *err = NULL;
		recap_error_set(&err, ECANCELED, "%s %s: cancelled: the client was closed", q->method,
				q->path);
		finish(q, RECAP_KUBE_ERR_CANCELLED, 0, NULL, err);
	}
}

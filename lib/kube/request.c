/* One API request: throttling, the transfer, bounded response, retries
 * with jittered backoff, classification, the callback. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "kube/client_internal.h"

struct recap_kube_req {
	struct recap_kube_xfer xfer;
	struct recap_kube_client *c;
	struct recap_kube_req *prev, *next;
	CURL *easy;
	struct curl_slist *headers;
	char *method, *path, *content_type, *body;
	size_t body_len;
	uint64_t timeout_ms;
	struct recap_buf resp;
	bool too_large;
	unsigned attempts;
	uv_timer_t timer;
	recap_kube_cb cb;
	void *userdata;
	char errbuf[CURL_ERROR_SIZE];
};

static void req_closed(uv_handle_t *h)
{
	struct recap_kube_req *q = h->data;
	struct recap_kube_client *c = q->c;
	free(q);
	recap_kube_client_handle_closed(c);
}

/* Unlinks, frees everything but the timer, closes the timer. */
static void req_destroy(struct recap_kube_req *q)
{
	struct recap_kube_client *c = q->c;
	if (q->prev)
		q->prev->next = q->next;
	else
		c->reqs = q->next;
	if (q->next)
		q->next->prev = q->prev;
	if (q->easy)
		curl_easy_cleanup(q->easy);
	curl_slist_free_all(q->headers);
	free(q->method);
	free(q->path);
	free(q->content_type);
	free(q->body);
	recap_buf_free(&q->resp);
	uv_close((uv_handle_t *)&q->timer, req_closed);
}

static int http_version(CURL *easy)
{
	long v = 0;
	if (!easy || curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &v) != CURLE_OK)
		return 0;
	switch (v) {
	case CURL_HTTP_VERSION_1_0:
		return 10;
	case CURL_HTTP_VERSION_1_1:
		return 11;
	case CURL_HTTP_VERSION_2_0:
		return 20;
	case CURL_HTTP_VERSION_3:
		return 30;
	default:
		return 0;
	}
}

static void finish(struct recap_kube_req *q, enum recap_kube_code code, long status, json_t *obj,
		   struct recap_error *err)
{
	struct recap_kube_response resp = {.code = code,
					   .http_status = status,
					   .object = obj,
					   .err = err,
					   .attempts = q->attempts,
					   .http_version = http_version(q->easy)};
	recap_kube_cb cb = q->cb;
	void *ud = q->userdata;
	req_destroy(q);
	cb(&resp, ud);
	json_decref(obj);
	recap_error_free(err);
}

static size_t write_cb(char *data, size_t size, size_t n, void *userdata)
{
	struct recap_kube_req *q = userdata;
	if (recap_buf_append(&q->resp, data, size * n) < 0) {
		q->too_large = true;
		return 0;
	}
	return size * n;
}

static int set_method(struct recap_kube_req *q)
{
	CURLcode rc = CURLE_OK;
	if (strcmp(q->method, "GET") == 0)
		rc = curl_easy_setopt(q->easy, CURLOPT_HTTPGET, 1L);
	else
		rc = curl_easy_setopt(q->easy, CURLOPT_CUSTOMREQUEST, q->method);
	if (rc == CURLE_OK && q->body) {
		rc = curl_easy_setopt(q->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(q->easy, CURLOPT_POSTFIELDS, q->body);
	}
	return rc == CURLE_OK ? 0 : -EINVAL;
}

static int prepare(struct recap_kube_req *q, struct recap_error **err)
{
	struct recap_kube_client *c = q->c;
	curl_easy_reset(q->easy);
	curl_slist_free_all(q->headers);
	q->headers = NULL;
	int r = recap_kube_client_setup_easy(c, q->easy, q->path, &q->headers, q->errbuf, err);
	if (r < 0)
		return r;
	if (q->content_type) {
		_cleanup_free_ char *h = NULL;
		struct curl_slist *n = NULL;
		if (asprintf(&h, "Content-Type: %s", q->content_type) < 0 ||
		    !(n = curl_slist_append(q->headers, h)))
			return recap_error_set(err, ENOMEM, "out of memory");
		q->headers = n;
	}
	CURLcode rc = curl_easy_setopt(q->easy, CURLOPT_HTTPHEADER, q->headers);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(q->easy, CURLOPT_WRITEFUNCTION, write_cb);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(q->easy, CURLOPT_WRITEDATA, q);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(q->easy, CURLOPT_TIMEOUT_MS, (long)q->timeout_ms);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(q->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)q->resp.max);
	if (rc != CURLE_OK || set_method(q) < 0)
		return recap_error_set(err, EINVAL, "%s %s: cannot set up the transfer", q->method, q->path);
	return 0;
}

/* Starts an attempt now. On failure the request finishes with the error. */
static void start_now(struct recap_kube_req *q)
{
	struct recap_error *err = NULL;
	recap_buf_reset(&q->resp);
	q->too_large = false;
	q->attempts++;
	int r = prepare(q, &err);
	if (r >= 0)
		r = recap_kube_transport_add(q->c->transport, q->easy, &q->xfer, &err);
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
static bool never_reached(CURLcode result)
{
	return result == CURLE_COULDNT_CONNECT || result == CURLE_COULDNT_RESOLVE_HOST ||
	       result == CURLE_COULDNT_RESOLVE_PROXY;
}

static bool should_retry(struct recap_kube_req *q, CURLcode result, long status)
{
	if (q->attempts > (unsigned)q->c->opts.max_retries || q->c->closing || q->too_large)
		return false;
	if (result != CURLE_OK)
		return idempotent(q) || never_reached(result);
	if (status == 429 || status == 503)
		return true;
	return status >= 500 && status < 600 && idempotent(q);
}

static void fail_transport(struct recap_kube_req *q, CURLcode result)
{
	struct recap_error *err = NULL;
	if (q->too_large || result == CURLE_FILESIZE_EXCEEDED) {
		recap_error_set(&err, EFBIG, "%s %s: response larger than the limit of %zu bytes", q->method,
				q->path, q->resp.max);
		finish(q, RECAP_KUBE_ERR_TOO_LARGE, 0, NULL, err);
		return;
	}
	recap_error_set(&err, EIO, "%s %s%s: %s (after %u attempt%s)", q->method, q->c->server, q->path,
			q->errbuf[0] ? q->errbuf : curl_easy_strerror(result), q->attempts,
			q->attempts == 1 ? "" : "s");
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
		finish(q, code, status, NULL, err);
		return;
	}
	if (q->resp.len && recap_json_parse(q->resp.data, q->resp.len, q->resp.max, &obj, &err) < 0) {
		recap_error_wrap(&err, EBADMSG, "%s: response", what);
		finish(q, RECAP_KUBE_ERR_DECODE, status, NULL, err);
		return;
	}
	finish(q, RECAP_KUBE_OK, status, obj, NULL);
}

static void done(struct recap_kube_xfer *x, CURLcode result)
{
	struct recap_kube_req *q = container_of(x, struct recap_kube_req, xfer);
	long status = 0;
	if (result == CURLE_OK)
		curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &status);
	if (should_retry(q, result, status)) {
		uint64_t d =
		    recap_kube_backoff_ms(q->c->opts.retry_base_ms, q->c->opts.retry_max_ms, q->attempts);
		uint64_t ra = result == CURLE_OK ? recap_kube_retry_after_ms(q->easy) : 0;
		schedule(q, ra > d ? ra : d);
		return;
	}
	if (result != CURLE_OK)
		fail_transport(q, result);
	else
		complete(q, status);
}

static int req_new(struct recap_kube_client *c, const struct recap_kube_request *r, recap_kube_cb cb,
		   void *userdata, struct recap_kube_req **ret)
{
	struct recap_kube_req *q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->c = c;
	q->xfer.done = done;
	q->cb = cb;
	q->userdata = userdata;
	q->timeout_ms = r->timeout_ms ? r->timeout_ms : c->opts.timeout_ms;
	recap_buf_init(&q->resp, c->opts.max_response_bytes);
	q->method = strdup(r->method);
	q->path = strdup(r->path);
	const char *ct = r->content_type ? r->content_type : (r->body ? "application/json" : NULL);
	q->content_type = ct ? strdup(ct) : NULL;
	q->body = r->body ? malloc(r->body_len + 1) : NULL;
	q->easy = curl_easy_init();
	if (!q->method || !q->path || (ct && !q->content_type) || (r->body && !q->body) || !q->easy ||
	    uv_timer_init(c->loop, &q->timer) < 0) {
		if (q->easy)
			curl_easy_cleanup(q->easy);
		free(q->method), free(q->path), free(q->content_type), free(q->body), free(q);
		return -ENOMEM;
	}
	if (q->body)
		memcpy(q->body, r->body, r->body_len);
	q->body_len = r->body_len;
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
		if (c->transport)
			recap_kube_transport_remove(c->transport, q->easy);
		struct recap_error *err = NULL;
		recap_error_set(&err, ECANCELED, "%s %s: cancelled: the client was closed", q->method,
				q->path);
		finish(q, RECAP_KUBE_ERR_CANCELLED, 0, NULL, err);
	}
}

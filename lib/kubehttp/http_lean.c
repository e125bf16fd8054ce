/* kubehttp/http.h as HTTP/1.1 over mbedTLS (or plain TCP for http://): each
 * exchange owns one connection while it runs (so each watch has its own);
 * a finished one that may carry another waits in a small idle pool. An IP
 * literal server is reached without a thread; a name goes through
 * uv_getaddrinfo (libuv's thread pool). */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "kubehttp/http.h"
#include "kubehttp/http1_parse.h"
#include "kubehttp/http_conn.h"

#define CONNECT_TIMEOUT_MS 10000
#define MAX_HEAD (64u << 10)
#define MAX_IDLE 4
#define HOST_MAX 256

struct recap_kube_http {
	uv_loop_t *loop;
	const char *server_name;	     /* tls-server-name (borrowed), or NULL */
	struct recap_tls_config *tls;	     /* NULL for http:// only use */
	struct recap_kube_http_tls settings; /* borrowed strings: the CA, for a new client certificate */
	struct recap_http_conn *idle;
	unsigned n_idle;
};

enum xfer_state { X_RESOLVING, X_CONNECTING, X_SENDING, X_RECEIVING };

struct recap_kube_http_xfer {
	struct recap_kube_http *h;
	uv_loop_t *loop;
	enum xfer_state state;
	struct recap_http_conn *conn;
	bool reused, got_bytes, cancelled, retried, tls;
	unsigned pending; /* the timer, a getaddrinfo request: freed when 0 */
	uv_timer_t timer;
	uv_getaddrinfo_t gai;
	uint64_t deadline;
	char host[HOST_MAX];
	char port[8];
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct recap_buf out; /* the request */
	size_t sent;
	struct recap_http1_parser parser;
	size_t body_bytes, max_body;
	struct recap_kube_http_result result;
	struct recap_error *err;
	int (*on_head)(long status, void *userdata);
	int (*on_data)(const char *data, size_t len, void *userdata);
	void (*on_done)(const struct recap_kube_http_result *r, void *userdata);
	void *userdata;
};

int recap_kube_http_new(uv_loop_t *loop, const struct recap_kube_http_tls *tls, struct recap_kube_http **ret,
			struct recap_error **err)
{
	struct recap_kube_http *h = calloc(1, sizeof(*h));
	if (!h)
		return recap_error_set(err, ENOMEM, "out of memory");
	h->loop = loop;
	h->server_name = tls->server_name;
	if (tls->proxy) {
		free(h);
		return recap_error_set(err, ENOTSUP,
				       "proxy-url %s: this transport connects directly; the "
				       "libcurl one (kubectl capsule, recap-controller) goes through proxies",
				       tls->proxy);
	}
	int r = recap_tls_config_new(tls, &h->tls, err);
	if (r < 0) {
		free(h);
		return r;
	}
	h->settings = *tls;
	h->settings.cert = h->settings.key = NULL;
	h->settings.cert_len = h->settings.key_len = 0;
	*ret = h;
	return 0;
}

static void pool_close(struct recap_kube_http *h)
{
	while (h->idle) {
		struct recap_http_conn *k = h->idle;
		h->idle = k->next;
		recap_http_conn_close(k);
	}
	h->n_idle = 0;
}

void recap_kube_http_close(struct recap_kube_http *h)
{
	if (!h)
		return;
	pool_close(h);
	recap_tls_config_free(h->tls);
	free(h);
}

/* A new TLS configuration: the old one stays with the connections in
 * flight (a reference each) and goes with the last of them. */
int recap_kube_http_set_client_cert(struct recap_kube_http *h, const char *cert, size_t cert_len,
				    const char *key, size_t key_len, struct recap_error **err)
{
	struct recap_kube_http_tls t = h->settings;
	t.cert = cert;
	t.cert_len = cert_len;
	t.key = key;
	t.key_len = key_len;
	struct recap_tls_config *next = NULL;
	int r = recap_tls_config_new(&t, &next, err);
	if (r < 0)
		return r;
	pool_close(h);
	recap_tls_config_free(h->tls);
	h->tls = next;
	return 0;
}

static void xfer_release(struct recap_kube_http_xfer *x)
{
	if (--x->pending)
		return;
	recap_buf_free(&x->out);
	recap_http1_free(&x->parser);
	recap_error_free(x->err);
	free(x);
}

static void timer_closed(uv_handle_t *t)
{
	xfer_release(t->data);
}

/* Ends it without a callback; the memory goes from the loop. */
static void xfer_drop(struct recap_kube_http_xfer *x)
{
	x->cancelled = true;
	recap_http_conn_close(x->conn);
	x->conn = NULL;
	if (x->state == X_RESOLVING)
		uv_cancel((uv_req_t *)&x->gai);
	uv_close((uv_handle_t *)&x->timer, timer_closed);
}

void recap_kube_http_resume(struct recap_kube_http *h, struct recap_kube_http_xfer *x)
{
	(void)h;
	(void)x; /* nothing pauses here: a pause ended the exchange */
}

void recap_kube_http_cancel(struct recap_kube_http *h, struct recap_kube_http_xfer *x)
{
	(void)h;
	if (x)
		xfer_drop(x);
}

static void idle_readable(uv_poll_t *p, int status, int events);

/* Keeps a connection that may carry another exchange. */
static void pool_put(struct recap_kube_http *h, struct recap_http_conn *k)
{
	/* made with a client certificate since replaced: not used again */
	bool stale = k->tls && !recap_tls_session_of(k->tls, h->tls);
	if (stale || h->n_idle >= MAX_IDLE ||
	    recap_http_conn_wait(k, RECAP_TLS_WANT_READ, idle_readable) < 0) {
		recap_http_conn_close(k);
		return;
	}
	k->owner = h;
	k->next = h->idle;
	h->idle = k;
	h->n_idle++;
}

static void pool_unlink(struct recap_kube_http *h, struct recap_http_conn *k)
{
	for (struct recap_http_conn **p = &h->idle; *p; p = &(*p)->next)
		if (*p == k) {
			*p = k->next;
			h->n_idle--;
			return;
		}
}

/* An idle connection has nothing to say: the server closed it. */
static void idle_readable(uv_poll_t *p, int status, int events)
{
	(void)status, (void)events;
	struct recap_http_conn *k = container_of(p, struct recap_http_conn, poll);
	pool_unlink(k->owner, k);
	recap_http_conn_close(k);
}

/* Runs on_done; the exchange is gone afterwards. Nothing of h is touched
 * after the callback: it may close the whole client. */
static void finish(struct recap_kube_http_xfer *x, enum recap_kube_http_result_code code)
{
	uv_timer_stop(&x->timer);
	struct recap_http_conn *k = x->conn;
	x->conn = NULL;
	if (k && code == RECAP_KUBE_HTTP_OK && recap_http1_reusable(&x->parser))
		pool_put(x->h, k);
	else
		recap_http_conn_close(k);
	x->result.code = code;
	if (code == RECAP_KUBE_HTTP_OK) {
		x->result.message = "";
	} else {
		x->result.message = x->err ? recap_error_message(x->err) : "failed";
		x->result.status = code == RECAP_KUBE_HTTP_TOO_LARGE ? x->result.status : 0;
	}
	x->cancelled = true;
	x->on_done(&x->result, x->userdata);
	uv_close((uv_handle_t *)&x->timer, timer_closed);
}

static void fail(struct recap_kube_http_xfer *x, enum recap_kube_http_result_code code)
{
	if (!x->err)
		recap_error_set(&x->err, EIO, "failed");
	finish(x, code);
}

static void finish_fired(uv_timer_t *t)
{
	struct recap_kube_http_xfer *x = t->data;
	fail(x, x->result.code);
}

/* From inside recap_kube_http_start: the callback must wait for the loop. */
static void fail_later(struct recap_kube_http_xfer *x, enum recap_kube_http_result_code code)
{
	x->result.code = code;
	uv_timer_start(&x->timer, finish_fired, 0, 0);
}

static void timed_out(uv_timer_t *t)
{
	struct recap_kube_http_xfer *x = t->data;
	bool connecting = x->state <= X_CONNECTING;
	recap_error_free(x->err);
	x->err = NULL;
	recap_error_set(&x->err, ETIMEDOUT, "%s timed out", connecting ? "connecting" : "the request");
	fail(x, RECAP_KUBE_HTTP_FAILED);
}

static void arm_timer(struct recap_kube_http_xfer *x, uint64_t cap_ms)
{
	uint64_t now = uv_now(x->loop);
	uint64_t left = x->deadline > now ? x->deadline - now : 0;
	uv_timer_start(&x->timer, timed_out, left < cap_ms ? left : cap_ms, 0);
}

static void step(struct recap_kube_http_xfer *x);

static void poll_cb(uv_poll_t *p, int status, int events)
{
	(void)status, (void)events; /* the calls in step() find out */
	struct recap_http_conn *k = container_of(p, struct recap_http_conn, poll);
	step(k->owner);
}

static void connect_addr(struct recap_kube_http_xfer *x, bool later);

/* A kept connection the server had closed meanwhile: try a fresh one. */
static bool retry_fresh(struct recap_kube_http_xfer *x)
{
	if (!x->reused || x->got_bytes || x->retried)
		return false;
	x->retried = true;
	recap_http_conn_close(x->conn);
	x->conn = NULL;
	recap_error_free(x->err);
	x->err = NULL;
	x->sent = 0;
	connect_addr(x, false);
	return true;
}

static void io_failed(struct recap_kube_http_xfer *x, int r)
{
	if (retry_fresh(x))
		return;
	if (!x->err)
		recap_error_set(&x->err, -r, "connection: %s", strerror(-r));
	bool unreached = x->state == X_CONNECTING && !x->reused &&
			 (r == -ECONNREFUSED || r == -ENETUNREACH || r == -EHOSTUNREACH);
	x->result.tls_refused = x->tls && !x->reused && !x->got_bytes && x->conn &&
				x->conn->state != RECAP_HTTP_CONN_CONNECTING && !unreached;
	fail(x, unreached ? RECAP_KUBE_HTTP_UNREACHED : RECAP_KUBE_HTTP_FAILED);
}

static int parsed_head(const struct recap_http1_parser *p, void *ud)
{
	struct recap_kube_http_xfer *x = ud;
	x->result.status = p->status;
	x->result.http_version = p->version;
	x->result.retry_after_ms = recap_kube_http_retry_after_ms(p->retry_after);
	x->result.server_date = recap_kube_http_date(p->date);
	return x->on_head ? x->on_head(p->status, x->userdata) : 0;
}

static int parsed_data(const char *data, size_t len, void *ud)
{
	struct recap_kube_http_xfer *x = ud;
	x->body_bytes += len;
	if (x->max_body && x->body_bytes > x->max_body)
		return -EFBIG;
	int r = x->on_data(data, len, x->userdata);
	return r == RECAP_KUBE_HTTP_PAUSE ? -ENOTSUP : r;
}

static const struct recap_http1_callbacks parse_cbs = {.on_head = parsed_head, .on_data = parsed_data};

/* Feeds what arrived; 1 when the answer is complete. */
static int receive(struct recap_kube_http_xfer *x)
{
	char buf[16384];
	for (;;) {
		ssize_t n = recap_http_conn_read(x->conn, buf, sizeof(buf), &x->err);
		if (n == RECAP_TLS_WANT_READ || n == RECAP_TLS_WANT_WRITE)
			return recap_http_conn_wait(x->conn, (int)n, poll_cb) < 0 ? -EIO : 0;
		if (n == RECAP_TLS_CLOSED) {
			int r = recap_http1_eof(&x->parser, x->got_bytes ? &x->err : NULL);
			if (r < 0 && !x->got_bytes)
				return -ECONNRESET;
			return r;
		}
		if (n < 0)
			return (int)n;
		x->got_bytes = true;
		size_t used;
		int r = recap_http1_feed(&x->parser, buf, (size_t)n, &used, &parse_cbs, x, &x->err);
		if (r == 1 && used < (size_t)n)
			x->parser.conn_close = true; /* more than the answer: do not reuse */
		if (r != 0)
			return r;
	}
}

static int send_request(struct recap_kube_http_xfer *x)
{
	while (x->sent < x->out.len) {
		ssize_t n =
		    recap_http_conn_write(x->conn, x->out.data + x->sent, x->out.len - x->sent, &x->err);
		if (n == RECAP_TLS_WANT_READ || n == RECAP_TLS_WANT_WRITE)
			return recap_http_conn_wait(x->conn, (int)n, poll_cb) < 0 ? -EIO : 0;
		if (n < 0)
			return (int)n;
		x->sent += (size_t)n;
	}
	x->state = X_RECEIVING;
	return 1;
}

static void after_receive(struct recap_kube_http_xfer *x, int r)
{
	if (r == 1) {
		finish(x, RECAP_KUBE_HTTP_OK);
	} else if (r == -EFBIG) {
		recap_error_set(&x->err, EFBIG, "the answer is larger than %zu bytes", x->max_body);
		fail(x, RECAP_KUBE_HTTP_TOO_LARGE);
	} else if (r == -ENOTSUP) {
		recap_error_set(&x->err, ENOTSUP, "the reader paused, which this transport does not do");
		fail(x, RECAP_KUBE_HTTP_FAILED);
	} else if (r == -EMSGSIZE || r == -EBADMSG || (r < 0 && x->err && x->got_bytes)) {
		fail(x, RECAP_KUBE_HTTP_FAILED);
	} else if (r < 0 && !x->err && x->got_bytes) {
		recap_error_set(&x->err, -r, "aborted");
		fail(x, RECAP_KUBE_HTTP_ABORTED);
	} else if (r < 0) {
		io_failed(x, r);
	}
}

static void step(struct recap_kube_http_xfer *x)
{
	int r = 0;
	if (x->state == X_CONNECTING) {
		r = recap_http_conn_establish(x->conn, &x->err);
		if (r == RECAP_TLS_WANT_READ || r == RECAP_TLS_WANT_WRITE) {
			if (recap_http_conn_wait(x->conn, r, poll_cb) < 0)
				io_failed(x, -EIO);
			return;
		}
		if (r < 0) {
			io_failed(x, r);
			return;
		}
		x->state = X_SENDING;
		arm_timer(x, UINT64_MAX);
	}
	if (x->state == X_SENDING) {
		r = send_request(x);
		if (r <= 0) {
			if (r < 0)
				io_failed(x, r);
			return;
		}
	}
	after_receive(x, receive(x));
}

/* Takes an idle connection, or opens one. */
static void connect_addr(struct recap_kube_http_xfer *x, bool later)
{
	struct recap_kube_http *h = x->h;
	x->state = X_CONNECTING;
	if (!x->retried && h->idle) {
		x->conn = h->idle;
		h->idle = x->conn->next;
		h->n_idle--;
		uv_poll_stop(&x->conn->poll);
		x->reused = true;
	} else {
		x->reused = false;
		int r = recap_http_conn_open(x->loop, (struct sockaddr *)&x->addr, x->addrlen,
					     x->tls ? h->tls : NULL,
					     h->server_name ? h->server_name : x->host, &x->conn, &x->err);
		if (r < 0) {
			if (later)
				fail_later(x, r == -ECONNREFUSED ? RECAP_KUBE_HTTP_UNREACHED
								 : RECAP_KUBE_HTTP_FAILED);
			else
				io_failed(x, r);
			return;
		}
	}
	x->conn->owner = x;
	x->conn->next = NULL;
	arm_timer(x, CONNECT_TIMEOUT_MS);
	/* Wait for writability: connected, or room for the request. */
	if (recap_http_conn_wait(x->conn, RECAP_TLS_WANT_WRITE, poll_cb) < 0) {
		recap_error_set(&x->err, EIO, "cannot watch the connection");
		if (later)
			fail_later(x, RECAP_KUBE_HTTP_FAILED);
		else
			fail(x, RECAP_KUBE_HTTP_FAILED);
	}
}

static void resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct recap_kube_http_xfer *x = req->data;
	if (x->cancelled) {
		uv_freeaddrinfo(res);
		xfer_release(x);
		return;
	}
	x->pending--;
	if (status < 0 || !res || res->ai_addrlen > sizeof(x->addr)) {
		recap_error_set(&x->err, EHOSTUNREACH, "cannot resolve %s: %s", x->host,
				status < 0 ? uv_strerror(status) : "no address");
		uv_freeaddrinfo(res);
		fail(x, RECAP_KUBE_HTTP_UNREACHED);
		return;
	}
	memcpy(&x->addr, res->ai_addr, res->ai_addrlen);
	x->addrlen = res->ai_addrlen;
	uv_freeaddrinfo(res);
	connect_addr(x, false);
}

/* An IP literal needs no resolver (and no thread). */
static bool literal_addr(struct recap_kube_http_xfer *x)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&x->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&x->addr;
	int port = atoi(x->port);
	if (uv_ip4_addr(x->host, port, in) == 0) {
		x->addrlen = sizeof(*in);
		return true;
	}
	if (uv_ip6_addr(x->host, port, in6) == 0) {
		x->addrlen = sizeof(*in6);
		return true;
	}
	return false;
}

/* scheme://host[:port][/prefix]; *target gets the rest of the URL. */
static int parse_url(struct recap_kube_http_xfer *x, const char *url, const char **target,
		     size_t *authority_len, const char **authority, struct recap_error **err)
{
	const char *p;
	if (strncasecmp(url, "https://", 8) == 0) {
		x->tls = true;
		p = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		p = url + 7;
	} else {
		return recap_error_set(err, EINVAL, "%s: only http:// and https:// are supported", url);
	}
	size_t alen = strcspn(p, "/?#");
	const char *host = p, *colon;
	size_t hlen;
	if (*p == '[') {
		const char *close = memchr(p, ']', alen);
		if (!close)
			return recap_error_set(err, EINVAL, "%s: bad IPv6 address", url);
		host = p + 1;
		hlen = (size_t)(close - host);
		colon = close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = memchr(p, ':', alen);
		hlen = colon ? (size_t)(colon - p) : alen;
	}
	size_t plen = colon ? alen - (size_t)(colon + 1 - p) : 0;
	if (hlen == 0 || hlen >= sizeof(x->host) || plen >= sizeof(x->port) ||
	    (colon && strspn(colon + 1, "0123456789") != plen) || memchr(p, '@', alen))
		return recap_error_set(err, EINVAL, "%s: bad server address", url);
	memcpy(x->host, host, hlen);
	x->host[hlen] = '\0';
	if (plen)
		memcpy(x->port, colon + 1, plen);
	else
		strcpy(x->port, x->tls ? "443" : "80");
	x->port[plen ? plen : strlen(x->port)] = '\0';
	*authority = p;
	*authority_len = alen;
	*target = p + alen;
	return 0;
}

static int format_request(struct recap_kube_http_xfer *x, const struct recap_kube_http_request *req,
			  const char *authority, size_t alen, const char *target, struct recap_error **err)
{
	recap_buf_init(&x->out, MAX_HEAD + req->body_len);
	int r = recap_buf_printf(&x->out, "%s %s%s HTTP/1.1\r\nHost: %.*s\r\n", req->method,
				 target[0] == '/' ? "" : "/", target, (int)alen, authority);
	for (size_t i = 0; i < req->n_headers && r >= 0; i++) {
		if (strpbrk(req->headers[i], "\r\n"))
			return recap_error_set(err, EINVAL, "%s %s: a header contains a line break",
					       req->method, target);
		r = recap_buf_printf(&x->out, "%s\r\n", req->headers[i]);
	}
	bool may_have_body = req->body || strcmp(req->method, "POST") == 0 ||
			     strcmp(req->method, "PUT") == 0 || strcmp(req->method, "PATCH") == 0;
	if (r >= 0 && may_have_body)
		r = recap_buf_printf(&x->out, "Content-Length: %zu\r\n", req->body ? req->body_len : 0);
	if (r >= 0)
		r = recap_buf_appends(&x->out, "\r\n");
	if (r >= 0 && req->body)
		r = recap_buf_append(&x->out, req->body, req->body_len);
	if (r < 0)
		return recap_error_set(err, EMSGSIZE, "%s %s: request head longer than %u bytes", req->method,
				       target, MAX_HEAD);
	return 0;
}

static int xfer_init(struct recap_kube_http *h, struct recap_kube_http_xfer *x,
		     const struct recap_kube_http_request *req, struct recap_error **err)
{
	const char *target = NULL, *authority = NULL;
	size_t alen = 0;
	int r = parse_url(x, req->url, &target, &alen, &authority, err);
	if (r >= 0)
		r = format_request(x, req, authority, alen, target, err);
	if (r >= 0 && x->tls && !h->tls)
		r = recap_error_set(err, EINVAL, "%s: TLS is not set up", req->url);
	return r;
}

int recap_kube_http_start(struct recap_kube_http *h, const struct recap_kube_http_request *req,
			  struct recap_kube_http_xfer **ret, struct recap_error **err)
{
	struct recap_kube_http_xfer *x = calloc(1, sizeof(*x));
	if (!x)
		return recap_error_set(err, ENOMEM, "out of memory");
	x->h = h;
	x->loop = h->loop;
	recap_http1_init(&x->parser, MAX_HEAD, strcmp(req->method, "HEAD") == 0);
	int r = xfer_init(h, x, req, err);
	if (r >= 0 && (r = uv_timer_init(h->loop, &x->timer)) < 0)
		r = recap_error_set(err, -r, "uv_timer_init: %s", uv_strerror(r));
	if (r < 0) {
		recap_buf_free(&x->out);
		recap_http1_free(&x->parser);
		free(x);
		return r;
	}
	x->timer.data = x;
	x->pending = 1;
	x->max_body = req->max_body;
	x->on_head = req->on_head;
	x->on_data = req->on_data;
	x->on_done = req->on_done;
	x->userdata = req->userdata;
	x->deadline = req->timeout_ms ? uv_now(h->loop) + req->timeout_ms : UINT64_MAX; /* 0: none */
	if (literal_addr(x)) {
		connect_addr(x, true);
	} else {
		x->state = X_RESOLVING;
		x->gai.data = x;
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
		r = uv_getaddrinfo(h->loop, &x->gai, resolved, x->host, x->port, &hints);
		if (r < 0) {
			recap_error_set(&x->err, -r, "cannot resolve %s: %s", x->host, uv_strerror(r));
			fail_later(x, RECAP_KUBE_HTTP_UNREACHED);
		} else {
			x->pending++;
			arm_timer(x, CONNECT_TIMEOUT_MS);
		}
	}
	*ret = x;
	return 0;
}

/* No raw connection on this transport (kubehttp/http.h): nothing that links
 * it upgrades a connection. */
struct recap_kube_http_raw {
	int unused;
};

int recap_kube_http_raw_connect(struct recap_kube_http *h, const char *url, uint64_t timeout_ms,
				struct recap_kube_http_raw **ret, struct recap_error **err)
{
	return recap_error_set(err, EOPNOTSUPP, "%s: no raw connection on the lean transport", url);
}

int recap_kube_http_raw_fd(struct recap_kube_http_raw *r)
{
	return -1;
}

long recap_kube_http_raw_send(struct recap_kube_http_raw *r, const void *p, size_t n,
			      struct recap_error **err)
{
	return recap_error_set(err, EOPNOTSUPP, "no raw connection on the lean transport");
}

long recap_kube_http_raw_recv(struct recap_kube_http_raw *r, void *p, size_t n, struct recap_error **err)
{
	return recap_error_set(err, EOPNOTSUPP, "no raw connection on the lean transport");
}

void recap_kube_http_raw_close(struct recap_kube_http_raw *r)
{
}

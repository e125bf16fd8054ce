/* HTTP/1.1 on recap-apiserver's connections: one request each, a head of
 * at most 8 KiB, answers with a length or chunked. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "apiserver/internal.h"
#include "base/httphead.h"

#define DRAIN_MAX (16 * 1024 * 1024)
#define DRAIN_TIMEOUT_S 2

int apiserver_write(struct apiserver_conn *c, const void *p, size_t n)
{
	const char *b = p;
	while (n > 0) {
		int w = SSL_write(c->ssl, b, n > INT32_MAX ? INT32_MAX : (int)n);
		if (w <= 0) {
			ERR_clear_error();
			return -EPIPE;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

int apiserver_read_head(struct apiserver_conn *c, struct recap_error **err)
{
	while (!strstr(c->head, "\r\n\r\n")) {
		if (c->head_len >= HEAD_MAX)
			return recap_error_set(err, E2BIG, "the request head passes %d bytes", HEAD_MAX);
		int n = SSL_read(c->ssl, c->head + c->head_len, (int)(HEAD_MAX - c->head_len));
		if (n <= 0) {
			ERR_clear_error();
			return recap_error_set(err, EPIPE, "the client sent no whole request");
		}
		c->head_len += (size_t)n;
		c->head[c->head_len] = '\0';
		if (strlen(c->head) != c->head_len)
			return recap_error_set(err, EINVAL, "the request head holds a NUL byte");
	}
	return recap_http_request_line(c->head, c->method, sizeof(c->method), c->path, sizeof(c->path),
				       c->query, sizeof(c->query), err);
}

/* Bytes of the body already read with the head. */
static size_t body_start(const struct apiserver_conn *c, const char **p)
{
	const char *end = strstr(c->head, "\r\n\r\n");
	*p = end ? end + 4 : c->head + c->head_len;
	return c->head_len - (size_t)(*p - c->head);
}

/* Reads and drops what is left of a body refused as too large (at most
 * DRAIN_MAX), before the answer: a proxy that is still sending it (as
 * kube-apiserver's) would otherwise meet a closed connection and may lose
 * the answer, or its client give up on it. */
static void drain(struct apiserver_conn *c, size_t unread)
{
	char buf[16384];
	if (unread == 0 || unread > DRAIN_MAX)
		return;
	/* a client that waits for 100 Continue may send nothing: wait briefly */
	struct timeval t = {.tv_sec = DRAIN_TIMEOUT_S};
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof(t));
	while (unread > 0) {
		int r = SSL_read(c->ssl, buf, (int)(unread < sizeof(buf) ? unread : sizeof(buf)));
		if (r <= 0) {
			ERR_clear_error();
			return;
		}
		unread -= (size_t)r;
	}
}

int apiserver_read_body(struct apiserver_conn *c, size_t max, char **ret, size_t *ret_len,
			struct recap_error **err)
{
	char v[64];
	if (recap_http_header(c->head, "Transfer-Encoding", v, sizeof(v)) != 0)
		return recap_error_set(err, ENOSYS, "a body without Content-Length is not read");
	int h = recap_http_header(c->head, "Content-Length", v, sizeof(v));
	char *end = NULL;
	unsigned long long n = h == 1 ? strtoull(v, &end, 10) : 0;
	if (h < 0 || (h == 1 && (end == v || *end || v[0] == '-')))
		return recap_error_set(err, EINVAL, "Content-Length \"%.32s\" is not a length", v);
	const char *pre;
	size_t have = body_start(c, &pre);
	bool expect =
	    recap_http_header(c->head, "Expect", v, sizeof(v)) == 1 && strcasecmp(v, "100-continue") == 0;
	if (n > max) {
		drain(c, (size_t)n > have ? (size_t)n - have : 0);
		return recap_error_set(err, EFBIG, "the body holds %llu bytes: at most %zu are read", n, max);
	}
	if (expect && apiserver_write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25) < 0)
		return recap_error_set(err, EPIPE, "the client went away");
	char *b = malloc((size_t)n + 1);
	if (!b)
		return recap_error_set(err, ENOMEM, "out of memory");
	if (have > n)
		have = (size_t)n;
	memcpy(b, pre, have);
	while (have < n) {
		int r = SSL_read(c->ssl, b + have,
				 (int)((size_t)n - have > INT32_MAX ? INT32_MAX : (size_t)n - have));
		if (r <= 0) {
			ERR_clear_error();
			free(b);
			return recap_error_set(err, EPIPE, "the client sent %zu of %llu bytes of the body",
					       have, n);
		}
		have += (size_t)r;
	}
	b[n] = '\0';
	*ret = b;
	*ret_len = (size_t)n;
	return 0;
}

static const char *phrase(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 410:
		return "Gone";
	case 411:
		return "Length Required";
	case 413:
		return "Payload Too Large";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return code >= 500 ? "Internal Server Error" : "Error";
	}
}

static void respond(struct apiserver_conn *c, int code, const char *ctype, const char *body, size_t len)
{
	if (c->began)
		return;
	c->began = true;
	char head[256];
	int n =
	    snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-cache, "
		     "private\r\nConnection: close\r\n\r\n",
		     code, phrase(code), ctype, len);
	if (apiserver_write(c, head, (size_t)n) == 0)
		(void)apiserver_write(c, body, len);
}

void apiserver_respond_json(struct apiserver_conn *c, int code, json_t *body)
{
	char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (s)
		respond(c, code, "application/json", s, strlen(s));
	else
		respond(c, 500, "text/plain", "out of memory\n", 14);
	if (s) /* it may carry credentials (pullcreds.c) */
		explicit_bzero(s, strlen(s));
	free(s);
}

void apiserver_respond_text(struct apiserver_conn *c, int code, const char *text)
{
	respond(c, code, "text/plain; charset=utf-8", text, strlen(text));
}

void apiserver_status(struct apiserver_conn *c, int code, const char *reason, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_t *st =
	    json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status", "apiVersion", "v1",
		      "metadata", "status", "Failure", "message", msg, "reason", reason, "code", code);
	apiserver_respond_json(c, code, st);
	json_decref(st);
}

#include "httpd/httpd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpd/httpd_internal.h"

static void conn_handle_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	if (--c->handles > 0)
		return;
	free(c->out);
	free(c);
}

void recap_httpd_conn_close(struct conn *c)
{
	if (uv_is_closing((uv_handle_t *)&c->tcp))
		return;
	struct recap_httpd *s = c->srv;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->n_conns--;
	uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
	uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
}

static void on_written(uv_write_t *w, int status)
{
	recap_httpd_conn_close(w->data);
}

static const char *status_text(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	default:
		return code < 400 ? "OK" : "Error";
	}
}

static void respond(struct conn *c, int code, const char *ctype, const char *body, size_t len, bool head_only)
{
	struct recap_buf b = RECAP_BUF_INIT(BODY_MAX + 1024);
	int r = recap_buf_printf(&b,
				 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
				 "Connection: close\r\n\r\n",
				 code, status_text(code), ctype, len);
	if (r >= 0 && !head_only)
		r = recap_buf_append(&b, body, len);
	if (r < 0) {
		recap_buf_free(&b);
		recap_httpd_conn_close(c);
		return;
	}
	c->responding = true;
	uv_read_stop((uv_stream_t *)&c->tcp);
	size_t n = b.len;
	c->out = recap_buf_steal(&b);
	uv_buf_t ub = uv_buf_init(c->out, n);
	c->wr.data = c;
	if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &ub, 1, on_written) < 0)
		recap_httpd_conn_close(c);
}

static void dispatch(struct conn *c)
{
	char method[8], path[1024];
	if (sscanf(c->head, "%7s %1023s HTTP/1.%*c", method, path) != 2) {
		respond(c, 400, "text/plain", "bad request\n", 12, false);
		return;
	}
	bool head = strcmp(method, "HEAD") == 0;
	if (!head && strcmp(method, "GET") != 0) {
		respond(c, 405, "text/plain", "only GET and HEAD\n", 18, false);
		return;
	}
	char *q = strchr(path, '?');
	if (q)
		*q = '\0';
	struct recap_buf body = RECAP_BUF_INIT(BODY_MAX);
	const char *ctype = "text/plain; charset=utf-8";
	int code = c->srv->handler(path, &body, &ctype, c->srv->userdata);
	respond(c, code, ctype, body.data ? body.data : "", body.len, head);
	recap_buf_free(&body);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = h->data;
	buf->base = c->head + c->head_len;
	buf->len = HEAD_MAX - c->head_len;
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct conn *c = st->data;
	if (n < 0) {
		recap_httpd_conn_close(c);
		return;
	}
	c->head_len += (size_t)n;
	c->head[c->head_len] = '\0';
	if (strstr(c->head, "\r\n\r\n") || strstr(c->head, "\n\n"))
		dispatch(c);
	else if (c->head_len >= HEAD_MAX)
		respond(c, 431, "text/plain", "request head too large\n", 23, false);
}

static void on_timeout(uv_timer_t *t)
{
	recap_httpd_conn_close(t->data);
}

void recap_httpd_on_connection(uv_stream_t *l, int status)
{
	struct recap_httpd *s = l->data;
	if (status < 0)
		return;
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->srv = s;
	c->tcp.data = c->timer.data = c;
	uv_tcp_init(l->loop, &c->tcp);
	uv_timer_init(l->loop, &c->timer);
	c->handles = 2;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->n_conns++;
	if (uv_accept(l, (uv_stream_t *)&c->tcp) < 0 || s->n_conns > CONN_MAX) {
		recap_httpd_conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, on_timeout, CONN_TIMEOUT_MS, 0);
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

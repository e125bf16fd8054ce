#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "controller/http.h"

#define RESPONSE_MAX (8u << 20)

struct recap_http_server {
	uv_tcp_t tcp;
	recap_http_handler_fn handler;
	void *userdata;
	struct conn *conns; /* open connections, closed with the server */
};

struct conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t write;
	struct recap_http_server *srv;
	struct conn *next, **prev;
	char in[RECAP_HTTP_MAX_REQUEST];
	size_t len;
	struct recap_buf out;
	int open_handles;
	bool closing, writing;
};

static void conn_unlink(struct conn *c)
{
	if (c->prev) {
		*c->prev = c->next;
		if (c->next)
			c->next->prev = c->prev;
		c->prev = NULL;
	}
}

static void conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	if (--c->open_handles == 0) {
		recap_buf_free(&c->out);
		free(c);
	}
}

static void conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	conn_unlink(c);
	uv_close((uv_handle_t *)&c->timer, conn_closed);
	uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void on_written(uv_write_t *w, int status)
{
	conn_close(w->data);
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
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Unknown";
	}
}

static void respond(struct conn *c, int code, const char *ctype, const struct recap_buf *body, bool head)
{
	uv_read_stop((uv_stream_t *)&c->tcp);
	recap_buf_reset(&c->out);
	size_t n = body ? body->len : 0;
	if (recap_buf_printf(
		&c->out,
		"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
		code, status_text(code), ctype, n, code == 405 ? "Allow: GET, HEAD\r\n" : "") < 0 ||
	    (!head && n && recap_buf_append(&c->out, body->data, n) < 0)) {
		conn_close(c);
		return;
	}
	uv_buf_t b = uv_buf_init(c->out.data, (unsigned)c->out.len);
	c->write.data = c;
	c->writing = true;
	if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0)
		conn_close(c);
}

static void handle(struct conn *c, const char *method, const char *path)
{
	bool head = strcmp(method, "HEAD") == 0;
	if (!head && strcmp(method, "GET") != 0) {
		respond(c, 405, "text/plain", NULL, false);
		return;
	}
	struct recap_buf body = RECAP_BUF_INIT(RESPONSE_MAX);
	const char *ctype = "text/plain; charset=utf-8";
	int code = c->srv->handler(path, &body, &ctype, c->srv->userdata);
	respond(c, code, ctype, &body, head);
	recap_buf_free(&body);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = h->data;
	*buf = uv_buf_init(c->in + c->len, (unsigned)(sizeof(c->in) - c->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct conn *c = s->data;
	if (n < 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)n;
	char method[16], path[1024];
	int r = recap_http_parse(c->in, c->len, method, sizeof(method), path, sizeof(path));
	if (r == 1)
		handle(c, method, path);
	else if (r == -E2BIG)
		respond(c, 431, "text/plain", NULL, false);
	else if (r < 0)
		respond(c, 400, "text/plain", NULL, false);
	else if (c->len == sizeof(c->in))
		respond(c, 431, "text/plain", NULL, false);
}

static void on_timeout(uv_timer_t *t)
{
	conn_close(t->data);
}

static void on_connection(uv_stream_t *l, int status)
{
	struct recap_http_server *srv = l->data;
	if (status < 0)
		return;
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->srv = srv;
	c->out = RECAP_BUF_INIT(RESPONSE_MAX + 512);
	uv_tcp_init(l->loop, &c->tcp);
	uv_timer_init(l->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->open_handles = 2;
	c->next = srv->conns;
	if (c->next)
		c->next->prev = &c->next;
	srv->conns = c;
	c->prev = &srv->conns;
	if (uv_accept(l, (uv_stream_t *)&c->tcp) < 0 ||
	    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0 ||
	    uv_timer_start(&c->timer, on_timeout, RECAP_HTTP_TIMEOUT_MS, 0) < 0)
		conn_close(c);
}

static void server_closed(uv_handle_t *h)
{
	free(h->data);
}

static int bind_addr(const char *host, int port, struct sockaddr_storage *sa)
{
	if (!*host)
		host = "0.0.0.0";
	if (uv_ip4_addr(host, port, (struct sockaddr_in *)sa) == 0)
		return 0;
	return uv_ip6_addr(host, port, (struct sockaddr_in6 *)sa);
}

int recap_http_listen(uv_loop_t *loop, const char *addr, recap_http_handler_fn handler, void *userdata,
		      struct recap_http_server **ret, struct recap_error **err)
{
	char host[256];
	int port, r;
	if ((r = recap_http_parse_addr(addr, host, sizeof(host), &port, err)) < 0)
		return r;
	struct sockaddr_storage sa;
	if ((r = bind_addr(host, port, &sa)) < 0)
		return recap_error_set(err, EINVAL, "bad listen address \"%s\": %s is not an IP address",
				       addr, host);
	struct recap_http_server *s = calloc(1, sizeof(*s));
	if (!s)
		return recap_error_set(err, ENOMEM, "out of memory");
	s->handler = handler;
	s->userdata = userdata;
	uv_tcp_init(loop, &s->tcp);
	s->tcp.data = s;
	if ((r = uv_tcp_bind(&s->tcp, (struct sockaddr *)&sa, 0)) < 0 ||
	    (r = uv_listen((uv_stream_t *)&s->tcp, 64, on_connection)) < 0) {
		uv_close((uv_handle_t *)&s->tcp, server_closed);
		return recap_error_set(err, -r, "listen on %s: %s", addr, uv_strerror(r));
	}
	*ret = s;
	return 0;
}

int recap_http_port(struct recap_http_server *s)
{
	struct sockaddr_storage sa;
	int len = sizeof(sa);
	if (uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&sa, &len) < 0)
		return -1;
	if (sa.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
	return ntohs(((struct sockaddr_in *)&sa)->sin_port);
}

void recap_http_close(struct recap_http_server *s)
{
	if (!s)
		return;
	while (s->conns)
		conn_close(s->conns);
	uv_close((uv_handle_t *)&s->tcp, server_closed);
}

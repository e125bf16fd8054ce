/* Internals shared by the server's files. */
#pragma once

#include <stdbool.h>

#include "httpd/httpd.h"

#define HEAD_MAX 8192
#define BODY_MAX (16u << 20)
#define CONN_MAX 64
#define CONN_TIMEOUT_MS 10000

struct conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wr;
	struct recap_httpd *srv;
	struct conn *prev, *next;
	char head[HEAD_MAX + 1];
	size_t head_len;
	char *out;
	int handles; /* open handles; freed at 0 */
	bool responding;
};

struct recap_httpd {
	uv_tcp_t listener;
	recap_httpd_handler handler;
	void *userdata;
	struct conn *conns;
	int n_conns;
	int port;
	bool stopping;
};

void recap_httpd_conn_close(struct conn *c);
void recap_httpd_on_connection(uv_stream_t *l, int status);

/* A tiny HTTP/1.1 server on the libuv loop, for /metrics, /healthz and
 * /readyz of the daemons. One request per connection (Connection: close),
 * GET and HEAD only, request head limited to 8 KiB, at most 64 connections
 * at once (more are closed at accept), each closed after 10 s. */
#pragma once

#include <uv.h>

#include "base/buf.h"
#include "base/error.h"

struct recap_httpd;

/* Fills body (bounded by the server: 16 MiB) and returns the HTTP status;
 * *content_type may be set (default "text/plain; charset=utf-8"). */
typedef int (*recap_httpd_handler)(const char *path, struct recap_buf *body, const char **content_type,
				   void *userdata);

/* address: "HOST:PORT" (IPv4 or [IPv6]); port 0 picks a free one. */
int recap_httpd_start(uv_loop_t *loop, const char *address, recap_httpd_handler handler, void *userdata,
		      struct recap_httpd **ret, struct recap_error **err);
/* The port actually bound. */
int recap_httpd_port(const struct recap_httpd *h);
/* Closes the listener and every connection; memory goes from the loop. Accepts NULL. */
void recap_httpd_stop(struct recap_httpd *h);

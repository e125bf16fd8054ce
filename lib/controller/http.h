/* A tiny HTTP/1.x server on a libuv loop for /metrics, /healthz and
 * /readyz: GET (and HEAD) only, one request per connection, the request
 * head bounded (8 KiB) and read within 5 s, answer and close. */
#pragma once

#include <stddef.h>
#include <uv.h>

#include "base/buf.h"
#include "base/error.h"

#define RECAP_HTTP_MAX_REQUEST 8192
#define RECAP_HTTP_TIMEOUT_MS 5000

/* Fills body (and *content_type, static) for path; returns the HTTP status. */
typedef int (*recap_http_handler_fn)(const char *path, struct recap_buf *body, const char **content_type,
				     void *userdata);

struct recap_http_server;

/* addr is "host:port" (":port" and "port" listen on every address). */
int recap_http_listen(uv_loop_t *loop, const char *addr, recap_http_handler_fn handler, void *userdata,
		      struct recap_http_server **ret, struct recap_error **err);
/* The bound port (useful with port 0). */
int recap_http_port(struct recap_http_server *s);
/* Closes the listener and open connections; memory goes from the loop. */
void recap_http_close(struct recap_http_server *s);

/* Parses a request head. Returns 1 when complete (method and path filled),
 * 0 when more bytes are needed, -EINVAL for a malformed head, -E2BIG when
 * the method or path do not fit. Pure, for tests. */
int recap_http_parse(const char *buf, size_t len, char *method, size_t method_size, char *path,
		     size_t path_size);
/* Splits "host:port"; host "" means any. */
int recap_http_parse_addr(const char *addr, char *host, size_t host_size, int *port,
			  struct recap_error **err);

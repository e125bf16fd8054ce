/* HTTP/1.1 on the relay: one GET per connection, a request head of at most
 * 8 KiB, answers that are either a Status object or a chunked stream. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/httphead.h"
#include "relay/relay_internal.h"

static int parse_head(struct relay_conn *c, struct recap_error **err)
{
	if (recap_http_request_line(c->head, c->method, sizeof(c->method), c->path, sizeof(c->path), c->query,
				    sizeof(c->query), err) < 0)
		return -1;
	if (recap_http_header(c->head, "X-Recap-Node", c->node, sizeof(c->node)) < 0)
		return recap_error_set(err, E2BIG, "X-Recap-Node is too long");
	return 0;
}

int relay_read_head(struct relay_conn *c, struct recap_error **err)
{
	while (!strstr(c->head, "\r\n\r\n")) {
		if (c->head_len >= RELAY_HEAD_MAX)
			return recap_error_set(err, E2BIG, "the request head passes %d bytes",
					       RELAY_HEAD_MAX);
		ssize_t n = relay_tls_read(c, c->head + c->head_len, RELAY_HEAD_MAX - c->head_len);
		if (n <= 0)
			return recap_error_set(err, EPIPE, "the client sent no whole request");
		c->head_len += (size_t)n;
		c->head[c->head_len] = '\0';
		if (strlen(c->head) != c->head_len)
			return recap_error_set(err, EINVAL, "the request head holds a NUL byte");
	}
	return parse_head(c, err);
}

static const char *reason_phrase(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 410:
		return "Gone";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

void relay_status(struct relay_conn *c, int code, const char *reason, const char *message)
{
	if (c->began)
		return;
	json_t *st =
	    json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status", "apiVersion", "v1",
		      "metadata", "status", "Failure", "message", message, "reason", reason, "code", code);
	char *body = st ? json_dumps(st, JSON_COMPACT) : NULL;
	json_decref(st);
	char head[256];
	size_t len = body ? strlen(body) : 0;
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 code, reason_phrase(code), len);
	c->began = true;
	if (relay_tls_write(c, head, (size_t)n) == 0 && body)
		(void)relay_tls_write(c, body, len);
	free(body);
}

int relay_begin(struct relay_conn *c, const char *content_type)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n"
			 "Connection: close\r\n\r\n",
			 content_type);
	c->began = true;
	return relay_tls_write(c, head, (size_t)n);
}

/* Each HTTP chunk fills one TLS record, its size line and CRLF included:
 * no record of a few bytes between the data, so the reader takes one
 * record per wakeup. */
int relay_chunk(struct relay_conn *c, const void *p, size_t n)
{
	char record[RELAY_RECORD_MAX];
	const char *b = p;
	while (n > 0) {
		size_t take = n < RELAY_CHUNK_DATA ? n : RELAY_CHUNK_DATA;
		int k = snprintf(record, sizeof(record), "%zx\r\n", take);
		memcpy(record + k, b, take);
		memcpy(record + k + take, "\r\n", 2);
		int r = relay_tls_write(c, record, (size_t)k + take + 2);
		if (r < 0)
			return r;
		b += take;
		n -= take;
	}
	return 0;
}

/* Only a whole stream ends with the last chunk. */
int relay_end(struct relay_conn *c)
{
	return relay_tls_write(c, "0\r\n\r\n", 5);
}

/* An HTTP/1.1 response parser: status line, headers, then a body framed by
 * Content-Length, chunked transfer coding, or the end of the connection.
 * Pure (no I/O), fed bytes as they arrive; fuzzed by fuzz_http1_parse.c.
 * Every line is bounded: the head by max_head bytes, a chunk-size or trailer
 * line by the same. Interim (1xx) answers are skipped. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"

enum recap_http1_state {
	RECAP_HTTP1_STATUS,
	RECAP_HTTP1_HEADER,
	RECAP_HTTP1_BODY_LENGTH,
	RECAP_HTTP1_BODY_CLOSE,
	RECAP_HTTP1_CHUNK_SIZE,
	RECAP_HTTP1_CHUNK_DATA,
	RECAP_HTTP1_CHUNK_END,
	RECAP_HTTP1_TRAILER,
	RECAP_HTTP1_DONE,
};

struct recap_http1_parser {
	enum recap_http1_state state;
	struct recap_buf line; /* the line being read */
	size_t head_bytes, max_head;
	bool head_request; /* the answer to HEAD has no body */
	int version;	   /* 10 or 11 */
	long status;
	bool chunked, has_length, conn_close;
	uint64_t remaining; /* of the body or the chunk */
	char retry_after[24];
	char date[40];
};

struct recap_http1_callbacks {
	/* The final answer's head is complete. */
	int (*on_head)(const struct recap_http1_parser *p, void *userdata);
	int (*on_data)(const char *data, size_t len, void *userdata);
};

void recap_http1_init(struct recap_http1_parser *p, size_t max_head, bool head_request);
void recap_http1_free(struct recap_http1_parser *p);
/* Consumes up to len bytes (*consumed says how many: bytes after the end of
 * the answer are left). Returns 1 when the answer is complete, 0 when it
 * needs more, < 0 on a malformed or over-long answer (*err says what) or
 * when a callback returned < 0 (its value, *err untouched). */
int recap_http1_feed(struct recap_http1_parser *p, const char *data, size_t len, size_t *consumed,
		     const struct recap_http1_callbacks *cb, void *userdata, struct recap_error **err);
/* The connection ended: 1 when that completes the answer (a body read to
 * the end), < 0 with *err otherwise. */
int recap_http1_eof(struct recap_http1_parser *p, struct recap_error **err);
/* The connection can carry another exchange after this answer. */
bool recap_http1_reusable(const struct recap_http1_parser *p);

/* One unary gRPC call over HTTP/2 (prior knowledge) on a unix socket,
 * through libnghttp2's session (framing, HPACK, flow control; this file
 * moves the bytes), synchronous and bounded by a deadline. Runs in
 * capsule-cri, a short-lived helper process: caplet's loop never blocks on
 * it and caplet never loads an HTTP/2 stack (docs/caplet.md). */
#pragma once

#include <stddef.h>

#include "base/buf.h"
#include "base/error.h"

/* The largest reply message accepted (the default of gRPC servers' own
 * receive limit). */
#define RECAP_GRPC_MESSAGE_MAX (4u << 20)

/* gRPC status codes that callers tell apart. */
#define RECAP_GRPC_NOT_FOUND 5

struct recap_grpc_call {
	const char *socket_path; /* unix socket of the server */
	const char *method;	 /* "/package.Service/Method" */
	long timeout_ms;	 /* the whole call, connection included */
};

/* Sends request (a serialized message) and puts the one reply message into
 * reply (bounded by its max, at most RECAP_GRPC_MESSAGE_MAX). Errors name
 * the socket and the method: -ECONNREFUSED when the server cannot be
 * reached (whatever connect(2) said, in the message), -ETIMEDOUT when it
 * did not answer in time, -ECONNRESET when it closed the connection first,
 * -EPROTO for an HTTP/2 error or a reset stream; -EREMOTEIO with
 * *ret_status set when the server answered with a gRPC status other than OK
 * (its grpc-message in the error); -EBADMSG for a reply that is not one
 * well-formed, uncompressed gRPC message. */
int recap_grpc_unary(const struct recap_grpc_call *call, const void *request, size_t request_len,
		     struct recap_buf *reply, int *ret_status, struct recap_error **err);

/* Splits a gRPC response body into its one message: a 5-byte prefix
 * (compressed flag 0, 4-byte big-endian length) and exactly that many
 * bytes, nothing after. -EBADMSG otherwise. */
int recap_grpc_unframe(const void *body, size_t len, const void **ret_msg, size_t *ret_len,
		       struct recap_error **err);

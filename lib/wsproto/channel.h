/* The Kubernetes channel protocol that kubectl exec and attach speak over
 * WebSocket (v4.channel.k8s.io, v5.channel.k8s.io): each binary message's
 * first byte names its stream. The error channel carries one JSON Status,
 * the resize channel a terminal size; v5 adds channel 255, whose second
 * byte names a stream the sender closes (stdin's half-close).
 *
 * channel.c needs no JSON; channel_resize.c and channel_status.c do.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "wsproto/frame.h"

#define RECAP_WSCHAN_V4_PROTOCOL "v4.channel.k8s.io"
#define RECAP_WSCHAN_V5_PROTOCOL "v5.channel.k8s.io"

enum recap_wschan_channel {
	RECAP_WSCHAN_STDIN = 0,
	RECAP_WSCHAN_STDOUT = 1,
	RECAP_WSCHAN_STDERR = 2,
	RECAP_WSCHAN_ERROR = 3,
	RECAP_WSCHAN_RESIZE = 4,
	RECAP_WSCHAN_CLOSE = 255, /* v5 only */
};

/* The error channel's Status and a resize message are read up to these sizes. */
#define RECAP_WSCHAN_STATUS_MAX 65536
#define RECAP_WSCHAN_RESIZE_MAX 256

/* 4 or 5 for the protocol's name; -EPROTONOSUPPORT for any other. */
int recap_wschan_version(const char *subprotocol, struct recap_error **err);

/* The channel's name ("stdin", ..., "close"); "unknown" else. */
const char *recap_wschan_name(unsigned channel);

struct recap_wschan_message {
	enum recap_wschan_channel channel;
	/* the payload after the channel byte (empty is allowed: the server
	 * opens with an empty message on a stream); for CLOSE, none */
	const uint8_t *data;
	size_t len;
	/* CLOSE only: the stream being closed */
	enum recap_wschan_channel closed;
};

/* Reads one WebSocket message as the protocol `version` (4 or 5) received by
 * `receiver`: a server takes stdin, resize and close, a client stdout,
 * stderr, error and close. data points into m. -EPROTO, naming the problem,
 * for a text message, an empty one, a channel that does not exist or does
 * not go this way, or a close signal that is not [255, stream]. */
int recap_wschan_decode(int version, enum recap_ws_role receiver, const struct recap_ws_message *m,
			struct recap_wschan_message *ret, struct recap_error **err);

/* Appends one whole binary frame carrying data on channel (masked with
 * mask_key for a client, as recap_ws_encode()). */
int recap_wschan_encode(struct recap_buf *out, enum recap_ws_role sender, enum recap_wschan_channel channel,
			const void *data, size_t len, const uint8_t *mask_key, struct recap_error **err);

/* Appends v5's close signal for a stream. */
int recap_wschan_encode_close(struct recap_buf *out, enum recap_ws_role sender,
			      enum recap_wschan_channel stream, const uint8_t *mask_key,
			      struct recap_error **err);

/* A resize message's payload, {"Width":W,"Height":H}: both, nothing else,
 * whole numbers 1..65535, at most RECAP_WSCHAN_RESIZE_MAX bytes. -EINVAL
 * naming what is wrong. */
int recap_wschan_resize_parse(const void *data, size_t len, uint16_t *ret_width, uint16_t *ret_height,
			      struct recap_error **err);

/* The error channel's Status (metav1.Status as the kubelet writes it), its
 * JSON appended to out: Success for exit code 0, Failure with reason
 * NonZeroExitCode and an ExitCode cause for 1..255 (-EINVAL outside). */
int recap_wschan_status_exit(struct recap_buf *out, int exit_code, struct recap_error **err);
/* A Failure for what kept the command from running or finishing: reason
 * InternalError, code 500, the message as given (UTF-8, or -EINVAL). */
int recap_wschan_status_failure(struct recap_buf *out, const char *message, struct recap_error **err);

/* Reads the error channel's Status as kubectl does: 0 for Success, the exit
 * code for NonZeroExitCode, and -1 for any other Failure, whose message (or
 * reason) *ret_message then holds (caller frees; NULL otherwise). -EPROTO
 * for anything else, naming what is wrong. */
int recap_wschan_status_parse(const void *data, size_t len, int *ret_exit_code, char **ret_message,
			      struct recap_error **err);

/* WebSocket framing (RFC 6455), both roles, without I/O.
 *
 * The decoder takes bytes as they arrive and gives back whole messages
 * (fragments reassembled) and control frames; the encoder writes frames into
 * a bounded buffer. No extension is ever negotiated, so the reserved bits
 * must be clear. Every error is a protocol violation that ends the
 * connection: the decoder refuses further input and names the close code the
 * caller should send (recap_ws_decoder_close_code()).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"

/* Which end this side is: a server receives masked frames and sends them
 * unmasked, a client the other way round (RFC 6455 section 5.3). */
enum recap_ws_role {
	RECAP_WS_SERVER,
	RECAP_WS_CLIENT,
};

enum recap_ws_opcode {
	RECAP_WS_CONTINUATION = 0x0,
	RECAP_WS_TEXT = 0x1,
	RECAP_WS_BINARY = 0x2,
	RECAP_WS_CLOSE = 0x8,
	RECAP_WS_PING = 0x9,
	RECAP_WS_PONG = 0xA,
};

/* Close status codes this library sends or names (RFC 6455 section 7.4.1). */
enum {
	RECAP_WS_CLOSE_NORMAL = 1000,
	RECAP_WS_CLOSE_GOING_AWAY = 1001,
	RECAP_WS_CLOSE_PROTOCOL_ERROR = 1002,
	RECAP_WS_CLOSE_NO_STATUS = 1005, /* never on the wire: a close frame without a payload */
	RECAP_WS_CLOSE_INVALID_DATA = 1007,
	RECAP_WS_CLOSE_TOO_BIG = 1009,
	RECAP_WS_CLOSE_INTERNAL_ERROR = 1011,
};

#define RECAP_WS_CONTROL_MAX 125
/* 2 bytes, 8 of extended length, 4 of masking key. */
#define RECAP_WS_HEADER_MAX 14
/* A close reason: a control frame's payload less the status code. */
#define RECAP_WS_CLOSE_REASON_MAX (RECAP_WS_CONTROL_MAX - 2)

/* A whole message (TEXT or BINARY, fragments joined) or a control frame
 * (CLOSE, PING, PONG). data points into the decoder and stays valid until
 * the next call on it. A text message and a close reason are valid UTF-8. */
struct recap_ws_message {
	enum recap_ws_opcode opcode;
	const uint8_t *data;
	size_t len;
	/* CLOSE only: the status code (RECAP_WS_CLOSE_NO_STATUS without one)
	 * and the reason after it (data + 2, not NUL-terminated). */
	uint16_t close_code;
	const char *close_reason;
	size_t close_reason_len;
};

/* Private to frame_decode.c; in the header so that a decoder needs no
 * allocation of its own. */
struct recap_ws_decoder {
	enum recap_ws_role role;
	size_t max_message;
	uint8_t hdr[RECAP_WS_HEADER_MAX];
	size_t hdr_len;
	bool in_payload;
	bool fin;
	uint8_t opcode;
	uint8_t mask[4];
	bool masked;
	uint64_t frame_len;
	uint64_t frame_pos;
	uint8_t msg_opcode; /* TEXT or BINARY while a message is being joined, else 0 */
	struct recap_buf msg;
	uint8_t ctl[RECAP_WS_CONTROL_MAX];
	bool msg_ready;	     /* msg was handed out: emptied at the next call */
	bool closed;	     /* a close frame came: nothing may follow it */
	int error;	     /* the first error's negative errno; 0 while well */
	uint16_t close_code; /* the close code to answer that error with */
};

/* max_message bounds a data message's payload, all its fragments together
 * (control frames are bounded at 125 bytes by the protocol). */
void recap_ws_decoder_init(struct recap_ws_decoder *d, enum recap_ws_role role, size_t max_message);
void recap_ws_decoder_free(struct recap_ws_decoder *d);

/* Reads from data until a message or control frame is complete or the input
 * is used up, and sets *ret_consumed to the bytes it took either way (the
 * rest is for the next call). Returns 1 with *ret_msg set, 0 when it needs
 * more input, or a negative errno: -EPROTO for a frame the protocol forbids,
 * -EMSGSIZE past max_message, -EILSEQ for text that is not UTF-8, -ENOMEM.
 * After an error every call fails the same way. */
int recap_ws_decoder_feed(struct recap_ws_decoder *d, const void *data, size_t len, size_t *ret_consumed,
			  struct recap_ws_message *ret_msg, struct recap_error **err);

/* The close code to send after an error (1002, 1007, 1009 or 1011), or 0. */
uint16_t recap_ws_decoder_close_code(const struct recap_ws_decoder *d);

/* Checks a close frame's payload: empty, or a status code that may be sent
 * on the wire followed by a UTF-8 reason. Returns -EPROTO or -EILSEQ. */
int recap_ws_close_parse(const uint8_t *payload, size_t len, uint16_t *ret_code, struct recap_error **err);
/* Whether a close status code may appear in a close frame. */
bool recap_ws_close_code_valid(unsigned code);

/* Masks (or unmasks: the same XOR) data in place; offset is data's position
 * in the payload, for a payload masked in pieces. */
void recap_ws_mask(uint8_t *data, size_t len, const uint8_t key[4], uint64_t offset);

/* Writes a frame header into out (RECAP_WS_HEADER_MAX bytes) and returns its
 * length. A client passes the frame's masking key, a server NULL. Control
 * frames must be final and at most 125 bytes; -EINVAL otherwise. */
int recap_ws_header(uint8_t out[RECAP_WS_HEADER_MAX], enum recap_ws_role role, enum recap_ws_opcode opcode,
		    bool fin, uint64_t payload_len, const uint8_t *mask_key, struct recap_error **err);

/* Appends a whole frame, header and (for a client, masked) payload, to out.
 * -ENOBUFS past out's limit, leaving out as it was. */
int recap_ws_encode(struct recap_buf *out, enum recap_ws_role role, enum recap_ws_opcode opcode, bool fin,
		    const void *payload, size_t len, const uint8_t *mask_key, struct recap_error **err);

/* Appends a close frame: code RECAP_WS_CLOSE_NO_STATUS sends an empty
 * payload; otherwise the code must be valid and the reason UTF-8 of at most
 * RECAP_WS_CLOSE_REASON_MAX bytes (reason may be NULL). */
int recap_ws_encode_close(struct recap_buf *out, enum recap_ws_role role, uint16_t code, const char *reason,
			  const uint8_t *mask_key, struct recap_error **err);

/* The opcode's name for messages ("text", "close", ...); "unknown" else. */
const char *recap_ws_opcode_name(unsigned opcode);

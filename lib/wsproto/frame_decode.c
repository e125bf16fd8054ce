/* The incremental frame decoder: headers are checked as soon as their bytes
 * are in, so a bad frame is refused before its payload is read, and a data
 * message's size is known to fit before anything of it is kept. */
#include "wsproto/frame.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "wsproto/utf8.h"

/* A lone byte is a protocol error, not an allocation: even max_message
 * SIZE_MAX must leave recap_buf room for its terminator. */
#define MESSAGE_LIMIT (SIZE_MAX / 2)

void recap_ws_decoder_init(struct recap_ws_decoder *d, enum recap_ws_role role, size_t max_message)
{
	*d = (struct recap_ws_decoder){.role = role};
	d->max_message = max_message < MESSAGE_LIMIT ? max_message : MESSAGE_LIMIT;
	recap_buf_init(&d->msg, d->max_message);
}

void recap_ws_decoder_free(struct recap_ws_decoder *d)
{
	if (d)
		recap_buf_free(&d->msg);
}

uint16_t recap_ws_decoder_close_code(const struct recap_ws_decoder *d)
{
	return d->error ? d->close_code : 0;
}

static bool is_control(unsigned opcode)
{
	return opcode & 0x8;
}

__attribute__((format(printf, 5, 6))) static int fail(struct recap_ws_decoder *d, int code, uint16_t close,
						      struct recap_error **err, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d->error = -code;
	d->close_code = close;
	return recap_error_set(err, code, "%s", msg);
}

/* Control frames' limits, and data frames in their order. */
static int check_kind(struct recap_ws_decoder *d, unsigned op, bool fin, unsigned len7,
		      struct recap_error **err)
{
	const char *name = recap_ws_opcode_name(op);
	if (is_control(op) && !fin)
		return fail(d, EPROTO, RECAP_WS_CLOSE_PROTOCOL_ERROR, err,
			    "fragmented %s frame (control frames must be final)", name);
	if (is_control(op) && len7 > RECAP_WS_CONTROL_MAX)
		return fail(d, EPROTO, RECAP_WS_CLOSE_PROTOCOL_ERROR, err,
			    "%s frame longer than the 125 bytes a control frame may carry", name);
	if (op == RECAP_WS_CONTINUATION && !d->msg_opcode)
		return fail(d, EPROTO, RECAP_WS_CLOSE_PROTOCOL_ERROR, err,
			    "continuation frame without a message to continue");
	if ((op == RECAP_WS_TEXT || op == RECAP_WS_BINARY) && d->msg_opcode)
		return fail(d, EPROTO, RECAP_WS_CLOSE_PROTOCOL_ERROR, err,
			    "%s frame while a fragmented %s message is unfinished", name,
			    recap_ws_opcode_name(d->msg_opcode));
	return 0;
}

/* The first two bytes say everything but the length: checked at once. */
static int check_start(struct recap_ws_decoder *d, struct recap_error **err)
{
	uint8_t b0 = d->hdr[0], b1 = d->hdr[1];
	unsigned op = b0 & 0x0F, len7 = b1 & 0x7F;
	const char *name = recap_ws_opcode_name(op);
	if (b0 & 0x70)
		return fail(d, EPROTO, RECAP_WS_CLOSE_PROTOCOL_ERROR, err,
			    "reserved bits 0x%02x set in a frame header (no extension was negotiated)",
			    b0 & 0x70);
	if (strcmp(name, "unknown") == 0)
		return fail(d, EPROTO, RECAP_WS_CLOSE_PROTOCOL_ERROR, err, "unknown opcode 0x%x", op);
	if (d->role == RECAP_WS_SERVER && !(b1 & 0x80))
		return fail(d, EPROTO, RECAP_WS_CLOSE_PROTOCOL_ERROR, err,
			    "unmasked %s frame from the client (a client must mask every frame)", name);
	if (d->role == RECAP_WS_CLIENT && (b1 & 0x80))
		return fail(d, EPROTO, RECAP_WS_CLOSE_PROTOCOL_ERROR, err,
			    "masked %s frame from the server (a server must not mask)", name);
	return check_kind(d, op, b0 & 0x80, len7, err);
}

static size_t header_size(const uint8_t *hdr)
{
	unsigned len7 = hdr[1] & 0x7F;
	size_t n = 2 + (hdr[1] & 0x80 ? 4 : 0);
	return n + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
}

static uint64_t get_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* The whole header is in: the length, and whether the message it adds to
 * still fits. */
static int accept_header(struct recap_ws_decoder *d, struct recap_error **err)
{
	unsigned len7 = d->hdr[1] & 0x7F;
	size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
	uint64_t len = ext ? get_be(d->hdr + 2, ext) : len7;
	if (ext == 8 && len >> 63)
		return fail(d, EPROTO, RECAP_WS_CLOSE_PROTOCOL_ERROR, err,
			    "64-bit frame length with its most significant bit set");
	if ((ext == 2 && len < 126) || (ext == 8 && len <= 0xFFFF))
		return fail(d, EPROTO, RECAP_WS_CLOSE_PROTOCOL_ERROR, err,
			    "frame length %llu in %zu bytes where fewer would do (lengths must be minimal)",
			    (unsigned long long)len, ext);
	d->opcode = d->hdr[0] & 0x0F;
	d->fin = d->hdr[0] & 0x80;
	d->masked = d->hdr[1] & 0x80;
	if (d->masked)
		memcpy(d->mask, d->hdr + 2 + ext, 4);
	if (!is_control(d->opcode) && len > d->max_message - d->msg.len)
		return fail(d, EMSGSIZE, RECAP_WS_CLOSE_TOO_BIG, err,
			    "message of at least %llu bytes exceeds the limit of %zu bytes",
			    (unsigned long long)(d->msg.len + len), d->max_message);
	if (d->opcode == RECAP_WS_TEXT || d->opcode == RECAP_WS_BINARY)
		d->msg_opcode = d->opcode;
	d->frame_len = len;
	d->frame_pos = 0;
	d->in_payload = true;
	return 0;
}

/* Takes header bytes; 1 once the header is whole and accepted. */
static int read_header(struct recap_ws_decoder *d, const uint8_t *p, size_t n, size_t *used,
		       struct recap_error **err)
{
	size_t need = d->hdr_len < 2 ? 2 : header_size(d->hdr);
	size_t take = need - d->hdr_len < n ? need - d->hdr_len : n;
	memcpy(d->hdr + d->hdr_len, p, take);
	*used = take;
	size_t had = d->hdr_len;
	d->hdr_len += take;
	if (had < 2 && d->hdr_len == 2) {
		int r = check_start(d, err);
		if (r < 0)
			return r;
		if (header_size(d->hdr) > 2)
			return 0; /* the rest of the header is read on the next turn */
	}
	if (d->hdr_len < 2 || d->hdr_len < header_size(d->hdr))
		return 0;
	int r = accept_header(d, err);
	return r < 0 ? r : 1;
}

static int read_payload(struct recap_ws_decoder *d, const uint8_t *p, size_t n, size_t *used)
{
	uint64_t left = d->frame_len - d->frame_pos;
	size_t take = left < n ? (size_t)left : n;
	uint8_t *dst;
	if (is_control(d->opcode)) {
		dst = d->ctl + d->frame_pos;
		memcpy(dst, p, take);
	} else {
		int r = recap_buf_append(&d->msg, p, take);
		if (r < 0)
			return r;
		dst = (uint8_t *)d->msg.data + d->msg.len - take;
	}
	if (d->masked)
		recap_ws_mask(dst, take, d->mask, d->frame_pos);
	d->frame_pos += take;
	*used = take;
	return 0;
}

/* A frame's payload is in: 1 with *m set when it ends a message or is a
 * control frame. */
static int finish_frame(struct recap_ws_decoder *d, struct recap_ws_message *m, struct recap_error **err)
{
	d->in_payload = false;
	d->hdr_len = 0;
	if (is_control(d->opcode)) {
		*m = (struct recap_ws_message){.opcode = d->opcode, .data = d->ctl, .len = d->frame_len};
		if (d->opcode != RECAP_WS_CLOSE)
			return 1;
		int r = recap_ws_close_parse(d->ctl, d->frame_len, &m->close_code, err);
		if (r < 0) {
			d->error = r;
			d->close_code =
			    r == -EILSEQ ? RECAP_WS_CLOSE_INVALID_DATA : RECAP_WS_CLOSE_PROTOCOL_ERROR;
			return r;
		}
		m->close_reason = m->len > 2 ? (const char *)d->ctl + 2 : "";
		m->close_reason_len = m->len > 2 ? m->len - 2 : 0;
		d->closed = true;
		return 1;
	}
	if (!d->fin)
		return 0;
	const uint8_t *data = d->msg.data ? (const uint8_t *)d->msg.data : (const uint8_t *)"";
	if (d->msg_opcode == RECAP_WS_TEXT && !recap_ws_utf8_valid(data, d->msg.len))
		return fail(d, EILSEQ, RECAP_WS_CLOSE_INVALID_DATA, err,
			    "text message of %zu bytes is not valid UTF-8", d->msg.len);
	*m = (struct recap_ws_message){.opcode = d->msg_opcode, .data = data, .len = d->msg.len};
	d->msg_opcode = 0;
	d->msg_ready = true;
	return 1;
}

int recap_ws_decoder_feed(struct recap_ws_decoder *d, const void *data, size_t len, size_t *ret_consumed,
			  struct recap_ws_message *ret_msg, struct recap_error **err)
{
	const uint8_t *p = data;
	size_t pos = 0;
	*ret_consumed = 0;
	if (d->error)
		return recap_error_set(err, -d->error, "the WebSocket stream already failed");
	if (d->msg_ready) {
		recap_buf_reset(&d->msg);
		d->msg_ready = false;
	}
	for (;;) {
		int r = 0;
		size_t used = 0;
		/* before the end-of-input test: an empty frame ends with its header */
		if (d->in_payload && d->frame_pos == d->frame_len)
			r = finish_frame(d, ret_msg, err);
		else if (pos == len)
			return 0;
		else if (d->closed)
			r = fail(d, EPROTO, RECAP_WS_CLOSE_PROTOCOL_ERROR, err, "data after the close frame");
		else if (d->in_payload)
			r = read_payload(d, p + pos, len - pos, &used);
		else
			r = read_header(d, p + pos, len - pos, &used, err) < 0 ? d->error : 0;
		pos += used;
		*ret_consumed = pos;
		if (r < 0 && !d->error)
			return fail(d, -r, RECAP_WS_CLOSE_INTERNAL_ERROR, err, "out of memory for a message");
		if (r != 0)
			return r;
	}
}

/* The channel byte: which streams exist, which way each goes. */
#include "wsproto/channel.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

int recap_wschan_version(const char *subprotocol, struct recap_error **err)
{
	if (strcmp(subprotocol, RECAP_WSCHAN_V5_PROTOCOL) == 0)
		return 5;
	if (strcmp(subprotocol, RECAP_WSCHAN_V4_PROTOCOL) == 0)
		return 4;
	return recap_error_set(err, EPROTONOSUPPORT, "subprotocol '%.64s' is not %s or %s", subprotocol,
			       RECAP_WSCHAN_V5_PROTOCOL, RECAP_WSCHAN_V4_PROTOCOL);
}

const char *recap_wschan_name(unsigned channel)
{
	switch (channel) {
	case RECAP_WSCHAN_STDIN:
		return "stdin";
	case RECAP_WSCHAN_STDOUT:
		return "stdout";
	case RECAP_WSCHAN_STDERR:
		return "stderr";
	case RECAP_WSCHAN_ERROR:
		return "error";
	case RECAP_WSCHAN_RESIZE:
		return "resize";
	case RECAP_WSCHAN_CLOSE:
		return "close";
	default:
		return "unknown";
	}
}

/* Whether a stream (not the close signal) goes to this end. */
static bool receives(enum recap_ws_role receiver, unsigned channel)
{
	if (channel == RECAP_WSCHAN_STDIN || channel == RECAP_WSCHAN_RESIZE)
		return receiver == RECAP_WS_SERVER;
	if (channel >= RECAP_WSCHAN_STDOUT && channel <= RECAP_WSCHAN_ERROR)
		return receiver == RECAP_WS_CLIENT;
	return false;
}

static const char *role_name(enum recap_ws_role role)
{
	return role == RECAP_WS_SERVER ? "server" : "client";
}

static int decode_close(int version, enum recap_ws_role receiver, const struct recap_ws_message *m,
			struct recap_wschan_message *ret, struct recap_error **err)
{
	if (version < 5)
		return recap_error_set(err, EPROTO, "channel 255 (close) exists only in %s, not in %s",
				       RECAP_WSCHAN_V5_PROTOCOL, RECAP_WSCHAN_V4_PROTOCOL);
	if (m->len != 2)
		return recap_error_set(
		    err, EPROTO, "close signal of %zu bytes (it is 2: channel 255 and the stream it closes)",
		    m->len);
	unsigned stream = m->data[1];
	if (!receives(receiver, stream))
		return recap_error_set(err, EPROTO,
				       "close signal for %s stream %u (%s), which a %s does not receive",
				       strcmp(recap_wschan_name(stream), "unknown") ? "the" : "an unknown",
				       stream, recap_wschan_name(stream), role_name(receiver));
	*ret = (struct recap_wschan_message){
	    .channel = RECAP_WSCHAN_CLOSE, .data = m->data + 2, .closed = stream};
	return 0;
}

int recap_wschan_decode(int version, enum recap_ws_role receiver, const struct recap_ws_message *m,
			struct recap_wschan_message *ret, struct recap_error **err)
{
	if (version != 4 && version != 5)
		return recap_error_set(err, EINVAL, "channel protocol version %d is not 4 or 5", version);
	if (m->opcode != RECAP_WS_BINARY)
		return recap_error_set(err, EPROTO,
				       "%s message on the channel protocol (streams are binary messages)",
				       recap_ws_opcode_name(m->opcode));
	if (m->len == 0)
		return recap_error_set(err, EPROTO, "empty message without a channel byte");
	unsigned ch = m->data[0];
	if (ch == RECAP_WSCHAN_CLOSE)
		return decode_close(version, receiver, m, ret, err);
	if (ch > RECAP_WSCHAN_RESIZE)
		return recap_error_set(err, EPROTO, "unknown channel %u", ch);
	if (!receives(receiver, ch))
		return recap_error_set(err, EPROTO, "message on channel %u (%s), which a %s does not receive",
				       ch, recap_wschan_name(ch), role_name(receiver));
	*ret = (struct recap_wschan_message){.channel = ch, .data = m->data + 1, .len = m->len - 1};
	return 0;
}

/* One binary frame of prefix then data, masked as a whole for a client. */
static int frame(struct recap_buf *out, enum recap_ws_role sender, const uint8_t *prefix, size_t plen,
		 const void *data, size_t len, const uint8_t *mask_key, struct recap_error **err)
{
	uint8_t hdr[RECAP_WS_HEADER_MAX];
	if (len > SIZE_MAX - plen)
		return recap_error_set(err, EINVAL, "channel message of %zu bytes is too long", len);
	int n = recap_ws_header(hdr, sender, RECAP_WS_BINARY, true, plen + len, mask_key, err);
	if (n < 0)
		return n;
	size_t before = out->len;
	int r = recap_buf_append(out, hdr, (size_t)n);
	if (r == 0)
		r = recap_buf_append(out, prefix, plen);
	if (r == 0)
		r = recap_buf_append(out, data, len);
	if (r < 0) {
		out->len = before;
		if (out->data)
			out->data[before] = '\0';
		return recap_error_set(err, -r,
				       "channel frame of %zu bytes exceeds the output limit of %zu bytes",
				       (size_t)n + plen + len, out->max);
	}
	if (mask_key)
		recap_ws_mask((uint8_t *)out->data + before + n, plen + len, mask_key, 0);
	return 0;
}

int recap_wschan_encode(struct recap_buf *out, enum recap_ws_role sender, enum recap_wschan_channel channel,
			const void *data, size_t len, const uint8_t *mask_key, struct recap_error **err)
{
	enum recap_ws_role receiver = sender == RECAP_WS_SERVER ? RECAP_WS_CLIENT : RECAP_WS_SERVER;
	if (!receives(receiver, channel))
		return recap_error_set(err, EINVAL, "a %s does not send on channel %u (%s)",
				       role_name(sender), (unsigned)channel, recap_wschan_name(channel));
	uint8_t prefix = (uint8_t)channel;
	return frame(out, sender, &prefix, 1, data, len, mask_key, err);
}

int recap_wschan_encode_close(struct recap_buf *out, enum recap_ws_role sender,
			      enum recap_wschan_channel stream, const uint8_t *mask_key,
			      struct recap_error **err)
{
	enum recap_ws_role receiver = sender == RECAP_WS_SERVER ? RECAP_WS_CLIENT : RECAP_WS_SERVER;
	if (!receives(receiver, stream))
		return recap_error_set(err, EINVAL,
				       "a %s does not close channel %u (%s): it does not send on it",
				       role_name(sender), (unsigned)stream, recap_wschan_name(stream));
	uint8_t prefix[2] = {RECAP_WSCHAN_CLOSE, (uint8_t)stream};
	return frame(out, sender, prefix, 2, NULL, 0, mask_key, err);
}

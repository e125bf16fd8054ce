/* Frames out: the header, the client's masking, close payloads. */
#include "wsproto/frame.h"

#include <errno.h>
#include <string.h>

#include "wsproto/utf8.h"

const char *recap_ws_opcode_name(unsigned opcode)
{
	switch (opcode) {
	case RECAP_WS_CONTINUATION:
		return "continuation";
	case RECAP_WS_TEXT:
		return "text";
	case RECAP_WS_BINARY:
		return "binary";
	case RECAP_WS_CLOSE:
		return "close";
	case RECAP_WS_PING:
		return "ping";
	case RECAP_WS_PONG:
		return "pong";
	default:
		return "unknown";
	}
}

void recap_ws_mask(uint8_t *data, size_t len, const uint8_t key[4], uint64_t offset)
{
	for (size_t i = 0; i < len; i++)
		data[i] ^= key[(offset + i) & 3];
}

int recap_ws_header(uint8_t out[RECAP_WS_HEADER_MAX], enum recap_ws_role role, enum recap_ws_opcode opcode,
		    bool fin, uint64_t payload_len, const uint8_t *mask_key, struct recap_error **err)
{
	const char *name = recap_ws_opcode_name(opcode);
	if (strcmp(name, "unknown") == 0)
		return recap_error_set(err, EINVAL, "unknown opcode 0x%x", (unsigned)opcode);
	if ((opcode & 0x8) && (!fin || payload_len > RECAP_WS_CONTROL_MAX))
		return recap_error_set(err, EINVAL, "a %s frame must be final and carry at most 125 bytes",
				       name);
	if (payload_len >> 63)
		return recap_error_set(err, EINVAL, "payload of %llu bytes is past the 63-bit frame length",
				       (unsigned long long)payload_len);
	if ((role == RECAP_WS_CLIENT) != (mask_key != NULL))
		return recap_error_set(err, EINVAL, "a %s must %s its frames",
				       role == RECAP_WS_CLIENT ? "client" : "server",
				       role == RECAP_WS_CLIENT ? "mask" : "not mask");
	size_t n = 2;
	out[0] = (fin ? 0x80 : 0) | opcode;
	if (payload_len < 126) {
		out[1] = (uint8_t)payload_len;
	} else {
		size_t ext = payload_len <= 0xFFFF ? 2 : 8;
		out[1] = ext == 2 ? 126 : 127;
		for (size_t i = 0; i < ext; i++)
			out[n + i] = (uint8_t)(payload_len >> (8 * (ext - 1 - i)));
		n += ext;
	}
	if (mask_key) {
		out[1] |= 0x80;
		memcpy(out + n, mask_key, 4);
		n += 4;
	}
	return (int)n;
}

int recap_ws_encode(struct recap_buf *out, enum recap_ws_role role, enum recap_ws_opcode opcode, bool fin,
		    const void *payload, size_t len, const uint8_t *mask_key, struct recap_error **err)
{
	uint8_t hdr[RECAP_WS_HEADER_MAX];
	int n = recap_ws_header(hdr, role, opcode, fin, len, mask_key, err);
	if (n < 0)
		return n;
	size_t before = out->len;
	int r = recap_buf_append(out, hdr, (size_t)n);
	if (r == 0)
		r = recap_buf_append(out, payload, len);
	if (r < 0) {
		out->len = before;
		if (out->data)
			out->data[before] = '\0';
		return recap_error_set(err, -r, "%s frame of %zu bytes exceeds the output limit of %zu bytes",
				       recap_ws_opcode_name(opcode), (size_t)n + len, out->max);
	}
	if (mask_key)
		recap_ws_mask((uint8_t *)out->data + before + n, len, mask_key, 0);
	return 0;
}

int recap_ws_encode_close(struct recap_buf *out, enum recap_ws_role role, uint16_t code, const char *reason,
			  const uint8_t *mask_key, struct recap_error **err)
{
	uint8_t payload[RECAP_WS_CONTROL_MAX];
	size_t rlen = reason ? strlen(reason) : 0;
	if (code == RECAP_WS_CLOSE_NO_STATUS && rlen == 0)
		return recap_ws_encode(out, role, RECAP_WS_CLOSE, true, NULL, 0, mask_key, err);
	if (!recap_ws_close_code_valid(code))
		return recap_error_set(err, EINVAL, "close code %u may not be sent", code);
	if (rlen > RECAP_WS_CLOSE_REASON_MAX)
		return recap_error_set(err, EINVAL, "close reason of %zu bytes exceeds the limit of %d bytes",
				       rlen, RECAP_WS_CLOSE_REASON_MAX);
	if (!recap_ws_utf8_valid((const uint8_t *)reason, rlen))
		return recap_error_set(err, EILSEQ, "close reason is not valid UTF-8");
	payload[0] = code >> 8;
	payload[1] = code & 0xFF;
	if (rlen)
		memcpy(payload + 2, reason, rlen);
	return recap_ws_encode(out, role, RECAP_WS_CLOSE, true, payload, 2 + rlen, mask_key, err);
}

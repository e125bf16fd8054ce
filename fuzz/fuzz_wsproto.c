/* The WebSocket frame decoder on arbitrary bytes in arbitrary chunks, and
 * each message it gives through the channel decoder, the resize parser and
 * the Status parser. The first two bytes choose the role, the protocol
 * version, the size limit and the chunk size. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wsproto/channel.h"
#include "wsproto/frame.h"
#include "wsproto/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void resize(const struct recap_wschan_message *c)
{
	uint16_t w, h;
	struct recap_error *err = NULL;
	int r = recap_wschan_resize_parse(c->data, c->len, &w, &h, &err);
	if (r == 0 && (w == 0 || h == 0))
		abort();
	if (r < 0 && (r != -EINVAL || !err))
		abort();
	recap_error_free(err);
}

static void status(const struct recap_wschan_message *c)
{
	int code = -2;
	char *msg = NULL;
	struct recap_error *err = NULL;
	int r = recap_wschan_status_parse(c->data, c->len, &code, &msg, &err);
	if (r == 0 && (code < -1 || code > 255 || (code == -1) != (msg != NULL)))
		abort();
	if (r < 0 && (r != -EPROTO || !err))
		abort();
	free(msg);
	recap_error_free(err);
}

static void channel(int version, enum recap_ws_role role, const struct recap_ws_message *m)
{
	struct recap_wschan_message c;
	struct recap_error *err = NULL;
	if (recap_wschan_decode(version, role, m, &c, &err) < 0) {
		if (!err)
			abort();
		recap_error_free(err);
		return;
	}
	if (c.data < m->data || c.data + c.len > m->data + m->len)
		abort();
	if (c.channel == RECAP_WSCHAN_RESIZE)
		resize(&c);
	else if (c.channel == RECAP_WSCHAN_ERROR)
		status(&c);
}

/* Whether m is a data message, after checking what the decoder promises. */
static bool check(const struct recap_ws_message *m, size_t max)
{
	if (m->opcode & 0x8) {
		if (m->len > RECAP_WS_CONTROL_MAX)
			abort();
	} else if (m->len > max || (m->opcode != RECAP_WS_TEXT && m->opcode != RECAP_WS_BINARY)) {
		abort();
	}
	if (m->opcode == RECAP_WS_TEXT && !recap_ws_utf8_valid(m->data, m->len))
		abort();
	if (m->opcode == RECAP_WS_CLOSE && m->len >= 2 && !recap_ws_close_code_valid(m->close_code))
		abort();
	return !(m->opcode & 0x8);
}

/* What a feed promises: all input taken when it needs more, an error named
 * with the close code to answer it. Whether to go on. */
static bool fed(const struct recap_ws_decoder *d, int r, size_t n, size_t used, struct recap_error *err)
{
	if (used > n || (r == 0 && used != n))
		abort();
	if (r < 0 && (!err || !recap_ws_decoder_close_code(d)))
		abort();
	recap_error_free(err);
	return r >= 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	enum recap_ws_role role = data[0] & 1 ? RECAP_WS_CLIENT : RECAP_WS_SERVER;
	int version = data[0] & 2 ? 5 : 4;
	size_t max = (size_t)1 << (data[0] >> 4); /* 1 B .. 32 KiB */
	size_t chunk = data[1] ? data[1] : 4096;
	data += 2;
	size -= 2;
	struct recap_ws_decoder d;
	recap_ws_decoder_init(&d, role, max);
	size_t pos = 0;
	while (pos < size) {
		size_t n = size - pos < chunk ? size - pos : chunk, used = 0;
		struct recap_ws_message m;
		struct recap_error *err = NULL;
		int r = recap_ws_decoder_feed(&d, data + pos, n, &used, &m, &err);
		if (!fed(&d, r, n, used, err))
			break;
		pos += used;
		if (r == 1 && check(&m, max))
			channel(version, role, &m);
	}
	recap_ws_decoder_free(&d);
	return 0;
}

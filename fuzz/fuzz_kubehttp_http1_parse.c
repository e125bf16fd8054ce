/* libFuzzer target: the lean transport's HTTP/1.1 response parser.
 *
 * The first byte picks the chunk size (the same bytes are also fed split at
 * arbitrary points) and whether the answer is to a HEAD; answers follow one
 * another as on a kept connection; the head limit is small so over-long
 * heads and chunk lines are exercised. Nothing may crash, leak or read out
 * of bounds, and the body handed out never exceeds the input. */
#include <stdint.h>
#include <stdlib.h>

#include "kubehttp/http1_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_head(const struct recap_http1_parser *p, void *userdata)
{
	if (p->status < 200 || p->status > 599)
		abort();
	return 0;
}

static int on_data(const char *data, size_t len, void *userdata)
{
	size_t *seen = userdata;
	*seen += len;
	return data[0] == '!' ? -1 : 0; /* a callback may refuse */
}

static const struct recap_http1_callbacks cbs = {.on_head = on_head, .on_data = on_data};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t chunk = (data[0] & 0x3f) + 1;
	bool head = data[0] & 0x40;
	data++, size--;
	struct recap_http1_parser p;
	recap_http1_init(&p, 1024, head);
	size_t seen = 0, off = 0;
	int r = 0;
	while (off < size && r >= 0) {
		size_t n = size - off < chunk ? size - off : chunk, used = 0;
		struct recap_error *err = NULL;
		r = recap_http1_feed(&p, (const char *)data + off, n, &used, &cbs, &seen, &err);
		recap_error_free(err);
		if (used > n)
			abort();
		off += used;
		if (r == 1) { /* the next answer on the same connection */
			recap_http1_free(&p);
			recap_http1_init(&p, 1024, head);
			r = 0;
		} else if (r == 0 && used < n) {
			abort(); /* it must take everything while the answer is open */
		}
	}
	if (r == 0) {
		struct recap_error *err = NULL;
		recap_http1_eof(&p, &err);
		recap_error_free(err);
	}
	recap_http1_free(&p);
	if (seen > size)
		abort();
	return 0;
}

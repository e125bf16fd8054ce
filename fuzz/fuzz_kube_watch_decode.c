/* libFuzzer target: watch stream framing and event decoding.
 *
 * The first input byte picks the chunk size, so the same stream is also
 * fed split at arbitrary points; the line limit is small so over-long
 * lines are exercised. Nothing may crash, leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kube/watch_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int touch(const struct recap_kube_watch_event *ev, void *userdata)
{
	size_t *n = userdata;
	*n += strlen(recap_kube_watch_type_name(ev->type));
	if (ev->resource_version)
		*n += strlen(ev->resource_version);
	return *n > (1u << 30) ? -1 : 0;
}

static void feed(const uint8_t *data, size_t size, size_t chunk)
{
	struct recap_kube_watch_decoder d;
	recap_kube_watch_decoder_init(&d, 4096);
	size_t seen = 0;
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		struct recap_error *err = NULL;
		int r = recap_kube_watch_decoder_feed(&d, (const char *)data + off, n, touch, &seen, &err);
		recap_error_free(err);
		if (r < 0)
			recap_kube_watch_decoder_reset(&d);
	}
	recap_kube_watch_decoder_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t chunk = (size_t)data[0] + 1;
	feed(data + 1, size - 1, chunk);
	feed(data + 1, size - 1, size);
	struct recap_kube_watch_event ev;
	json_t *obj = NULL;
	if (recap_kube_watch_decode_line((const char *)data + 1, size - 1, &ev, &obj, NULL) == 0)
		json_decref(obj);
	return 0;
}

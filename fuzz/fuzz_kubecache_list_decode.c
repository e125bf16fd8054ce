/* libFuzzer target: a list decoded through a projection as it arrives
 * (kubecache/list_decode.h), against the same body parsed whole.
 *
 * The first input byte picks the piece size. Nothing may crash, leak or
 * read out of bounds; whatever jansson accepts the decoder accepts too, and
 * every item it hands on projects to what the whole parse projects to.
 * (jansson takes a NUL byte after a value for the end of its input; the
 * decoder refuses it as trailing garbage, so bodies with NUL are not
 * compared.) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kubecache/list_decode.h"
#include "kubecache/projection.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const paths[] = {
    "metadata.name",
    "metadata.namespace",
    "metadata.labels",
    "spec.containers[].name",
    "status.conditions",
    "a.b[].c",
    "a.b",
    "a.d[]",
};

static void collect(json_t *item, void *userdata)
{
	json_array_append_new(userdata, item);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct recap_kube_projection *p;
	if (!p && recap_kube_projection_new(paths, sizeof(paths) / sizeof(paths[0]), &p, NULL) < 0)
		abort();
	if (size == 0)
		return 0;
	size_t piece = (size_t)data[0] + 1;
	const char *body = (const char *)data + 1;
	size--;

	json_t *items = json_array();
	struct recap_kube_list_sink sink = {.projection = p, .item = collect, .userdata = items};
	const struct recap_kube_decoder *d = &recap_kube_list_decoder;
	void *st = d->begin(&sink);
	int r = 0;
	for (size_t off = 0; r == 0 && off < size; off += piece) {
		struct recap_error *err = NULL;
		r = d->feed(st, body + off, size - off < piece ? size - off : piece, &err);
		recap_error_free(err);
	}
	json_t *list = NULL;
	struct recap_error *err = NULL;
	if (r == 0)
		r = d->end(st, &list, &err);
	else
		d->abort(st);
	recap_error_free(err);

	json_t *whole = memchr(body, '\0', size)
			    ? NULL
			    : json_loadb(body, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
	if (whole && r < 0)
		abort(); /* refused what jansson reads */
	json_t *want = json_object_get(whole, "items");
	if (whole && json_is_object(whole) && json_is_array(want)) {
		if (json_array_size(want) != json_array_size(items))
			abort();
		for (size_t i = 0; i < json_array_size(items); i++) {
			json_t *a = recap_kube_projection_apply(p, json_array_get(want, i));
			json_t *b = recap_kube_projection_apply(p, json_array_get(items, i));
			if (!a != !b || (a && !json_equal(a, b)))
				abort();
			json_decref(a);
			json_decref(b);
		}
	}
	json_decref(whole);
	json_decref(list);
	json_decref(items);
	return 0;
}

/* Decoding a list through a projection: a page of 500 pods is 1 MB of JSON,
 * and parsing it into a tree costs ~35 µs a pod, mostly in allocations for
 * fields a cache then drops. This decoder reads the body with an event parser
 * (yajl), piece by piece as it arrives, and builds only what the projection
 * keeps of each item, plus the list's own fields (metadata: resourceVersion,
 * continue) whole. The body itself is never held, and each item can be handed
 * on as soon as it is read, so no page is held either.
 *
 * Every byte is still checked: the body must be one well-formed JSON value
 * with valid UTF-8, no comments and nothing after it; a kept string may not
 * hold NUL, a kept object may not repeat a key, a kept number must fit (as
 * jansson parses them). What is skipped is never built, so a repeated key or
 * a number too large for jansson inside a dropped field is not noticed.
 *
 * What it keeps is a superset of what recap_kube_projection_apply() keeps of
 * the same item (a field the projection names twice, once as "name" and once
 * as "name[]", is kept whole); applying the projection to the decoded item
 * gives exactly what applying it to the whole item gives. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "base/error.h"
#include "kube/client.h"
#include "kubecache/projection.h"

/* Nesting deeper than this in a kept value is refused (jansson's limit). */
#define RECAP_KUBE_LIST_DECODE_MAX_DEPTH 2048

/* What a list is decoded through, and where its items go. */
struct recap_kube_list_sink {
	const struct recap_kube_projection *projection;
	/* Each item as soon as it is read (a new reference, taken), from
	 * inside the transport's callback as a watch event is; the list then
	 * holds an empty "items". NULL: the items stay in the list. */
	void (*item)(json_t *item, void *userdata);
	void *userdata;
};

/* Decodes a list answer as it arrives; its data is a recap_kube_list_sink. */
extern const struct recap_kube_decoder recap_kube_list_decoder;

/* The same on a whole body. Errors say what and near which byte. */
int recap_kube_list_decode(const char *body, size_t len, const struct recap_kube_list_sink *sink,
			   json_t **ret, struct recap_error **err);

/* Watch stream framing and event decoding: pure, no I/O (fuzzed).
 *
 * The body of a watch is newline-delimited JSON, one event per line:
 *   {"type":"ADDED","object":{...}}
 * Bytes arrive in arbitrary chunks; the decoder keeps at most one partial
 * line, bounded by max_line: a longer line is an error, never a crash and
 * never unbounded memory.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/error.h"

enum recap_kube_watch_type {
	RECAP_KUBE_WATCH_ADDED,
	RECAP_KUBE_WATCH_MODIFIED,
	RECAP_KUBE_WATCH_DELETED,
	RECAP_KUBE_WATCH_BOOKMARK,
	RECAP_KUBE_WATCH_ERROR, /* the server's ERROR event: object is a metav1.Status */
};

struct recap_kube_watch_event {
	enum recap_kube_watch_type type;
	json_t *object;		      /* borrowed during the callback */
	const char *resource_version; /* object's metadata.resourceVersion, or NULL */
	long status_code;	      /* ERROR: Status.code (410 means Gone) */
};

#define RECAP_KUBE_WATCH_LINE_DEFAULT_MAX (16u << 20)

struct recap_kube_watch_decoder {
	struct recap_buf line;
};

void recap_kube_watch_decoder_init(struct recap_kube_watch_decoder *d, size_t max_line);
void recap_kube_watch_decoder_free(struct recap_kube_watch_decoder *d);
/* Drops a partial line (after a reconnect). */
void recap_kube_watch_decoder_reset(struct recap_kube_watch_decoder *d);
/* True when a partial line is pending (a stream that ends here was cut). */
bool recap_kube_watch_decoder_pending(const struct recap_kube_watch_decoder *d);

/* Called for each complete event; a negative return stops feeding and is
 * returned by recap_kube_watch_decoder_feed. */
typedef int (*recap_kube_watch_emit)(const struct recap_kube_watch_event *ev, void *userdata);

/* Feeds bytes; emits every complete line. Returns 0, the emitter's negative
 * value, or -EMSGSIZE / -EBADMSG with *err naming the problem. After an
 * error the decoder must be reset before it is fed again. */
int recap_kube_watch_decoder_feed(struct recap_kube_watch_decoder *d, const char *data, size_t len,
				  recap_kube_watch_emit emit, void *userdata, struct recap_error **err);

/* Decodes one line (without the newline). On success *ret_object holds a
 * reference the caller drops. */
int recap_kube_watch_decode_line(const char *line, size_t len, struct recap_kube_watch_event *ev,
				 json_t **ret_object, struct recap_error **err);

const char *recap_kube_watch_type_name(enum recap_kube_watch_type t);

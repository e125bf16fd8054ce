/* A GET whose answer is a stream of bytes, not a document: a run's log, a
 * tar of its artifacts (the subresources recap-apiserver serves through the
 * aggregation layer). The body goes to on_data as it arrives; on_done runs
 * once. An error answer (a Status) is collected, up to 64 KiB, and handed
 * to on_done as an error naming its message. Not retried: a stream may
 * have been partly consumed. Cancel before closing the client. */
#pragma once

#include "kube/client.h"

struct recap_kube_stream;

#define RECAP_KUBE_STREAM_PAUSE 1

struct recap_kube_stream_options {
	uint64_t timeout_ms; /* the whole stream; 0: none */
	/* Each piece of a 200 answer's body: 0 taken; < 0 stops the stream
	 * (on_done gets RECAP_KUBE_ERR_CANCELLED); RECAP_KUBE_STREAM_PAUSE: not
	 * taken, nothing more is read until recap_kube_stream_resume() hands
	 * the same piece again (the server is held back meanwhile). */
	int (*on_data)(const char *p, size_t n, void *userdata);
	/* code RECAP_KUBE_OK: the body ended whole. err is borrowed. */
	void (*on_done)(enum recap_kube_code code, long http_status, const struct recap_error *err,
			void *userdata);
	void *userdata;
};

int recap_kube_stream_get(struct recap_kube_client *c, const char *path,
			  const struct recap_kube_stream_options *o, struct recap_kube_stream **ret,
			  struct recap_error **err);
/* After on_data paused; never from inside on_data or on_done. on_data may
 * run inside this call. Needs the libcurl transport (the plugin's). */
void recap_kube_stream_resume(struct recap_kube_stream *s);
/* on_done does not run after this. */
void recap_kube_stream_cancel(struct recap_kube_stream *s);

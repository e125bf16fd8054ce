/* libcurl multi driven by a libuv loop: one uv_poll per socket curl uses
 * and one uv_timer for curl's timeouts. Internal to http_curl.c. */
#pragma once

#include <curl/curl.h>
#include <uv.h>

#include "base/error.h"

/* A transfer's owner embeds this and sets CURLOPT_PRIVATE to it; `done`
 * runs from the loop when the transfer finished (the easy handle has been
 * removed from the multi handle already). */
struct recap_kube_xfer {
	void (*done)(struct recap_kube_xfer *x, CURLcode result);
	/* Transport-owned: set when a socket of this transfer could not be
	 * watched, so the transfer is failed right after curl returns. */
	struct recap_kube_xfer *next_failed;
	CURL *failed_easy;
};

struct recap_kube_transport;

int recap_kube_transport_new(uv_loop_t *loop, struct recap_kube_transport **ret, struct recap_error **err);
int recap_kube_transport_add(struct recap_kube_transport *t, CURL *easy, struct recap_kube_xfer *x,
			     struct recap_error **err);
/* Removes a running transfer; its done callback will not run. Never call
 * from inside a curl callback (write/header): return an error from it. */
void recap_kube_transport_remove(struct recap_kube_transport *t, CURL *easy);
/* Every transfer must have been removed or finished. Closes the handles;
 * the memory goes once the loop ran their close callbacks. Safe to call from
 * a done callback. */
void recap_kube_transport_close(struct recap_kube_transport *t);

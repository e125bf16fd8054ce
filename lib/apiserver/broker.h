/* API calls from the stream threads. The API client lives on one libuv
 * loop in its own thread (connections reused, rate limits shared); a stream
 * thread hands it a request and waits for the answer. */
#pragma once

#include <jansson.h>

#include "base/error.h"
#include "kube/client.h"
#include "kube/resource.h"

struct apiserver_broker;

/* Starts the loop thread with a client made from cfg. */
int apiserver_broker_start(const struct recap_kube_config *cfg, struct apiserver_broker **ret,
			   struct recap_error **err);
void apiserver_broker_stop(struct apiserver_broker *b);

struct apiserver_call {
	const char *method, *path;
	json_t *body; /* borrowed; NULL for none */
	/* filled: */
	long http_status; /* 0: no answer */
	enum recap_kube_code code;
	json_t *object; /* owned by the caller */
};

/* Blocks until the call is answered (the client's timeouts bound it).
 * Returns 0 for a 2xx answer, else a negative errno with *err naming it. */
int apiserver_broker_call(struct apiserver_broker *b, struct apiserver_call *call, struct recap_error **err);

/* Waiting for a change instead of reading again and again: a watch of res
 * in ns (field_selector, e.g. "metadata.name=X") from resource_version, the
 * version the caller last read, for at most timeout_ms. */
struct apiserver_wait {
	const struct recap_kube_resource *res;
	const char *ns, *field_selector, *resource_version;
	unsigned timeout_ms;
	/* filled: */
	json_t *object; /* the first object that changed (owned by the caller), or NULL */
	bool deleted;	/* that change was its deletion */
	bool timed_out; /* no change came in timeout_ms (else, with no object: the
			   watch broke off, and waiting again at once may not help) */
	char why[256];	/* when it broke off: why, as the API server or the
			   transport said ("" when nothing was said) */
};

/* Blocks until the first change after resource_version, timeout_ms, or the
 * watch could not go on (an old version, a broken stream, a refusal): 0,
 * object NULL unless a change came; the caller reads again then. A negative errno when
 * the broker is stopping or the watch cannot start. */
int apiserver_broker_wait(struct apiserver_broker *b, struct apiserver_wait *w, struct recap_error **err);

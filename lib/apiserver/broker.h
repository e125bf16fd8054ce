/* API calls from the stream threads. The API client lives on one libuv
 * loop in its own thread (connections reused, rate limits shared); a stream
 * thread hands it a request and waits for the answer. */
#pragma once

#include <jansson.h>

#include "base/error.h"
#include "kube/client.h"

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

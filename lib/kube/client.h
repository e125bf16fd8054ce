/* The API client on a libuv loop (transport: kubehttp/http.h).
 *
 * Every call is asynchronous: it returns < 0 (with *err) when the request
 * cannot even be formed, otherwise the callback runs exactly once, later,
 * from the loop — never from inside the call. Requests are retried with
 * jittered exponential backoff on connection errors, 5xx and 429 (Retry-After
 * honoured) up to a cap; a create or a merge/JSON patch only when the server
 * cannot have acted on it (connect failure, 429, 503).
 *
 * recap_kube_client_close() cancels what is in flight (callbacks get
 * RECAP_KUBE_ERR_CANCELLED) and closes the handles; the memory goes when the
 * loop has run the close callbacks, so run the loop once more afterwards.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "base/error.h"
#include "kube/config.h"
#include "kube/errors.h"
#include "kube/resource.h"

struct recap_kube_client;

struct recap_kube_client_options {
	uint64_t timeout_ms;	   /* per request, default 30 s */
	size_t max_response_bytes; /* default 64 MiB */
	int max_retries;	   /* retries after the first attempt; 0: default 5, < 0: none */
	uint64_t retry_base_ms;	   /* default 200 ms, doubled per retry */
	uint64_t retry_max_ms;	   /* default 10 s */
	const char *user_agent;	   /* default "recap" */
	/* Client-side rate limit (token bucket, kube/bucket.h): qps on
	 * average, burst at once. 0 means the default 50 qps / burst 100;
	 * a negative qps disables the limit. Watches are not limited. */
	double qps;
	unsigned burst;
	/* Requests whose transfer runs at once (0: no bound); the rest wait
	 * their turn in order. Each runs on its own connection (with TLS,
	 * about 35 KiB of buffers), so a burst of calls would otherwise open
	 * as many connections at once. Watches are not counted. */
	unsigned max_in_flight;
};

/* What a call produced. Borrowed: valid during the callback only (take a
 * reference to `object` with json_incref to keep it). */
struct recap_kube_response {
	enum recap_kube_code code;
	long http_status;	 /* 0 when no HTTP answer arrived */
	json_t *object;		 /* decoded body on success, NULL otherwise */
	struct recap_error *err; /* NULL on success */
	unsigned attempts;	 /* 1 + retries */
	int http_version;	 /* of the last attempt: 11, 20 (HTTP/2), 30; 0 unknown */
};

typedef void (*recap_kube_cb)(const struct recap_kube_response *resp, void *userdata);

int recap_kube_client_new(uv_loop_t *loop, const struct recap_kube_config *cfg,
			  const struct recap_kube_client_options *opts, struct recap_kube_client **ret,
			  struct recap_error **err);
void recap_kube_client_close(struct recap_kube_client *c);
uv_loop_t *recap_kube_client_loop(struct recap_kube_client *c);
/* The configuration's default namespace. */
const char *recap_kube_client_namespace(struct recap_kube_client *c);
/* Now, in seconds since the epoch, on the API server's clock as its last
 * answers showed it (kube/clock.h); our own clock until one has. */
int64_t recap_kube_client_now(struct recap_kube_client *c);

/* Decodes a successful answer's body piece by piece as it arrives, in place
 * of keeping the whole body and parsing it at the end (a list decoded
 * through a projection: kubecache/list_decode.h). An answer that is not a
 * success is kept and parsed as ever, for its Status. */
struct recap_kube_decoder {
	/* The state for one answer; NULL when out of memory. */
	void *(*begin)(void *data);
	/* The next piece; an error ends the request with RECAP_KUBE_ERR_DECODE. */
	int (*feed)(void *state, const char *p, size_t n, struct recap_error **err);
	/* The body is complete: the value decoded. Frees the state. */
	int (*end)(void *state, json_t **ret, struct recap_error **err);
	/* Frees the state of an answer that ends otherwise (error, retry). */
	void (*abort)(void *state);
};

/* A raw request: path (with query) below the server URL; body may be NULL. */
struct recap_kube_request {
	const char *method;
	const char *path;
	const char *content_type; /* default application/json when a body is given */
	const char *body;
	size_t body_len;
	uint64_t timeout_ms;			  /* 0: the client's */
	const struct recap_kube_decoder *decoder; /* NULL: the whole body is parsed */
	void *decoder_data;
};

int recap_kube_request(struct recap_kube_client *c, const struct recap_kube_request *req, recap_kube_cb cb,
		       void *userdata, struct recap_error **err);

/* ---- verbs ---- */

struct recap_kube_list_options {
	const char *label_selector;
	const char *field_selector;
	long limit;				  /* 0: no limit */
	const char *continue_token;		  /* from metadata.continue of the previous page */
	const char *resource_version;		  /* NULL: most recent */
	const struct recap_kube_decoder *decoder; /* NULL: the whole page is parsed */
	void *decoder_data;
};

struct recap_kube_delete_options {
	const char *precondition_uid;
	const char *precondition_resource_version;
	const char *propagation_policy; /* "Foreground", "Background", "Orphan" or NULL */
	long grace_period_seconds;	/* < 0: server default */
};

enum recap_kube_patch_type {
	RECAP_KUBE_PATCH_MERGE,	    /* application/merge-patch+json */
	RECAP_KUBE_PATCH_JSON,	    /* application/json-patch+json */
	RECAP_KUBE_PATCH_STRATEGIC, /* built-in kinds only */
	RECAP_KUBE_PATCH_APPLY,	    /* server-side apply */
};

struct recap_kube_patch_options {
	const char *field_manager; /* required for APPLY */
	bool force;		   /* APPLY: take ownership of conflicting fields */
};

/* `subresource` is NULL or e.g. "status". Objects are not consumed. */
int recap_kube_get(struct recap_kube_client *c, const struct recap_kube_resource *res, const char *ns,
		   const char *name, const char *subresource, recap_kube_cb cb, void *userdata,
		   struct recap_error **err);
int recap_kube_list(struct recap_kube_client *c, const struct recap_kube_resource *res, const char *ns,
		    const struct recap_kube_list_options *opts, recap_kube_cb cb, void *userdata,
		    struct recap_error **err);
int recap_kube_create(struct recap_kube_client *c, const struct recap_kube_resource *res, const char *ns,
		      json_t *obj, recap_kube_cb cb, void *userdata, struct recap_error **err);
/* PUT; the name comes from obj's metadata.name, and metadata.resourceVersion
 * (when set) is the optimistic-lock precondition: a stale one gets CONFLICT. */
int recap_kube_update(struct recap_kube_client *c, const struct recap_kube_resource *res, const char *ns,
		      json_t *obj, const char *subresource, recap_kube_cb cb, void *userdata,
		      struct recap_error **err);
int recap_kube_delete(struct recap_kube_client *c, const struct recap_kube_resource *res, const char *ns,
		      const char *name, const struct recap_kube_delete_options *opts, recap_kube_cb cb,
		      void *userdata, struct recap_error **err);
int recap_kube_patch(struct recap_kube_client *c, const struct recap_kube_resource *res, const char *ns,
		     const char *name, const char *subresource, enum recap_kube_patch_type type,
		     json_t *patch, const struct recap_kube_patch_options *opts, recap_kube_cb cb,
		     void *userdata, struct recap_error **err);

/* ---- blocking helper (CLIs, tests) ----
 *
 *	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
 *	r = recap_kube_get(c, &res, ns, name, NULL, recap_kube_sync_cb, &s, &err);
 *	if (r >= 0)
 *		r = recap_kube_sync_wait(c, &s, &obj, &err);
 */
struct recap_kube_sync {
	bool done;
	enum recap_kube_code code;
	long http_status;
	json_t *object;
	struct recap_error *err;
};
#define RECAP_KUBE_SYNC_INIT ((struct recap_kube_sync){0})

void recap_kube_sync_cb(const struct recap_kube_response *resp, void *userdata);
/* Runs the client's loop until the call is done. Returns 0 and hands out the
 * object (caller owns it; ret may be NULL) or a negative errno with *err.
 * Either way the sync struct is emptied. */
int recap_kube_sync_wait(struct recap_kube_client *c, struct recap_kube_sync *s, json_t **ret,
			 struct recap_error **err);

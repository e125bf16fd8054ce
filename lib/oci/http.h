/* The HTTP layer of the registry client: one GET on a libcurl easy handle.
 *
 * recap_oci_http_setup() configures a handle completely (URL, headers,
 * limits, TLS, redirects, callbacks) and recap_oci_http_finish() turns the
 * finished transfer into a response or an error, so the same request can be
 * driven by curl_easy_perform() (the executor CLI, recap_oci_http_get()) or
 * by a curl multi handle on an event loop (the node agent).
 */
#pragma once

#include <curl/curl.h>
#include <stdint.h>

#include "base/error.h"

/* Receives the body; a negative return aborts the transfer with that error. */
typedef int (*recap_oci_http_sink)(void *userdata, const void *data, size_t n, struct recap_error **err);

struct recap_oci_http_req {
	const char *url;
	const char *authorization; /* full header value or NULL */
	const char *accept;	   /* Accept header value or NULL */
	int allow_http;		   /* plain http:// allowed (explicitly insecure registry) */
	const char *ca_file;	   /* PEM bundle to verify TLS with; NULL: the system's */
	int skip_verify;	   /* TLS without verifying the peer (hosts.toml skip_verify) */
	long connect_timeout_s;	   /* default 10 */
	long stall_timeout_s;	   /* abort when under RECAP_OCI_HTTP_MIN_SPEED for this long; default 30 */
	long total_timeout_s;	   /* 0: none (large blobs) */
	long total_timeout_ms;	   /* when set, instead of total_timeout_s (what is left of a deadline) */
	uint64_t max_body;	   /* bytes; more is an error, never truncation */
	recap_oci_http_sink sink;  /* NULL: body discarded (bounded by max_body) */
	void *userdata;
};

#define RECAP_OCI_HTTP_HEADER_MAX 4096
/* Bytes per second a transfer must average over stall_timeout_s: a registry
 * that drips a byte a second never finishes a layer, and it holds the pull
 * (and the store's locks) meanwhile. */
#define RECAP_OCI_HTTP_MIN_SPEED 1024L

struct recap_oci_http_resp {
	long status;
	char content_type[256];
	char www_authenticate[RECAP_OCI_HTTP_HEADER_MAX];
	char docker_digest[128];
	uint64_t body_len;
	/* private */
	const struct recap_oci_http_req *req;
	struct curl_slist *headers;
	struct recap_error *sink_err;
	int sink_rc;
	int too_big;
	int header_too_long;
	char errbuf[CURL_ERROR_SIZE];
};

int recap_oci_http_setup(CURL *h, const struct recap_oci_http_req *req, struct recap_oci_http_resp *resp,
			 struct recap_error **err);
/* rc is the CURLcode of the transfer. Returns 0 (any HTTP status) or an
 * error naming the URL: connection, TLS, timeout, body over the limit. */
int recap_oci_http_finish(CURL *h, CURLcode rc, struct recap_oci_http_resp *resp, struct recap_error **err);
/* Releases what setup allocated (safe to call twice). */
void recap_oci_http_resp_release(struct recap_oci_http_resp *resp);

/* Blocking: setup + curl_easy_perform + finish on h (reset first; its
 * connections are reused). */
int recap_oci_http_perform(CURL *h, const struct recap_oci_http_req *req, struct recap_oci_http_resp *resp,
			   struct recap_error **err);
/* Same on a fresh handle. */
int recap_oci_http_get(const struct recap_oci_http_req *req, struct recap_oci_http_resp *resp,
		       struct recap_error **err);

/* API errors classified by HTTP status into codes a caller can switch on.
 *
 * Classification uses only the status code and the machine-readable
 * metav1.Status `reason` (to tell AlreadyExists from Conflict), never the
 * message text. The server's Status message is carried for people.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

enum recap_kube_code {
	RECAP_KUBE_OK = 0,
	RECAP_KUBE_ERR_TRANSPORT,	  /* no HTTP answer: connect, TLS, timeout, reset */
	RECAP_KUBE_ERR_BAD_REQUEST,	  /* 400 */
	RECAP_KUBE_ERR_UNAUTHORIZED,	  /* 401 */
	RECAP_KUBE_ERR_FORBIDDEN,	  /* 403 */
	RECAP_KUBE_ERR_NOT_FOUND,	  /* 404 */
	RECAP_KUBE_ERR_CONFLICT,	  /* 409, e.g. stale resourceVersion, SSA field conflict */
	RECAP_KUBE_ERR_ALREADY_EXISTS,	  /* 409 with reason AlreadyExists */
	RECAP_KUBE_ERR_GONE,		  /* 410: resourceVersion too old, relist */
	RECAP_KUBE_ERR_INVALID,		  /* 422 */
	RECAP_KUBE_ERR_TOO_MANY_REQUESTS, /* 429 */
	RECAP_KUBE_ERR_SERVER,		  /* 5xx */
	RECAP_KUBE_ERR_HTTP,		  /* any other non-2xx status */
	RECAP_KUBE_ERR_TOO_LARGE,	  /* response or watch line over its limit */
	RECAP_KUBE_ERR_DECODE,		  /* body is not the JSON we expect */
	RECAP_KUBE_ERR_CANCELLED,	  /* the client or the call was closed */
};

/* Code for an HTTP status; `reason` is the Status reason or NULL. */
enum recap_kube_code recap_kube_code_from_http(long status, const char *reason);

/* Stable short name, e.g. "NotFound", "Conflict". */
const char *recap_kube_code_name(enum recap_kube_code code);

/* A negative errno for the code (-ENOENT for NotFound, -EEXIST for
 * AlreadyExists, -EACCES, -EPERM, -ESTALE for Gone, -EAGAIN for 429, ...). */
int recap_kube_code_errno(enum recap_kube_code code);

/* True when `status` (a metav1.Status, as an answer's body or a watch's ERROR
 * event) says the requested resourceVersion is newer than the server has
 * seen: a 504 Timeout whose details.causes[] holds the machine-readable
 * reason ResourceVersionTooLarge. Retrying with that version cannot help;
 * the client must list afresh without a resourceVersion (a consistent read). */
bool recap_kube_status_resource_version_too_large(json_t *status);

/* From a non-2xx response, fills *err with
 *   "<what>: <status> <CodeName>: <Status.message>"
 * (the body's message when it is a metav1.Status, else a bounded, printable
 * prefix of the body) and returns the code. `what` is e.g. "GET /api/v1/...". */
enum recap_kube_code recap_kube_error_from_response(long status, json_t *body, const char *raw,
						    size_t raw_len, const char *what,
						    struct recap_error **err);

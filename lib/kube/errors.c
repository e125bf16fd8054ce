#include "kube/errors.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"

/* How much of a non-Status error body goes into a message. */
#define RAW_BODY_EXCERPT 200

enum recap_kube_code recap_kube_code_from_http(long status, const char *reason)
{
	if (status >= 200 && status < 300)
		return RECAP_KUBE_OK;
	switch (status) {
	case 400:
		return RECAP_KUBE_ERR_BAD_REQUEST;
	case 401:
		return RECAP_KUBE_ERR_UNAUTHORIZED;
	case 403:
		return RECAP_KUBE_ERR_FORBIDDEN;
	case 404:
		return RECAP_KUBE_ERR_NOT_FOUND;
	case 409:
		if (reason && strcmp(reason, "AlreadyExists") == 0)
			return RECAP_KUBE_ERR_ALREADY_EXISTS;
		return RECAP_KUBE_ERR_CONFLICT;
	case 410:
		return RECAP_KUBE_ERR_GONE;
	case 422:
		return RECAP_KUBE_ERR_INVALID;
	case 429:
		return RECAP_KUBE_ERR_TOO_MANY_REQUESTS;
	default:
		break;
	}
	if (status >= 500 && status < 600)
		return RECAP_KUBE_ERR_SERVER;
	return status == 0 ? RECAP_KUBE_ERR_TRANSPORT : RECAP_KUBE_ERR_HTTP;
}

static const struct {
	const char *name;
	int err;
} codes[] = {
    [RECAP_KUBE_OK] = {"OK", 0},
    [RECAP_KUBE_ERR_TRANSPORT] = {"Transport", EIO},
    [RECAP_KUBE_ERR_BAD_REQUEST] = {"BadRequest", EINVAL},
    [RECAP_KUBE_ERR_UNAUTHORIZED] = {"Unauthorized", EACCES},
    [RECAP_KUBE_ERR_FORBIDDEN] = {"Forbidden", EPERM},
    [RECAP_KUBE_ERR_NOT_FOUND] = {"NotFound", ENOENT},
    [RECAP_KUBE_ERR_CONFLICT] = {"Conflict", EBUSY},
    [RECAP_KUBE_ERR_ALREADY_EXISTS] = {"AlreadyExists", EEXIST},
    [RECAP_KUBE_ERR_GONE] = {"Gone", ESTALE},
    [RECAP_KUBE_ERR_INVALID] = {"Invalid", EINVAL},
    [RECAP_KUBE_ERR_TOO_MANY_REQUESTS] = {"TooManyRequests", EAGAIN},
    [RECAP_KUBE_ERR_SERVER] = {"ServerError", EIO},
    [RECAP_KUBE_ERR_HTTP] = {"HTTPError", EPROTO},
    [RECAP_KUBE_ERR_TOO_LARGE] = {"TooLarge", EFBIG},
    [RECAP_KUBE_ERR_DECODE] = {"DecodeError", EBADMSG},
    [RECAP_KUBE_ERR_CANCELLED] = {"Cancelled", ECANCELED},
};

const char *recap_kube_code_name(enum recap_kube_code code)
{
	if ((unsigned)code >= ARRAY_SIZE(codes))
		return "Unknown";
	return codes[code].name;
}

int recap_kube_code_errno(enum recap_kube_code code)
{
	if ((unsigned)code >= ARRAY_SIZE(codes))
		return -EIO;
	return -codes[code].err;
}

bool recap_kube_status_resource_version_too_large(json_t *status)
{
	const char *kind = recap_json_str(status, "kind");
	if (kind && strcmp(kind, "Status") != 0)
		return false; /* an object that happens to carry such fields */
	/* The cause alone decides (as client-go's reflector): the code and the
	 * Status reason (504, Timeout) are shared with every other timeout. */
	json_t *causes = json_object_get(json_object_get(status, "details"), "causes");
	size_t i;
	json_t *cause;
	json_array_foreach (causes, i, cause) {
		const char *reason = recap_json_str(cause, "reason");
		if (reason && strcmp(reason, "ResourceVersionTooLarge") == 0)
			return true;
	}
	return false;
}

/* A short, printable excerpt of a body that is not a Status (an HTML error
 * page from a proxy, say): enough to recognize, never the whole thing. */
static void excerpt(const char *raw, size_t len, char *out, size_t size)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + 1 < size && i < RAW_BODY_EXCERPT; i++)
		out[n++] = isprint((unsigned char)raw[i]) ? raw[i] : ' ';
	out[n] = '\0';
}

enum recap_kube_code recap_kube_error_from_response(long status, json_t *body, const char *raw,
						    size_t raw_len, const char *what,
						    struct recap_error **err)
{
	const char *reason = NULL, *message = NULL;
	const char *kind = recap_json_str(body, "kind");
	if (kind && strcmp(kind, "Status") == 0) {
		reason = recap_json_str(body, "reason");
		message = recap_json_str(body, "message");
	}
	enum recap_kube_code code = recap_kube_code_from_http(status, reason);
	char ex[RAW_BODY_EXCERPT + 1] = "";
	if (!message && raw && raw_len) {
		excerpt(raw, raw_len, ex, sizeof(ex));
		message = ex;
	}
	recap_error_set(err, -recap_kube_code_errno(code), "%s: %ld %s%s%s", what, status,
			recap_kube_code_name(code), message ? ": " : "", message ? message : "");
	return code;
}

/* The error channel: one metav1.Status, written as the kubelet writes it and
 * read as kubectl reads it (client-go's errorDecoderV4). */
#include "wsproto/channel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"

static int dump(struct recap_buf *out, json_t *status, struct recap_error **err)
{
	if (!status)
		return recap_error_set(err, ENOMEM, "out of memory for a Status");
	int r = recap_json_dump(status, out);
	json_decref(status);
	if (r < 0)
		return recap_error_set(err, -r, "Status exceeds the output limit of %zu bytes", out->max);
	return 0;
}

int recap_wschan_status_exit(struct recap_buf *out, int exit_code, struct recap_error **err)
{
	if (exit_code < 0 || exit_code > 255)
		return recap_error_set(err, EINVAL, "exit code %d is not in 0..255", exit_code);
	if (exit_code == 0)
		return dump(out, json_pack("{s:{}, s:s}", "metadata", "status", "Success"), err);
	char code[4], msg[64];
	snprintf(code, sizeof(code), "%d", exit_code);
	snprintf(msg, sizeof(msg), "command terminated with non-zero exit code: exit status %d", exit_code);
	return dump(out,
		    json_pack("{s:{}, s:s, s:s, s:s, s:{s:[{s:s, s:s}]}}", "metadata", "status", "Failure",
			      "message", msg, "reason", "NonZeroExitCode", "details", "causes", "reason",
			      "ExitCode", "message", code),
		    err);
}

int recap_wschan_status_failure(struct recap_buf *out, const char *message, struct recap_error **err)
{
	json_t *m = json_string(message);
	if (!m)
		return recap_error_set(err, EINVAL, "failure message is not valid UTF-8");
	return dump(out,
		    json_pack("{s:{}, s:s, s:o, s:s, s:i}", "metadata", "status", "Failure", "message", m,
			      "reason", "InternalError", "code", 500),
		    err);
}

/* client-go reads the code with strconv.ParseUint(s, 10, 8). */
static int exit_code_of(json_t *details, struct recap_error **err)
{
	json_t *causes = json_object_get(details, "causes"), *c;
	size_t i;
	if (!json_is_object(details))
		return recap_error_set(err, EPROTO, "NonZeroExitCode Status without details");
	json_array_foreach (causes, i, c) {
		if (!json_is_string(json_object_get(c, "reason")) ||
		    strcmp(json_string_value(json_object_get(c, "reason")), "ExitCode") != 0)
			continue;
		const char *s = json_string_value(json_object_get(c, "message"));
		size_t n = s ? strspn(s, "0123456789") : 0;
		long v = n && n <= 3 && !s[n] ? strtol(s, NULL, 10) : -1;
		if (v < 1 || v > 255)
			return recap_error_set(err, EPROTO,
					       "ExitCode cause with '%.16s', not an exit code 1..255",
					       s ? s : "no message");
		return (int)v;
	}
	return recap_error_set(err, EPROTO, "NonZeroExitCode Status without an ExitCode cause");
}

int recap_wschan_status_parse(const void *data, size_t len, int *ret_exit_code, char **ret_message,
			      struct recap_error **err)
{
	_cleanup_json_ json_t *st = NULL;
	_cleanup_error_ struct recap_error *perr = NULL;
	if (recap_json_parse(data, len, RECAP_WSCHAN_STATUS_MAX, &st, &perr) < 0)
		return recap_error_set(err, EPROTO, "error channel: %s", recap_error_message(perr));
	const char *status = recap_json_str(st, "status");
	if (!json_is_object(st) || !status)
		return recap_error_set(err, EPROTO, "error channel: not a Status (no status field)");
	if (strcmp(status, "Success") == 0) {
		*ret_exit_code = 0;
		*ret_message = NULL;
		return 0;
	}
	if (strcmp(status, "Failure") != 0)
		return recap_error_set(
		    err, EPROTO, "error channel: status '%.32s' is neither Success nor Failure", status);
	const char *reason = recap_json_str(st, "reason");
	if (reason && strcmp(reason, "NonZeroExitCode") == 0) {
		int code = exit_code_of(json_object_get(st, "details"), err);
		if (code < 0)
			return recap_error_wrap(err, code, "error channel");
		*ret_exit_code = code;
		*ret_message = NULL;
		return 0;
	}
	const char *msg = recap_json_str(st, "message");
	char *copy = strdup(msg && *msg ? msg : reason && *reason ? reason : "unknown failure");
	if (!copy)
		return recap_error_set(err, ENOMEM, "out of memory for the error channel's message");
	*ret_exit_code = -1;
	*ret_message = copy;
	return 0;
}

#include "base/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A message longer than this is cut with a marker: error text is for people
 * and must never grow memory without bound. */
#define ERROR_MSG_MAX 4096

static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	if (strlen(s) > ERROR_MSG_MAX)
		strcpy(s + ERROR_MSG_MAX - 16, " ...(truncated)");
	return s;
}

static int set_message(struct recap_error **err, int code, char *msg)
{
	code = code < 0 ? -code : code;
	if (code == 0)
		code = EIO;
	if (!err || *err) {
		free(msg);
		return -code;
	}
	struct recap_error *e = calloc(1, sizeof(*e));
	if (!e) {
		free(msg);
		return -code;
	}
	e->code = code;
	e->msg = msg ? msg : strdup(strerror(code));
	*err = e;
	return -code;
}

int recap_error_set(struct recap_error **err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = vformat(fmt, ap);
	va_end(ap);
	return set_message(err, code, msg);
}

int recap_error_set_errno(struct recap_error **err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *prefix = vformat(fmt, ap);
	va_end(ap);
	char *msg = NULL;
	int c = code < 0 ? -code : code;
	if (prefix && asprintf(&msg, "%s: %s", prefix, strerror(c)) < 0)
		msg = NULL;
	free(prefix);
	return set_message(err, code, msg);
}

int recap_error_wrap(struct recap_error **err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *ctx = vformat(fmt, ap);
	va_end(ap);
	if (!err) {
		free(ctx);
		return code < 0 ? code : -(code ? code : EIO);
	}
	if (!*err) {
		int c = code < 0 ? -code : code;
		char *msg = NULL;
		if (ctx && asprintf(&msg, "%s: %s", ctx, strerror(c ? c : EIO)) < 0)
			msg = NULL;
		free(ctx);
		return set_message(err, code, msg);
	}
	char *msg = NULL;
	if (ctx && asprintf(&msg, "%s: %s", ctx, (*err)->msg) >= 0 && strlen(msg) > ERROR_MSG_MAX)
		strcpy(msg + ERROR_MSG_MAX - 16, " ...(truncated)");
	free(ctx);
	if (msg) {
		free((*err)->msg);
		(*err)->msg = msg;
	}
	return -(*err)->code;
}

const char *recap_error_message(const struct recap_error *err)
{
	return err && err->msg ? err->msg : "unknown error";
}

int recap_error_code(const struct recap_error *err)
{
	return err ? err->code : 0;
}

void recap_error_free(struct recap_error *err)
{
	if (!err)
		return;
	free(err->msg);
	free(err);
}

void recap_error_freep(struct recap_error **err)
{
	if (err) {
		recap_error_free(*err);
		*err = NULL;
	}
}

/* Errors with context.
 *
 * Fallible functions return an int: >= 0 on success, a negative errno value
 * on failure. Where the message matters to a user they also fill a
 * `struct recap_error **err`; callers add context on the way up with
 * recap_error_wrap(), and only the top level (cmd/) prints it.
 */
#pragma once

#include <stdarg.h>

struct recap_error {
	int code;  /* positive errno value, e.g. ENOENT */
	char *msg; /* "outer context: inner context: cause" */
};

/* Sets *err (if err is not NULL and *err is still NULL) and returns -|code|.
 * Use as: return recap_error_set(err, EINVAL, "bad cron '%s'", s); */
int recap_error_set(struct recap_error **err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same, with the message of errno `code` appended: "...: No such file". */
int recap_error_set_errno(struct recap_error **err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes context to an existing error and returns its negative code.
 * Without an error in *err it creates one from `code`. */
int recap_error_wrap(struct recap_error **err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

const char *recap_error_message(const struct recap_error *err);
int recap_error_code(const struct recap_error *err);
void recap_error_free(struct recap_error *err);
void recap_error_freep(struct recap_error **err);

#define _cleanup_error_ __attribute__((cleanup(recap_error_freep)))

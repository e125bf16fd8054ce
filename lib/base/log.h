/* Logging for the top level (cmd/). Libraries return errors; they do not log.
 *
 * Text: "2026-11-23T13:46:08.123Z info  caplet: message key=value"
 * JSON: {"ts":"...","level":"info","msg":"...","key":"value"}
 */
#pragma once

#include <stdarg.h>

enum recap_log_level {
	RECAP_LOG_ERROR = 0,
	RECAP_LOG_WARN,
	RECAP_LOG_INFO,
	RECAP_LOG_DEBUG,
};

enum recap_log_format {
	RECAP_LOG_TEXT = 0,
	RECAP_LOG_JSON,
};

/* Parses "error|warn|info|debug" and "text|json"; returns -EINVAL otherwise. */
int recap_log_parse_level(const char *s, enum recap_log_level *ret);
int recap_log_parse_format(const char *s, enum recap_log_format *ret);

void recap_log_setup(const char *component, enum recap_log_level level, enum recap_log_format format);
/* Where lines go (default stderr); for tests. */
void recap_log_set_fd(int fd);
int recap_log_enabled(enum recap_log_level level);

/* kv is NULL or a NULL-terminated list of key, value string pairs. */
void recap_log_kv(enum recap_log_level level, const char *const *kv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void recap_log(enum recap_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Logs "<message>: <strerror(-r)>" at error level and returns r. */
int recap_log_errno(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) recap_log(RECAP_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) recap_log(RECAP_LOG_WARN, __VA_ARGS__)
#define log_info(...) recap_log(RECAP_LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                                       \
	do {                                                                                                 \
		if (recap_log_enabled(RECAP_LOG_DEBUG))                                                      \
			recap_log(RECAP_LOG_DEBUG, __VA_ARGS__);                                             \
	} while (0)

#include "base/log.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/timeutil.h"

/* One log line never exceeds this; longer messages are cut with a marker. */
#define LOG_LINE_MAX 16384

static struct {
	const char *component;
	enum recap_log_level level;
	enum recap_log_format format;
	int fd;
} cfg = {"recap", RECAP_LOG_INFO, RECAP_LOG_TEXT, 2};

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int recap_log_parse_level(const char *s, enum recap_log_level *ret)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (s && strcmp(s, level_names[i]) == 0) {
			*ret = (enum recap_log_level)i;
			return 0;
		}
	return -EINVAL;
}

int recap_log_parse_format(const char *s, enum recap_log_format *ret)
{
	if (s && strcmp(s, "text") == 0)
		*ret = RECAP_LOG_TEXT;
	else if (s && strcmp(s, "json") == 0)
		*ret = RECAP_LOG_JSON;
	else
		return -EINVAL;
	return 0;
}

void recap_log_setup(const char *component, enum recap_log_level level, enum recap_log_format format)
{
	cfg.component = component ? component : "recap";
	cfg.level = level;
	cfg.format = format;
}

void recap_log_set_fd(int fd)
{
	cfg.fd = fd;
}

int recap_log_enabled(enum recap_log_level level)
{
	return level <= cfg.level;
}

static int needs_quotes(const char *v)
{
	return *v == '\0' || strpbrk(v, " \t\n\"=") != NULL;
}

static void format_text(struct recap_buf *b, const char *ts, enum recap_log_level level,
			const char *const *kv, const char *msg)
{
	recap_buf_printf(b, "%s %-5s %s: %s", ts, level_names[level], cfg.component, msg);
	for (; kv && kv[0] && kv[1]; kv += 2) {
		if (needs_quotes(kv[1])) {
			json_t *s = json_string(kv[1]);
			char *q = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
			recap_buf_printf(b, " %s=%s", kv[0], q ? q : "\"?\"");
			free(q);
			json_decref(s);
		} else {
			recap_buf_printf(b, " %s=%s", kv[0], kv[1]);
		}
	}
}

static void format_json(struct recap_buf *b, const char *ts, enum recap_log_level level,
			const char *const *kv, const char *msg)
{
	json_t *o = json_object();
	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "level", json_string(level_names[level]));
	json_object_set_new(o, "component", json_string(cfg.component));
	json_object_set_new(o, "msg", json_stringn_nocheck(msg, strlen(msg)));
	for (; kv && kv[0] && kv[1]; kv += 2) {
		json_t *v = json_string(kv[1]); /* NULL for invalid UTF-8 */
		json_object_set_new(o, kv[0], v ? v : json_string("?"));
	}
	char *s = json_dumps(o, JSON_COMPACT);
	recap_buf_appends(b, s ? s : "{}");
	free(s);
	json_decref(o);
}

static void vlog(enum recap_log_level level, const char *const *kv, const char *fmt, va_list ap)
{
	if (!recap_log_enabled(level))
		return;
	int saved = errno;
	char ts[40], msg[LOG_LINE_MAX / 2];
	recap_time_rfc3339_now(ts, sizeof(ts));
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n >= (int)sizeof(msg))
		strcpy(msg + sizeof(msg) - 16, " ...(truncated)");
	struct recap_buf b = RECAP_BUF_INIT(LOG_LINE_MAX);
	if (cfg.format == RECAP_LOG_JSON)
		format_json(&b, ts, level, kv, msg);
	else
		format_text(&b, ts, level, kv, msg);
	if (recap_buf_append(&b, "\n", 1) < 0 && b.len > 0)
		b.data[b.len - 1] = '\n';
	if (b.data) {
		ssize_t w = write(cfg.fd, b.data, b.len);
		(void)w;
	}
	recap_buf_free(&b);
	errno = saved;
}

void recap_log_kv(enum recap_log_level level, const char *const *kv, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(level, kv, fmt, ap);
	va_end(ap);
}

void recap_log(enum recap_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(level, NULL, fmt, ap);
	va_end(ap);
}

int recap_log_errno(int r, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX / 4];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	recap_log(RECAP_LOG_ERROR, "%s: %s", msg, strerror(r < 0 ? -r : r));
	return r;
}

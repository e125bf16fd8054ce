#include "stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/names.h"
#include "kube/stream.h"
#include "sanitize.h"

#define LINE_MAX_BYTES (64 * 1024) /* a longer line is written in pieces, each a line */

struct plugin_follow {
	struct recap_kube_stream *st;
	FILE *f;
	bool raw, done;
	bool got_data; /* a byte of the body came: the stream is served */
	enum recap_kube_code code;
	long status;
	struct recap_error *err;
	char carry[8]; /* an unfinished UTF-8 sequence or a CR, for the next piece */
	size_t carried;
	char prefix[280]; /* "" : the bytes as they come */
	char *line;	  /* with a prefix: the line so far */
	size_t line_len;
};

/* How much of p can be escaped now: all but a trailing incomplete UTF-8
 * sequence or a trailing CR (escaped alone, it would not be a line end). */
static size_t safe_prefix(const char *p, size_t n)
{
	if (n && p[n - 1] == '\r')
		return n - 1;
	for (size_t back = 1; back <= 3 && back <= n; back++) {
		unsigned char c = (unsigned char)p[n - back];
		if ((c & 0xc0) == 0x80)
			continue; /* a continuation byte: look further back */
		size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		return need > back ? n - back : n;
	}
	return n;
}

static void emit(struct plugin_follow *k, const char *p, size_t n)
{
	if (k->raw) {
		fwrite(p, 1, n, k->f);
		return;
	}
	char buf[8 + 65536];
	while (n > 0) {
		size_t take = n > 65536 ? 65536 : n;
		memcpy(buf, k->carry, k->carried);
		memcpy(buf + k->carried, p, take);
		size_t all = k->carried + take, ok = take == n ? safe_prefix(buf, all) : all;
		if (all - ok > sizeof(k->carry))
			ok = all;
		plugin_write_safe(k->f, buf, ok, false);
		k->carried = all - ok;
		memcpy(k->carry, buf + ok, k->carried);
		p += take;
		n -= take;
	}
}

/* One prefixed line (its newline included, or added). */
static void emit_line(struct plugin_follow *k, const char *p, size_t n)
{
	fputs(k->prefix, k->f);
	if (k->raw)
		fwrite(p, 1, n, k->f);
	else
		plugin_write_safe(k->f, p, n, false);
	if (!n || p[n - 1] != '\n')
		fputc('\n', k->f);
}

static void emit_lines(struct plugin_follow *k, const char *p, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) + 1 : n;
		if (k->line_len + take > LINE_MAX_BYTES)
			take = LINE_MAX_BYTES - k->line_len;
		memcpy(k->line + k->line_len, p, take);
		k->line_len += take;
		p += take;
		n -= take;
		if (k->line[k->line_len - 1] == '\n' || k->line_len == LINE_MAX_BYTES) {
			size_t ok = k->line[k->line_len - 1] == '\n' || k->raw
					? k->line_len
					: safe_prefix(k->line, k->line_len);
			if (ok == 0)
				ok = k->line_len;
			emit_line(k, k->line, ok);
			memmove(k->line, k->line + ok, k->line_len - ok);
			k->line_len -= ok;
		}
	}
}

static int on_data(const char *p, size_t n, void *userdata)
{
	struct plugin_follow *k = userdata;
	k->got_data = k->got_data || n > 0;
	if (!k->f)
		return 0;
	if (k->line)
		emit_lines(k, p, n);
	else
		emit(k, p, n);
	fflush(k->f);
	return ferror(k->f) ? -EPIPE : 0; /* a closed pipe (| head) ends the stream */
}

static void on_done(enum recap_kube_code code, long status, const struct recap_error *err, void *userdata)
{
	struct plugin_follow *k = userdata;
	k->st = NULL;
	k->done = true;
	k->code = code;
	k->status = status;
	if (err)
		recap_error_set(&k->err, recap_error_code(err) ?: EIO, "%s", recap_error_message(err));
}

int plugin_follow_start(struct session *s, const char *path, FILE *f, bool raw, const char *prefix,
			struct plugin_follow **ret, struct recap_error **err)
{
	struct plugin_follow *k = calloc(1, sizeof(*k));
	if (!k)
		return recap_error_set(err, ENOMEM, "out of memory");
	k->f = f;
	k->raw = raw;
	if (prefix && *prefix) {
		snprintf(k->prefix, sizeof(k->prefix), "%s", prefix);
		if (!(k->line = malloc(LINE_MAX_BYTES))) {
			free(k);
			return recap_error_set(err, ENOMEM, "out of memory");
		}
	}
	struct recap_kube_stream_options o = {.on_data = on_data, .on_done = on_done, .userdata = k};
	int r = recap_kube_stream_get(s->c, path, &o, &k->st, err);
	if (r < 0) {
		free(k->line);
		free(k);
		return r;
	}
	*ret = k;
	return 0;
}

bool plugin_follow_done(const struct plugin_follow *fl)
{
	return fl->done;
}

bool plugin_follow_got_data(const struct plugin_follow *fl)
{
	return fl->got_data;
}

int plugin_stream_result(enum recap_kube_code code, long status, struct recap_error *e,
			 struct recap_error **err)
{
	/* 404 for the group itself (no APIService: a Status, or the plain "404
	 * page not found" of kube-apiserver's fallback handler; recap-apiserver
	 * answers with a Status naming the object), 503 when it does not answer */
	const char *m = e ? recap_error_message(e) : "";
	bool unserved = (status == 404 && (strstr(m, "the server could not find the requested resource") ||
					   strstr(m, "404 page not found"))) ||
			status == 503;
	if (code == RECAP_KUBE_OK) {
		recap_error_free(e);
		return 0;
	}
	if (unserved) {
		recap_error_free(e);
		return PLUGIN_STREAM_UNSERVED;
	}
	if (e && err && !*err) {
		*err = e;
		return -EIO;
	}
	recap_error_free(e);
	return recap_error_set(err, EIO, "the stream ended early");
}

int plugin_follow_end(struct plugin_follow *k, long *status, struct recap_error **err)
{
	if (!k->done) {
		recap_kube_stream_cancel(k->st);
		k->done = true;
		k->code = RECAP_KUBE_ERR_CANCELLED;
	}
	if (k->f) {
		if (k->carried)
			plugin_write_safe(k->f, k->carry, k->carried, false);
		if (k->line_len)
			emit_line(k, k->line, k->line_len);
		fflush(k->f);
	}
	if (status)
		*status = k->status;
	int r = plugin_stream_result(k->code, k->status, k->err, err);
	free(k->line);
	free(k);
	return r;
}

int plugin_stream(struct session *s, const char *path, FILE *f, bool raw, struct recap_error **err)
{
	struct plugin_follow *k = NULL;
	int r = plugin_follow_start(s, path, f, raw, NULL, &k, err);
	if (r < 0)
		return r;
	while (!k->done && uv_run(&s->loop, UV_RUN_ONCE))
		;
	return plugin_follow_end(k, NULL, err);
}

int plugin_log_served(struct session *s, const char *run, char *why, size_t len)
{
	char path[1024];
	snprintf(path, sizeof(path), "/apis/%s/namespaces/%s/capsuleruns/%s/log?limitBytes=1",
		 RECAP_SUBRESOURCES_GROUP_VERSION, s->ns, run);
	struct plugin_follow *fl = NULL;
	struct recap_error *err = NULL;
	long status = 0;
	int r = plugin_follow_start(s, path, NULL, true, NULL, &fl, &err);
	if (r >= 0) {
		while (!plugin_follow_done(fl) && uv_run(&s->loop, UV_RUN_ONCE))
			;
		r = plugin_follow_end(fl, &status, &err);
	}
	if (r == PLUGIN_STREAM_UNSERVED)
		snprintf(why, len,
			 "recap-apiserver (subresources.recap.dev) does not answer in this cluster");
	else if (r < 0 && (status == 401 || status == 403 || status == 0))
		snprintf(why, len, "%s", err ? recap_error_message(err) : "the log cannot be read");
	else
		r = 0; /* an answer about the run itself: served */
	recap_error_free(err);
	return r == PLUGIN_STREAM_UNSERVED ? r : r < 0 ? -1 : 0;
}

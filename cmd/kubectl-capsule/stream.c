#include "stream.h"

#include <errno.h>
#include <string.h>

#include "kube/stream.h"
#include "sanitize.h"

struct sink {
	FILE *f;
	bool raw, done, failed;
	enum recap_kube_code code;
	long status;
	struct recap_error *err;
	char carry[8]; /* an unfinished UTF-8 sequence or a CR, for the next piece */
	size_t carried;
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

static void emit(struct sink *k, const char *p, size_t n)
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

static int on_data(const char *p, size_t n, void *userdata)
{
	struct sink *k = userdata;
	emit(k, p, n);
	fflush(k->f);
	return ferror(k->f) ? -EPIPE : 0; /* a closed pipe (| head) ends the stream */
}

static void on_done(enum recap_kube_code code, long status, const struct recap_error *err, void *userdata)
{
	struct sink *k = userdata;
	k->done = true;
	k->code = code;
	k->status = status;
	if (err)
		recap_error_set(&k->err, recap_error_code(err) ?: EIO, "%s", recap_error_message(err));
}

int plugin_stream(struct session *s, const char *path, FILE *f, bool raw, struct recap_error **err)
{
	struct sink k = {.f = f, .raw = raw};
	struct recap_kube_stream_options o = {.on_data = on_data, .on_done = on_done, .userdata = &k};
	struct recap_kube_stream *st = NULL;
	int r = recap_kube_stream_get(s->c, path, &o, &st, err);
	if (r < 0)
		return r;
	while (!k.done && uv_run(&s->loop, UV_RUN_ONCE))
		;
	if (k.carried)
		plugin_write_safe(f, k.carry, k.carried, false);
	fflush(f);
	/* 404 for the group itself (no APIService), 503 when it does not answer */
	bool unserved =
	    (k.status == 404 && k.err &&
	     strstr(recap_error_message(k.err), "the server could not find the requested resource")) ||
	    k.status == 503;
	if (k.code == RECAP_KUBE_OK) {
		recap_error_free(k.err);
		return 0;
	}
	if (unserved) {
		recap_error_free(k.err);
		return PLUGIN_STREAM_UNSERVED;
	}
	if (k.err && err && !*err) {
		*err = k.err;
		return -EIO;
	}
	recap_error_free(k.err);
	return recap_error_set(err, EIO, "the stream ended early");
}

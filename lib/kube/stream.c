#include "kube/stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "kube/client_internal.h"

#define ERROR_BODY_MAX (64 * 1024)

struct recap_kube_stream {
	struct recap_kube_client *c;
	struct recap_kube_http_xfer *xfer;
	struct recap_kube_stream_options o;
	long status;
	bool stopped_by_caller;
	struct recap_buf errbody;
	char what[300];
};

static int on_head(long status, void *userdata)
{
	struct recap_kube_stream *s = userdata;
	s->status = status;
	return 0;
}

static int on_data(const char *p, size_t n, void *userdata)
{
	struct recap_kube_stream *s = userdata;
	if (s->status != 200)
		return recap_buf_append(&s->errbody, p, n) < 0 ? 0
							       : 0; /* a longer Status is cut: still one */
	int r = s->o.on_data(p, n, s->o.userdata);
	if (r == RECAP_KUBE_STREAM_PAUSE)
		return RECAP_KUBE_HTTP_PAUSE;
	if (r < 0) {
		s->stopped_by_caller = true;
		return -ECANCELED;
	}
	return 0;
}

static void done(const struct recap_kube_http_result *r, void *userdata)
{
	struct recap_kube_stream *s = userdata;
	s->xfer = NULL;
	struct recap_error *err = NULL;
	enum recap_kube_code code = RECAP_KUBE_OK;
	if (s->stopped_by_caller) {
		code = RECAP_KUBE_ERR_CANCELLED;
	} else if (s->status && s->status != 200) {
		_cleanup_json_ json_t *body = NULL;
		if (s->errbody.len)
			recap_json_parse(s->errbody.data, s->errbody.len, ERROR_BODY_MAX, &body, NULL);
		code = recap_kube_error_from_response(s->status, body, s->errbody.data, s->errbody.len,
						      s->what, &err);
	} else if (r->code != RECAP_KUBE_HTTP_OK) {
		code = RECAP_KUBE_ERR_TRANSPORT;
		recap_error_set(&err, EIO, "%s: %s", s->what,
				r->message && *r->message ? r->message : "the stream was cut");
	}
	s->o.on_done(code, s->status, err, s->o.userdata);
	recap_error_free(err);
	recap_buf_free(&s->errbody);
	free(s);
}

int recap_kube_stream_get(struct recap_kube_client *c, const char *path,
			  const struct recap_kube_stream_options *o, struct recap_kube_stream **ret,
			  struct recap_error **err)
{
	struct recap_kube_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return recap_error_set(err, ENOMEM, "out of memory");
	s->c = c;
	s->o = *o;
	s->errbody = RECAP_BUF_INIT(ERROR_BODY_MAX);
	snprintf(s->what, sizeof(s->what), "GET %.280s", path);
	struct recap_buf url = RECAP_BUF_INIT(RECAP_KUBE_PATH_MAX + strlen(c->server));
	struct recap_kube_headers hd = {0};
	int r = recap_buf_appends(&url, c->server) < 0 || recap_buf_appends(&url, path) < 0
		    ? recap_error_set(err, ENAMETOOLONG, "%s: path too long", s->what)
		    : recap_kube_client_headers(c, NULL, &hd, err);
	if (r >= 0) {
		/* Accept: anything (kube's headers ask for JSON; a log is text) */
		free(hd.h[0]);
		hd.h[0] = strdup("Accept: */*");
		struct recap_kube_http_request req = {.method = "GET",
						      .url = url.data,
						      .headers = (const char *const *)hd.h,
						      .n_headers = hd.n,
						      .timeout_ms = o->timeout_ms,
						      .on_head = on_head,
						      .on_data = on_data,
						      .on_done = done,
						      .userdata = s};
		r = hd.h[0] ? recap_kube_http_start(c->http, &req, &s->xfer, err)
			    : recap_error_set(err, ENOMEM, "out of memory");
	}
	recap_kube_headers_free(&hd);
	recap_buf_free(&url);
	if (r < 0) {
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void recap_kube_stream_resume(struct recap_kube_stream *s)
{
	if (s && s->xfer)
		recap_kube_http_resume(s->c->http, s->xfer);
}

void recap_kube_stream_cancel(struct recap_kube_stream *s)
{
	if (!s)
		return;
	if (s->xfer)
		recap_kube_http_cancel(s->c->http, s->xfer);
	recap_buf_free(&s->errbody);
	free(s);
}

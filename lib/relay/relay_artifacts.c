/* A run's artifacts as a tar stream, written by the caller's function
 * (caplet's, which knows the store's out/<id>/) through chunks. */
#include <stdio.h>

#include "base/httphead.h"
#include "relay/relay_internal.h"

static int write_chunk(const void *p, size_t n, void *stream)
{
	return relay_chunk(stream, p, n);
}

static int begin(void *stream)
{
	return relay_begin(stream, "application/x-tar");
}

static const char *reason(int code)
{
	switch (code) {
	case 400:
		return "BadRequest";
	case 404:
		return "NotFound";
	case 409:
		return "Conflict";
	case 410:
		return "Gone";
	default:
		return "InternalError";
	}
}

void relay_serve_artifacts(struct relay_conn *c, const char *run_id)
{
	char path[1024];
	int q = recap_http_query(c->query, "path", path, sizeof(path));
	if (q < 0) {
		relay_status(c, 400, "BadRequest", "path is not a valid query value");
		return;
	}
	struct recap_error *err = NULL;
	struct recap_relay *r = c->r;
	int code = r->o.artifacts(r->o.root, run_id, q > 0 ? path : "", write_chunk, c, begin, &err,
				  r->o.artifacts_data);
	if (code == 0 && c->began)
		(void)relay_end(c);
	else if (code > 0 && !c->began)
		relay_status(c, code, reason(code), recap_error_message(err));
	recap_error_free(err);
}

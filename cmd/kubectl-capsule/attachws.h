/* attach's WebSocket to the CapsuleRun's attach subresource, without I/O
 * (pure: unit-tested).
 *
 *   GET /apis/subresources.recap.dev/v1alpha1/namespaces/NS/capsuleruns/RUN/attach?target=POD
 *   Connection: Upgrade
 *   Upgrade: websocket
 *   Sec-WebSocket-Version: 13
 *   Sec-WebSocket-Key: <base64 of 16 random bytes>
 *   Sec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io
 *
 * (lib/kube adds Host, User-Agent and the bearer token: kube/raw.h). The
 * answer is 101 with Upgrade, Connection, the Sec-WebSocket-Accept of the key
 * and one of the offered protocols; anything else is refused. Any other
 * status carries a Kubernetes Status whose message is shown.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "wsproto/handshake.h"

#define PLUGIN_ATTACH_PROTOCOLS "v5.channel.k8s.io, v4.channel.k8s.io"
#define PLUGIN_ATTACH_NHEADERS 5
#define PLUGIN_HTTP_HEAD_MAX 16384
#define PLUGIN_HTTP_BODY_MAX 65536

/* The subresource's path, names percent-encoded. Caller frees. */
char *plugin_attach_path(const char *ns, const char *run, const char *pod);

struct plugin_attach_headers {
	char h[PLUGIN_ATTACH_NHEADERS][96];
	const char *v[PLUGIN_ATTACH_NHEADERS]; /* pointers into h, for kube/raw.h */
};
void plugin_attach_headers(const char key[RECAP_WS_KEY_LEN + 1], struct plugin_attach_headers *out);

/* An HTTP/1.1 response head. */
#define PLUGIN_HTTP_HEADERS_MAX 64
struct plugin_http_head {
	int status;
	size_t len; /* of the head, the empty line included */
	size_t n;
	char *name[PLUGIN_HTTP_HEADERS_MAX], *value[PLUGIN_HTTP_HEADERS_MAX];
	char *copy; /* what the pointers point into */
};
/* 1 with *h filled when data begins with a whole head, 0 when more is
 * needed, -EPROTO for what is not an HTTP/1.x response head or is longer
 * than PLUGIN_HTTP_HEAD_MAX. */
int plugin_http_head_parse(const char *data, size_t len, struct plugin_http_head *h,
			   struct recap_error **err);
void plugin_http_head_free(struct plugin_http_head *h);
/* The first header of that name (case-insensitive), or NULL. */
const char *plugin_http_header(const struct plugin_http_head *h, const char *name);

/* A 101 answer checked against the key: Upgrade websocket, Connection
 * upgrade, the right Sec-WebSocket-Accept, an offered protocol. *ret_version
 * is 5 or 4. -EPROTO naming what is wrong. */
int plugin_attach_check(const struct plugin_http_head *h, const char *key, int *ret_version,
			struct recap_error **err);

/* Whether the body after a head is whole: 1 with *ret (caller frees, NUL-
 * terminated) and *ret_len, 0 when more is needed (eof: the connection
 * ended, so what came is all), -EPROTO for a bad chunked body. Content-Length,
 * chunked, or up to the end of the connection; at most PLUGIN_HTTP_BODY_MAX
 * bytes are kept. */
int plugin_http_body(const struct plugin_http_head *h, const char *data, size_t len, bool eof, char **ret,
		     size_t *ret_len, struct recap_error **err);

/* What a refused upgrade says: the Status's message, else "HTTP <status>"
 * and the body's beginning. Caller frees. */
char *plugin_attach_refusal(const struct plugin_http_head *h, const char *body, size_t len);

/* The session's exit status from the error channel's Status: 0 for Success,
 * N for NonZeroExitCode N, 1 with *ret_message (caller frees) for another
 * failure or a Status that cannot be read. */
int plugin_attach_exit_code(const void *status, size_t len, char **ret_message);

/* A connection to the API server whose bytes are the caller's: an upgraded
 * exchange (the WebSocket of exec and attach streaming). The client's
 * server, credentials and trust apply as to every request: the client
 * certificate in TLS, the server verified against the configuration's CA
 * (or not, insecure-skip-tls-verify), the bearer token in the request head.
 *
 * Blocking, for command-line tools: recap_kube_raw_open() returns once the
 * request head is sent; the answer (for an upgrade, "101 Switching
 * Protocols", its headers, then the protocol's bytes) is read with
 * recap_kube_raw_recv(). The libcurl transport only (-EOPNOTSUPP on the lean
 * one). Not retried: the caller decides.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "kube/client.h"

struct recap_kube_raw;

/* "METHOD <server path prefix><path> HTTP/1.1", Host, User-Agent,
 * Authorization when there is a token, then headers[0..n) ("Name: value"),
 * then the empty line. timeout_ms bounds the connection and the sending of
 * the head (0: 30 s). */
int recap_kube_raw_open(struct recap_kube_client *c, const char *method, const char *path,
			const char *const *headers, size_t n, uint64_t timeout_ms,
			struct recap_kube_raw **ret, struct recap_error **err);
/* The socket, to wait on with poll(2). Bytes TLS has decrypted already come
 * out of recap_kube_raw_recv() without the socket becoming readable again:
 * after a wake-up, read until -EAGAIN. */
int recap_kube_raw_fd(struct recap_kube_raw *r);
/* > 0 bytes, 0 at the peer's end of stream (recv only), -EAGAIN, or
 * another negative errno with *err. */
long recap_kube_raw_send(struct recap_kube_raw *r, const void *p, size_t n, struct recap_error **err);
long recap_kube_raw_recv(struct recap_kube_raw *r, void *p, size_t n, struct recap_error **err);
/* Sends all of p, waiting (poll) while the socket is full, at most
 * timeout_ms in all (0: no limit). */
int recap_kube_raw_send_all(struct recap_kube_raw *r, const void *p, size_t n, uint64_t timeout_ms,
			    struct recap_error **err);
void recap_kube_raw_close(struct recap_kube_raw *r);

/* The request head recap_kube_raw_open() sends (pure). server is the
 * configuration's URL ("https://host:port[/prefix]"); token may be NULL.
 * Header names and values must not hold CR or LF (-EINVAL). Caller frees
 * *ret (it may hold the token: wipe it first). */
int recap_kube_raw_head(const char *server, const char *method, const char *path, const char *user_agent,
			const char *token, const char *const *headers, size_t n, char **ret,
			struct recap_error **err);

/* A client connection of the lean transport: a non-blocking TCP socket,
 * TLS on it or not, watched by one uv_poll. Internal to http_lean.c. */
#pragma once

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <uv.h>

#include "base/error.h"
#include "kubehttp/tls_mbed.h"

enum recap_http_conn_state {
	RECAP_HTTP_CONN_CONNECTING,
	RECAP_HTTP_CONN_HANDSHAKE,
	RECAP_HTTP_CONN_READY,
};

struct recap_http_conn {
	uv_poll_t poll;
	int fd;
	enum recap_http_conn_state state;
	struct recap_tls_session *tls; /* NULL for http:// */
	struct recap_http_conn *next;  /* in the idle pool */
	void *owner;
};

/* Starts connecting to `addr`; `tls` (or NULL) with `host` for the server's
 * name. The poll's callback and data are the caller's to set. */
int recap_http_conn_open(uv_loop_t *loop, const struct sockaddr *addr, socklen_t addrlen,
			 struct recap_tls_config *tls, const char *host, struct recap_http_conn **ret,
			 struct recap_error **err);
/* Advances connecting / the handshake. 0 when ready, RECAP_TLS_WANT_READ or
 * _WANT_WRITE to wait, < 0 with *err (-ECONNREFUSED etc. when the server
 * was never reached). */
int recap_http_conn_establish(struct recap_http_conn *k, struct recap_error **err);
/* > 0 bytes, RECAP_TLS_WANT_*, RECAP_TLS_CLOSED at the end, < 0 with *err. */
ssize_t recap_http_conn_read(struct recap_http_conn *k, void *buf, size_t len, struct recap_error **err);
ssize_t recap_http_conn_write(struct recap_http_conn *k, const void *buf, size_t len,
			      struct recap_error **err);
/* Waits for what a call above asked (RECAP_TLS_WANT_*). */
int recap_http_conn_wait(struct recap_http_conn *k, int want, uv_poll_cb cb);
/* Stops and frees it (the memory when the loop ran the close callback). */
void recap_http_conn_close(struct recap_http_conn *k);

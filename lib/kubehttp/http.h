/* One HTTP exchange with the API server, whatever carries it. Only the API
 * client (lib/kube) uses it; no other library module may include kubehttp
 * (hack/lint-layers). Two implementations, chosen at link time:
 *   http_curl.c — libcurl multi (HTTP/2, many streams on one connection);
 *   http_lean.c — HTTP/1.1 over mbedTLS or plain TCP, one connection per
 *                 exchange in flight, idle ones kept for reuse.
 * Both run on the libuv loop and start no thread for an IP-literal server. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/error.h"

/* Credentials and trust, borrowed: they must outlive the recap_kube_http. */
struct recap_kube_http_tls {
	const char *ca, *cert, *key; /* PEM, NUL-terminated; NULL when absent */
	size_t ca_len, cert_len, key_len;
	bool insecure; /* no peer verification */
	/* the name the server's certificate is verified for and sent in SNI
	 * (kubeconfig tls-server-name); NULL: the URL's host */
	const char *server_name;
	/* every connection through this proxy (kubeconfig proxy-url: http://,
	 * https://, socks5://); NULL: none, or the environment's (libcurl
	 * honours HTTPS_PROXY and NO_PROXY, as kubectl). libcurl only: the
	 * lean transport refuses a proxy. */
	const char *proxy;
	/* strings are borrowed: they outlive the recap_kube_http */
};

enum recap_kube_http_result_code {
	RECAP_KUBE_HTTP_OK = 0,
	RECAP_KUBE_HTTP_UNREACHED, /* no connection: the server cannot have acted */
	RECAP_KUBE_HTTP_TOO_LARGE, /* the body passed max_body */
	RECAP_KUBE_HTTP_ABORTED,   /* a callback returned < 0 */
	RECAP_KUBE_HTTP_FAILED,	   /* TLS, timeout, lost connection, bad answer */
};

/* How an exchange ended. Valid during on_done only. */
struct recap_kube_http_result {
	enum recap_kube_http_result_code code;
	long status;		 /* 0 when no answer arrived */
	uint64_t retry_after_ms; /* Retry-After in seconds form, capped at a minute; 0 absent */
	int64_t server_date;	 /* Date: the server's clock, seconds since the epoch; 0 absent */
	int http_version;	 /* 11, 20, 30; 0 unknown */
	/* No answer: a TLS connection this exchange opened was reached (TCP
	 * connected) and failed in or right after the handshake (an alert, a
	 * reset, closed), as when the server refuses the client certificate. */
	bool tls_refused;
	const char *message; /* why it failed, "" on success */
};

struct recap_kube_http_request {
	const char *method;
	const char *url;	    /* server URL + path */
	const char *const *headers; /* "Name: value", n_headers of them */
	size_t n_headers;
	const char *body; /* may be NULL */
	size_t body_len;
	uint64_t timeout_ms; /* the whole exchange; 0: none */
	size_t max_body;     /* 0: unbounded (the callbacks bound it) */
	/* The status and headers arrived (final answers only, >= 200). */
	int (*on_head)(long status, void *userdata);
	/* A piece of the body: 0 taken, < 0 ends the exchange, or
	 * RECAP_KUBE_HTTP_PAUSE: not taken, and nothing more is read until
	 * recap_kube_http_resume(), which hands the same piece again (the
	 * server is held back by TCP and HTTP/2 flow control). */
	int (*on_data)(const char *data, size_t len, void *userdata);
	/* Runs once, from the loop, unless cancelled; the exchange is gone
	 * when it returns. */
	void (*on_done)(const struct recap_kube_http_result *r, void *userdata);
	void *userdata;
};

struct recap_kube_http;
struct recap_kube_http_xfer;

#define RECAP_KUBE_HTTP_PAUSE 1

int recap_kube_http_new(uv_loop_t *loop, const struct recap_kube_http_tls *tls, struct recap_kube_http **ret,
			struct recap_error **err);
/* The request is copied; on_done runs later, never inside this call. */
int recap_kube_http_start(struct recap_kube_http *h, const struct recap_kube_http_request *req,
			  struct recap_kube_http_xfer **ret, struct recap_error **err);
/* Replaces the client certificate and key (PEM, borrowed as those of
 * recap_kube_http_tls: until the next call or the close) for the
 * connections opened from now on (an exec plugin's certificate renewed);
 * exchanges in flight finish on their connections, idle ones made with the
 * old certificate are not used again. The lean transport parses the PEM
 * here (an error names what is wrong); libcurl at the next handshake. */
int recap_kube_http_set_client_cert(struct recap_kube_http *h, const char *cert, size_t cert_len,
				    const char *key, size_t key_len, struct recap_error **err);
/* Reading again after on_data paused; on_data may run inside this call.
 * Never call from inside the exchange's own callbacks. libcurl only: the
 * lean transport ends an exchange whose on_data pauses, with an error
 * that says so. */
void recap_kube_http_resume(struct recap_kube_http *h, struct recap_kube_http_xfer *x);
/* Ends an exchange that has not finished; on_done will not run. Never call
 * from inside the exchange's own callbacks: return < 0 from them. */
void recap_kube_http_cancel(struct recap_kube_http *h, struct recap_kube_http_xfer *x);
/* Every exchange must have finished or been cancelled. The memory goes once
 * the loop ran the close callbacks. Safe from an on_done callback. */
void recap_kube_http_close(struct recap_kube_http *h);

/* ---- a raw connection (an upgraded exchange: WebSocket) ----
 *
 * Connected to the server of `url` (TCP, then TLS with the credentials and
 * trust of `h`, verified as every exchange is; ALPN offers HTTP/1.1 only),
 * nothing sent: the caller writes the request and reads the answer and what
 * follows it. Blocking until connected (at most timeout_ms); the socket is
 * non-blocking afterwards. libcurl only: the lean transport returns
 * -EOPNOTSUPP. */
struct recap_kube_http_raw;

int recap_kube_http_raw_connect(struct recap_kube_http *h, const char *url, uint64_t timeout_ms,
				struct recap_kube_http_raw **ret, struct recap_error **err);
/* The socket, to wait on for input (bytes TLS has buffered already are
 * returned by recv without the socket becoming readable: read until
 * -EAGAIN). */
int recap_kube_http_raw_fd(struct recap_kube_http_raw *r);
/* Bytes sent or received (> 0), 0 for the peer's end of stream (recv), or
 * -EAGAIN, or another negative errno with *err. */
long recap_kube_http_raw_send(struct recap_kube_http_raw *r, const void *p, size_t n,
			      struct recap_error **err);
long recap_kube_http_raw_recv(struct recap_kube_http_raw *r, void *p, size_t n, struct recap_error **err);
void recap_kube_http_raw_close(struct recap_kube_http_raw *r);

/* A Retry-After value in milliseconds: the seconds form only (an HTTP date
 * means our own backoff), capped at a minute; 0 when absent or a date. */
uint64_t recap_kube_http_retry_after_ms(const char *value);
/* A Date value ("Sun, 06 Dec 2026 13:22:32 GMT") in seconds since the
 * epoch; 0 when it is not one. */
int64_t recap_kube_http_date(const char *value);

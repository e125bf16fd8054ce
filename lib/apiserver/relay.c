/* The stream from caplet: connect to the execution's relay endpoint, mutual
 * TLS (our client certificate; caplet's, verified for the relay server
 * name), one GET naming the node, then copy. A Status answer is passed on as
 * it came; a 200 gets our head and its chunked body byte for byte, so a
 * stream caplet cut short reaches the client cut short (no last chunk). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "apiserver/internal.h"

#define CONNECT_TIMEOUT_MS 5000
#define RELAY_HEAD_MAX 8192
#define RELAY_RECORD_MAX 16384 /* the plaintext of one TLS record */

static int dial(const char *endpoint, struct recap_error **err)
{
	char host[256], port[16];
	const char *colon = strrchr(endpoint, ':');
	if (!colon || (size_t)(colon - endpoint) >= sizeof(host) || strlen(colon + 1) >= sizeof(port) ||
	    colon == endpoint)
		return recap_error_set(err, EINVAL, "relay endpoint \"%s\" is not HOST:PORT", endpoint);
	memcpy(host, endpoint, (size_t)(colon - endpoint));
	host[colon - endpoint] = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	strcpy(port, colon + 1);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return recap_error_set(err, EINVAL, "relay endpoint \"%s\" does not resolve", endpoint);
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int r = fd < 0 ? -errno : connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : -errno;
	freeaddrinfo(ai);
	if (r == -EINPROGRESS) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int e = 0;
		socklen_t l = sizeof(e);
		r = poll(&p, 1, CONNECT_TIMEOUT_MS) <= 0	       ? -ETIMEDOUT
		    : getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0 ? -errno
								       : -e;
	}
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		return recap_error_set(err, -r, "cannot connect to the node's relay at %s: %s", endpoint,
				       strerror(-r));
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	int one = 1; /* whole records go out at once: a log line is not held back */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct timeval tv = {.tv_sec = 30};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* A full handshake, or the relay's last session resumed (its ticket): the
 * relay checks the client certificate the session carries either way. */
static SSL *handshake(struct apiserver_conn *c, const struct apiserver_relay_target *t, int fd,
		      struct recap_error **err)
{
	char ebuf[256], key[320];
	snprintf(key, sizeof(key), "%s %s", t->endpoint, t->node ? t->node : "");
	SSL_CTX *ctx = apiserver_tls_relay(&c->s->tls);
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;
	SSL_CTX_free(ctx);
	const char *name = c->s->o.relay_server_name;
	if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_set_tlsext_host_name(ssl, name) != 1 ||
	    SSL_set1_host(ssl, name) != 1) {
		SSL_free(ssl);
		recap_error_set(err, EIO, "relay TLS: %s",
				ctx ? apiserver_tls_error(ebuf, sizeof(ebuf))
				    : "no client certificate loaded");
		return NULL;
	}
	SSL_SESSION *last = apiserver_tls_relay_session(&c->s->tls, key);
	if (last)
		SSL_set_session(ssl, last);
	SSL_SESSION_free(last);
	struct timeval tv = {.tv_sec = 10};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (SSL_connect(ssl) != 1) {
		long v = SSL_get_verify_result(ssl);
		recap_error_set(err, EACCES, "the node's relay failed TLS: %s",
				v != X509_V_OK ? X509_verify_cert_error_string(v)
					       : apiserver_tls_error(ebuf, sizeof(ebuf)));
		SSL_free(ssl);
		return NULL;
	}
	tv.tv_sec = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (!SSL_session_reused(ssl)) {
		SSL_SESSION *now = SSL_get1_session(ssl);
		if (now && SSL_SESSION_is_resumable(now))
			apiserver_tls_relay_session_keep(&c->s->tls, key, now);
		SSL_SESSION_free(now);
	}
	return ssl;
}

static int ssl_write_all(SSL *ssl, const char *p, size_t n)
{
	while (n > 0) {
		int w = SSL_write(ssl, p, (int)n);
		if (w <= 0)
			return -EPIPE;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads the relay's answer head into buf; *got bytes in all, *body where the body starts. */
static int read_head(SSL *ssl, char *buf, size_t *got, size_t *body)
{
	*got = 0;
	for (;;) {
		char *end = NULL;
		buf[*got] = '\0';
		if ((end = strstr(buf, "\r\n\r\n"))) {
			*body = (size_t)(end + 4 - buf);
			return 0;
		}
		if (*got >= RELAY_HEAD_MAX)
			return -E2BIG;
		int n = SSL_read(ssl, buf + *got, (int)(RELAY_HEAD_MAX - *got));
		if (n <= 0)
			return -EPIPE;
		*got += (size_t)n;
	}
}

static void header(const char *head, const char *name, char *out, size_t len)
{
	out[0] = '\0';
	const char *h = strcasestr(head, name);
	if (!h || h[strlen(name)] != ':')
		return;
	h += strlen(name) + 1;
	h += strspn(h, " ");
	size_t n = strcspn(h, "\r\n");
	if (n < len) {
		memcpy(out, h, n);
		out[n] = '\0';
	}
}

/* Copies until the relay closes, the client goes away or the server stops.
 * What the relay already sent (read ahead, SSL_has_pending) is gathered
 * into one write, up to the buffer: fewer, fuller records to the client. */
static void copy(struct apiserver_conn *c, SSL *ssl, int fd)
{
	char buf[65536];
	for (;;) {
		if (!SSL_has_pending(ssl)) {
			struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
					      {.fd = c->fd, .events = POLLIN | POLLRDHUP}};
			int n = poll(p, 2, 1000);
			if (atomic_load(&c->s->stopping) || (n > 0 && p[1].revents))
				return;
			if (n <= 0)
				continue;
		}
		int n = SSL_read(ssl, buf, sizeof(buf));
		if (n <= 0)
			return;
		size_t got = (size_t)n;
		bool open = true;
		while (open && got + RELAY_RECORD_MAX <= sizeof(buf) && SSL_has_pending(ssl)) {
			n = SSL_read(ssl, buf + got, (int)(sizeof(buf) - got));
			open = n > 0;
			got += open ? (size_t)n : 0;
		}
		if (apiserver_write(c, buf, got) < 0 || !open)
			return;
	}
}

/* A session: bytes both ways, as they come, until either side ends. */
static void tunnel(struct apiserver_conn *c, SSL *ssl, int fd)
{
	char buf[16384];
	struct timeval none = {0};
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
	for (;;) {
		bool relay_ready = SSL_has_pending(ssl), client_ready = SSL_has_pending(c->ssl);
		if (!relay_ready && !client_ready) {
			struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = c->fd, .events = POLLIN}};
			int n = poll(p, 2, 1000);
			if (atomic_load(&c->s->stopping))
				return;
			if (n <= 0)
				continue;
			relay_ready = p[0].revents != 0;
			client_ready = p[1].revents != 0;
		}
		if (relay_ready) {
			int n = SSL_read(ssl, buf, sizeof(buf));
			if (n <= 0 || apiserver_write(c, buf, (size_t)n) < 0)
				return;
		}
		if (client_ready) {
			int n = SSL_read(c->ssl, buf, sizeof(buf));
			if (n <= 0 || ssl_write_all(ssl, buf, (size_t)n) < 0)
				return;
		}
	}
}

static void forward(struct apiserver_conn *c, SSL *ssl, int fd)
{
	char head[RELAY_HEAD_MAX + 1], ctype[128], out[512];
	size_t got = 0, body = 0;
	int code = 0;
	if (read_head(ssl, head, &got, &body) < 0 || sscanf(head, "HTTP/1.1 %d", &code) != 1) {
		apiserver_status(c, 502, "InternalError", "the node's relay sent no valid answer");
		return;
	}
	header(head, "Content-Type", ctype, sizeof(ctype));
	if (code == 101) { /* the relay took the WebSocket: its answer, then the session */
		c->began = true;
		if (apiserver_write(c, head, got) == 0)
			tunnel(c, ssl, fd);
		return;
	}
	if (code != 200) { /* a Status with its length: passed on whole */
		c->began = true;
		(void)apiserver_write(c, head, got);
		copy(c, ssl, fd);
		return;
	}
	int n =
	    snprintf(out, sizeof(out),
		     "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\nCache-Control: "
		     "no-cache, private\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
		     *ctype ? ctype : "application/octet-stream");
	c->began = true;
	if (apiserver_write(c, out, (size_t)n) < 0 || apiserver_write(c, head + body, got - body) < 0)
		return;
	copy(c, ssl, fd);
}

void apiserver_relay(struct apiserver_conn *c, const struct apiserver_relay_target *t)
{
	struct recap_error *err = NULL;
	int fd = dial(t->endpoint, &err);
	SSL *ssl = fd >= 0 ? handshake(c, t, fd, &err) : NULL;
	char req[6144];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nX-Recap-Node: %s\r\n%s\r\n",
			 t->path, c->s->o.relay_server_name, t->node ? t->node : "",
			 t->headers ? t->headers : "Connection: close\r\n");
	if (!ssl) {
		apiserver_status(c, 502, "InternalError", "%s", recap_error_message(err));
		apiserver_log(c->s, 1, "relay to %s: %s", t->endpoint, recap_error_message(err));
	} else if ((size_t)n >= sizeof(req) || ssl_write_all(ssl, req, (size_t)n) < 0) {
		apiserver_status(c, 502, "InternalError", "the node's relay at %s took no request",
				 t->endpoint);
	} else {
		forward(c, ssl, fd);
	}
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	ERR_clear_error();
	if (fd >= 0)
		close(fd);
	recap_error_free(err);
}

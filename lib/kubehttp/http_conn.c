/* Connection establishment and byte I/O for the lean transport. */
#include "kubehttp/http_conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"

int recap_http_conn_open(uv_loop_t *loop, const struct sockaddr *addr, socklen_t addrlen,
			 struct recap_tls_config *tls, const char *host, struct recap_http_conn **ret,
			 struct recap_error **err)
{
	struct recap_http_conn *k = calloc(1, sizeof(*k));
	if (!k)
		return recap_error_set(err, ENOMEM, "out of memory");
	k->fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (k->fd < 0) {
		int r = recap_error_set_errno(err, errno, "socket");
		free(k);
		return r;
	}
	int one = 1;
	setsockopt(k->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(k->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	int r = 0;
	if (tls)
		r = recap_tls_session_new(tls, k->fd, host, &k->tls, err);
	if (r >= 0 && connect(k->fd, addr, addrlen) < 0 && errno != EINPROGRESS)
		r = recap_error_set_errno(err, errno, "connect");
	if (r >= 0 && (r = uv_poll_init_socket(loop, &k->poll, k->fd)) < 0)
		r = recap_error_set(err, -r, "uv_poll_init_socket: %s", uv_strerror(r));
	if (r < 0) {
		recap_tls_session_free(k->tls);
		close(k->fd);
		free(k);
		return r;
	}
	*ret = k;
	return 0;
}

static int connected(struct recap_http_conn *k, struct recap_error **err)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);
	if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr == EINPROGRESS || soerr == EALREADY)
		return RECAP_TLS_WANT_WRITE;
	if (soerr)
		return recap_error_set(err, soerr, "connect: %s", strerror(soerr));
	struct sockaddr_storage peer;
	len = sizeof(peer);
	if (getpeername(k->fd, (struct sockaddr *)&peer, &len) < 0)
		return RECAP_TLS_WANT_WRITE; /* not connected yet */
	k->state = k->tls ? RECAP_HTTP_CONN_HANDSHAKE : RECAP_HTTP_CONN_READY;
	return 0;
}

int recap_http_conn_establish(struct recap_http_conn *k, struct recap_error **err)
{
	if (k->state == RECAP_HTTP_CONN_CONNECTING) {
		int r = connected(k, err);
		if (r != 0)
			return r;
	}
	if (k->state == RECAP_HTTP_CONN_HANDSHAKE) {
		int r = recap_tls_handshake(k->tls, err);
		if (r == RECAP_TLS_ERROR)
			return -EPROTO;
		if (r != 0)
			return r;
		k->state = RECAP_HTTP_CONN_READY;
	}
	return 0;
}

ssize_t recap_http_conn_read(struct recap_http_conn *k, void *buf, size_t len, struct recap_error **err)
{
	if (k->tls) {
		ssize_t n = recap_tls_read(k->tls, buf, len, err);
		return n == RECAP_TLS_ERROR ? -EPROTO : n;
	}
	ssize_t n = read(k->fd, buf, len);
	if (n > 0)
		return n;
	if (n == 0 || errno == ECONNRESET)
		return RECAP_TLS_CLOSED;
	if (errno == EAGAIN || errno == EINTR)
		return RECAP_TLS_WANT_READ;
	return recap_error_set_errno(err, errno, "read");
}

ssize_t recap_http_conn_write(struct recap_http_conn *k, const void *buf, size_t len,
			      struct recap_error **err)
{
	if (k->tls) {
		ssize_t n = recap_tls_write(k->tls, buf, len, err);
		if (n == RECAP_TLS_CLOSED)
			return recap_error_set(err, EPIPE, "the server closed the connection");
		return n == RECAP_TLS_ERROR ? -EPROTO : n;
	}
	ssize_t n = send(k->fd, buf, len, MSG_NOSIGNAL);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EINTR)
		return RECAP_TLS_WANT_WRITE;
	return recap_error_set_errno(err, errno, "write");
}

int recap_http_conn_wait(struct recap_http_conn *k, int want, uv_poll_cb cb)
{
	return uv_poll_start(&k->poll, want == RECAP_TLS_WANT_WRITE ? UV_WRITABLE : UV_READABLE, cb);
}

static void conn_closed(uv_handle_t *h)
{
	struct recap_http_conn *k = container_of((uv_poll_t *)h, struct recap_http_conn, poll);
	close(k->fd);
	free(k);
}

void recap_http_conn_close(struct recap_http_conn *k)
{
	if (!k)
		return;
	recap_tls_session_free(k->tls);
	k->tls = NULL;
	uv_poll_stop(&k->poll);
	uv_close((uv_handle_t *)&k->poll, conn_closed);
}

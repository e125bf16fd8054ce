/* An interactive session: the WebSocket recap-apiserver passes on from the
 * user (v5.channel.k8s.io, or v4) on one side, the executor's session
 * socket on the other (runs/<id>/session.sock, SOCK_SEQPACKET, one channel
 * message per packet: docs/executor-spec.md, "Sessions"). The relay checks
 * each message the user sends (a stream the user may write: stdin, resize,
 * the v5 close) and passes packets on as they are; the executor's go out as
 * binary frames. Either side ending ends both. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/httphead.h"
#include "relay/relay_internal.h"
#include "wsproto/channel.h"
#include "wsproto/frame.h"
#include "wsproto/handshake.h"

#define PACKET_MAX (32 * 1024 + 1)
#define SOCKET_WAIT_MS 30000

struct session {
	struct relay_conn *c;
	int fd; /* the executor's session socket */
	int version;
	struct recap_ws_decoder dec;
};

static int handshake(struct relay_conn *c, const char **proto, char accept[RECAP_WS_ACCEPT_LEN + 1])
{
	char upgrade[32], key[64], version[8], offered[1024];
	struct recap_error *err = NULL;
	static const char *const supported[] = {RECAP_WSCHAN_V5_PROTOCOL, RECAP_WSCHAN_V4_PROTOCOL};
	if (recap_http_header(c->head, "Upgrade", upgrade, sizeof(upgrade)) < 0 ||
	    strcasecmp(upgrade, "websocket") != 0 ||
	    recap_http_header(c->head, "Sec-WebSocket-Version", version, sizeof(version)) < 0 ||
	    strcmp(version, "13") != 0) {
		relay_status(c, 400, "BadRequest", "attach is a WebSocket (Upgrade: websocket, version 13)");
		return -1;
	}
	int r = recap_http_header(c->head, "Sec-WebSocket-Key", key, sizeof(key)) < 0
		    ? -1
		    : recap_ws_key_check(key, &err);
	if (r >= 0)
		r = recap_http_header(c->head, "Sec-WebSocket-Protocol", offered, sizeof(offered)) < 0
			? -1
			: recap_ws_subprotocol_pick(offered, supported, 2, proto, &err);
	if (r >= 0)
		r = recap_ws_accept(key, accept, &err);
	if (r < 0)
		relay_status(c, 400, "BadRequest",
			     err ? recap_error_message(err) : "a WebSocket header is too long");
	recap_error_free(err);
	return r < 0 ? -1 : 0;
}

static int connect_session(struct relay_conn *c, const char *run_id)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/runs/%s/session.sock", c->r->o.root, run_id) >=
	    (int)sizeof(sa.sun_path)) {
		relay_status(c, 500, "InternalError", "the session socket's path is too long");
		return -1;
	}
	/* attached on the node, its executor may not have made the socket yet:
	 * look again after 10 ms, doubling to 100 ms */
	int fd = -1, e = 0;
	for (int waited = 0, step = 10; waited < SOCKET_WAIT_MS && !atomic_load(&c->r->stopping);
	     waited += step, step = step * 2 > 100 ? 100 : step * 2) {
		fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		e = errno;
		if (fd >= 0)
			close(fd);
		if (e != ENOENT)
			break;
		usleep((useconds_t)step * 1000);
	}
	char m[256];
	snprintf(m, sizeof(m),
		 e == ECONNREFUSED || e == ENOENT
		     ? "run %s has no session waiting on node %s: someone is attached, or it ended"
		     : "run %s: cannot reach its session on node %s",
		 run_id, c->r->o.node);
	relay_status(c, e == ECONNREFUSED || e == ENOENT ? 409 : 500,
		     e == ECONNREFUSED || e == ENOENT ? "Conflict" : "InternalError", m);
	return -1;
}

static int send_frame(struct session *s, enum recap_ws_opcode op, const void *p, size_t n)
{
	struct recap_buf out = RECAP_BUF_INIT(PACKET_MAX + RECAP_WS_HEADER_MAX);
	int r = recap_ws_encode(&out, RECAP_WS_SERVER, op, true, p, n, NULL, NULL);
	if (r >= 0)
		r = relay_tls_write(s->c, out.data, out.len);
	recap_buf_free(&out);
	return r;
}

static void send_close(struct session *s, uint16_t code, const char *why)
{
	struct recap_buf out = RECAP_BUF_INIT(RECAP_WS_HEADER_MAX + RECAP_WS_CONTROL_MAX);
	if (recap_ws_encode_close(&out, RECAP_WS_SERVER, code, why, NULL, NULL) >= 0)
		(void)relay_tls_write(s->c, out.data, out.len);
	recap_buf_free(&out);
}

/* One whole message from the user: 0 to go on, < 0 to end. */
static int from_user(struct session *s, const struct recap_ws_message *m)
{
	struct recap_wschan_message cm;
	struct recap_error *err = NULL;
	switch (m->opcode) {
	case RECAP_WS_PING:
		return send_frame(s, RECAP_WS_PONG, m->data, m->len);
	case RECAP_WS_PONG:
		return 0;
	case RECAP_WS_CLOSE:
		send_close(s, RECAP_WS_CLOSE_NORMAL, "");
		return -1;
	default:
		break;
	}
	if (recap_wschan_decode(s->version, RECAP_WS_SERVER, m, &cm, &err) < 0) {
		send_close(s, RECAP_WS_CLOSE_PROTOCOL_ERROR, recap_error_message(err));
		recap_error_free(err);
		return -1;
	}
	if (m->len > PACKET_MAX) {
		send_close(s, RECAP_WS_CLOSE_TOO_BIG, "a message passes 32 KiB");
		return -1;
	}
	return send(s->fd, m->data, m->len, MSG_NOSIGNAL) == (ssize_t)m->len ? 0 : -1;
}

static int read_user(struct session *s)
{
	uint8_t buf[16384];
	ssize_t n = relay_tls_read(s->c, buf, sizeof(buf));
	if (n <= 0)
		return -1;
	size_t off = 0;
	while (off < (size_t)n) {
		size_t used = 0;
		struct recap_ws_message m;
		struct recap_error *err = NULL;
		int r = recap_ws_decoder_feed(&s->dec, buf + off, (size_t)n - off, &used, &m, &err);
		off += used;
		if (r < 0) {
			send_close(s, recap_ws_decoder_close_code(&s->dec), recap_error_message(err));
			recap_error_free(err);
			return -1;
		}
		if (r == 1 && from_user(s, &m) < 0)
			return -1;
		if (r == 0 && used == 0)
			break;
	}
	return 0;
}

static int read_executor(struct session *s)
{
	static __thread uint8_t pkt[PACKET_MAX];
	ssize_t n = recv(s->fd, pkt, sizeof(pkt), 0);
	if (n <= 0) { /* the executor closed it after the exit Status */
		send_close(s, RECAP_WS_CLOSE_NORMAL, "");
		return -1;
	}
	return send_frame(s, RECAP_WS_BINARY, pkt, (size_t)n);
}

static void pump(struct session *s)
{
	for (;;) {
		if (mbedtls_ssl_get_bytes_avail(&s->c->ssl) == 0) {
			struct pollfd p[2] = {{.fd = s->c->fd, .events = POLLIN},
					      {.fd = s->fd, .events = POLLIN}};
			int n = poll(p, 2, 1000);
			if (atomic_load(&s->c->r->stopping)) {
				send_close(s, RECAP_WS_CLOSE_GOING_AWAY, "the node agent is stopping");
				return;
			}
			if (n <= 0)
				continue;
			if (p[1].revents && read_executor(s) < 0)
				return;
			if (!p[0].revents)
				continue;
		}
		if (read_user(s) < 0)
			return;
	}
}

void relay_serve_attach(struct relay_conn *c, const char *run_id)
{
	const char *proto = NULL;
	char accept[RECAP_WS_ACCEPT_LEN + 1], head[256];
	if (strcmp(c->method, "GET") != 0 || handshake(c, &proto, accept) < 0)
		return;
	struct session s = {.c = c, .version = strcmp(proto, RECAP_WSCHAN_V5_PROTOCOL) == 0 ? 5 : 4};
	if ((s.fd = connect_session(c, run_id)) < 0)
		return;
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			 "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: %s\r\n\r\n",
			 accept, proto);
	c->began = true;
	/* no read timeout while a person types; idleness is the executor's to judge */
	struct timeval none = {0};
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
	recap_ws_decoder_init(&s.dec, RECAP_WS_SERVER, PACKET_MAX);
	if (relay_tls_write(c, head, (size_t)n) == 0)
		pump(&s);
	recap_ws_decoder_free(&s.dec);
	close(s.fd);
}

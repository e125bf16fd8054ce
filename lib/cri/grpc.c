#include "cri/grpc.h"

#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/timeutil.h"

#define GRPC_MESSAGE_KEEP 512

/* One call: the request body it sends, and what the reply stream said. */
struct call_state {
	const uint8_t *req;
	size_t req_len, req_off;
	int32_t stream;
	struct recap_buf *body;
	bool overflow;
	long http;  /* :status, 0 until seen */
	int status; /* -1: no grpc-status seen */
	char message[GRPC_MESSAGE_KEEP];
	bool closed;	     /* the stream ended (or was reset) */
	uint32_t reset_code; /* its RST_STREAM code, 0 when it ended cleanly */
};

int recap_grpc_unframe(const void *body, size_t len, const void **ret_msg, size_t *ret_len,
		       struct recap_error **err)
{
	const uint8_t *p = body;
	if (len < 5)
		return recap_error_set(err, EBADMSG, "gRPC reply of %zu bytes has no message", len);
	if (p[0] != 0)
		return recap_error_set(err, EBADMSG, "gRPC reply is compressed (flag %u), none was offered",
				       p[0]);
	uint32_t n = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
	if (n > RECAP_GRPC_MESSAGE_MAX || n != len - 5)
		return recap_error_set(err, EBADMSG,
				       "gRPC reply frame says %u bytes, the body holds %zu after its prefix",
				       n, len - 5);
	*ret_msg = p + 5;
	*ret_len = n;
	return 0;
}

static ssize_t read_request(nghttp2_session *session, int32_t stream, uint8_t *buf, size_t length,
			    uint32_t *flags, nghttp2_data_source *source, void *user)
{
	(void)session, (void)stream, (void)source;
	struct call_state *s = user;
	size_t n = s->req_len - s->req_off;
	if (n > length)
		n = length;
	memcpy(buf, s->req + s->req_off, n);
	s->req_off += n;
	if (s->req_off == s->req_len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static bool named(const uint8_t *name, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(name, want, len) == 0;
}

/* Headers and trailers: grpc-status may come in either (nghttp2 has
 * lowercased and checked the names already). */
static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *user)
{
	(void)session, (void)flags;
	struct call_state *s = user;
	if (frame->hd.stream_id != s->stream)
		return 0;
	if (named(name, namelen, ":status")) {
		s->http = 0;
		for (size_t i = 0; i < valuelen && i < 3; i++)
			s->http = value[i] >= '0' && value[i] <= '9' ? s->http * 10 + (value[i] - '0') : 999;
	} else if (named(name, namelen, "grpc-status")) {
		s->status = 0;
		for (size_t i = 0; i < valuelen && i < 4; i++)
			s->status =
			    value[i] >= '0' && value[i] <= '9' ? s->status * 10 + (value[i] - '0') : 9999;
		if (valuelen == 0 || valuelen > 3)
			s->status = 9999;
	} else if (named(name, namelen, "grpc-message")) {
		size_t n = valuelen < sizeof(s->message) ? valuelen : sizeof(s->message) - 1;
		memcpy(s->message, value, n);
		s->message[n] = '\0';
	}
	return 0;
}

static int on_data(nghttp2_session *session, uint8_t flags, int32_t stream, const uint8_t *data, size_t len,
		   void *user)
{
	(void)flags;
	struct call_state *s = user;
	if (stream != s->stream || s->overflow)
		return 0;
	if (recap_buf_append(s->body, data, len) < 0) {
		s->overflow = true; /* the reply is dropped: reset the stream */
		return nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream, NGHTTP2_CANCEL) < 0
			   ? NGHTTP2_ERR_CALLBACK_FAILURE
			   : 0;
	}
	return 0;
}

static int on_close(nghttp2_session *session, int32_t stream, uint32_t code, void *user)
{
	(void)session;
	struct call_state *s = user;
	if (stream == s->stream) {
		s->closed = true;
		s->reset_code = code;
	}
	return 0;
}

static int remaining_ms(uint64_t deadline)
{
	uint64_t now = recap_now_mono_ms();
	return now >= deadline ? 0 : (int)(deadline - now);
}

/* Non-blocking: a server whose backlog is full answers EAGAIN, and the
 * connection is tried again every millisecond until the deadline. */
static int connect_unix(const struct recap_grpc_call *call, uint64_t deadline, struct recap_error **err)
{
	const char *path = call->socket_path, *method = call->method;
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	memcpy(a.sun_path, path, strlen(path) + 1); /* length checked by the caller */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return recap_error_set_errno(err, errno, "%s on %s: socket", method, path);
	int r;
	while ((r = connect(fd, (struct sockaddr *)&a, sizeof(a))) < 0 &&
	       (errno == EAGAIN || errno == EINTR) && remaining_ms(deadline) > 0)
		poll(NULL, 0, 1);
	if (r < 0 && errno == EAGAIN) {
		close(fd);
		return recap_error_set(err, ETIMEDOUT,
				       "%s on %s: the server accepted no connection within %ld ms", method,
				       path, call->timeout_ms);
	}
	if (r < 0) {
		int e = errno;
		close(fd);
		/* one code for a server not reached: a missing socket (ENOENT)
		 * must not read as a missing container */
		return recap_error_set(err, ECONNREFUSED, "%s on %s: cannot connect: %s", method, path,
				       strerror(e));
	}
	return fd;
}

static int closed_early(const struct recap_grpc_call *call, struct recap_error **err)
{
	return recap_error_set(err, ECONNRESET,
			       "%s on %s: the server closed the connection before the reply ended",
			       call->method, call->socket_path);
}

/* Sends what the session has queued, each write within the deadline. */
static int flush(nghttp2_session *h, int fd, uint64_t deadline, const struct recap_grpc_call *call,
		 struct recap_error **err)
{
	for (;;) {
		const uint8_t *data;
		ssize_t n = nghttp2_session_mem_send(h, &data);
		if (n < 0)
			return recap_error_set(err, EPROTO, "%s on %s: HTTP/2: %s", call->method,
					       call->socket_path, nghttp2_strerror((int)n));
		if (n == 0)
			return 0;
		for (size_t off = 0; off < (size_t)n;) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			int ms = remaining_ms(deadline);
			if (ms == 0 || poll(&p, 1, ms) == 0)
				return recap_error_set(err, ETIMEDOUT, "%s on %s: no answer within %ld ms",
						       call->method, call->socket_path, call->timeout_ms);
			ssize_t w = send(fd, data + off, (size_t)n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w < 0 && (errno == EPIPE || errno == ECONNRESET))
				return closed_early(call, err);
			if (w < 0 && errno != EAGAIN && errno != EINTR)
				return recap_error_set_errno(err, errno, "%s on %s: send", call->method,
							     call->socket_path);
			if (w > 0)
				off += (size_t)w;
		}
	}
}

/* Drives the connection until the call's stream closed. */
static int exchange(nghttp2_session *h, int fd, struct call_state *s, const struct recap_grpc_call *call,
		    uint64_t deadline, struct recap_error **err)
{
	uint8_t buf[16384];
	for (;;) {
		int r = flush(h, fd, deadline, call, err);
		if (r < 0 || s->closed)
			return r;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int ms = remaining_ms(deadline);
		if (ms == 0 || (r = poll(&p, 1, ms)) == 0)
			return recap_error_set(err, ETIMEDOUT, "%s on %s: no answer within %ld ms",
					       call->method, call->socket_path, call->timeout_ms);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return recap_error_set_errno(err, errno, "%s on %s: poll", call->method,
						     call->socket_path);
		}
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return closed_early(call, err);
		if (n < 0)
			return recap_error_set_errno(err, errno, "%s on %s: receive", call->method,
						     call->socket_path);
		ssize_t used = nghttp2_session_mem_recv(h, buf, (size_t)n);
		if (used < 0)
			return recap_error_set(err, EPROTO, "%s on %s: HTTP/2: %s", call->method,
					       call->socket_path, nghttp2_strerror((int)used));
	}
}

static int session_new(nghttp2_session **ret, struct call_state *s)
{
	nghttp2_session_callbacks *cb;
	if (nghttp2_session_callbacks_new(&cb) != 0)
		return -ENOMEM;
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
	int r = nghttp2_session_client_new(ret, cb, s);
	nghttp2_session_callbacks_del(cb);
	return r == 0 ? 0 : -ENOMEM;
}

/* SETTINGS (no push) and the request: HEADERS and the framed message. */
static int submit(nghttp2_session *h, struct call_state *s, const struct recap_grpc_call *call)
{
	char timeout[32];
	snprintf(timeout, sizeof(timeout), "%ldm", call->timeout_ms);
#define NV(n, v)                                                                                             \
	{                                                                                                    \
		(uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE                   \
	}
	const nghttp2_nv hdrs[] = {NV(":method", "POST"),
				   NV(":scheme", "http"),
				   NV(":authority", "localhost"),
				   NV(":path", call->method),
				   NV("content-type", "application/grpc"),
				   NV("te", "trailers"),
				   NV("grpc-timeout", timeout)};
#undef NV
	const nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
	if (nghttp2_submit_settings(h, NGHTTP2_FLAG_NONE, settings, ARRAY_SIZE(settings)) != 0)
		return -ENOMEM;
	nghttp2_data_provider body = {.read_callback = read_request};
	s->stream = nghttp2_submit_request(h, NULL, hdrs, ARRAY_SIZE(hdrs), &body, s);
	return s->stream < 0 ? -ENOMEM : 0;
}

static int frame(const void *request, size_t len, struct recap_buf *out)
{
	uint8_t prefix[5] = {0, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			     (uint8_t)len};
	int r = recap_buf_append(out, prefix, sizeof(prefix));
	return r < 0 ? r : recap_buf_append(out, request, len);
}

int recap_grpc_unary(const struct recap_grpc_call *call, const void *request, size_t request_len,
		     struct recap_buf *reply, int *ret_status, struct recap_error **err)
{
	if (strlen(call->socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path) ||
	    strlen(call->method) > 200)
		return recap_error_set(err, ENAMETOOLONG, "CRI socket path '%s' is too long",
				       call->socket_path);
	struct recap_buf framed = RECAP_BUF_INIT(5 + RECAP_GRPC_MESSAGE_MAX);
	struct recap_buf body = RECAP_BUF_INIT(5 + RECAP_GRPC_MESSAGE_MAX);
	struct call_state s = {.body = &body, .status = -1};
	uint64_t deadline = recap_now_mono_ms() + (uint64_t)call->timeout_ms;
	nghttp2_session *h = NULL;
	int fd = -1;
	int r = frame(request, request_len, &framed);
	if (r >= 0) {
		s.req = (const uint8_t *)framed.data;
		s.req_len = framed.len;
		r = session_new(&h, &s);
	}
	if (r >= 0)
		r = submit(h, &s, call);
	if (r < 0)
		r = recap_error_set(err, -r, "%s on %s: out of memory", call->method, call->socket_path);
	if (r >= 0 && (r = fd = connect_unix(call, deadline, err)) >= 0)
		r = exchange(h, fd, &s, call, deadline, err);
	if (fd >= 0)
		close(fd);
	nghttp2_session_del(h);
	recap_buf_free(&framed);
	const void *msg;
	size_t len;
	if (r < 0)
		; /* said */
	else if (s.overflow)
		r = recap_error_set(err, EBADMSG, "%s on %s: the reply is larger than %u bytes", call->method,
				    call->socket_path, RECAP_GRPC_MESSAGE_MAX);
	else if (s.status > 0)
		r = recap_error_set(err, EREMOTEIO, "%s on %s: gRPC status %d: %s", call->method,
				    call->socket_path, s.status, s.message[0] ? s.message : "(no message)");
	else if (s.reset_code)
		r = recap_error_set(err, EPROTO, "%s on %s: the server reset the stream (HTTP/2 error %u)",
				    call->method, call->socket_path, s.reset_code);
	else if (s.http != 200 || s.status < 0)
		r = recap_error_set(err, EBADMSG, "%s on %s: HTTP status %ld without a gRPC status",
				    call->method, call->socket_path, s.http);
	else if ((r = recap_grpc_unframe(body.data, body.len, &msg, &len, err)) < 0)
		r = recap_error_wrap(err, r, "%s on %s", call->method, call->socket_path);
	else if ((r = recap_buf_append(reply, msg, len)) < 0)
		r = recap_error_set(err, EBADMSG, "%s on %s: reply of %zu bytes too large", call->method,
				    call->socket_path, len);
	if (ret_status && s.status > 0)
		*ret_status = s.status;
	recap_buf_free(&body);
	return r < 0 ? r : 0;
}

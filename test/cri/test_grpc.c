/* The gRPC client (lib/cri/grpc.c) against a real HTTP/2 server, libnghttp2's
 * server session in a child process on a unix socket, answering as told:
 * the request echoed, a gRPC error, a reply too large, silence, a closed
 * connection, a reset stream, an HTTP error, bytes that are not HTTP/2. */
#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/timeutil.h"
#include "cri/grpc.h"

enum mode { ECHO, NOT_FOUND, HUGE, SILENT, CLOSE, RESET, HTTP_500, NOT_HTTP2 };

#define METHOD "/runtime.v1.RuntimeService/ContainerStatus"
#define HUGE_LEN (RECAP_GRPC_MESSAGE_MAX + 1u)

struct server {
	enum mode mode;
	nghttp2_session *s;
	uint8_t *body; /* what it sends: the echo, or the huge message */
	size_t len, off;
	char path[256], ctype[64], te[16];
	bool answered, close_now;
};

static ssize_t read_body(nghttp2_session *s, int32_t stream, uint8_t *buf, size_t length, uint32_t *flags,
			 nghttp2_data_source *src, void *user)
{
	struct server *v = user;
	size_t n = v->len - v->off < length ? v->len - v->off : length;
	memcpy(buf, v->body + v->off, n);
	v->off += n;
	if (v->off == v->len) {
		*flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
		const nghttp2_nv tr[] = {{(uint8_t *)"grpc-status", (uint8_t *)"0", 11, 1, 0}};
		if (nghttp2_submit_trailer(s, stream, tr, 1) != 0)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	return (ssize_t)n;
}

#define NV(n, val)                                                                                           \
	{                                                                                                    \
		(uint8_t *)(n), (uint8_t *)(val), strlen(n), strlen(val), 0                                  \
	}

static int answer(struct server *v, int32_t stream)
{
	v->answered = true;
	nghttp2_data_provider d = {.read_callback = read_body};
	/* a request that is not gRPC's as the client must send it */
	if (strcmp(v->path, METHOD) || strcmp(v->ctype, "application/grpc") || strcmp(v->te, "trailers")) {
		const nghttp2_nv h[] = {NV(":status", "200"), NV("content-type", "application/grpc"),
					NV("grpc-status", "3"), NV("grpc-message", "not a gRPC request")};
		return nghttp2_submit_response(v->s, stream, h, 4, NULL);
	}
	const nghttp2_nv ok[] = {NV(":status", "200"), NV("content-type", "application/grpc")};
	switch (v->mode) {
	case ECHO:
		return nghttp2_submit_response(v->s, stream, ok, 2, &d);
	case NOT_FOUND: {
		const nghttp2_nv h[] = {NV(":status", "200"), NV("content-type", "application/grpc"),
					NV("grpc-status", "5"), NV("grpc-message", "no such container")};
		return nghttp2_submit_response(v->s, stream, h, 4, NULL);
	}
	case HUGE:
		free(v->body);
		v->len = 5 + HUGE_LEN;
		v->body = calloc(1, v->len);
		v->body[1] = (uint8_t)(HUGE_LEN >> 24), v->body[2] = (uint8_t)(HUGE_LEN >> 16);
		v->body[3] = (uint8_t)(HUGE_LEN >> 8), v->body[4] = (uint8_t)HUGE_LEN;
		return nghttp2_submit_response(v->s, stream, ok, 2, &d);
	case SILENT:
		return 0;
	case CLOSE:
		v->close_now = true;
		return nghttp2_submit_headers(v->s, NGHTTP2_FLAG_NONE, stream, NULL, ok, 2, NULL);
	case RESET:
		return nghttp2_submit_rst_stream(v->s, NGHTTP2_FLAG_NONE, stream, NGHTTP2_INTERNAL_ERROR);
	case HTTP_500: {
		const nghttp2_nv h[] = {NV(":status", "500")};
		return nghttp2_submit_response(v->s, stream, h, 1, NULL);
	}
	default:
		return -1;
	}
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
		     const uint8_t *value, size_t vlen, uint8_t flags, void *user)
{
	struct server *v = user;
	char *slot = nlen == 5 && !memcmp(name, ":path", 5)	       ? v->path
		     : nlen == 12 && !memcmp(name, "content-type", 12) ? v->ctype
		     : nlen == 2 && !memcmp(name, "te", 2)	       ? v->te
								       : NULL;
	if (slot)
		snprintf(slot, 64, "%.*s", (int)vlen, (const char *)value);
	return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t stream, const uint8_t *data, size_t len,
		   void *user)
{
	struct server *v = user;
	v->body = realloc(v->body, v->len + len);
	memcpy(v->body + v->len, data, len);
	v->len += len;
	return 0;
}

static int on_frame(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	struct server *v = user;
	if ((f->hd.type == NGHTTP2_DATA || f->hd.type == NGHTTP2_HEADERS) &&
	    (f->hd.flags & NGHTTP2_FLAG_END_STREAM) && !v->answered)
		return answer(v, f->hd.stream_id) < 0 ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
	return 0;
}

static _Noreturn void serve(int lfd, enum mode mode)
{
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		_exit(1);
	if (mode == NOT_HTTP2) {
		const char *r = "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
		(void)!write(fd, r, strlen(r));
		_exit(0);
	}
	struct server v = {.mode = mode};
	nghttp2_session_callbacks *cb;
	nghttp2_session_callbacks_new(&cb);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
	nghttp2_session_server_new(&v.s, cb, &v);
	nghttp2_submit_settings(v.s, NGHTTP2_FLAG_NONE, NULL, 0);
	uint8_t buf[16384];
	for (;;) {
		const uint8_t *out;
		ssize_t n;
		while ((n = nghttp2_session_mem_send(v.s, &out)) > 0)
			for (ssize_t o = 0, w; o < n; o += w)
				if ((w = write(fd, out + o, (size_t)(n - o))) <= 0)
					_exit(0);
		if (v.close_now)
			_exit(0);
		n = read(fd, buf, sizeof(buf));
		if (n <= 0 || nghttp2_session_mem_recv(v.s, buf, (size_t)n) < 0)
			_exit(0);
	}
}

struct run {
	int r, status;
	char msg[1024];
	struct recap_buf reply;
	uint64_t ms;
};

/* One call against a server in mode; the reply holds at most reply_max. */
static void call(enum mode mode, const char *req, size_t reply_max, long timeout_ms, struct run *out)
{
	char dir[] = "/tmp/recap-grpc-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s/cri.sock", dir);
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		serve(lfd, mode);
	close(lfd);
	struct recap_grpc_call c = {.socket_path = a.sun_path, .method = METHOD, .timeout_ms = timeout_ms};
	struct recap_error *err = NULL;
	*out = (struct run){.reply = RECAP_BUF_INIT(reply_max)};
	uint64_t t0 = recap_now_mono_ms();
	out->r = recap_grpc_unary(&c, req, strlen(req), &out->reply, &out->status, &err);
	out->ms = recap_now_mono_ms() - t0;
	snprintf(out->msg, sizeof(out->msg), "%s", err ? recap_error_message(err) : "");
	recap_error_free(err);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(a.sun_path);
	rmdir(dir);
}

static void test_echo(void **state)
{
	struct run r;
	call(ECHO,
	     "\x0a\x03"
	     "abc",
	     1024, 2000, &r);
	assert_int_equal(r.r, 0);
	assert_int_equal(r.reply.len, 5);
	assert_memory_equal(r.reply.data,
			    "\x0a\x03"
			    "abc",
			    5);
	recap_buf_free(&r.reply);
}

static void test_grpc_status(void **state)
{
	struct run r;
	call(NOT_FOUND, "x", 1024, 2000, &r);
	assert_int_equal(r.r, -EREMOTEIO);
	assert_int_equal(r.status, RECAP_GRPC_NOT_FOUND);
	assert_non_null(strstr(r.msg, "gRPC status 5: no such container"));
	assert_non_null(strstr(r.msg, METHOD));
	recap_buf_free(&r.reply);
}

static void test_too_large(void **state)
{
	struct run r;
	call(HUGE, "x", RECAP_GRPC_MESSAGE_MAX, 5000, &r);
	assert_int_equal(r.r, -EBADMSG);
	assert_non_null(strstr(r.msg, "the reply is larger than"));
	assert_int_equal(r.reply.len, 0);
	recap_buf_free(&r.reply);
	/* a reply within the protocol's bound but above the caller's */
	call(ECHO, "0123456789", 4, 2000, &r);
	assert_int_equal(r.r, -EBADMSG);
	assert_non_null(strstr(r.msg, "too large"));
	recap_buf_free(&r.reply);
}

static void test_silent_server_times_out(void **state)
{
	struct run r;
	call(SILENT, "x", 1024, 300, &r);
	assert_int_equal(r.r, -ETIMEDOUT);
	assert_non_null(strstr(r.msg, "no answer within 300 ms"));
	assert_in_range(r.ms, 290, 2000);
	recap_buf_free(&r.reply);
}

static void test_closed_reset_http_errors(void **state)
{
	struct run r;
	call(CLOSE, "x", 1024, 2000, &r);
	assert_int_equal(r.r, -ECONNRESET);
	assert_non_null(strstr(r.msg, "closed the connection before the reply ended"));
	recap_buf_free(&r.reply);
	call(RESET, "x", 1024, 2000, &r);
	assert_int_equal(r.r, -EPROTO);
	assert_non_null(strstr(r.msg, "reset the stream (HTTP/2 error 2)"));
	recap_buf_free(&r.reply);
	call(HTTP_500, "x", 1024, 2000, &r);
	assert_int_equal(r.r, -EBADMSG);
	assert_non_null(strstr(r.msg, "HTTP status 500 without a gRPC status"));
	recap_buf_free(&r.reply);
	call(NOT_HTTP2, "x", 1024, 2000, &r);
	assert_true(r.r == -EPROTO || r.r == -ECONNRESET);
	assert_non_null(strstr(r.msg, r.r == -EPROTO ? "HTTP/2: " : "closed the connection"));
	recap_buf_free(&r.reply);
}

static void test_no_server(void **state)
{
	struct recap_grpc_call c = {
	    .socket_path = "/nonexistent/cri.sock", .method = METHOD, .timeout_ms = 1000};
	struct recap_buf reply = RECAP_BUF_INIT(1024);
	struct recap_error *err = NULL;
	int status = 0;
	/* a missing socket is a server not reached, never a missing container */
	assert_int_equal(recap_grpc_unary(&c, "x", 1, &reply, &status, &err), -ECONNREFUSED);
	assert_non_null(strstr(recap_error_message(err), "/nonexistent/cri.sock"));
	assert_non_null(strstr(recap_error_message(err), "No such file or directory"));
	recap_error_free(err);
	recap_buf_free(&reply);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_echo),
	    cmocka_unit_test(test_grpc_status),
	    cmocka_unit_test(test_too_large),
	    cmocka_unit_test(test_silent_server_times_out),
	    cmocka_unit_test(test_closed_reset_http_errors),
	    cmocka_unit_test(test_no_server),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

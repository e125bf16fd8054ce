/* lib/httpd against a real loopback socket: routes, methods, limits. The
 * client is a plain blocking socket driven between loop iterations. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "httpd/httpd.h"

static int handler(const char *path, struct recap_buf *body, const char **ctype, void *data)
{
	if (strcmp(path, "/hello") != 0)
		return 404;
	recap_buf_appends(body, "hi\n");
	return 200;
}

/* Sends req and collects the answer until the server closes. */
static void exchange(uv_loop_t *loop, int port, const char *req, size_t len, char *out, size_t outsz)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	for (size_t off = 0; off < len;) {
		ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (w <= 0)
			break; /* the server may answer (and close) before all is sent */
		off += (size_t)w;
		uv_run(loop, UV_RUN_NOWAIT);
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	size_t n = 0;
	for (int i = 0; i < 2000; i++) {
		uv_run(loop, UV_RUN_NOWAIT);
		ssize_t r = recv(fd, out + n, outsz - 1 - n, 0);
		if (r == 0)
			break;
		if (r > 0)
			n += (size_t)r;
		else
			usleep(1000);
	}
	out[n] = '\0';
	close(fd);
}

static void test_routes(void **state)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct recap_httpd *h = NULL;
	assert_int_equal(recap_httpd_start(&loop, "127.0.0.1:0", handler, NULL, &h, NULL), 0);
	int port = recap_httpd_port(h);
	assert_true(port > 0);
	char out[4096];
	const char *ok = "GET /hello?x=1 HTTP/1.1\r\nHost: t\r\n\r\n";
	exchange(&loop, port, ok, strlen(ok), out, sizeof(out));
	assert_non_null(strstr(out, "HTTP/1.1 200 OK"));
	assert_non_null(strstr(out, "Content-Length: 3\r\n"));
	assert_non_null(strstr(out, "\r\n\r\nhi\n"));
	const char *head = "HEAD /hello HTTP/1.1\r\n\r\n";
	exchange(&loop, port, head, strlen(head), out, sizeof(out));
	assert_non_null(strstr(out, "200 OK"));
	assert_null(strstr(out, "hi\n"));
	const char *nf = "GET /nope HTTP/1.1\r\n\r\n";
	exchange(&loop, port, nf, strlen(nf), out, sizeof(out));
	assert_non_null(strstr(out, "HTTP/1.1 404"));
	const char *post = "POST /hello HTTP/1.1\r\n\r\n";
	exchange(&loop, port, post, strlen(post), out, sizeof(out));
	assert_non_null(strstr(out, "HTTP/1.1 405"));
	const char *junk = "garbage\r\n\r\n";
	exchange(&loop, port, junk, strlen(junk), out, sizeof(out));
	assert_non_null(strstr(out, "HTTP/1.1 400"));
	static char big[8192]; /* exactly the limit, unterminated: all read, so no RST */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	exchange(&loop, port, big, sizeof(big), out, sizeof(out));
	assert_non_null(strstr(out, "HTTP/1.1 431"));
	recap_httpd_stop(h);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_bad_address(void **state)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct recap_httpd *h = NULL;
	const char *bad[] = {"nocolon", "127.0.0.1:99999", "host.example:80", "127.0.0.1:x"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_error_ struct recap_error *err = NULL;
		assert_int_equal(recap_httpd_start(&loop, bad[i], handler, NULL, &h, &err), -EINVAL);
		assert_non_null(strstr(recap_error_message(err), bad[i]));
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_routes),
	    cmocka_unit_test(test_bad_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

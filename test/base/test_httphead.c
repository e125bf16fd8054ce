#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/httphead.h"

static const char head[] =
    "GET /x HTTP/1.1\r\nHost: a\r\nX-Recap-Node:  node-1 \t\r\nupgrade: websocket\r\n"
    "Sec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io\r\n\r\nX-After: no\r\n";

static void headers(void **state)
{
	char v[64];
	assert_int_equal(recap_http_header(head, "X-Recap-Node", v, sizeof(v)), 1);
	assert_string_equal(v, "node-1");
	assert_int_equal(recap_http_header(head, "Upgrade", v, sizeof(v)), 1); /* any case */
	assert_string_equal(v, "websocket");
	assert_int_equal(recap_http_header(head, "X-After", v, sizeof(v)), 0); /* past the head */
	assert_string_equal(v, "");
	assert_int_equal(recap_http_header(head, "X-Recap", v, sizeof(v)), 0); /* a prefix is not a name */
	char small[8];
	assert_int_equal(recap_http_header(head, "Sec-WebSocket-Protocol", small, sizeof(small)), -1);
}

static void queries(void **state)
{
	char v[16];
	assert_int_equal(recap_http_query("follow=true&path=a%2Fb+c", "path", v, sizeof(v)), 1);
	assert_string_equal(v, "a/b c");
	assert_int_equal(recap_http_query("follow&x=1", "follow", v, sizeof(v)), 1);
	assert_string_equal(v, "");
	assert_int_equal(recap_http_query("followers=1", "follow", v, sizeof(v)), 0);
	assert_int_equal(recap_http_query("", "follow", v, sizeof(v)), 0);
	assert_int_equal(recap_http_query("path=%2", "path", v, sizeof(v)), -1);    /* cut escape */
	assert_int_equal(recap_http_query("path=%zz", "path", v, sizeof(v)), -1);   /* not hex */
	assert_int_equal(recap_http_query("path=a%00b", "path", v, sizeof(v)), -1); /* a NUL */
	assert_int_equal(recap_http_query("path=0123456789abcdef", "path", v, sizeof(v)), -1); /* too long */
}

static void request_lines(void **state)
{
	char m[8], p[8], q[8];
	assert_int_equal(recap_http_request_line("GET /a/b?x=1 HTTP/1.1\r\n\r\n", m, 8, p, 8, q, 8, NULL), 0);
	assert_string_equal(m, "GET");
	assert_string_equal(p, "/a/b");
	assert_string_equal(q, "x=1");
	assert_int_equal(recap_http_request_line("GET /a HTTP/1.1\r\n", m, 8, p, 8, q, 8, NULL), 0);
	assert_string_equal(q, "");
	assert_int_equal(recap_http_request_line("GET /a HTTP/1.0\r\n", m, 8, p, 8, q, 8, NULL), -EINVAL);
	assert_int_equal(recap_http_request_line("GET  HTTP/1.1\r\n", m, 8, p, 8, q, 8, NULL), -EINVAL);
	assert_int_equal(recap_http_request_line("GET /a HTTP/1.1", m, 8, p, 8, q, 8, NULL),
			 -EINVAL); /* no line end */
	assert_int_equal(recap_http_request_line("GET /a b HTTP/1.1\r\n", m, 8, p, 8, q, 8, NULL),
			 -EINVAL); /* a space */
	assert_int_equal(recap_http_request_line("GET /abcdefgh HTTP/1.1\r\n", m, 8, p, 8, q, 8, NULL),
			 -E2BIG);
	assert_int_equal(recap_http_request_line("GET /a?abcdefgh HTTP/1.1\r\n", m, 8, p, 8, q, 8, NULL),
			 -E2BIG);
	assert_int_equal(recap_http_request_line("VERYLONGM /a HTTP/1.1\r\n", m, 8, p, 8, q, 8, NULL),
			 -E2BIG);
	/* the error names the problem */
	struct recap_error *err = NULL;
	assert_int_equal(recap_http_request_line("GET /a HTTP/1.0\r\n", m, 8, p, 8, q, 8, &err), -EINVAL);
	assert_string_equal(recap_error_message(err), "not an HTTP/1.1 request line");
	recap_error_free(err);
	err = NULL;
	assert_int_equal(recap_http_request_line("GET /abcdefgh HTTP/1.1\r\n", m, 8, p, 8, q, 8, &err),
			 -E2BIG);
	assert_string_equal(recap_error_message(err), "the request's method, path or query is too long");
	recap_error_free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(headers), cmocka_unit_test(queries),
					   cmocka_unit_test(request_lines)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

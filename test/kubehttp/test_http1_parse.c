/* The lean transport's HTTP/1.1 response parser: framing, interim answers,
 * keep-alive, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "kubehttp/http1_parse.h"

struct got {
	int heads;
	long status;
	struct recap_buf body;
};

static int on_head(const struct recap_http1_parser *p, void *userdata)
{
	struct got *g = userdata;
	g->heads++;
	g->status = p->status;
	return 0;
}

static int on_data(const char *data, size_t len, void *userdata)
{
	struct got *g = userdata;
	return recap_buf_append(&g->body, data, len);
}

static const struct recap_http1_callbacks cbs = {.on_head = on_head, .on_data = on_data};

/* Feeds `in` in pieces of `step` bytes; returns the last result. */
static int feed(struct recap_http1_parser *p, const char *in, size_t step, struct got *g, size_t *left,
		struct recap_error **err)
{
	size_t len = strlen(in), off = 0;
	int r = 0;
	while (off < len && r == 0) {
		size_t n = len - off < step ? len - off : step, used = 0;
		r = recap_http1_feed(p, in + off, n, &used, &cbs, g, err);
		off += used;
	}
	*left = len - off;
	return r;
}

static void content_length_and_keep_alive(void **state)
{
	for (size_t step = 1; step <= 64; step *= 4) {
		struct recap_http1_parser p;
		struct got g = {.body = RECAP_BUF_INIT(1024)};
		size_t left;
		recap_http1_init(&p, 1024, false);
		assert_int_equal(
		    feed(&p, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nRetry-After: 7\r\n\r\nhelloNEXT", step,
			 &g, &left, NULL),
		    1);
		assert_int_equal(left, 4); /* the next answer's bytes are left */
		assert_int_equal(g.status, 200);
		assert_string_equal(g.body.data, "hello");
		assert_string_equal(p.retry_after, "7");
		assert_true(recap_http1_reusable(&p));
		recap_http1_free(&p);
		recap_buf_free(&g.body);
	}
}

static void chunked_after_interim(void **state)
{
	struct recap_http1_parser p;
	struct got g = {.body = RECAP_BUF_INIT(1024)};
	size_t left;
	recap_http1_init(&p, 1024, false);
	assert_int_equal(
	    feed(&p,
		 "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: y\r\n\r\n",
		 3, &g, &left, NULL),
	    1);
	assert_int_equal(g.heads, 1);
	assert_int_equal(g.status, 404);
	assert_string_equal(g.body.data, "abc0123456789abcdef");
	assert_true(recap_http1_reusable(&p));
	recap_http1_free(&p);
	recap_buf_free(&g.body);
}

static void body_until_close(void **state)
{
	struct recap_http1_parser p;
	struct got g = {.body = RECAP_BUF_INIT(1024)};
	size_t left;
	recap_http1_init(&p, 1024, false);
	assert_int_equal(
	    feed(&p, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it", 5, &g, &left, NULL), 0);
	assert_int_equal(recap_http1_eof(&p, NULL), 1);
	assert_string_equal(g.body.data, "all of it");
	assert_false(recap_http1_reusable(&p));
	recap_http1_free(&p);
	recap_buf_free(&g.body);
}

static void truncated_and_malformed(void **state)
{
	const char *bad[] = {
	    "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", /* then EOF */
	    "HTTP/2 200\r\n\r\n",
	    "HTTP/1.1 2x0 OK\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
	    "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct recap_http1_parser p;
		struct got g = {.body = RECAP_BUF_INIT(1024)};
		struct recap_error *err = NULL;
		size_t left;
		recap_http1_init(&p, 1024, false);
		int r = feed(&p, bad[i], 7, &g, &left, &err);
		if (r == 0)
			r = recap_http1_eof(&p, &err);
		assert_true(r < 0);
		assert_non_null(err);
		recap_error_free(err);
		recap_http1_free(&p);
		recap_buf_free(&g.body);
	}
}

static void head_is_bounded(void **state)
{
	struct recap_http1_parser p;
	struct got g = {.body = RECAP_BUF_INIT(1024)};
	struct recap_error *err = NULL;
	char in[400];
	size_t left;
	snprintf(in, sizeof(in), "HTTP/1.1 200 OK\r\nX-Long: %0300d\r\n\r\n", 0);
	recap_http1_init(&p, 256, false);
	assert_true(feed(&p, in, 16, &g, &left, &err) < 0);
	assert_non_null(strstr(recap_error_message(err), "head longer than 256 bytes"));
	recap_error_free(err);
	recap_http1_free(&p);
	recap_buf_free(&g.body);
}

static void head_request_and_no_content(void **state)
{
	const char *in[] = {"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n",
			    "HTTP/1.1 204 No Content\r\n\r\n"};
	for (int i = 0; i < 2; i++) {
		struct recap_http1_parser p;
		struct got g = {.body = RECAP_BUF_INIT(1024)};
		size_t left;
		recap_http1_init(&p, 1024, i == 0);
		assert_int_equal(feed(&p, in[i], 64, &g, &left, NULL), 1);
		assert_int_equal(g.body.len, 0);
		recap_http1_free(&p);
		recap_buf_free(&g.body);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(content_length_and_keep_alive),
	    cmocka_unit_test(chunked_after_interim),
	    cmocka_unit_test(body_until_close),
	    cmocka_unit_test(truncated_and_malformed),
	    cmocka_unit_test(head_is_bounded),
	    cmocka_unit_test(head_request_and_no_content),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

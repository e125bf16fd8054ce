/* Request heads, listen addresses and histograms. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "controller/http.h"
#include "controller/metrics.h"

static int parse(const char *s, char *method, char *path)
{
	return recap_http_parse(s, strlen(s), method, 16, path, 64);
}

static void test_parse(void **state)
{
	char m[16], p[64];
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", m, p), 1);
	assert_string_equal(m, "GET");
	assert_string_equal(p, "/metrics");
	assert_int_equal(parse("GET /readyz?verbose=1 HTTP/1.0\n\n", m, p), 1);
	assert_string_equal(p, "/readyz");
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n", m, p), 0); /* incomplete */
	assert_int_equal(parse("GET /metrics\r\n\r\n", m, p), -EINVAL);
	assert_int_equal(parse("get /metrics HTTP/1.1\r\n\r\n", m, p), -EINVAL);
	assert_int_equal(parse("GET metrics HTTP/1.1\r\n\r\n", m, p), -EINVAL);
	assert_int_equal(parse("GET / SPDY/3\r\n\r\n", m, p), -EINVAL);
	assert_int_equal(parse("VERYLONGMETHODNAMEX / HTTP/1.1\r\n\r\n", m, p), -E2BIG);
	char big[200] = "GET /";
	memset(big + 5, 'a', 100);
	strcpy(big + 105, " HTTP/1.1\r\n\r\n");
	assert_int_equal(parse(big, m, p), -E2BIG);
}

static void test_addr(void **state)
{
	char host[64];
	int port;
	assert_int_equal(recap_http_parse_addr(":8080", host, sizeof(host), &port, NULL), 0);
	assert_string_equal(host, "");
	assert_int_equal(port, 8080);
	assert_int_equal(recap_http_parse_addr("127.0.0.1:0", host, sizeof(host), &port, NULL), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(recap_http_parse_addr("[::1]:9", host, sizeof(host), &port, NULL), 0);
	assert_string_equal(host, "::1");
	struct recap_error *err = NULL;
	assert_int_equal(recap_http_parse_addr("x:99999", host, sizeof(host), &port, &err), -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "x:99999"));
	recap_error_free(err);
	err = NULL;
	assert_int_equal(recap_http_parse_addr("host:", host, sizeof(host), &port, &err), -EINVAL);
	recap_error_free(err);
}

static void test_histogram(void **state)
{
	struct recap_histogram h = {0};
	recap_histogram_observe(&h, 0.0005);
	recap_histogram_observe(&h, 0.2);
	recap_histogram_observe(&h, 1000);
	struct recap_buf b = RECAP_BUF_INIT(1 << 16);
	assert_true(recap_histogram_format(&h, "x_seconds", "kind", "Run", &b) >= 0);
	assert_non_null(strstr(b.data, "x_seconds_bucket{kind=\"Run\",le=\"0.001\"} 1\n"));
	assert_non_null(strstr(b.data, "x_seconds_bucket{kind=\"Run\",le=\"0.25\"} 2\n"));
	assert_non_null(strstr(b.data, "x_seconds_bucket{kind=\"Run\",le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(b.data, "x_seconds_count{kind=\"Run\"} 3\n"));
	recap_buf_reset(&b);
	assert_true(recap_histogram_format(&h, "y", NULL, NULL, &b) >= 0);
	assert_non_null(strstr(b.data, "y_bucket{le=\"60\"} 2\n"));
	assert_non_null(strstr(b.data, "y_count 3\n"));
	recap_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_addr),
	    cmocka_unit_test(test_histogram),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Prometheus histograms. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/histogram.h"

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
	/* bounds of its own */
	static const double own[] = {0.5, 300};
	struct recap_histogram o;
	recap_histogram_init(&o, own, 2);
	recap_histogram_observe(&o, 0.5);
	recap_histogram_observe(&o, 301);
	recap_buf_reset(&b);
	assert_true(recap_histogram_format(&o, "z", NULL, NULL, &b) >= 0);
	assert_string_equal(b.data, "z_bucket{le=\"0.5\"} 1\nz_bucket{le=\"300\"} 1\n"
				    "z_bucket{le=\"+Inf\"} 2\nz_sum 301.500000\nz_count 2\n");
	recap_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_histogram),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

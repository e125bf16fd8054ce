/* The API server's clock from Date headers (kube/clock.h, kubehttp date). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kube/clock.h"
#include "kubehttp/http.h"

static void date_header(void **state)
{
	assert_int_equal(recap_kube_http_date("Sun, 06 Dec 2026 13:22:32 GMT"), 1796563352);
	assert_int_equal(recap_kube_http_date("Thu, 01 Jan 1970 00:00:01 GMT"), 1);
	const char *bad[] = {NULL,
			     "",
			     "Sun, 06 Dec 2026 13:22:32",
			     "Sun, 06 Dec 2026 13:22:32 GMT junk",
			     "1796563352",
			     "Sun, 32 Dec 2026 13:22:32 GMT",
			     "Sunday, 06-Dec-26 13:22:32 GMT"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(recap_kube_http_date(bad[i]), 0);
}

static void unknown_and_small_offsets_read_as_none(void **state)
{
	struct recap_kube_clock k = {0};
	assert_int_equal(recap_kube_clock_server_time(&k, 1000), 1000);
	/* the same clock: the Date's second is the local one, give or take */
	recap_kube_clock_sample(&k, 1000, 1000 * 1000 + 900);
	recap_kube_clock_sample(&k, 1001, 1001 * 1000 + 100);
	assert_true(k.known);
	assert_int_equal(recap_kube_clock_server_time(&k, 2000), 2000);
	recap_kube_clock_sample(&k, 0, 5000); /* no Date: nothing learnt */
	assert_int_equal(recap_kube_clock_server_time(&k, 2000), 2000);
}

static void a_node_ten_minutes_ahead(void **state)
{
	struct recap_kube_clock k = {0};
	/* our clock reads 600 s more than the server's */
	int64_t server = 1796563352;
	recap_kube_clock_sample(&k, server, (server + 600) * 1000 + 480);
	assert_int_equal(recap_kube_clock_server_time(&k, server + 600 + 30), server + 30);
	/* jitter of the Date's resolution moves it little */
	for (int i = 1; i < 50; i++)
		recap_kube_clock_sample(&k, server + i, (server + i + 600) * 1000 + (i % 2 ? 950 : 20));
	assert_int_equal(recap_kube_clock_server_time(&k, server + 700), server + 100);
}

static void a_clock_set_back_is_taken_at_once(void **state)
{
	struct recap_kube_clock k = {0};
	int64_t server = 1796563352;
	recap_kube_clock_sample(&k, server, server * 1000 + 500);
	recap_kube_clock_sample(&k, server + 10, (server - 290) * 1000 + 500); /* set 5 min back */
	assert_int_equal(recap_kube_clock_server_time(&k, server - 290), server + 10);
}

static void a_late_answer_does_not_move_it(void **state)
{
	struct recap_kube_clock k = {0};
	int64_t server = 1796563352;
	recap_kube_clock_sample(&k, server, server * 1000 + 500);
	/* an answer stamped at server, read 20 s later (a slow list) */
	recap_kube_clock_sample(&k, server, (server + 20) * 1000 + 500);
	assert_int_equal(recap_kube_clock_server_time(&k, server + 20), server + 20);
	recap_kube_clock_sample(&k, server + 21, (server + 21) * 1000 + 500);
	assert_int_equal(recap_kube_clock_server_time(&k, server + 21), server + 21);
	/* our clock set 60 s forward: three answers in a row agree */
	for (int i = 0; i < 2; i++) {
		recap_kube_clock_sample(&k, server + 30 + i, (server + 90 + i) * 1000 + 500);
		assert_int_equal(recap_kube_clock_server_time(&k, server + 90 + i), server + 90 + i);
	}
	recap_kube_clock_sample(&k, server + 32, (server + 92) * 1000 + 500);
	assert_int_equal(recap_kube_clock_server_time(&k, server + 92), server + 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(date_header),
	    cmocka_unit_test(unknown_and_small_offsets_read_as_none),
	    cmocka_unit_test(a_node_ten_minutes_ahead),
	    cmocka_unit_test(a_clock_set_back_is_taken_at_once),
	    cmocka_unit_test(a_late_answer_does_not_move_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

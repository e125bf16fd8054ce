#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kubecache/leader.h"

static void expect_invalid(struct recap_kube_leader_config cfg, const char *needle)
{
	struct recap_error *err = NULL;
	assert_int_equal(recap_kube_leader_validate(&cfg, &err), -EINVAL);
	if (!strstr(recap_error_message(err), needle))
		fail_msg("error '%s' lacks '%s'", recap_error_message(err), needle);
	recap_error_free(err);
}

static void timings_are_validated(void **state)
{
	struct recap_kube_leader_config ok = {
	    .ns = "recap-system",
	    .name = "recap-controller",
	    .identity = "pod-1",
	    .lease_duration_ms = RECAP_KUBE_LEASE_DURATION_MS,
	    .renew_deadline_ms = RECAP_KUBE_RENEW_DEADLINE_MS,
	    .retry_period_ms = RECAP_KUBE_RETRY_PERIOD_MS,
	};
	assert_int_equal(recap_kube_leader_validate(&ok, NULL), 0);

	struct recap_kube_leader_config c = ok;
	c.renew_deadline_ms = c.lease_duration_ms;
	expect_invalid(c, "lease duration (15000 ms) must be greater than the renew deadline (15000 ms)");
	c = ok;
	c.retry_period_ms = 9000; /* 1.2 x 9 s > 10 s */
	expect_invalid(c, "renew deadline (10000 ms) must be greater than 1.2 x retry period (9000 ms)");
	c = ok;
	c.retry_period_ms = 0;
	expect_invalid(c, "retry period must be > 0");
	c = ok;
	c.identity = "";
	expect_invalid(c, "identity");
	c = ok;
	c.ns = NULL;
	expect_invalid(c, "namespace and a name");
	c = ok;
	c.lease_duration_ms = 7200 * 1000;
	expect_invalid(c, "at most 1h");
}

/* new() fills the defaults when no timing is given, and refuses bad ones
 * before touching the network (no client is needed to get there). */
static void new_refuses_bad_timings(void **state)
{
	struct recap_kube_leader_config c = {
	    .ns = "ns",
	    .name = "l",
	    .identity = "me",
	    .lease_duration_ms = 1000,
	    .renew_deadline_ms = 2000,
	    .retry_period_ms = 100,
	};
	struct recap_kube_leader *le = NULL;
	struct recap_error *err = NULL;
	assert_int_equal(recap_kube_leader_new(NULL, &c, &le, &err), -EINVAL);
	assert_null(le);
	recap_error_free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(timings_are_validated),
	    cmocka_unit_test(new_refuses_bad_timings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

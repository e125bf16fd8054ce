#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "sched/trigger.h"

#define NOW 1000000
/* cooldown, max_age, max_active, ns_active, ns_max */
static struct recap_trigger_limits limits(int64_t cooldown, int64_t max_age, size_t max_active,
					  size_t ns_active, size_t ns_max)
{
	return (struct recap_trigger_limits){cooldown, max_age, max_active, ns_active, ns_max};
}
#define DEFAULTS limits(600, 300, 5, 0, 20)

static struct recap_trigger_decision decide(const struct recap_trigger_cause *c, size_t n,
					    const struct recap_trigger_run *r, size_t nr,
					    struct recap_trigger_limits l)
{
	struct recap_trigger_decision d;
	struct recap_error *err = NULL;
	assert_int_equal(recap_trigger_decide(c, n, r, nr, &l, NOW, &d, &err), 0);
	return d;
}

static void fresh_causes_fire_oldest_first(void **state)
{
	struct recap_trigger_cause c[] = {
	    {"b", "cap-t2", NOW - 5},
	    {"a", "cap-t1", NOW - 10},
	    {"c", "cap-t3", NOW - 5},
	};
	struct recap_trigger_decision d = decide(c, 3, NULL, 0, DEFAULTS);
	assert_int_equal(d.n_fire, 3);
	assert_int_equal(d.fire[0], 1); /* oldest */
	assert_int_equal(d.fire[1], 0); /* same time: by pod name */
	assert_int_equal(d.fire[2], 2);
	assert_true(d.next == RECAP_TRIGGER_NONE);
	recap_trigger_decision_clear(&d);
}

static void a_cause_whose_run_exists_never_fires_again(void **state)
{
	struct recap_trigger_cause c[] = {{"a", "cap-t1", NOW - 10}};
	/* the run is long finished and older than the cooldown: still the same cause */
	struct recap_trigger_run r[] = {{"cap-t1", "a", NOW - 5000, false}};
	struct recap_trigger_decision d = decide(c, 1, r, 1, DEFAULTS);
	assert_int_equal(d.n_fire, 0);
	assert_int_equal(d.duplicate, 1);
	recap_trigger_decision_clear(&d);
}

static void stale_causes_are_dropped(void **state)
{
	struct recap_trigger_cause c[] = {{"a", "cap-t1", NOW - 301}, {"b", "cap-t2", NOW - 300}};
	struct recap_trigger_decision d = decide(c, 2, NULL, 0, DEFAULTS);
	assert_int_equal(d.n_fire, 1);
	assert_int_equal(d.fire[0], 1);
	assert_int_equal(d.stale, 1);
	recap_trigger_decision_clear(&d);
}

static void cooldown_holds_a_pod_and_says_when(void **state)
{
	struct recap_trigger_cause c[] = {{"a", "cap-t2", NOW - 10}, {"b", "cap-t3", NOW - 10}};
	struct recap_trigger_run r[] = {{"cap-t1", "a", NOW - 100, false}};
	struct recap_trigger_decision d = decide(c, 2, r, 1, limits(200, 300, 5, 0, 20));
	assert_int_equal(d.n_fire, 1);
	assert_int_equal(d.fire[0], 1);
	assert_int_equal(d.cooling, 1);
	assert_true(d.next == NOW + 100);
	recap_trigger_decision_clear(&d);
	/* a cause that would be stale by the end of the cooldown is not waited for */
	d = decide(c, 1, r, 1, limits(600, 300, 5, 0, 20));
	assert_int_equal(d.n_fire, 0);
	assert_int_equal(d.cooling, 1);
	assert_true(d.next == RECAP_TRIGGER_NONE);
	recap_trigger_decision_clear(&d);
	/* past the cooldown the pod's next cause fires */
	d = decide(c, 1, r, 1, limits(100, 300, 5, 0, 20));
	assert_int_equal(d.n_fire, 1);
	recap_trigger_decision_clear(&d);
}

static void one_cause_per_pod_at_a_time(void **state)
{
	struct recap_trigger_cause c[] = {
	    {"a", "cap-t2", NOW - 1}, /* a second cause of pod a: the Event after the condition */
	    {"a", "cap-t1", NOW - 20},
	};
	struct recap_trigger_decision d = decide(c, 2, NULL, 0, limits(0, 300, 5, 0, 20));
	assert_int_equal(d.n_fire, 1);
	assert_int_equal(d.fire[0], 1);
	assert_int_equal(d.cooling, 1);
	recap_trigger_decision_clear(&d);
}

/* 1,000 pods go NotReady at once: no more runs than the caps allow. */
static void a_storm_is_capped(void **state)
{
	enum { N = 1000 };
	struct recap_trigger_cause *c = calloc(N, sizeof(*c));
	char(*pods)[16] = calloc(N, 16), (*names)[16] = calloc(N, 16);
	assert_non_null(c);
	for (int i = 0; i < N; i++) {
		snprintf(pods[i], 16, "p%04d", i);
		snprintf(names[i], 16, "cap-t%04d", i);
		c[i] = (struct recap_trigger_cause){pods[i], names[i], NOW - 30};
	}
	struct recap_trigger_run r[] = {{"old-1", "x", NOW - 50, true}, {"old-2", "y", NOW - 5000, false}};
	struct recap_trigger_decision d = decide(c, N, r, 2, DEFAULTS);
	assert_int_equal(d.n_fire, 4); /* one of the five is still active */
	assert_int_equal(d.capped, N - 4);
	assert_false(d.capped_by_namespace);
	for (size_t i = 0; i < d.n_fire; i++)
		assert_int_equal(d.fire[i], i); /* p0000.. in name order */
	recap_trigger_decision_clear(&d);
	/* the namespace's bound is lower: it decides */
	d = decide(c, N, r, 2, limits(600, 300, 5, 18, 20));
	assert_int_equal(d.n_fire, 2);
	assert_true(d.capped_by_namespace);
	recap_trigger_decision_clear(&d);
	/* the namespace is full */
	d = decide(c, N, r, 2, limits(600, 300, 5, 20, 20));
	assert_int_equal(d.n_fire, 0);
	assert_int_equal(d.capped, N);
	recap_trigger_decision_clear(&d);
	free(c);
	free(pods);
	free(names);
}

static void bad_input_is_refused(void **state)
{
	struct recap_trigger_cause c[] = {{NULL, "cap-t1", NOW}};
	struct recap_trigger_limits l = DEFAULTS;
	struct recap_trigger_decision d;
	struct recap_error *err = NULL;
	assert_int_equal(recap_trigger_decide(c, 1, NULL, 0, &l, NOW, &d, &err), -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "no pod"));
	recap_error_free(err);
	err = NULL;
	l.cooldown = -1;
	assert_int_equal(recap_trigger_decide(c, 0, NULL, 0, &l, NOW, &d, &err), -EINVAL);
	recap_error_free(err);
}

static void run_names_are_stable_and_distinct(void **state)
{
	char a[RECAP_NAME_MAX + 1], b[RECAP_NAME_MAX + 1], c[RECAP_NAME_MAX + 1];
	assert_int_equal(
	    recap_trigger_run_name(a, "web-check", "u1", "p1", "Ready=False@2026-12-07T09:00:00Z"),
	    (int)strlen("web-check-t") + RECAP_NAME_HASH_LEN);
	assert_int_equal(
	    recap_trigger_run_name(b, "web-check", "u1", "p1", "Ready=False@2026-12-07T09:00:00Z"),
	    (int)strlen(a));
	assert_string_equal(a, b);
	assert_true(strncmp(a, "web-check-t", 11) == 0);
	recap_trigger_run_name(c, "web-check", "u1", "p1", "Ready=False@2026-12-07T09:05:00Z");
	assert_string_not_equal(a, c);
	recap_trigger_run_name(c, "web-check", "u1", "p2", "Ready=False@2026-12-07T09:00:00Z");
	assert_string_not_equal(a, c);
	/* a long Capsule name is cut to fit a label value */
	char longname[254];
	memset(longname, 'x', 253);
	longname[253] = 0;
	assert_true(recap_trigger_run_name(c, longname, "u1", "p1", "created") <= RECAP_NAME_MAX);
	assert_int_equal(recap_trigger_run_name(c, "", "u1", "p1", "k"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fresh_causes_fire_oldest_first),
	    cmocka_unit_test(a_cause_whose_run_exists_never_fires_again),
	    cmocka_unit_test(stale_causes_are_dropped),
	    cmocka_unit_test(cooldown_holds_a_pod_and_says_when),
	    cmocka_unit_test(one_cause_per_pod_at_a_time),
	    cmocka_unit_test(a_storm_is_capped),
	    cmocka_unit_test(bad_input_is_refused),
	    cmocka_unit_test(run_names_are_stable_and_distinct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

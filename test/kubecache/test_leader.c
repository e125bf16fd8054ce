/* Leader election against a real kube-apiserver (started by with-cluster.sh). */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/json.h"
#include "base/timeutil.h"
#include "helpers.h"
#include "kubecache/leader.h"

#define LEASE_MS 3000
#define RENEW_MS 2000
#define RETRY_MS 500

static const struct recap_kube_resource LEASES = {"coordination.k8s.io", "v1", "leases", true};

static struct tclient T;

struct candidate {
	struct recap_kube_leader *le;
	char identity[32];
	bool leading;
	unsigned started, stopped;
	uint64_t started_ms;
	bool done;
};

static void started(struct recap_kube_leader *le, void *userdata)
{
	struct candidate *c = userdata;
	c->leading = true;
	c->started++;
	c->started_ms = recap_now_mono_ms();
}

static void stopped(struct recap_kube_leader *le, void *userdata)
{
	struct candidate *c = userdata;
	c->leading = false;
	c->stopped++;
}

static void on_done(struct recap_kube_leader *le, void *userdata)
{
	((struct candidate *)userdata)->done = true;
}

static void campaign_with(struct recap_kube_client *client, struct candidate *c, const char *lease,
			  const char *identity)
{
	snprintf(c->identity, sizeof(c->identity), "%s", identity);
	struct recap_kube_leader_config cfg = {
	    .ns = "default",
	    .name = lease,
	    .identity = c->identity,
	    .lease_duration_ms = LEASE_MS,
	    .renew_deadline_ms = RENEW_MS,
	    .retry_period_ms = RETRY_MS,
	    .started_leading = started,
	    .stopped_leading = stopped,
	    .userdata = c,
	};
	struct recap_error *err = NULL;
	if (recap_kube_leader_new(client, &cfg, &c->le, &err) < 0 || recap_kube_leader_start(c->le, &err) < 0)
		fail_msg("leader: %s", recap_error_message(err));
}

static void campaign(struct candidate *c, const char *lease, const char *identity)
{
	campaign_with(T.c, c, lease, identity);
}

static void retire(struct candidate *c)
{
	if (!c->done) {
		recap_kube_leader_stop(c->le, false, on_done);
		trun_until(&T, &c->done, 5000);
	}
	recap_kube_leader_free(c->le);
	c->le = NULL;
}

static json_t *get_lease(const char *name)
{
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_get(T.c, &LEASES, "default", name, NULL, recap_kube_sync_cb, &s, NULL),
			 0);
	json_t *obj = NULL;
	assert_int_equal(twait(&T, &s, &obj, NULL), RECAP_KUBE_OK);
	return obj;
}

/* Runs the loop for ms, failing if both candidates ever lead at once. */
static void run_checking_one_leader(struct candidate *a, struct candidate *b, uint64_t ms)
{
	uint64_t end = recap_now_mono_ms() + ms;
	bool never = false;
	while (recap_now_mono_ms() < end) {
		trun_until(&T, &never, 50);
		assert_false(a->leading && b->leading);
	}
}

static struct candidate *wait_for_leader(struct candidate *a, struct candidate *b, uint64_t ms)
{
	uint64_t end = recap_now_mono_ms() + ms;
	bool never = false;
	while (!a->leading && !b->leading && recap_now_mono_ms() < end)
		trun_until(&T, &never, 20);
	assert_false(a->leading && b->leading);
	return a->leading ? a : b->leading ? b : NULL;
}

static void one_leader_and_takeover_after_expiry(void **state)
{
	struct candidate a = {0}, b = {0};
	campaign(&a, "takeover", "cand-a");
	campaign(&b, "takeover", "cand-b");
	struct candidate *first = wait_for_leader(&a, &b, 10000);
	assert_non_null(first);
	struct candidate *other = first == &a ? &b : &a;
	run_checking_one_leader(&a, &b, 3 * LEASE_MS); /* renewals keep it */
	assert_true(first->leading);
	assert_int_equal(first->started, 1);
	assert_int_equal(other->started, 0);
	json_t *lease = get_lease("takeover");
	assert_string_equal(recap_json_str(lease, "spec.holderIdentity"), first->identity);
	assert_int_equal(recap_json_int(lease, "spec.leaseDurationSeconds", 0), LEASE_MS / 1000);
	int64_t transitions = recap_json_int(lease, "spec.leaseTransitions", -1);
	json_decref(lease);

	/* The leader's loop stops without releasing: the Lease must expire first. */
	uint64_t t0 = recap_now_mono_ms();
	recap_kube_leader_stop(first->le, false, on_done);
	first->leading = false;
	assert_true(trun_until(&T, &other->leading, LEASE_MS + 8 * RETRY_MS));
	uint64_t took = other->started_ms - t0;
	print_message("takeover after an unreleased stop: %" PRIu64 " ms (lease %d ms)\n", took, LEASE_MS);
	assert_true(took >= LEASE_MS - 2 * RETRY_MS);
	/* the lease, plus up to a jittered retry period before the other saw
	 * the last renewal and another before its next attempt, plus calls */
	assert_true(took <= LEASE_MS + 5 * RETRY_MS);
	lease = get_lease("takeover");
	assert_string_equal(recap_json_str(lease, "spec.holderIdentity"), other->identity);
	assert_int_equal(recap_json_int(lease, "spec.leaseTransitions", -1), transitions + 1);
	json_decref(lease);
	retire(first);
	retire(other);
}

static void release_hands_over_at_once(void **state)
{
	struct candidate a = {0}, b = {0};
	campaign(&a, "release", "cand-a");
	struct candidate *first = wait_for_leader(&a, &b, 10000);
	assert_ptr_equal(first, &a);
	campaign(&b, "release", "cand-b");
	run_checking_one_leader(&a, &b, 2 * RETRY_MS);
	assert_false(b.leading);

	uint64_t t0 = recap_now_mono_ms();
	recap_kube_leader_stop(a.le, true, on_done);
	assert_true(trun_until(&T, &a.done, 5000));
	assert_false(recap_kube_leader_is_leader(a.le));
	assert_true(trun_until(&T, &b.leading, LEASE_MS));
	uint64_t took = b.started_ms - t0;
	print_message("takeover after a release: %" PRIu64 " ms\n", took);
	assert_true(took <= 3 * RETRY_MS);
	assert_int_equal(a.stopped, 0);
	retire(&a);
	/* b releases too: the Lease ends with no holder */
	recap_kube_leader_stop(b.le, true, on_done);
	assert_true(trun_until(&T, &b.done, 5000));
	json_t *lease = get_lease("release");
	assert_string_equal(recap_json_str(lease, "spec.holderIdentity"), "");
	assert_int_equal(recap_json_int(lease, "spec.leaseDurationSeconds", 0), 1);
	json_decref(lease);
	retire(&b);
}

/* The child process campaigns with its own loop and client until killed. */
static void child_candidate(const char *lease)
{
	struct tclient C;
	struct candidate c = {0};
	tclient_open(&C, NULL, NULL);
	campaign_with(C.c, &c, lease, "cand-child");
	uv_run(&C.loop, UV_RUN_DEFAULT);
	_exit(1);
}

static bool holder_is(const char *lease, const char *identity)
{
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_get(T.c, &LEASES, "default", lease, NULL, recap_kube_sync_cb, &s, NULL),
			 0);
	json_t *obj = NULL;
	bool same = twait(&T, &s, &obj, NULL) == RECAP_KUBE_OK &&
		    strcmp(recap_json_str(obj, "spec.holderIdentity") ?: "", identity) == 0;
	json_decref(obj);
	return same;
}

/* The leader is another process, killed with SIGKILL: nothing releases. */
static void killed_leader_process_is_replaced(void **state)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child_candidate("killed");
	bool never = false;
	for (int i = 0; i < 100 && !holder_is("killed", "cand-child"); i++)
		trun_until(&T, &never, 100);
	struct candidate b = {0};
	campaign(&b, "killed", "cand-b");
	trun_until(&T, &never, 2 * LEASE_MS); /* the child keeps renewing */
	bool child_leads = holder_is("killed", "cand-child");
	uint64_t t0 = recap_now_mono_ms();
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_true(child_leads);
	assert_int_equal(b.started, 0);
	assert_true(trun_until(&T, &b.leading, LEASE_MS + 8 * RETRY_MS));
	uint64_t took = b.started_ms - t0;
	print_message("takeover after SIGKILL of the leader process: %" PRIu64 " ms\n", took);
	assert_true(took <= LEASE_MS + 5 * RETRY_MS);
	assert_true(holder_is("killed", "cand-b"));
	retire(&b);
}

static int setup(void **state)
{
	tclient_open(&T, NULL, NULL);
	return 0;
}

static int teardown(void **state)
{
	tclient_close(&T);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(one_leader_and_takeover_after_expiry),
	    cmocka_unit_test(release_hands_over_at_once),
	    cmocka_unit_test(killed_leader_process_is_replaced),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

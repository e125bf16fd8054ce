/* recap-apiserver's broker against a real API server (with-cluster.sh):
 * a stream thread's wait for a change is a watch from the version it read,
 * answered by the first change, by its timeout, or at once when the watch
 * cannot go on. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "apiserver/broker.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "helpers.h"

#define CM_PATH "/api/v1/namespaces/default/configmaps"

static const struct recap_kube_resource not_served = {"", "v1", "nosuchthings", true};

struct fixture {
	struct recap_kube_config *cfg;
	struct apiserver_broker *b;
};

static int setup(void **state)
{
	static struct fixture f;
	f.cfg = tadmin_config();
	struct recap_error *err = NULL;
	if (apiserver_broker_start(f.cfg, &f.b, &err) < 0) {
		fprintf(stderr, "broker: %s\n", recap_error_message(err));
		return -1;
	}
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	apiserver_broker_stop(f->b);
	recap_kube_config_free(f->cfg);
	return 0;
}

/* A call through the broker that must succeed (body: taken); its answer. */
static json_t *call(struct apiserver_broker *b, const char *method, const char *path, json_t *body)
{
	struct apiserver_call c = {.method = method, .path = path, .body = body};
	struct recap_error *err = NULL;
	int r = apiserver_broker_call(b, &c, &err);
	json_decref(body);
	if (r < 0)
		fail_msg("%s %s: %s", method, path, recap_error_message(err));
	return c.object;
}

static char *version_of(json_t *o)
{
	return strdup(recap_json_str(o, "metadata.resourceVersion"));
}

struct change {
	struct apiserver_broker *b;
	const char *method, *path;
	json_t *body;
};

/* Makes the change a moment after the wait has begun. */
static void *change_later(void *arg)
{
	struct change *ch = arg;
	usleep(300 * 1000);
	json_decref(call(ch->b, ch->method, ch->path, ch->body));
	return NULL;
}

static struct apiserver_wait wait_for(const char *name, const char *rv, unsigned timeout_ms)
{
	static char sel[128];
	snprintf(sel, sizeof(sel), "metadata.name=%s", name);
	return (struct apiserver_wait){.res = &T_CONFIGMAPS,
				       .ns = "default",
				       .field_selector = sel,
				       .resource_version = rv,
				       .timeout_ms = timeout_ms};
}

static void test_change_answers(void **state)
{
	struct fixture *f = *state;
	json_t *made = call(f->b, "POST", CM_PATH, tconfigmap("w-change", "k", "v1"));
	char *rv = version_of(made);
	json_decref(made);
	/* another object's change does not answer a wait for this one */
	json_decref(call(f->b, "POST", CM_PATH, tconfigmap("w-other", "k", "v1")));

	struct change ch = {f->b, "PUT", CM_PATH "/w-change", tconfigmap("w-change", "k", "v2")};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, change_later, &ch), 0);
	struct apiserver_wait w = wait_for("w-change", rv, 20000);
	struct recap_error *err = NULL;
	assert_int_equal(apiserver_broker_wait(f->b, &w, &err), 0);
	pthread_join(t, NULL);
	assert_non_null(w.object);
	assert_false(w.timed_out);
	assert_false(w.deleted);
	assert_string_equal(recap_json_str(w.object, "metadata.name"), "w-change");
	assert_string_equal(recap_json_str(w.object, "data.k"), "v2");
	char *rv2 = version_of(w.object);
	json_decref(w.object);

	/* its deletion, from the version of that change */
	struct change del = {f->b, "DELETE", CM_PATH "/w-change", NULL};
	assert_int_equal(pthread_create(&t, NULL, change_later, &del), 0);
	w = wait_for("w-change", rv2, 20000);
	assert_int_equal(apiserver_broker_wait(f->b, &w, &err), 0);
	pthread_join(t, NULL);
	assert_non_null(w.object);
	assert_true(w.deleted);
	json_decref(w.object);
	json_decref(call(f->b, "DELETE", CM_PATH "/w-other", NULL));
	free(rv);
	free(rv2);
}

static void test_no_change_times_out(void **state)
{
	struct fixture *f = *state;
	json_t *made = call(f->b, "POST", CM_PATH, tconfigmap("w-still", "k", "v1"));
	char *rv = version_of(made);
	json_decref(made);
	struct apiserver_wait w = wait_for("w-still", rv, 400);
	struct recap_error *err = NULL;
	uint64_t t0 = recap_now_mono_ms();
	assert_int_equal(apiserver_broker_wait(f->b, &w, &err), 0);
	assert_null(w.object);
	assert_true(w.timed_out);
	assert_true(recap_now_mono_ms() - t0 >= 400);
	json_decref(call(f->b, "DELETE", CM_PATH "/w-still", NULL));
	free(rv);
}

/* A watch the API server refuses (here: a resource it does not serve; a
 * missing RBAC rule is the same) cannot go on, so the wait ends at once with
 * nothing, not at its timeout, and the caller falls back to reading. */
static void test_refused_watch_ends_at_once(void **state)
{
	struct fixture *f = *state;
	struct apiserver_wait w = wait_for("w-none", "1", 60000);
	w.res = &not_served;
	struct recap_error *err = NULL;
	assert_int_equal(apiserver_broker_wait(f->b, &w, &err), 0);
	assert_null(w.object);
	assert_false(w.timed_out);
	/* why, for the log: the API server's answer */
	if (!strstr(w.why, "404") && !strstr(w.why, "not found") && !strstr(w.why, "NotFound"))
		fail_msg("the refusal's reason is not given: \"%s\"", w.why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_change_answers),
	    cmocka_unit_test(test_no_change_times_out),
	    cmocka_unit_test(test_refused_watch_ends_at_once),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* What caplet's informer keeps of an execution (exec_cache.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/json.h"
#include "caplet/agent.h"

static json_t *execution(const char *phase)
{
	json_t *o = json_loads(
	    "{\"apiVersion\": \"recap.dev/v1alpha1\", \"kind\": \"CapsuleExecution\","
	    " \"metadata\": {\"name\": \"r-0123456789\", \"namespace\": \"shop\", \"uid\": \"u1\","
	    "  \"resourceVersion\": \"42\", \"finalizers\": [\"recap.dev/escape\", \"x/hold\"],"
	    "  \"deletionTimestamp\": \"2026-12-06T13:00:00Z\", \"labels\": {\"recap.dev/run\": \"r\"},"
	    "  \"managedFields\": [{\"manager\": \"recap-controller\", \"fieldsV1\": {\"f:spec\": {}}}]},"
	    " \"spec\": {\"node\": \"node-1\", \"deadline\": \"2026-12-06T14:00:00Z\","
	    "  \"capsule\": {\"image\": \"busybox\", \"command\": [\"true\"]}},"
	    " \"status\": {\"reason\": \"Completed\", \"escaped\": true, \"stdoutTail\": \"hi\","
	    "  \"conditions\": [{\"type\": \"Ready\", \"status\": \"True\"}]}}",
	    0, NULL);
	assert_non_null(o);
	json_object_set_new(json_object_get(o, "status"), "phase", json_string(phase));
	return o;
}

static void kept(void **state)
{
	struct recap_caplet c = {0};
	struct recap_error *err = NULL;
	assert_int_equal(caplet_exec_cache_new(&c, &err), 0);

	/* while it may run: everything but managedFields */
	json_t *in = execution("Running"), *out = caplet_project_exec(in, &c);
	assert_non_null(out);
	assert_null(recap_json_path(out, "metadata.managedFields"));
	assert_string_equal(recap_json_str(out, "spec.capsule.image"), "busybox");
	assert_string_equal(recap_json_str(out, "status.stdoutTail"), "hi");
	assert_non_null(recap_json_path(out, "status.conditions"));
	json_decref(out);
	json_decref(in);

	/* ended: what tells it ended, and its finalizers */
	for (int i = 0; i < 2; i++) {
		in = execution(i ? "Failed" : "Succeeded");
		out = caplet_project_exec(in, &c);
		assert_non_null(out);
		assert_string_equal(recap_json_str(out, "status.phase"), i ? "Failed" : "Succeeded");
		assert_string_equal(recap_json_str(out, "status.reason"), "Completed");
		assert_int_equal(recap_json_bool(out, "status.escaped", 0), 1);
		assert_int_equal(json_array_size(recap_json_path(out, "metadata.finalizers")), 2);
		assert_string_equal(recap_json_str(out, "metadata.resourceVersion"), "42");
		assert_string_equal(recap_json_str(out, "metadata.deletionTimestamp"),
				    "2026-12-06T13:00:00Z");
		assert_string_equal(recap_json_str(out, "spec.node"), "node-1");
		assert_null(recap_json_path(out, "spec.capsule"));
		assert_null(recap_json_path(out, "status.stdoutTail"));
		assert_null(recap_json_path(out, "status.conditions"));
		assert_null(recap_json_path(out, "metadata.managedFields"));
		json_decref(out);
		json_decref(in);
	}
	caplet_exec_cache_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

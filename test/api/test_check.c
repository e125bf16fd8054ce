/* recap_api_check against the generated schema tables, and the generated
 * getters' defaults and enums. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/check.h"
#include "api/types.h"
#include "base/cleanup.h"

/* A CapsuleExecution as the controller writes one. */
static const char *const EXEC =
    "{\"apiVersion\":\"recap.dev/v1alpha1\",\"kind\":\"CapsuleExecution\","
    "\"metadata\":{\"name\":\"e\",\"namespace\":\"n\"},"
    "\"spec\":{\"runRef\":{\"name\":\"r\"},\"node\":\"n1\","
    "\"target\":{\"pod\":\"p\",\"podUID\":\"0b6f2f1e-3c1e-4a55-9d0a-1d4c2c6f6e11\",\"container\":\"c\","
    "\"containerID\":\"containerd://abc\"},"
    "\"capsule\":{\"image\":\"reg/"
    "x@sha256:0000000000000000000000000000000000000000000000000000000000000000\","
    "\"command\":[\"ps\"],\"env\":[{\"name\":\"A\",\"value\":\"1\"}],"
    "\"resources\":{\"limits\":{\"memory\":\"64Mi\",\"cpu\":1}}},"
    "\"deadline\":\"2026-12-06T10:00:00Z\"},"
    "\"status\":{\"phase\":\"Running\",\"exitCode\":0}}";

static json_t *exec_with(const char *path, json_t *v)
{
	json_t *o = json_loads(EXEC, 0, NULL);
	assert_non_null(o);
	if (!path)
		return o;
	/* path: dotted, the last part set (or removed when v is NULL) */
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	json_t *at = o;
	char *save = NULL, *part = strtok_r(buf, ".", &save), *next;
	while ((next = strtok_r(NULL, ".", &save))) {
		at = json_is_array(at) ? json_array_get(at, (size_t)atoi(part)) : json_object_get(at, part);
		assert_non_null(at);
		part = next;
	}
	if (v)
		json_object_set_new(at, part, v);
	else
		json_object_del(at, part);
	return o;
}

/* The message of checking the execution with path set to v. */
static void refused(const char *path, json_t *v, const char *want)
{
	_cleanup_json_ json_t *o = exec_with(path, v);
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_api_check(RECAP_API_KIND_CAPSULE_EXECUTION, o, &err), -EINVAL);
	assert_non_null(err);
	if (!strstr(err->msg, want))
		fail_msg("message '%s' lacks '%s'", err->msg, want);
}

static void test_valid(void **state)
{
	(void)state;
	_cleanup_json_ json_t *o = exec_with(NULL, NULL);
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_api_check(RECAP_API_KIND_CAPSULE_EXECUTION, o, &err), 0);
	assert_null(err);
}

static void test_refused_names_field(void **state)
{
	(void)state;
	refused("spec.capsule.env.0.name", json_integer(3), "spec.capsule.env[0].name: must be a string");
	refused("spec.target.pod", NULL, "spec.target: the required field pod is missing");
	refused("status.phase", json_string("Sleeping"), "status.phase: is not one of the values");
	refused("spec.deadline", json_string("tomorrow"), "spec.deadline: is not an RFC 3339 time");
	refused("spec.capsule.resources.limits.memory", json_string("1GB"),
		"spec.capsule.resources.limits.memory:");
	refused("spec.capsule.resources.limits.cpu", json_true(), "must be a quantity");
	refused("spec.capsule.timeoutSeconds", json_integer(0),
		"spec.capsule.timeoutSeconds: 0 is out of range");
	refused("spec.capsule.output", json_pack("{s:I}", "tailBytes", (json_int_t)65537),
		"tailBytes: 65537");
	refused("spec.capsule.command", json_string("ps"), "spec.capsule.command: must be a list");
	refused("spec", json_string("x"), "spec: must be an object");
	refused("status.escaped", json_string("yes"), "status.escaped: must be true or false");
}

static void test_limits(void **state)
{
	(void)state;
	/* join has at most 5 items */
	refused("spec.capsule.join",
		json_pack("[sssssss]", "net", "pid", "ipc", "uts", "cgroup", "net", "pid"),
		"spec.capsule.join: 7 items, more than 5");
	/* lengths are characters, as the API server counts them: 63 two-byte
	 * characters fit spec.target.container (at most 63), 64 do not */
	char name[2 * 64 + 1] = "";
	for (int i = 0; i < 63; i++)
		strcat(name, "\xc3\xa9");
	_cleanup_json_ json_t *o = exec_with("spec.target.container", json_string(name));
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_api_check(RECAP_API_KIND_CAPSULE_EXECUTION, o, &err), 0);
	strcat(name, "\xc3\xa9");
	refused("spec.target.container", json_string(name),
		"spec.target.container: 64 characters, more than 63");
}

static void test_getters(void **state)
{
	(void)state;
	_cleanup_json_ json_t *o = exec_with(NULL, NULL);
	assert_string_equal(recap_api_exec_spec_target_pod(o), "p");
	assert_int_equal(recap_api_exec_status_phase(o), RECAP_API_EXEC_PHASE_RUNNING);
	json_t *p = recap_api_exec_spec_capsule(o);
	/* absent: the schema's default */
	assert_int_equal(recap_api_profile_timeout_seconds(p), 300);
	assert_int_equal(recap_api_profile_output_tail_bytes(p), 4096);
	assert_int_equal(recap_api_profile_target_filesystem(p), RECAP_API_TARGET_FILESYSTEM_READ_ONLY);
	assert_null(recap_api_exec_spec_role(o));
	json_object_set_new(p, "targetFilesystem", json_string("Sideways"));
	assert_int_equal(recap_api_profile_target_filesystem(p), RECAP_API_TARGET_FILESYSTEM_COUNT);
	assert_string_equal(recap_api_strategy_type_names[RECAP_API_STRATEGY_TYPE_ITERATIVE], "Iterative");
	assert_string_equal(RECAP_API_EXEC_SPEC_TARGET_CONTAINER_ID, "spec.target.containerID");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_refused_names_field),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_getters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/json.h"
#include "runtime/seccomp.h"

static int build(const char *text, uint64_t caps, struct recap_error **err)
{
	json_t *doc = NULL;
	int r = recap_json_parse(text, strlen(text), 1 << 20, &doc, err);
	scmp_filter_ctx ctx = NULL;
	if (r >= 0)
		r = recap_seccomp_from_oci(doc, caps, &ctx, err);
	if (ctx)
		seccomp_release(ctx);
	json_decref(doc);
	return r;
}

static void oci_profiles(void **state)
{
	assert_int_equal(
	    build("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,"
		  "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],"
		  "\"syscalls\":[{\"names\":[\"read\",\"write\",\"no_such_call\"],\"action\":\"SCMP_ACT_"
		  "ALLOW\"},"
		  "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
		  "\"value\":8,\"op\":\"SCMP_CMP_EQ\"}]},"
		  "{\"names\":[\"ptrace\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":"
		  "[\"CAP_SYS_PTRACE\"]}}]}",
		  0, NULL),
	    0);
}

static void bad_profiles_name_the_problem(void **state)
{
	const char *bad[][2] = {
	    {"{}", "defaultAction"},
	    {"{\"defaultAction\":\"SCMP_ACT_MAYBE\"}", "SCMP_ACT_MAYBE"},
	    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_VAX\"]}", "SCMP_ARCH_VAX"},
	    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":{}}", "'syscalls'"},
	    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"X\"}]}",
	     "syscalls[0]"},
	    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":"
	     "\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":9,\"op\":\"SCMP_CMP_EQ\"}]}]}",
	     "args[0]"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct recap_error *err = NULL;
		assert_true(build(bad[i][0], 0, &err) < 0);
		if (!strstr(recap_error_message(err), bad[i][1]))
			fail_msg("%s: '%s' lacks %s", bad[i][0], recap_error_message(err), bad[i][1]);
		recap_error_free(err);
	}
}

static void default_profile_builds(void **state)
{
	struct recap_run_spec s;
	recap_spec_init(&s);
	scmp_filter_ctx ctx = NULL;
	assert_int_equal(recap_seccomp_build(&s, 0, &ctx, NULL), 0);
	assert_non_null(ctx);
	seccomp_release(ctx);
	s.seccomp = RECAP_SECCOMP_UNCONFINED;
	assert_int_equal(recap_seccomp_build(&s, 0, &ctx, NULL), 0);
	assert_null(ctx);
	struct recap_error *err = NULL;
	assert_int_equal(recap_spec_parse_seccomp(&s, "/nonexistent/profile.json", NULL), 0);
	assert_true(recap_seccomp_build(&s, 0, &ctx, &err) < 0);
	assert_non_null(strstr(recap_error_message(err), "/nonexistent/profile.json"));
	recap_error_free(err);
	recap_spec_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(oci_profiles),
	    cmocka_unit_test(bad_profiles_name_the_problem),
	    cmocka_unit_test(default_profile_builds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

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
#include "base/json.h"
#include "runtime/spec.h"

static void join_lists(void **state)
{
	unsigned j;
	assert_int_equal(recap_spec_parse_join("net,pid", &j, NULL), 0);
	assert_int_equal(j, RECAP_JOIN_NET | RECAP_JOIN_PID);
	assert_int_equal(recap_spec_parse_join("", &j, NULL), 0);
	assert_int_equal(j, 0);
	struct recap_error *err = NULL;
	assert_int_equal(recap_spec_parse_join("net,mnt", &j, &err), -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "'mnt'"));
	recap_error_free(err);
}

static void capabilities(void **state)
{
	int c;
	assert_int_equal(recap_spec_parse_cap("NET_RAW", &c, NULL), 0);
	assert_int_equal(c, 13);
	assert_int_equal(recap_spec_parse_cap("cap_sys_ptrace", &c, NULL), 0);
	assert_int_equal(c, 19);
	assert_int_equal(recap_spec_parse_cap("NOT_A_CAP", &c, NULL), -EINVAL);
	assert_int_equal(recap_spec_parse_cap("13", &c, NULL), -EINVAL);
	assert_string_equal(recap_spec_cap_name(13), "CAP_NET_RAW");
	uint64_t m = 0;
	assert_int_equal(recap_spec_parse_caps("NET_RAW,chown", false, &m, NULL), 0);
	assert_int_equal(m, (1ull << 13) | 1ull);
	struct recap_error *err = NULL;
	assert_int_equal(recap_spec_parse_caps("ALL", false, &m, &err), -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "'ALL'"));
	recap_error_free(err);
	m = 0;
	assert_int_equal(recap_spec_parse_caps("NET_RAW,all", true, &m, NULL), 0);
	assert_true(m == RECAP_CAPS_ALL);
}

static void quantities(void **state)
{
	int64_t v;
	uint64_t ms;
	assert_int_equal(recap_spec_parse_bytes("64Mi", &v, NULL), 0);
	assert_int_equal(v, 64 << 20);
	assert_int_equal(recap_spec_parse_bytes("1G", &v, NULL), 0);
	assert_int_equal(v, 1000000000);
	assert_int_equal(recap_spec_parse_bytes("12", &v, NULL), 0);
	assert_int_equal(v, 12);
	assert_int_equal(recap_spec_parse_bytes("12Q", &v, NULL), -EINVAL);
	assert_int_equal(recap_spec_parse_bytes("-1", &v, NULL), -EINVAL);
	assert_int_equal(recap_spec_parse_bytes("99999999Ti", &v, NULL), -ERANGE);
	/* Kubernetes quantities, exactly as the policy reads them */
	assert_int_equal(recap_spec_parse_bytes("1Pi", &v, NULL), 0);
	assert_int_equal(v, 1LL << 50);
	assert_int_equal(recap_spec_parse_bytes("1Ei", &v, NULL), 0);
	assert_int_equal(v, 1LL << 60);
	assert_int_equal(recap_spec_parse_bytes("8Ei", &v, NULL), -ERANGE);
	assert_int_equal(recap_spec_parse_bytes("1e3", &v, NULL), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(recap_spec_parse_bytes("1.5Gi", &v, NULL), 0);
	assert_int_equal(v, 3LL << 29);
	assert_int_equal(recap_spec_parse_bytes("1500m", &v, NULL), 0);
	assert_int_equal(v, 2); /* rounded up to a whole byte */
	assert_int_equal(recap_spec_parse_bytes("1GB", &v, NULL), -EINVAL);
	assert_int_equal(recap_spec_parse_bytes("1MB", &v, NULL), -EINVAL);
	assert_int_equal(recap_spec_parse_bytes("9223372036854775807", &v, NULL), 0);
	assert_int_equal(v, INT64_MAX);
	assert_int_equal(recap_spec_parse_bytes("9223372036854775808", &v, NULL), -ERANGE);
	assert_int_equal(recap_spec_parse_cpus("0.5", &v, NULL), 0);
	assert_int_equal(v, 500);
	assert_int_equal(recap_spec_parse_cpus("200m", &v, NULL), 0);
	assert_int_equal(v, 200);
	assert_int_equal(recap_spec_parse_cpus("0", &v, NULL), -EINVAL);
	assert_int_equal(recap_spec_parse_cpus("1e-3", &v, NULL), 0);
	assert_int_equal(v, 1);
	assert_int_equal(recap_spec_parse_cpus("2k", &v, NULL), -ERANGE);
	assert_int_equal(recap_spec_parse_cpus("1 CPU", &v, NULL), -EINVAL);
	assert_int_equal(recap_spec_parse_seconds("1.5", &ms, NULL), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(recap_spec_parse_seconds("1s", &ms, NULL), -EINVAL);
}

static int from_json(const char *text, struct recap_run_spec *s, struct recap_error **err)
{
	json_t *doc = NULL;
	recap_spec_init(s);
	int r = recap_json_parse(text, strlen(text), 1 << 16, &doc, err);
	if (r >= 0)
		r = recap_spec_from_json(s, doc, err);
	json_decref(doc);
	return r;
}

static void json_document(void **state)
{
	struct recap_run_spec s;
	struct recap_error *err = NULL;
	assert_int_equal(
	    from_json(
		"{\"target\":\"abc\",\"layers\":[\"/l1\",\"/l2\"],\"command\":[\"ps\"],"
		"\"join\":[\"net\",\"uts\"],\"targetFilesystem\":\"ReadWrite\",\"capAdd\":[\"NET_RAW\"],"
		"\"capDrop\":[\"KILL\",\"CAP_CHOWN\"],"
		"\"memory\":\"64Mi\",\"pids\":10,\"cpus\":0.25,\"timeoutSeconds\":2.5,\"tailBytes\":100,"
		"\"upperSize\":\"8Mi\",\"outSize\":\"2Mi\","
		"\"imageConfig\":{\"Env\":[\"A=1\"],\"WorkingDir\":\"/w\"}}",
		&s, &err),
	    0);
	assert_string_equal(s.target, "abc");
	assert_int_equal(s.layers.n, 2);
	assert_int_equal(s.join, RECAP_JOIN_NET | RECAP_JOIN_UTS);
	assert_int_equal(s.target_fs, RECAP_TARGET_FS_RW);
	assert_int_equal(s.cap_add, 1ull << 13);
	assert_int_equal(s.cap_drop, (1ull << 5) | 1ull);
	assert_int_equal(s.memory_bytes, 64 << 20);
	assert_int_equal(s.pids, 10);
	assert_int_equal(s.cpu_millis, 250);
	assert_int_equal(s.timeout_ms, 2500);
	assert_int_equal(s.tail_bytes, 100);
	assert_int_equal(s.upper_bytes, 8 << 20);
	assert_int_equal(s.out_bytes, 2 << 20);
	assert_string_equal(s.workdir, "/w");
	assert_int_equal(recap_spec_validate(&s, &err), 0);
	recap_spec_free(&s);
}

static void json_errors_name_the_field(void **state)
{
	const char *bad[][2] = {
	    {"{\"target\":1}", "'target'"},
	    {"{\"nope\":1}", "'nope'"},
	    {"{\"join\":[\"mnt\"]}", "'mnt'"},
	    {"{\"memory\":\"lots\"}", "'memory'"},
	    {"{\"upperSize\":\"lots\"}", "'upperSize'"},
	    {"{\"outSize\":\"lots\"}", "'outSize'"},
	    {"{\"command\":[\"a\",2]}", "'command[1]'"},
	    {"{\"capAdd\":[\"ALL\"]}", "'capAdd'"},
	    {"{\"capDrop\":[\"NET_RAW,KILL\"]}", "'capDrop'"},
	    {"{\"capDrop\":\"KILL\"}", "'capDrop'"},
	    {"[]", "JSON object"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct recap_run_spec s;
		struct recap_error *err = NULL;
		assert_true(from_json(bad[i][0], &s, &err) < 0);
		assert_non_null(err);
		if (!strstr(recap_error_message(err), bad[i][1]))
			fail_msg("%s: message '%s' lacks %s", bad[i][0], recap_error_message(err), bad[i][1]);
		recap_error_free(err);
		recap_spec_free(&s);
	}
}

static void validation(void **state)
{
	const char *bad[][2] = {
	    {"{\"layers\":[\"/l\"],\"command\":[\"x\"]}", "no target"},
	    {"{\"target\":\"1\",\"command\":[\"x\"]}", "no capsule layers"},
	    {"{\"target\":\"1\",\"layers\":[\"rel\"],\"command\":[\"x\"]}", "absolute"},
	    {"{\"target\":\"1\",\"layers\":[\"/a:b\"],\"command\":[\"x\"]}", "contains"},
	    {"{\"target\":\"1\",\"layers\":[\"/l\"]}", "no command"},
	    {"{\"target\":\"1\",\"layers\":[\"/l\"],\"command\":[\"x\"],\"env\":[\"NOEQ\"]}", "K=V"},
	    {"{\"target\":\"1\",\"layers\":[\"/l\"],\"command\":[\"x\"],\"tailBytes\":\"2Mi\"}",
	     "tail bytes"},
	    {"{\"target\":\"1\",\"layers\":[\"/l\"],\"command\":[\"x\"],\"memory\":1000}", "below 1Mi"},
	    {"{\"target\":\"1\",\"layers\":[\"/l\"],\"command\":[\"x\"],\"upperSize\":1000}", "upper size"},
	    {"{\"target\":\"1\",\"layers\":[\"/l\"],\"command\":[\"x\"],\"upperSize\":\"2Ti\"}",
	     "upper size"},
	    {"{\"target\":\"1\",\"layers\":[\"/l\"],\"command\":[\"x\"],\"outSize\":1000}", "out size"},
	    {"{\"target\":\"1\",\"layers\":[\"/l\"],\"command\":[\"x\"],\"outSize\":\"2Ti\"}", "out size"},
	    {"{\"target\":\"1\",\"layers\":[\"/l\"],\"command\":[\"x\"],\"id\":\"../x\"}", "run id"},
	    {"{\"target\":\"1\",\"layers\":[\"/l\"],\"command\":[\"x\"],\"capAdd\":[\"KILL\"],"
	     "\"capDrop\":[\"KILL\"]}",
	     "CAP_KILL is both added and dropped"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct recap_run_spec s;
		struct recap_error *err = NULL;
		assert_int_equal(from_json(bad[i][0], &s, NULL), 0);
		assert_true(recap_spec_validate(&s, &err) < 0);
		if (!strstr(recap_error_message(err), bad[i][1]))
			fail_msg("%s: message '%s' lacks %s", bad[i][0], recap_error_message(err), bad[i][1]);
		recap_error_free(err);
		recap_spec_free(&s);
	}
}

static void users(void **state)
{
	int64_t u, g;
	assert_int_equal(recap_spec_parse_user("1000", &u, &g, NULL), 0);
	assert_int_equal(u, 1000);
	assert_int_equal(g, 1000);
	assert_int_equal(recap_spec_parse_user("0:5", &u, &g, NULL), 0);
	assert_int_equal(u, 0);
	assert_int_equal(g, 5);
	assert_int_equal(recap_spec_parse_user("nobody", &u, &g, NULL), -EINVAL);
	assert_int_equal(recap_spec_parse_user("1:", &u, &g, NULL), -EINVAL);
	assert_int_equal(recap_spec_parse_user("-1", &u, &g, NULL), -EINVAL);
	assert_int_equal(recap_spec_parse_user("99999999999", &u, &g, NULL), -EINVAL);
}

static void image_user(void **state)
{
	struct recap_run_spec s;
	struct recap_error *err = NULL;
	assert_int_equal(from_json("{\"imageConfig\":{\"User\":\"1000:100\"}}", &s, NULL), 0);
	assert_int_equal(s.uid, 1000);
	assert_int_equal(s.gid, 100);
	recap_spec_free(&s);
	assert_int_equal(from_json("{\"user\":\"7\",\"imageConfig\":{\"User\":\"1000\"}}", &s, NULL), 0);
	assert_int_equal(s.uid, 7);
	recap_spec_free(&s);
	assert_int_equal(from_json("{\"user\":\"0\",\"imageConfig\":{\"User\":\"nobody\"}}", &s, NULL), 0);
	assert_int_equal(s.uid, 0);
	recap_spec_free(&s);
	assert_true(from_json("{\"imageConfig\":{\"User\":\"nobody\"}}", &s, &err) < 0);
	assert_non_null(strstr(recap_error_message(err), "imageConfig.User"));
	recap_error_free(err);
	recap_spec_free(&s);
}

static void layer_lists(void **state)
{
	struct recap_strv l = {0};
	assert_int_equal(recap_spec_split_layers("/a::/b:", &l, NULL), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0], "/a");
	assert_string_equal(l.v[1], "/b");
	assert_null(l.v[2]);
	recap_strv_free(&l);
}

/* targetPid: the PID caplet confirmed through the CRI, only beside a
 * container id (never a PID target, never a non-integer or PID 0/1). */
static void target_pid_field(void **state)
{
	struct recap_run_spec s;
	struct recap_error *err = NULL;
	assert_int_equal(from_json("{\"target\":\"abc\",\"targetPid\":4242,\"layers\":[\"/l\"]}", &s, &err),
			 0);
	assert_int_equal(s.target_pid, 4242);
	recap_spec_free(&s);
	assert_int_equal(from_json("{\"target\":\"abc\",\"layers\":[\"/l\"]}", &s, &err), 0);
	assert_int_equal(s.target_pid, 0);
	recap_spec_free(&s);
	const char *bad[] = {
	    "{\"target\":\"123\",\"targetPid\":4242}",	   "{\"targetPid\":4242}",
	    "{\"target\":\"abc\",\"targetPid\":\"4242\"}", "{\"target\":\"abc\",\"targetPid\":1}",
	    "{\"target\":\"abc\",\"targetPid\":0}",	   "{\"target\":\"abc\",\"targetPid\":4294967297}",
	    "{\"target\":\"abc\",\"targetPid\":-5}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		if (from_json(bad[i], &s, &err) != -EINVAL)
			fail_msg("accepted %s", bad[i]);
		assert_non_null(strstr(recap_error_message(err), "targetPid"));
		recap_error_free(err);
		recap_spec_free(&s);
	}
}

/* session: an object of attachTimeoutSeconds and idleTimeoutSeconds (whole
 * seconds, defaults 60 and 900), only with tty. */
static void session_field(void **state)
{
	struct recap_run_spec s;
	struct recap_error *err = NULL;
	const char *base = "{\"target\":\"1\",\"layers\":[\"/l\"],\"command\":[\"sh\"],\"tty\":true";
	char doc[512];
	assert_int_equal(from_json("{\"target\":\"1\"}", &s, &err), 0);
	assert_false(s.session);
	recap_spec_free(&s);

	snprintf(doc, sizeof(doc), "%s,\"session\":{}}", base);
	assert_int_equal(from_json(doc, &s, &err), 0);
	assert_true(s.session);
	assert_int_equal(s.session_attach_s, 60);
	assert_int_equal(s.session_idle_s, 900);
	assert_int_equal(recap_spec_validate(&s, &err), 0);
	recap_spec_free(&s);

	snprintf(doc, sizeof(doc), "%s,\"session\":{\"attachTimeoutSeconds\":1,\"idleTimeoutSeconds\":10}}",
		 base);
	assert_int_equal(from_json(doc, &s, &err), 0);
	assert_int_equal(s.session_attach_s, 1);
	assert_int_equal(s.session_idle_s, 10);
	assert_int_equal(recap_spec_validate(&s, &err), 0);
	recap_spec_free(&s);

	snprintf(doc, sizeof(doc),
		 "%s,\"session\":{\"attachTimeoutSeconds\":600,\"idleTimeoutSeconds\":86400}}", base);
	assert_int_equal(from_json(doc, &s, &err), 0);
	assert_int_equal(recap_spec_validate(&s, &err), 0);
	recap_spec_free(&s);

	snprintf(doc, sizeof(doc), "%s,\"session\":null}", base);
	assert_int_equal(from_json(doc, &s, &err), 0);
	assert_false(s.session);
	recap_spec_free(&s);

	/* refused while parsing, naming the field */
	const char *bad_json[][2] = {
	    {"{\"session\":true}", "'session' must be an object"},
	    {"{\"session\":{\"idle\":5}}", "'session.idle'"},
	    {"{\"session\":{\"attachTimeoutSeconds\":\"5\"}}", "'session.attachTimeoutSeconds'"},
	    {"{\"session\":{\"idleTimeoutSeconds\":30.5}}", "'session.idleTimeoutSeconds'"},
	};
	for (size_t i = 0; i < sizeof(bad_json) / sizeof(bad_json[0]); i++) {
		err = NULL;
		assert_true(from_json(bad_json[i][0], &s, &err) < 0);
		if (!strstr(recap_error_message(err), bad_json[i][1]))
			fail_msg("%s: message '%s' lacks %s", bad_json[i][0], recap_error_message(err),
				 bad_json[i][1]);
		recap_error_free(err);
		recap_spec_free(&s);
	}
	/* refused by validation: the ranges, and tty */
	const char *bad[][2] = {
	    {"\"session\":{\"attachTimeoutSeconds\":0}",
	     "session.attachTimeoutSeconds 0 out of range (1 to 600)"},
	    {"\"session\":{\"attachTimeoutSeconds\":601}", "session.attachTimeoutSeconds 601"},
	    {"\"session\":{\"idleTimeoutSeconds\":9}",
	     "session.idleTimeoutSeconds 9 out of range (10 to 86400)"},
	    {"\"session\":{\"idleTimeoutSeconds\":86401}", "session.idleTimeoutSeconds 86401"},
	    {"\"session\":{\"idleTimeoutSeconds\":-1}", "session.idleTimeoutSeconds -1"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		snprintf(doc, sizeof(doc), "%s,%s}", base, bad[i][0]);
		assert_int_equal(from_json(doc, &s, NULL), 0);
		assert_true(recap_spec_validate(&s, &err) < 0);
		if (!strstr(recap_error_message(err), bad[i][1]))
			fail_msg("%s: message '%s' lacks %s", doc, recap_error_message(err), bad[i][1]);
		recap_error_free(err);
		recap_spec_free(&s);
	}
	const char *no_tty[] = {
	    "{\"target\":\"1\",\"layers\":[\"/l\"],\"command\":[\"sh\"],\"session\":{}}",
	    "{\"target\":\"1\",\"layers\":[\"/l\"],\"command\":[\"sh\"],\"tty\":false,\"session\":{}}",
	};
	for (size_t i = 0; i < sizeof(no_tty) / sizeof(no_tty[0]); i++) {
		err = NULL;
		assert_int_equal(from_json(no_tty[i], &s, NULL), 0);
		assert_true(recap_spec_validate(&s, &err) < 0);
		assert_non_null(strstr(recap_error_message(err), "'session' needs 'tty': true"));
		recap_error_free(err);
		recap_spec_free(&s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(join_lists),
	    cmocka_unit_test(capabilities),
	    cmocka_unit_test(quantities),
	    cmocka_unit_test(json_document),
	    cmocka_unit_test(json_errors_name_the_field),
	    cmocka_unit_test(validation),
	    cmocka_unit_test(layer_lists),
	    cmocka_unit_test(users),
	    cmocka_unit_test(image_user),
	    cmocka_unit_test(target_pid_field),
	    cmocka_unit_test(session_field),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

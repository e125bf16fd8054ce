/* An execution's profile as stored: the defaults its readers take from the
 * getters left out, everything else kept, and the getters reading the
 * same values from both. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/profile.h"
#include "api/types.h"
#include "base/json.h"

static json_t *parse(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);
	assert_non_null(v);
	return v;
}

/* A Capsule's spec as the API server defaults it. */
static const char defaulted[] =
    "{\"image\":\"r/i:1\",\"command\":[\"true\"],\"join\":[\"net\",\"pid\",\"ipc\",\"uts\"],"
    "\"targetFilesystem\":\"ReadOnly\",\"timeoutSeconds\":300,\"interactive\":false,"
    "\"security\":{\"runAsUser\":0,\"runAsGroup\":0,\"seccompProfile\":{\"type\":\"RuntimeDefault\"}},"
    "\"session\":{\"attachTimeoutSeconds\":60,\"idleTimeoutSeconds\":900},"
    "\"output\":{\"tailBytes\":4096,\"retentionSeconds\":3600}}";

static void test_defaults_go_the_rest_stays(void **state)
{
	json_t *p = parse(defaulted);
	json_t *full = json_deep_copy(p);
	assert_int_equal(recap_api_profile_elide_defaults(p), 0);
	/* what the node agent copies as it is stays, defaults and all */
	json_t *want = parse("{\"image\":\"r/i:1\",\"command\":[\"true\"],"
			     "\"join\":[\"net\",\"pid\",\"ipc\",\"uts\"],\"targetFilesystem\":\"ReadOnly\"}");
	if (!json_equal(p, want)) {
		char *got = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
		fail_msg("stored profile: %s", got);
	}
	/* every getter reads the same from both */
	assert_int_equal(recap_api_profile_timeout_seconds(p), recap_api_profile_timeout_seconds(full));
	assert_int_equal(recap_api_profile_interactive(p), recap_api_profile_interactive(full));
	assert_int_equal(recap_api_profile_security_run_as_user(p),
			 recap_api_profile_security_run_as_user(full));
	assert_int_equal(recap_api_profile_security_run_as_group(p),
			 recap_api_profile_security_run_as_group(full));
	assert_int_equal(recap_api_profile_security_seccomp_profile_type(p),
			 RECAP_API_SECCOMP_PROFILE_TYPE_RUNTIME_DEFAULT);
	assert_int_equal(recap_api_profile_session_attach_timeout_seconds(p), 60);
	assert_int_equal(recap_api_profile_session_idle_timeout_seconds(p), 900);
	assert_int_equal(recap_api_profile_output_tail_bytes(p), 4096);
	assert_int_equal(recap_api_profile_output_retention_seconds(p), 3600);
	json_decref(want);
	json_decref(full);
	json_decref(p);
}

/* What differs from a default stays, with its siblings that do not. */
static void test_what_differs_stays(void **state)
{
	json_t *p = parse("{\"image\":\"r/i:1\",\"timeoutSeconds\":30,\"interactive\":true,"
			  "\"security\":{\"runAsUser\":1000,\"runAsGroup\":0,"
			  "\"seccompProfile\":{\"type\":\"Localhost\",\"localhostProfile\":\"p.json\"},"
			  "\"capabilities\":{\"add\":[\"NET_RAW\"]}},"
			  "\"session\":{\"attachTimeoutSeconds\":60,\"idleTimeoutSeconds\":60},"
			  "\"output\":{\"tailBytes\":0,\"retentionSeconds\":3600,\"outSize\":\"1Mi\"}}");
	assert_int_equal(recap_api_profile_elide_defaults(p), 0);
	json_t *want = parse("{\"image\":\"r/i:1\",\"timeoutSeconds\":30,\"interactive\":true,"
			     "\"security\":{\"runAsUser\":1000,"
			     "\"seccompProfile\":{\"type\":\"Localhost\",\"localhostProfile\":\"p.json\"},"
			     "\"capabilities\":{\"add\":[\"NET_RAW\"]}},"
			     "\"session\":{\"idleTimeoutSeconds\":60},"
			     "\"output\":{\"tailBytes\":0,\"outSize\":\"1Mi\"}}");
	if (!json_equal(p, want)) {
		char *got = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
		fail_msg("stored profile: %s", got);
	}
	assert_int_equal(recap_api_profile_session_attach_timeout_seconds(p), 60);
	assert_int_equal(recap_api_profile_output_retention_seconds(p), 3600);
	assert_int_equal(recap_api_profile_security_run_as_group(p), 0);
	json_decref(want);
	json_decref(p);
}

/* An Unconfined filter is not the default: it stays, and so does a value
 * of another JSON type than the default's (the schema refuses it; here it
 * is not mistaken for the default). */
static void test_not_defaults(void **state)
{
	json_t *p = parse("{\"image\":\"i\",\"security\":{\"seccompProfile\":{\"type\":\"Unconfined\"}},"
			  "\"interactive\":\"false\",\"timeoutSeconds\":300.5}");
	assert_int_equal(recap_api_profile_elide_defaults(p), 0);
	assert_string_equal(recap_json_str(p, "security.seccompProfile.type"), "Unconfined");
	assert_non_null(json_object_get(p, "interactive"));
	assert_non_null(json_object_get(p, "timeoutSeconds"));
	json_decref(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_go_the_rest_stays),
	    cmocka_unit_test(test_what_differs_stays),
	    cmocka_unit_test(test_not_defaults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

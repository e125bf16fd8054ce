#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "policy/image.h"

#define DIGEST "sha256:5c3c2a0e3b0b1a8f9d1e6f4c2b7a9d8e0f1a2b3c4d5e6f708192a3b4c5d6e7f8"

static void globs(void **state)
{
	static const struct {
		const char *pattern, *s;
		bool match;
	} cases[] = {
	    {"registry.local/capsules/*", "registry.local/capsules/tcpdump", true},
	    {"registry.local/capsules/*", "registry.local/capsules/tcpdump:4.99", true},
	    {"registry.local/capsules/*", "registry.local/capsules/tcpdump@" DIGEST, true},
	    {"registry.local/capsules/*", "registry.local/capsules/sub/tcpdump", false},
	    {"registry.local/capsules/*", "registry.local/capsules", false},
	    {"registry.local/capsules/*", "registry.local/capsulesx/tcpdump", false},
	    {"registry.local/capsules/*", "evil.io/registry.local/capsules/x", false},
	    {"registry.local/**", "registry.local/capsules/sub/tcpdump:1", true},
	    {"registry.local/**", "registry.local/", true},
	    {"registry.local/**", "registry.localhost/x", false},
	    {"**/tcpdump:*", "a/b/c/tcpdump:1", true},
	    {"**/tcpdump:*", "a/b/c/tcpdump", false},
	    {"*", "nginx", true},
	    {"*", "library/nginx", false},
	    {"**", "docker.io/library/nginx", true},
	    {"", "", true},
	    {"", "x", false},
	    {"exact:1", "exact:1", true},
	    {"exact:1", "exact:10", false},
	    {"a*b*c", "aXbYc", true},
	    {"a*b*c", "aXbY/c", false},
	    {"registry.local/capsules/tcp*", "registry.local/capsules/tcpdump", true},
	    {"registry.local/capsules/?cpdump", "registry.local/capsules/tcpdump", false}, /* ? is literal */
	    {"*********************************x",
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaay", false},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (recap_policy_glob_match(cases[i].pattern, cases[i].s) != cases[i].match)
			fail_msg("\"%s\" vs \"%s\": want %d", cases[i].pattern, cases[i].s, cases[i].match);
	}
}

static void normalizes(void **state)
{
	static const char *cases[][2] = {
	    {"nginx", "docker.io/library/nginx"},
	    {"nginx:1.27", "docker.io/library/nginx:1.27"},
	    {"me/tool", "docker.io/me/tool"},
	    {"docker.io/me/tool", "docker.io/me/tool"},
	    {"registry.local/capsules/tcpdump", "registry.local/capsules/tcpdump"},
	    {"localhost/x", "localhost/x"},
	    {"localhost:5000/x", "localhost:5000/x"},
	    {"127.0.0.1:5000/x@" DIGEST, "127.0.0.1:5000/x@" DIGEST},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char out[RECAP_IMAGE_REF_MAX + 1];
		assert_int_equal(recap_policy_image_normalize(cases[i][0], out, sizeof(out)), 0);
		assert_string_equal(out, cases[i][1]);
	}
	char big[RECAP_IMAGE_REF_MAX + 2], out[RECAP_IMAGE_REF_MAX + 1];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(recap_policy_image_normalize(big, out, sizeof(out)), -ENAMETOOLONG);
	assert_false(recap_policy_glob_match("**", big));
}

static void digests(void **state)
{
	assert_string_equal(recap_policy_image_digest("r/x@" DIGEST), DIGEST);
	assert_null(recap_policy_image_digest("r/x:1"));
	assert_null(recap_policy_image_digest("r/x@sha256:abc"));
	assert_null(recap_policy_image_digest("r/x@sha512:" DIGEST));
	assert_null(recap_policy_image_digest(
	    "r/x@sha256:5C3C2A0E3B0B1A8F9D1E6F4C2B7A9D8E0F1A2B3C4D5E6F708192A3B4C5D6E7F8"));
}

static void cluster_references(void **state)
{
	struct recap_error *err = NULL;
	assert_int_equal(recap_policy_image_check_cluster("registry.local/x:1", &err), 0);
	assert_int_equal(recap_policy_image_check_cluster("busybox", &err), 0);
	assert_int_equal(recap_policy_image_check_cluster("oci:/var/lib/x:1", &err), -EPERM);
	assert_non_null(strstr(recap_error_message(err), "use a registry reference"));
	recap_error_free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(globs),
	    cmocka_unit_test(normalizes),
	    cmocka_unit_test(digests),
	    cmocka_unit_test(cluster_references),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* hosts.toml (oci/hosts.h): what each key becomes, the order of the
 * endpoints, and each malformed document's message. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "oci/hosts.h"

static int parse(const char *doc, struct recap_oci_hosts *h, struct recap_error **err)
{
	return recap_oci_hosts_parse(doc, strlen(doc), "h.toml", "/etc/certs.d/r", "reg.example:5000", false,
				     NULL, h, err);
}

static void test_no_file_is_the_registry(void **state)
{
	struct recap_oci_hosts h;
	assert_int_equal(
	    recap_oci_hosts_parse("", 0, "none", NULL, "registry-1.docker.io", false, "/ca.pem", &h, NULL),
	    0);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.ep[0].root, "https://registry-1.docker.io/v2");
	assert_string_equal(h.ep[0].host, "registry-1.docker.io");
	assert_string_equal(h.ep[0].ca_file, "/ca.pem");
	assert_false(h.ep[0].mirror);
	assert_int_equal(h.ep[0].caps, RECAP_OCI_CAP_PULL | RECAP_OCI_CAP_RESOLVE);
	recap_oci_hosts_clear(&h);
	assert_int_equal(recap_oci_hosts_parse("", 0, "none", NULL, "r:5000", true, NULL, &h, NULL), 0);
	assert_string_equal(h.ep[0].root, "http://r:5000/v2");
	assert_true(h.ep[0].plain_http);
	recap_oci_hosts_clear(&h);
}

static void test_mirrors_in_order_then_the_server(void **state)
{
	const char *doc = "# the node's mirrors\n"
			  "server = \"https://upstream.example\"  # comment\n"
			  "ca = 'upstream.pem'\n"
			  "\n"
			  "[host.\"https://m1.example:5000\"]\n"
			  "  capabilities = [\n"
			  "    \"pull\",  # by digest\n"
			  "    \"resolve\",\n"
			  "  ]\n"
			  "  skip_verify = true\n"
			  "  [host.\"https://m1.example:5000\".header]\n"
			  "    x-token = [\"ignored\"]\n"
			  "[host.'http://m2.example/registry/v2']\n"
			  "  capabilities = [\"pull\"]\n"
			  "  ca = \"/abs/m2.pem\"\n"
			  "  dial_timeout = \"5s\"\n"
			  "[host.\"https://m3.example/custom\"]\n"
			  "  override_path = true\n"
			  "host.\"https://m1.example:5000\".client = \"ignored.pem\"\n";
	struct recap_oci_hosts h;
	struct recap_error *err = NULL;
	int r = parse(doc, &h, &err);
	if (r < 0)
		fail_msg("%s", recap_error_message(err));
	assert_int_equal(h.n, 4);
	assert_string_equal(h.ep[0].root, "https://m1.example:5000/v2");
	assert_string_equal(h.ep[0].host, "m1.example:5000");
	assert_true(h.ep[0].skip_verify && h.ep[0].mirror && !h.ep[0].plain_http);
	assert_null(h.ep[0].ca_file);
	assert_string_equal(h.ep[1].root, "http://m2.example/registry/v2");
	assert_true(h.ep[1].plain_http);
	assert_int_equal(h.ep[1].caps, RECAP_OCI_CAP_PULL);
	assert_string_equal(h.ep[1].ca_file, "/abs/m2.pem");
	assert_string_equal(h.ep[2].root, "https://m3.example/custom");
	assert_string_equal(h.ep[3].root, "https://upstream.example/v2");
	assert_false(h.ep[3].mirror);
	assert_string_equal(h.ep[3].ca_file, "/etc/certs.d/r/upstream.pem");
	recap_oci_hosts_clear(&h);
}

static void test_escapes(void **state)
{
	struct recap_oci_hosts h;
	assert_int_equal(parse("server = \"https://r\\u002eexample\"\n", &h, NULL), 0);
	assert_string_equal(h.ep[0].host, "r.example");
	recap_oci_hosts_clear(&h);
}

static void test_malformed(void **state)
{
	static const char *const cases[][2] = {
	    {"server = \"https://x\n", "h.toml:1: a string does not end on its line"},
	    {"\n\nserver \"x\"\n", "h.toml:3: '=' was expected"},
	    {"[host.\"https://x\"\n", "h.toml:1: ']' was expected"},
	    {"[[host]]\n", "h.toml:1: arrays of tables are not read here"},
	    {"x = {a = 1}\n", "inline tables are not read here"},
	    {"server = \"https://x\" junk\n", "the line goes on after its value"},
	    {"skip_verify = \"yes\"\n", "a value of the wrong type for its key"},
	    {"[host.\"https://x\"]\ncapabilities = [\"fly\"]\n",
	     "h.toml:2: capabilities are pull, resolve and push"},
	    {"[host.\"https://x\"]\nca = [\"a\", \"b\"]\n", "one ca file per host is read here"},
	    {"server = \"ftp://x\"\n", "h.toml: host \"ftp://x\" is not an http:// or https:// URL"},
	    {"server = \"https:///v2\"\n", "is not a registry URL"},
	    {"server = \"a\\qb\"\n", "an unknown escape in a string"},
	    {"server = \"\"\"x\"\"\"\n", "multi-line strings are not read here"},
	    {"[host.\"https://1\"]\n[host.\"https://2\"]\n[host.\"https://3\"]\n[host.\"https://4\"]\n"
	     "[host.\"https://5\"]\n[host.\"https://6\"]\n[host.\"https://7\"]\n[host.\"https://8\"]\n"
	     "[host.\"https://9\"]\n",
	     "h.toml:9: more [host] tables than 8"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct recap_oci_hosts h;
		struct recap_error *err = NULL;
		assert_int_equal(parse(cases[i][0], &h, &err), -EINVAL);
		if (!strstr(recap_error_message(err), cases[i][1]))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, recap_error_message(err), cases[i][1]);
		assert_int_equal(h.n, 0);
		recap_error_free(err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_file_is_the_registry),
	    cmocka_unit_test(test_mirrors_in_order_then_the_server),
	    cmocka_unit_test(test_escapes),
	    cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

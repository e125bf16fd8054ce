/* hosts.toml (oci/hosts.h): what each key becomes, the order of the
 * endpoints, and each malformed document's message. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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
			  "  client = \"both.pem\"\n"
			  "  [host.\"https://m1.example:5000\".header]\n"
			  "    x-token = [\"t1\"]\n"
			  "[host.'http://m2.example/registry/v2']\n"
			  "  capabilities = [\"pull\"]\n"
			  "  ca = \"/abs/m2.pem\"\n"
			  "  dial_timeout = \"5s\"\n"
			  "[host.\"https://m3.example/custom\"]\n"
			  "  override_path = true\n";
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
	assert_int_equal(h.ep[0].n_headers, 1);
	assert_string_equal(h.ep[0].header[0].name, "x-token");
	assert_string_equal(h.ep[0].header[0].value, "t1");
	assert_string_equal(h.ep[0].client_cert, "/etc/certs.d/r/both.pem");
	assert_string_equal(h.ep[0].client_key, "/etc/certs.d/r/both.pem");
	assert_int_equal(h.ep[0].dial_timeout_ms, 0);
	assert_string_equal(h.ep[1].root, "http://m2.example/registry/v2");
	assert_int_equal(h.ep[1].dial_timeout_ms, 5000);
	assert_int_equal(h.ep[1].n_headers, 0);
	assert_null(h.ep[1].client_cert);
	assert_true(h.ep[1].plain_http);
	assert_int_equal(h.ep[1].caps, RECAP_OCI_CAP_PULL);
	assert_string_equal(h.ep[1].ca_file, "/abs/m2.pem");
	assert_string_equal(h.ep[2].root, "https://m3.example/custom");
	assert_string_equal(h.ep[3].root, "https://upstream.example/v2");
	assert_false(h.ep[3].mirror);
	assert_string_equal(h.ep[3].ca_file, "/etc/certs.d/r/upstream.pem");
	assert_int_equal(h.ep[3].n_headers, 0);
	assert_null(h.ep[3].client_cert);
	recap_oci_hosts_clear(&h);
}

static struct recap_oci_hosts parsed(const char *doc)
{
	struct recap_oci_hosts h;
	struct recap_error *err = NULL;
	if (parse(doc, &h, &err) < 0)
		fail_msg("%s: %s", doc, recap_error_message(err));
	return h;
}

/* A string (one file with both), an array of such, or [cert, key] pairs;
 * relative to the file's directory. */
static void test_client(void **state)
{
	static const struct {
		const char *doc, *cert, *key;
	} cases[] = {
	    {"client = \"both.pem\"\n", "/etc/certs.d/r/both.pem", "/etc/certs.d/r/both.pem"},
	    {"client = [\"/abs/both.pem\"]\n", "/abs/both.pem", "/abs/both.pem"},
	    {"client = [[\"c.pem\", \"/k/key.pem\"]]\n", "/etc/certs.d/r/c.pem", "/k/key.pem"},
	    {"client = [\n  [\"../c.pem\", 'k.pem'],  # a pair\n]\n", "/etc/certs.d/r/../c.pem",
	     "/etc/certs.d/r/k.pem"},
	    {"client = \"x.pem\"\nclient = []\n", NULL, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct recap_oci_hosts h = parsed(cases[i].doc);
		assert_int_equal(h.n, 1);
		if (cases[i].cert) {
			assert_string_equal(h.ep[0].client_cert, cases[i].cert);
			assert_string_equal(h.ep[0].client_key, cases[i].key);
		} else {
			assert_null(h.ep[0].client_cert);
			assert_null(h.ep[0].client_key);
		}
		recap_oci_hosts_clear(&h);
	}
	/* a mirror's, not the server's */
	struct recap_oci_hosts h = parsed("[host.\"https://m\"]\nclient = [[\"c.pem\", \"k.pem\"]]\n");
	assert_int_equal(h.n, 2);
	assert_string_equal(h.ep[0].client_cert, "/etc/certs.d/r/c.pem");
	assert_string_equal(h.ep[0].client_key, "/etc/certs.d/r/k.pem");
	assert_null(h.ep[1].client_cert);
	recap_oci_hosts_clear(&h);
}

static void assert_header(const struct recap_oci_endpoint *ep, size_t i, const char *name, const char *value)
{
	assert_true(i < ep->n_headers);
	assert_string_equal(ep->header[i].name, name);
	assert_string_equal(ep->header[i].value, value);
}

/* The top level's [header] is the server's; a [host]'s its own; an array
 * is one header line per value. */
static void test_headers(void **state)
{
	const char *doc = "header.x-dotted = \"d\"\n"
			  "[header]\n"
			  "  X-Server = \"s\"\n"
			  "  x-empty = ''\n"
			  "  x-none = []\n"
			  "[host.\"https://m1\"]\n"
			  "  header.x-m1 = [\"a\", \"b c\"]\n"
			  "[host.\"https://m2\".header]   # a mirror first named by its header table\n"
			  "  \"x-quoted!#$%&'*+.^_`|~\" = \"v\\tw\"\n"
			  "[host.\"https://m3\"]\n";
	struct recap_oci_hosts h = parsed(doc);
	assert_int_equal(h.n, 4);
	assert_string_equal(h.ep[0].host, "m1");
	assert_int_equal(h.ep[0].n_headers, 2);
	assert_header(&h.ep[0], 0, "x-m1", "a");
	assert_header(&h.ep[0], 1, "x-m1", "b c");
	assert_string_equal(h.ep[1].host, "m2");
	assert_int_equal(h.ep[1].n_headers, 1);
	assert_header(&h.ep[1], 0, "x-quoted!#$%&'*+.^_`|~", "v\tw");
	assert_int_equal(h.ep[2].n_headers, 0);
	assert_int_equal(h.ep[3].n_headers, 3);
	assert_header(&h.ep[3], 0, "x-dotted", "d");
	assert_header(&h.ep[3], 1, "X-Server", "s");
	assert_header(&h.ep[3], 2, "x-empty", "");
	recap_oci_hosts_clear(&h);

	/* the bounds: 16 values, 1024 bytes of name and value */
	char big[4096];
	int n = snprintf(big, sizeof(big), "[header]\nx = [");
	for (int i = 0; i < 8; i++)
		n += snprintf(big + n, sizeof(big) - n, "\"v%d\", ", i);
	n += snprintf(big + n, sizeof(big) - n, "]\ny = [\"1\", \"2\", \"3\", \"4\", \"5\", \"6\", \"7\"]\n");
	n += snprintf(big + n, sizeof(big) - n, "z = \"%01021d\"\n", 0); /* z + 1021 + ... = 1022 */
	h = parsed(big);
	assert_int_equal(h.ep[0].n_headers, 16);
	assert_int_equal(strlen(h.ep[0].header[15].value), 1021);
	recap_oci_hosts_clear(&h);
	snprintf(big, sizeof(big), "\n[header]\nzz = \"%01023d\"\n", 0); /* 2 + 1023 */
	struct recap_error *err = NULL;
	assert_int_equal(parse(big, &h, &err), -EINVAL);
	assert_string_equal(recap_error_message(err), "h.toml:3: header \"zz\": over 1024 bytes");
	recap_error_free(err);
}

static void test_dial_timeout(void **state)
{
	static const struct {
		const char *value;
		long ms;
	} cases[] = {
	    {"5s", 5000},    {"1m30s", 90000},	      {"1.5s", 1500}, {".5s", 500}, {"300ms", 300},
	    {"1h", 3600000}, {"59m59.999s", 3599999}, {"+2s", 2000},  {"500us", 1}, {"2\u00b5s", 1},
	    {"1ns", 1},	     {"1.000000001s", 1001},  {"0", 0},	      {"0s", 0},    {"-0s", 0},
	    {"", 0},	     {"1h0m0s0ms", 3600000},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char doc[128];
		snprintf(doc, sizeof(doc), "dial_timeout = '%s'\n", cases[i].value);
		struct recap_oci_hosts h = parsed(doc);
		if (h.ep[0].dial_timeout_ms != cases[i].ms)
			fail_msg("\"%s\": %ld ms, not %ld", cases[i].value, h.ep[0].dial_timeout_ms,
				 cases[i].ms);
		recap_oci_hosts_clear(&h);
	}
}

static void test_escapes(void **state)
{
	struct recap_oci_hosts h;
	assert_int_equal(parse("server = \"https://r\\u002eexample\"\n", &h, NULL), 0);
	assert_string_equal(h.ep[0].host, "r.example");
	recap_oci_hosts_clear(&h);
}

/* Each document is refused with a message holding its text. */
static void assert_refused(const char *const cases[][2], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct recap_oci_hosts h;
		struct recap_error *err = NULL;
		assert_int_equal(parse(cases[i][0], &h, &err), -EINVAL);
		if (!strstr(recap_error_message(err), cases[i][1]))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, recap_error_message(err), cases[i][1]);
		assert_int_equal(h.n, 0);
		recap_error_free(err);
	}
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
	    {"capabilities = [[\"pull\"]]\n", "h.toml:1: a value of the wrong type for its key"},
	    {"x = [1]\n", "h.toml:1: an array of strings (or of arrays of strings) was expected"},
	    {"[host.\"https://1\"]\n[host.\"https://2\"]\n[host.\"https://3\"]\n[host.\"https://4\"]\n"
	     "[host.\"https://5\"]\n[host.\"https://6\"]\n[host.\"https://7\"]\n[host.\"https://8\"]\n"
	     "[host.\"https://9\"]\n",
	     "h.toml:9: more [host] tables than 8"},
	};
	assert_refused(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_malformed_client(void **state)
{
	static const char *const cases[][2] = {
	    {"client = true\n",
	     "h.toml:1: client is a path, an array of paths or an array of [cert, key] pairs"},
	    {"\nclient = [\"a.pem\", \"b.pem\"]\n",
	     "h.toml:2: client names 2 certificates; one per host is read here (libcurl presents one)"},
	    {"client = [[\"a.pem\", \"a.key\"], [\"b.pem\", \"b.key\"]]\n", "client names 2 certificates"},
	    {"client = [[\"a.pem\"]]\n", "h.toml:1: client: a pair is two paths, [cert, key]"},
	    {"client = [[\"a\", \"b\", \"c\"]]\n", "client: a pair is two paths, [cert, key]"},
	    {"client = [[\"a.pem\", \"\"]]\n", "h.toml:1: client: an empty path"},
	    {"client = [[[\"a.pem\"]]]\n", "h.toml:1: an array of strings was expected inside an array"},
	    {"[host.\"http://m:5000\"]\nclient = \"c.pem\"\n",
	     "h.toml: host \"http://m:5000\" is plain http:// and has a client certificate (use https://)"},
	};
	assert_refused(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_malformed_header(void **state)
{
	static const char *const cases[][2] = {
	    {"[header]\n\"x y\" = \"v\"\n", "h.toml:2: header \"x y\" is not an HTTP header name"},
	    {"[header]\n\"\" = \"v\"\n", "h.toml:2: header \"\" is not an HTTP header name"},
	    {"[header]\nAuthorization = \"Basic eDp5\"\n",
	     "h.toml:2: header \"Authorization\" would override the credentials RECap sends"},
	    {"[host.\"https://m\".header]\nproxy-authorization = \"x\"\n",
	     "header \"proxy-authorization\" would override the credentials RECap sends"},
	    {"[host.\"https://m\".header]\nhost = \"other.example\"\n",
	     "h.toml:2: header \"host\" would override the host RECap asks"},
	    {"header.ACCEPT = \"*/*\"\n", "header \"ACCEPT\" would override the media types RECap asks for"},
	    {"header.Content-Length = \"5\"\n",
	     "header \"Content-Length\" is HTTP framing, libcurl's to set"},
	    {"header.transfer-encoding = \"chunked\"\n", "is HTTP framing, libcurl's to set"},
	    {"[header]\nx-a = \"1\"\nX-A = \"2\"\n",
	     "h.toml:3: header \"X-A\" is given twice (its values go in one array)"},
	    {"[header]\nx = 1\n", "h.toml:2: header \"x\": a string or an array of strings was expected"},
	    {"[header]\nx = [[\"a\"]]\n", "header \"x\": a string or an array of strings was expected"},
	    {"[header.x]\ny = \"z\"\n",
	     "h.toml:2: header \"x\": a string or an array of strings was expected"},
	    {"header = \"x: y\"\n",
	     "h.toml:1: header is a table of name = value ([header] or header.NAME = ...)"},
	    {"[header]\nx = \"a\\r\\nInjected: 1\"\n", "h.toml:2: a control character in a string"},
	    {"[header]\nx = \"a\x7f\"\n", "h.toml:2: header \"x\": a control character in its value"},
	    {"[header]\nx = [\"1\", \"2\", \"3\", \"4\", \"5\", \"6\", \"7\", \"8\"]\n"
	     "y = [\"1\", \"2\", \"3\", \"4\", \"5\", \"6\", \"7\", \"8\"]\nz = \"17\"\n",
	     "h.toml:4: more than 16 header values for one host"},
	};
	assert_refused(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_malformed_dial_timeout(void **state)
{
	static const char *const cases[][2] = {
	    {"dial_timeout = 5\n", "h.toml:1: dial_timeout is a duration string, such as \"5s\""},
	    {"dial_timeout = \"5\"\n",
	     "h.toml:1: dial_timeout \"5\" is not a duration (such as \"500ms\", \"5s\", \"1m30s\")"},
	    {"dial_timeout = \"5 s\"\n", "dial_timeout \"5 s\" is not a duration"},
	    {"dial_timeout = \"5sec\"\n", "dial_timeout \"5sec\" is not a duration"},
	    {"dial_timeout = \"1m30\"\n", "dial_timeout \"1m30\" is not a duration"},
	    {"dial_timeout = \".s\"\n", "dial_timeout \".s\" is not a duration"},
	    {"dial_timeout = \"-\"\n", "dial_timeout \"-\" is not a duration"},
	    {"dial_timeout = \"5d\"\n", "dial_timeout \"5d\" is not a duration"},
	    {"[host.\"https://m\"]\n\ndial_timeout = \"-5s\"\n",
	     "h.toml:3: dial_timeout \"-5s\" is negative"},
	    {"dial_timeout = \"1h1ms\"\n", "h.toml:1: dial_timeout \"1h1ms\" is over 3600 s"},
	    {"dial_timeout = \"99999999999999999999999h\"\n", "is over 3600 s"},
	};
	assert_refused(cases, sizeof(cases) / sizeof(cases[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_file_is_the_registry),
	    cmocka_unit_test(test_mirrors_in_order_then_the_server),
	    cmocka_unit_test(test_client),
	    cmocka_unit_test(test_headers),
	    cmocka_unit_test(test_dial_timeout),
	    cmocka_unit_test(test_escapes),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_malformed_client),
	    cmocka_unit_test(test_malformed_header),
	    cmocka_unit_test(test_malformed_dial_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

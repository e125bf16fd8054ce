#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "oci/ref.h"

#define HEX "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static struct recap_oci_ref *parse_ok(const char *s)
{
	struct recap_oci_ref *r = NULL;
	struct recap_error *err = NULL;
	int rc = recap_oci_ref_parse(s, &r, &err);
	if (rc < 0)
		fail_msg("'%s': %s", s, recap_error_message(err));
	return r;
}

static void expect_error(const char *s, const char *needle)
{
	struct recap_oci_ref *r = NULL;
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_oci_ref_parse(s, &r, &err), -EINVAL);
	assert_null(r);
	assert_non_null(err);
	if (!strstr(recap_error_message(err), needle))
		fail_msg("'%s': message '%s' lacks '%s'", s, recap_error_message(err), needle);
}

static void docker_hub_defaults(void **state)
{
	struct recap_oci_ref *r = parse_ok("busybox");
	assert_string_equal(r->registry, "docker.io");
	assert_string_equal(r->repository, "library/busybox");
	assert_string_equal(r->tag, "latest");
	assert_null(r->digest);
	assert_string_equal(r->canonical, "docker.io/library/busybox:latest");
	assert_string_equal(recap_oci_ref_api_host(r), "registry-1.docker.io");
	recap_oci_ref_free(r);
	r = parse_ok("docker.io/busybox:1.36");
	assert_string_equal(r->repository, "library/busybox");
	assert_string_equal(r->tag, "1.36");
	recap_oci_ref_free(r);
	r = parse_ok("user/tool");
	assert_string_equal(r->repository, "user/tool");
	assert_string_equal(r->registry, "docker.io");
	recap_oci_ref_free(r);
}

static void registry_port_tag_digest(void **state)
{
	struct recap_oci_ref *r = parse_ok("127.0.0.1:5000/capsules/ps:v1@sha256:" HEX);
	assert_string_equal(r->registry, "127.0.0.1:5000");
	assert_string_equal(r->repository, "capsules/ps");
	assert_string_equal(r->tag, "v1");
	assert_string_equal(r->digest, "sha256:" HEX);
	assert_string_equal(r->canonical, "127.0.0.1:5000/capsules/ps:v1@sha256:" HEX);
	assert_string_equal(recap_oci_ref_api_host(r), "127.0.0.1:5000");
	recap_oci_ref_free(r);
	r = parse_ok("localhost/a.b__c-d/e@sha256:" HEX);
	assert_string_equal(r->registry, "localhost");
	assert_string_equal(r->repository, "a.b__c-d/e");
	assert_null(r->tag);
	recap_oci_ref_free(r);
	r = parse_ok("registry.example.com:443/x");
	assert_string_equal(r->tag, "latest");
	recap_oci_ref_free(r);
}

static void layouts(void **state)
{
	struct recap_oci_ref *r = parse_ok("oci:/srv/images/ps:v2");
	assert_int_equal(r->kind, RECAP_OCI_REF_LAYOUT);
	assert_string_equal(r->layout_dir, "/srv/images/ps");
	assert_string_equal(r->tag, "v2");
	assert_string_equal(r->canonical, "oci:/srv/images/ps:v2");
	recap_oci_ref_free(r);
	r = parse_ok("oci:relative/dir");
	assert_string_equal(r->layout_dir, "relative/dir");
	assert_null(r->tag);
	recap_oci_ref_free(r);
	r = parse_ok("oci:/a:b/c");
	assert_string_equal(r->layout_dir, "/a:b/c");
	recap_oci_ref_free(r);
	expect_error("oci:", "names no directory");
	expect_error("oci::tag", "names no directory");
	expect_error("oci:/x:bad tag", "invalid tag");
}

static void rejects(void **state)
{
	expect_error("", "empty");
	expect_error("Busybox", "lowercase");
	expect_error("127.0.0.1:5000/UP/x", "lowercase");
	expect_error("a//b", "component");
	expect_error("a/b/", "component");
	expect_error("-a", "component");
	expect_error("a..b", "component");
	expect_error("a___b", "component");
	expect_error("busybox:", "empty tag");
	expect_error("busybox:-x", "invalid tag");
	expect_error("busybox:a/b", "port");
	expect_error("busybox@sha256:abc", "64 hex");
	expect_error("busybox@sha256:" HEX "0", "64 hex");
	expect_error("busybox@md5:" HEX, "unsupported digest algorithm");
	expect_error("busybox@sha256:"
		     "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
		     "lowercase hex");
	expect_error("host:99999/x", "port");
	expect_error("host:/x", "port");
	expect_error("ho_st.com/x", "not allowed");
	expect_error("-host.com/x", "not allowed");
}

static void limits(void **state)
{
	char tag[RECAP_OCI_TAG_MAX + 20] = "busybox:";
	memset(tag + 8, 'a', RECAP_OCI_TAG_MAX);
	struct recap_oci_ref *r = parse_ok(tag);
	recap_oci_ref_free(r);
	tag[8 + RECAP_OCI_TAG_MAX] = 'a';
	expect_error(tag, "limit 128");
	char repo[RECAP_OCI_REPO_MAX + 20] = "h.io/";
	memset(repo + 5, 'a', RECAP_OCI_REPO_MAX + 1);
	expect_error(repo, "limit 255");
	char *big = malloc(RECAP_OCI_REF_MAX + 2);
	memset(big, 'a', RECAP_OCI_REF_MAX + 1);
	big[RECAP_OCI_REF_MAX + 1] = '\0';
	expect_error(big, "limit 1024");
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(docker_hub_defaults),
	    cmocka_unit_test(registry_port_tag_digest),
	    cmocka_unit_test(layouts),
	    cmocka_unit_test(rejects),
	    cmocka_unit_test(limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kube/resource.h"

static const struct recap_kube_resource configmaps = {"", "v1", "configmaps", true};
static const struct recap_kube_resource capsules = {"recap.dev", "v1alpha1", "capsules", true};
static const struct recap_kube_resource nodes = {NULL, "v1", "nodes", false};

static void check(const struct recap_kube_resource *res, const char *ns, const char *name, const char *sub,
		  const char *want)
{
	struct recap_buf b = RECAP_BUF_INIT(RECAP_KUBE_PATH_MAX);
	struct recap_error *err = NULL;
	assert_int_equal(recap_kube_path(&b, res, ns, name, sub, &err), 0);
	assert_null(err);
	assert_string_equal(b.data, want);
	recap_buf_free(&b);
}

static void core_and_group_paths(void **state)
{
	check(&configmaps, "ns1", "cm", NULL, "/api/v1/namespaces/ns1/configmaps/cm");
	check(&configmaps, "ns1", NULL, NULL, "/api/v1/namespaces/ns1/configmaps");
	check(&configmaps, NULL, NULL, NULL, "/api/v1/configmaps");
	check(&capsules, "shop", "tcpdump", "status",
	      "/apis/recap.dev/v1alpha1/namespaces/shop/capsules/tcpdump/status");
	check(&nodes, NULL, "n1", NULL, "/api/v1/nodes/n1");
}

static void names_are_escaped(void **state)
{
	check(&configmaps, "a", "x/../y?z=1#f", NULL,
	      "/api/v1/namespaces/a/configmaps/x%2F..%2Fy%3Fz%3D1%23f");
	check(&nodes, NULL, "a b%", NULL, "/api/v1/nodes/a%20b%25");
}

static void expect_fail(const struct recap_kube_resource *res, const char *ns, const char *name,
			const char *sub, const char *needle)
{
	struct recap_buf b = RECAP_BUF_INIT(RECAP_KUBE_PATH_MAX);
	struct recap_error *err = NULL;
	assert_true(recap_kube_path(&b, res, ns, name, sub, &err) < 0);
	assert_non_null(err);
	assert_non_null(strstr(recap_error_message(err), needle));
	assert_int_equal(b.len, 0);
	recap_error_free(err);
	recap_buf_free(&b);
}

static void bad_paths_are_refused(void **state)
{
	expect_fail(&configmaps, "a", "..", NULL, "not a valid name");
	expect_fail(&configmaps, "a", "", NULL, "name is empty");
	expect_fail(&configmaps, NULL, "x", NULL, "needs a namespace");
	expect_fail(&nodes, "a", "x", NULL, "cluster-scoped");
	expect_fail(&configmaps, "a", NULL, "status", "needs an object name");
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	expect_fail(&configmaps, "a", longname, NULL, "longer than 253");
	struct recap_kube_resource noversion = {"", NULL, "pods", true};
	expect_fail(&noversion, "a", "x", NULL, "needs a version");
}

static void path_respects_buffer_limit(void **state)
{
	struct recap_buf b = RECAP_BUF_INIT(20);
	struct recap_error *err = NULL;
	assert_int_equal(recap_kube_path(&b, &configmaps, "ns", "name", NULL, &err), -ENAMETOOLONG);
	assert_int_equal(b.len, 0);
	recap_error_free(err);
	recap_buf_free(&b);
}

static void query_strings(void **state)
{
	struct recap_buf b = RECAP_BUF_INIT(RECAP_KUBE_PATH_MAX);
	recap_buf_appends(&b, "/api/v1/pods");
	assert_int_equal(recap_kube_query_add(&b, "labelSelector", "app in (a,b),tier!=x"), 0);
	assert_int_equal(recap_kube_query_add(&b, "fieldSelector", NULL), 0);
	assert_int_equal(recap_kube_query_add(&b, "limit", "500"), 0);
	assert_string_equal(b.data,
			    "/api/v1/pods?labelSelector=app%20in%20%28a%2Cb%29%2Ctier%21%3Dx&limit=500");
	recap_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(core_and_group_paths),  cmocka_unit_test(names_are_escaped),
	    cmocka_unit_test(bad_paths_are_refused), cmocka_unit_test(path_respects_buffer_limit),
	    cmocka_unit_test(query_strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

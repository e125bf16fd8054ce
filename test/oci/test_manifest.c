#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "oci/auth.h"
#include "oci/manifest.h"

#define D0 "sha256:0000000000000000000000000000000000000000000000000000000000000000"
#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static struct recap_oci_manifest *parse(const char *json, const char *ct, int want, const char *needle)
{
	struct recap_oci_manifest *m = NULL;
	_cleanup_error_ struct recap_error *err = NULL;
	int r = recap_oci_manifest_parse(json, strlen(json), ct, &m, &err);
	if (want == 0 && r < 0)
		fail_msg("%s", recap_error_message(err));
	if (want != 0) {
		assert_true(r < 0);
		assert_null(m);
		if (!strstr(recap_error_message(err), needle))
			fail_msg("'%s' lacks '%s'", recap_error_message(err), needle);
	}
	return m;
}

static void oci_manifest(void **state)
{
	struct recap_oci_manifest *m = parse(
	    "{\"schemaVersion\":2,\"mediaType\":\"" RECAP_OCI_MT_MANIFEST "\",\"config\":{\"mediaType\":"
	    "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D0 "\",\"size\":7},"
	    "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" D1
	    "\",\"size\":10},{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"" D2
	    "\",\"size\":20}]}",
	    NULL, 0, NULL);
	assert_int_equal(m->kind, RECAP_OCI_MANIFEST);
	assert_string_equal(m->config.digest, D0);
	assert_int_equal(m->config.size, 7);
	assert_int_equal(m->n_items, 2);
	assert_string_equal(m->items[1].digest, D2);
	recap_oci_manifest_free(m);
}

static void docker_list_and_platforms(void **state)
{
	const char *list =
	    "{\"schemaVersion\":2,\"manifests\":["
	    "{\"mediaType\":\"" RECAP_OCI_MT_DOCKER_MANIFEST "\",\"digest\":\"" D1 "\",\"size\":1,"
	    "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
	    "{\"mediaType\":\"" RECAP_OCI_MT_DOCKER_MANIFEST "\",\"digest\":\"" D2 "\",\"size\":1,"
	    "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
	struct recap_oci_manifest *m = parse(list, RECAP_OCI_MT_DOCKER_LIST, 0, NULL);
	assert_int_equal(m->kind, RECAP_OCI_INDEX);
	const struct recap_oci_descriptor *d = NULL;
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_oci_index_select(m, "linux", "amd64", NULL, &d, &err), 0);
	assert_string_equal(d->digest, D2);
	assert_int_equal(recap_oci_index_select(m, "linux", "arm64", "v8", &d, &err), 0);
	assert_string_equal(d->digest, D1);
	assert_int_equal(recap_oci_index_select(m, "linux", "arm64", "v7", &d, &err), -ENOENT);
	assert_non_null(strstr(recap_error_message(err), "no manifest for linux/arm64/v7"));
	recap_oci_manifest_free(m);
}

static void rejects(void **state)
{
	parse("{", NULL, -EBADMSG, "malformed manifest");
	parse("{\"schemaVersion\":1}", NULL, -EMEDIUMTYPE, "schemaVersion");
	parse("{\"schemaVersion\":2,\"mediaType\":\"text/plain\"}", NULL, -EMEDIUMTYPE,
	      "unsupported manifest media");
	parse("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D0 "\",\"size\":1},\"layers\":[{\"mediaType\":"
	      "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:abc\",\"size\":1}]}",
	      NULL, -EBADMSG, "malformed digest");
	parse("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D0 "\",\"size\":-1},\"layers\":[]}", NULL,
	      -EBADMSG, "no valid size");
	parse("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D0 "\"},\"layers\":[]}", NULL, -EBADMSG,
	      "no valid size");
}

static void too_many_layers(void **state)
{
	struct recap_buf b = RECAP_BUF_INIT(1 << 20);
	recap_buf_appends(&b,
			  "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D0 "\",\"size\":1},\"layers\":[");
	for (int i = 0; i <= RECAP_OCI_LAYERS_MAX; i++)
		recap_buf_printf(
		    &b,
		    "%s{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" D1
		    "\",\"size\":1}",
		    i ? "," : "");
	recap_buf_appends(&b, "]}");
	parse(b.data, NULL, -E2BIG, "129 layers (limit 128)");
	recap_buf_free(&b);
}

static void config(void **state)
{
	const char *j =
	    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/bin\"],"
	    "\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":null,\"WorkingDir\":\"/w\",\"User\":\"1:2\"},"
	    "\"rootfs\":{\"diff_ids\":[\"" D1 "\"]}}";
	struct recap_oci_config *c = NULL;
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_oci_config_parse(j, strlen(j), &c, &err), 0);
	assert_string_equal(c->env[0], "PATH=/bin");
	assert_null(c->env[1]);
	assert_string_equal(c->entrypoint[1], "-c");
	assert_null(c->cmd);
	assert_string_equal(c->working_dir, "/w");
	assert_string_equal(c->user, "1:2");
	assert_string_equal(c->arch, "amd64");
	assert_int_equal(c->n_diff_ids, 1);
	recap_oci_config_free(c);
	const char *bad = "{\"config\":{\"Env\":[1]}}";
	assert_int_equal(recap_oci_config_parse(bad, strlen(bad), &c, &err), -EBADMSG);
}

static void challenges(void **state)
{
	struct recap_oci_challenge c;
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(
	    recap_oci_auth_parse_challenge("Bearer realm=\"https://auth.example/token\","
					   "service=\"registry.example\",scope=\"repository:a/b:pull\"",
					   &c, &err),
	    0);
	assert_string_equal(c.scheme, "Bearer");
	assert_string_equal(c.realm, "https://auth.example/token");
	assert_string_equal(c.service, "registry.example");
	assert_string_equal(c.scope, "repository:a/b:pull");
	assert_int_equal(recap_oci_auth_parse_challenge("Basic realm=\"x\"", &c, &err), 0);
	assert_string_equal(c.scheme, "Basic");
	assert_int_equal(recap_oci_auth_parse_challenge("Bearer service=\"x\"", &c, &err), -EPROTO);
	recap_error_free(err);
	err = NULL;
	assert_int_equal(recap_oci_auth_parse_challenge("Negotiate abc", &c, &err), -EPROTO);
	recap_error_free(err);
	err = NULL;
	assert_int_equal(recap_oci_auth_parse_challenge("Bearer realm=\"unterminated", &c, &err), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(oci_manifest), cmocka_unit_test(docker_list_and_platforms),
	    cmocka_unit_test(rejects),	    cmocka_unit_test(too_many_layers),
	    cmocka_unit_test(config),	    cmocka_unit_test(challenges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* CRUD, optimistic locking, patches, SSA conflicts against a real
 * kube-apiserver (started by with-cluster.sh). */
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
#include "helpers.h"

#define NS "crud"

static struct tclient T;

static enum recap_kube_code create_cm(const char *name, const char *k, const char *v, json_t **ret,
				      char **msg)
{
	json_t *cm = tconfigmap(name, k, v);
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_create(T.c, &T_CONFIGMAPS, NS, cm, recap_kube_sync_cb, &s, NULL), 0);
	json_decref(cm);
	return twait(&T, &s, ret, msg);
}

static enum recap_kube_code get_cm(const char *name, json_t **ret, char **msg)
{
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_get(T.c, &T_CONFIGMAPS, NS, name, NULL, recap_kube_sync_cb, &s, NULL), 0);
	return twait(&T, &s, ret, msg);
}

static int setup(void **state)
{
	tclient_open(&T, NULL, NULL);
	json_t *ns =
	    json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata", "name", NS);
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_create(T.c, &T_NAMESPACES, NULL, ns, recap_kube_sync_cb, &s, NULL), 0);
	json_decref(ns);
	return twait(&T, &s, NULL, NULL) == RECAP_KUBE_OK ? 0 : -1;
}

static int teardown(void **state)
{
	tclient_close(&T);
	return 0;
}

static void speaks_http2(const struct recap_kube_response *resp, void *userdata)
{
	*(int *)userdata = resp->code == RECAP_KUBE_OK ? resp->http_version : -1;
}

static void http2_is_used(void **state)
{
	int version = 0;
	assert_int_equal(recap_kube_list(T.c, &T_CONFIGMAPS, NS, NULL, speaks_http2, &version, NULL), 0);
	while (version == 0)
		uv_run(&T.loop, UV_RUN_ONCE);
#ifdef RECAP_KUBE_LEAN
	assert_int_equal(version, 11); /* the lean transport speaks HTTP/1.1 only */
#else
	assert_int_equal(version, 20);
#endif
}

static void create_get_update_delete(void **state)
{
	json_t *obj = NULL;
	char *msg = NULL;
	assert_int_equal(create_cm("one", "k", "v1", &obj, NULL), RECAP_KUBE_OK);
	const char *rv1 = recap_json_str(obj, "metadata.resourceVersion");
	assert_non_null(rv1);
	json_decref(obj);
	/* A second create of the same name: AlreadyExists, with the server's message. */
	assert_int_equal(create_cm("one", "k", "v1", NULL, &msg), RECAP_KUBE_ERR_ALREADY_EXISTS);
	assert_non_null(strstr(msg, "409 AlreadyExists: configmaps \"one\" already exists"));
	free(msg);

	assert_int_equal(get_cm("one", &obj, NULL), RECAP_KUBE_OK);
	assert_string_equal(recap_json_str(obj, "data.k"), "v1");
	/* Update with the current resourceVersion succeeds ... */
	json_t *stale = json_deep_copy(obj);
	json_object_set_new(json_object_get(obj, "data"), "k", json_string("v2"));
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_update(T.c, &T_CONFIGMAPS, NS, obj, NULL, recap_kube_sync_cb, &s, NULL),
			 0);
	json_decref(obj);
	assert_int_equal(twait(&T, &s, &obj, NULL), RECAP_KUBE_OK);
	assert_string_equal(recap_json_str(obj, "data.k"), "v2");
	json_decref(obj);
	/* ... and one with the old resourceVersion is an optimistic-lock conflict. */
	s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_update(T.c, &T_CONFIGMAPS, NS, stale, NULL, recap_kube_sync_cb, &s, NULL),
			 0);
	assert_int_equal(twait(&T, &s, NULL, &msg), RECAP_KUBE_ERR_CONFLICT);
	assert_non_null(strstr(msg, "the object has been modified"));
	free(msg);
	json_decref(stale);

	/* Delete with a wrong UID precondition is refused, then deleted for real. */
	struct recap_kube_delete_options bad = {.precondition_uid = "00000000-0000-0000-0000-000000000000",
						.grace_period_seconds = -1};
	s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_delete(T.c, &T_CONFIGMAPS, NS, "one", &bad, recap_kube_sync_cb, &s, NULL),
			 0);
	assert_int_equal(twait(&T, &s, NULL, NULL), RECAP_KUBE_ERR_CONFLICT);
	struct recap_kube_delete_options fg = {.propagation_policy = "Background", .grace_period_seconds = 0};
	s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_delete(T.c, &T_CONFIGMAPS, NS, "one", &fg, recap_kube_sync_cb, &s, NULL),
			 0);
	assert_int_equal(twait(&T, &s, NULL, NULL), RECAP_KUBE_OK);
	assert_int_equal(get_cm("one", NULL, &msg), RECAP_KUBE_ERR_NOT_FOUND);
	assert_non_null(strstr(msg, "404 NotFound: configmaps \"one\" not found"));
	free(msg);
}

static enum recap_kube_code patch(const char *name, enum recap_kube_patch_type type, const char *text,
				  const struct recap_kube_patch_options *o, json_t **ret, char **msg)
{
	json_t *p = json_loads(text, 0, NULL);
	assert_non_null(p);
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(
	    recap_kube_patch(T.c, &T_CONFIGMAPS, NS, name, NULL, type, p, o, recap_kube_sync_cb, &s, NULL),
	    0);
	json_decref(p);
	return twait(&T, &s, ret, msg);
}

static void merge_and_json_patch(void **state)
{
	json_t *obj = NULL;
	assert_int_equal(create_cm("patched", "a", "1", NULL, NULL), RECAP_KUBE_OK);
	assert_int_equal(
	    patch("patched", RECAP_KUBE_PATCH_MERGE, "{\"data\":{\"b\":\"2\",\"a\":null}}", NULL, &obj, NULL),
	    RECAP_KUBE_OK);
	assert_null(recap_json_str(obj, "data.a"));
	assert_string_equal(recap_json_str(obj, "data.b"), "2");
	json_decref(obj);
	assert_int_equal(patch("patched", RECAP_KUBE_PATCH_JSON,
			       "[{\"op\":\"test\",\"path\":\"/data/b\",\"value\":\"2\"},"
			       "{\"op\":\"replace\",\"path\":\"/data/b\",\"value\":\"3\"}]",
			       NULL, &obj, NULL),
			 RECAP_KUBE_OK);
	assert_string_equal(recap_json_str(obj, "data.b"), "3");
	json_decref(obj);
	/* A failing JSON patch test op: 422 Invalid. */
	assert_int_equal(patch("patched", RECAP_KUBE_PATCH_JSON,
			       "[{\"op\":\"test\",\"path\":\"/data/b\",\"value\":\"9\"}]", NULL, NULL, NULL),
			 RECAP_KUBE_ERR_INVALID);
}

static void server_side_apply_conflict_and_force(void **state)
{
	const char *mine =
	    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"applied\"},"
	    "\"data\":{\"owner\":\"alice\"}}";
	const char *theirs =
	    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"applied\"},"
	    "\"data\":{\"owner\":\"bob\"}}";
	struct recap_kube_patch_options alice = {.field_manager = "alice"};
	struct recap_kube_patch_options bob = {.field_manager = "bob"};
	struct recap_kube_patch_options bob_force = {.field_manager = "bob", .force = true};
	char *msg = NULL;
	json_t *obj = NULL;
	assert_int_equal(patch("applied", RECAP_KUBE_PATCH_APPLY, mine, &alice, NULL, NULL), RECAP_KUBE_OK);
	assert_int_equal(patch("applied", RECAP_KUBE_PATCH_APPLY, theirs, &bob, NULL, &msg),
			 RECAP_KUBE_ERR_CONFLICT);
	assert_non_null(strstr(msg, "conflict with \"alice\""));
	free(msg);
	assert_int_equal(patch("applied", RECAP_KUBE_PATCH_APPLY, theirs, &bob_force, &obj, NULL),
			 RECAP_KUBE_OK);
	assert_string_equal(recap_json_str(obj, "data.owner"), "bob");
	json_decref(obj);
	/* Apply without a field manager is refused before anything is sent. */
	struct recap_error *err = NULL;
	json_t *p = json_loads(mine, 0, NULL);
	assert_int_equal(recap_kube_patch(T.c, &T_CONFIGMAPS, NS, "applied", NULL, RECAP_KUBE_PATCH_APPLY, p,
					  NULL, recap_kube_sync_cb, NULL, &err),
			 -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "needs a field manager"));
	recap_error_free(err);
	json_decref(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(http2_is_used),
	    cmocka_unit_test(create_get_update_delete),
	    cmocka_unit_test(merge_and_json_patch),
	    cmocka_unit_test(server_side_apply_conflict_and_force),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

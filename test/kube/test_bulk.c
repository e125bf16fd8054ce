/* A CRD with its status subresource, and pagination over 2,000 objects (8 pages),
 * against a real kube-apiserver (started by with-cluster.sh). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/json.h"
#include "base/timeutil.h"
#include "helpers.h"
#include "base/fileio.h"
#include "kube/yamlconv.h"

#define NS "bulk"
#define OBJECTS 2000
#define IN_FLIGHT 64
#define PAGE 250

static struct tclient T;
static const struct recap_kube_resource CRDS = {"apiextensions.k8s.io", "v1", "customresourcedefinitions",
						false};
static const struct recap_kube_resource CAPSULES = {"recap.dev", "v1alpha1", "capsules", true};

static json_t *load_yaml(const char *rel)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", getenv("RECAP_SOURCE_ROOT"), rel);
	char *data = NULL;
	size_t len;
	struct recap_error *err = NULL;
	if (recap_read_file(path, 1 << 20, &data, &len, &err) < 0)
		fail_msg("%s", recap_error_message(err));
	json_t *v = NULL;
	if (recap_kube_yaml_parse(data, len, &v, &err) < 0)
		fail_msg("%s: %s", path, recap_error_message(err));
	free(data);
	return v;
}

static json_t *must(enum recap_kube_code code, struct recap_kube_sync *s)
{
	json_t *obj = NULL;
	char *msg = NULL;
	if (twait(&T, s, &obj, &msg) != code)
		fail_msg("unexpected result: %s", msg ? msg : "OK");
	free(msg);
	return obj;
}

static int setup(void **state)
{
	/* Bulk creation must not wait on the client-side rate limit. */
	struct recap_kube_client_options o = {.qps = -1};
	tclient_open(&T, NULL, &o);
	json_t *ns =
	    json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata", "name", NS);
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_create(T.c, &T_NAMESPACES, NULL, ns, recap_kube_sync_cb, &s, NULL), 0);
	json_decref(ns);
	json_decref(must(RECAP_KUBE_OK, &s));
	return 0;
}

static int teardown(void **state)
{
	tclient_close(&T);
	return 0;
}

static void wait_established(const char *name)
{
	for (int i = 0; i < 100; i++) {
		struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
		assert_int_equal(recap_kube_get(T.c, &CRDS, NULL, name, NULL, recap_kube_sync_cb, &s, NULL),
				 0);
		json_t *crd = must(RECAP_KUBE_OK, &s);
		json_t *conds = recap_json_path(crd, "status.conditions");
		size_t k;
		json_t *c;
		bool ok = false;
		json_array_foreach (conds, k, c) {
			const char *type = recap_json_str(c, "type");
			const char *st = recap_json_str(c, "status");
			ok |= type && st && strcmp(type, "Established") == 0 && strcmp(st, "True") == 0;
		}
		json_decref(crd);
		if (ok)
			return;
		usleep(100000);
	}
	fail_msg("CRD %s not established", name);
}

static void crd_crud_and_status_subresource(void **state)
{
	json_t *crd = load_yaml("crds/recap.dev_capsules.yaml");
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_create(T.c, &CRDS, NULL, crd, recap_kube_sync_cb, &s, NULL), 0);
	json_decref(crd);
	json_decref(must(RECAP_KUBE_OK, &s));
	wait_established("capsules.recap.dev");

	json_t *cap = load_yaml("config/samples/capsule-logrotate.yaml");
	s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_create(T.c, &CAPSULES, NS, cap, recap_kube_sync_cb, &s, NULL), 0);
	json_decref(cap);
	cap = must(RECAP_KUBE_OK, &s);
	assert_int_equal(recap_json_int(cap, "metadata.generation", 0), 1);
	json_decref(cap);

	/* Status goes through /status; the spec in that patch is ignored. */
	json_t *patch =
	    json_loads("{\"spec\":{\"image\":\"ignored\"},\"status\":{\"observedGeneration\":1,"
		       "\"matchedTargets\":2,\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\","
		       "\"reason\":\"Admitted\",\"message\":\"ok\","
		       "\"lastTransitionTime\":\"2026-11-23T00:00:00Z\",\"observedGeneration\":1}]}}",
		       0, NULL);
	s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_patch(T.c, &CAPSULES, NS, "logrotate", "status", RECAP_KUBE_PATCH_MERGE,
					  patch, NULL, recap_kube_sync_cb, &s, NULL),
			 0);
	json_decref(patch);
	json_decref(must(RECAP_KUBE_OK, &s));
	s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_get(T.c, &CAPSULES, NS, "logrotate", NULL, recap_kube_sync_cb, &s, NULL),
			 0);
	cap = must(RECAP_KUBE_OK, &s);
	assert_int_equal(recap_json_int(cap, "status.matchedTargets", 0), 2);
	assert_string_equal(recap_json_str(cap, "spec.image"), "registry.local/capsules/logrotate:3.21");
	/* An update of the main resource does not touch status. */
	json_object_set_new(json_object_get(cap, "status"), "matchedTargets", json_integer(99));
	json_object_set_new(json_object_get(cap, "spec"), "timeoutSeconds", json_integer(30));
	s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_update(T.c, &CAPSULES, NS, cap, NULL, recap_kube_sync_cb, &s, NULL), 0);
	json_decref(cap);
	cap = must(RECAP_KUBE_OK, &s);
	assert_int_equal(recap_json_int(cap, "status.matchedTargets", 0), 2);
	assert_int_equal(recap_json_int(cap, "spec.timeoutSeconds", 0), 30);
	assert_int_equal(recap_json_int(cap, "metadata.generation", 0), 2);
	json_decref(cap);
	/* Schema validation: 422 Invalid with the field named. */
	json_t *bad = json_pack("{s:s, s:s, s:{s:s}, s:{s:s}}", "apiVersion", "recap.dev/v1alpha1", "kind",
				"Capsule", "metadata", "name", "bad", "spec", "image", "");
	s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_create(T.c, &CAPSULES, NS, bad, recap_kube_sync_cb, &s, NULL), 0);
	json_decref(bad);
	char *msg = NULL;
	assert_int_equal(twait(&T, &s, NULL, &msg), RECAP_KUBE_ERR_INVALID);
	assert_non_null(strstr(msg, "spec.image"));
	free(msg);
	/* Delete options on a custom resource: a stale resourceVersion precondition
	 * is a conflict, then the delete goes through. */
	struct recap_kube_delete_options stale = {.precondition_resource_version = "1",
						  .propagation_policy = "Background",
						  .grace_period_seconds = -1};
	s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(
	    recap_kube_delete(T.c, &CAPSULES, NS, "logrotate", &stale, recap_kube_sync_cb, &s, NULL), 0);
	assert_int_equal(twait(&T, &s, NULL, NULL), RECAP_KUBE_ERR_CONFLICT);
	struct recap_kube_delete_options ok = {.propagation_policy = "Background",
					       .grace_period_seconds = -1};
	s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(
	    recap_kube_delete(T.c, &CAPSULES, NS, "logrotate", &ok, recap_kube_sync_cb, &s, NULL), 0);
	assert_int_equal(twait(&T, &s, NULL, NULL), RECAP_KUBE_OK);
	s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_get(T.c, &CAPSULES, NS, "logrotate", NULL, recap_kube_sync_cb, &s, NULL),
			 0);
	assert_int_equal(twait(&T, &s, NULL, NULL), RECAP_KUBE_ERR_NOT_FOUND);
}

struct bulk {
	int next, done, failed;
	bool finished;
	char first_err[512];
};

static void issue(struct bulk *b);

static void created(const struct recap_kube_response *resp, void *userdata)
{
	struct bulk *b = userdata;
	b->done++;
	if (resp->code != RECAP_KUBE_OK && b->failed++ == 0)
		snprintf(b->first_err, sizeof(b->first_err), "%s", recap_error_message(resp->err));
	if (b->done == OBJECTS)
		b->finished = true;
	issue(b);
}

static void issue(struct bulk *b)
{
	if (b->next >= OBJECTS)
		return;
	char name[32];
	snprintf(name, sizeof(name), "cm-%05d", b->next++);
	json_t *cm = tconfigmap(name, "k", "v");
	json_object_set_new(json_object_get(cm, "metadata"), "labels", json_pack("{s:s}", "batch", "b1"));
	assert_int_equal(recap_kube_create(T.c, &T_CONFIGMAPS, NS, cm, created, b, NULL), 0);
	json_decref(cm);
}

static void pagination_over_2000_objects(void **state)
{
	struct bulk b = {0};
	uint64_t t0 = recap_now_mono_ms();
	for (int i = 0; i < IN_FLIGHT; i++)
		issue(&b);
	assert_true(trun_until(&T, &b.finished, 240000));
	if (b.failed)
		fail_msg("%d creates failed, first: %s", b.failed, b.first_err);
	uint64_t t1 = recap_now_mono_ms();
	int total = 0, pages = 0;
	char *cont = NULL;
	char last[64] = "";
	do {
		struct recap_kube_list_options o = {
		    .label_selector = "batch=b1", .limit = PAGE, .continue_token = cont};
		struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
		assert_int_equal(recap_kube_list(T.c, &T_CONFIGMAPS, NS, &o, recap_kube_sync_cb, &s, NULL),
				 0);
		json_t *list = must(RECAP_KUBE_OK, &s);
		json_t *items = json_object_get(list, "items");
		assert_true(json_array_size(items) <= PAGE);
		size_t i;
		json_t *it;
		json_array_foreach (items, i, it) {
			const char *name = recap_json_str(it, "metadata.name");
			assert_true(strcmp(name, last) > 0); /* pages are ordered, nothing repeats */
			snprintf(last, sizeof(last), "%s", name);
		}
		total += (int)json_array_size(items);
		pages++;
		free(cont);
		const char *c = recap_json_str(list, "metadata.continue");
		cont = c && *c ? strdup(c) : NULL;
		json_decref(list);
	} while (cont);
	assert_int_equal(total, OBJECTS);
	/* The last full page may still carry a token that yields an empty page. */
	assert_true(pages == OBJECTS / PAGE || pages == OBJECTS / PAGE + 1);
	print_message("created %d objects in %llu ms, listed in %d pages in %llu ms\n", OBJECTS,
		      (unsigned long long)(t1 - t0), pages, (unsigned long long)(recap_now_mono_ms() - t1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(crd_crud_and_status_subresource),
	    cmocka_unit_test(pagination_over_2000_objects),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

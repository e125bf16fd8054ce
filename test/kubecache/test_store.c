#include <errno.h>
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "kubecache/projection.h"
#include "kubecache/store.h"

static json_t *cm(const char *ns, const char *name, const char *rv, const char *labels)
{
	json_t *o =
	    json_pack("{s:{s:s,s:s,s:s}}", "metadata", "namespace", ns, "name", name, "resourceVersion", rv);
	assert_non_null(o);
	if (labels)
		json_object_set_new(json_object_get(o, "metadata"), "labels", json_loads(labels, 0, NULL));
	return o;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends key to the space-separated, sorted list in out (keys arrive in
 * hash order). */
static int collect(const char *key, json_t *obj, void *userdata)
{
	char *out = userdata;
	char *words[64];
	size_t n = 0;
	char copy[1024];
	snprintf(copy, sizeof(copy), "%s", out);
	for (char *save = NULL, *w = strtok_r(copy, " ", &save); w && n < 63; w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	words[n++] = (char *)key;
	qsort(words, n, sizeof(words[0]), cmp_str);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		strcat(out, words[i]);
		strcat(out, " ");
	}
	return 0;
}

static int node_index(json_t *obj, struct recap_kube_index_values *out, void *userdata)
{
	const char *node = recap_json_str(obj, "spec.nodeName");
	return node ? recap_kube_index_values_add(out, node) : 0;
}

static struct recap_kube_store *new_store(size_t max)
{
	struct recap_kube_store *s = NULL;
	assert_int_equal(recap_kube_store_new("configmaps", max, &s, NULL), 0);
	assert_int_equal(recap_kube_store_add_label_index(s, NULL), 0);
	assert_int_equal(recap_kube_store_add_index(s, "node", node_index, NULL, NULL), 0);
	return s;
}

static void put_get_delete_and_keys(void **state)
{
	struct recap_kube_store *s = new_store(0);
	json_t *old = (json_t *)1;
	assert_int_equal(recap_kube_store_put(s, cm("ns", "a", "1", NULL), &old, NULL), 0);
	assert_null(old);
	assert_int_equal(recap_kube_store_put(s, cm("ns", "a", "2", NULL), &old, NULL), 0);
	assert_string_equal(recap_json_str(old, "metadata.resourceVersion"), "1");
	json_decref(old);
	json_t *got = recap_kube_store_get(s, "ns/a");
	assert_string_equal(recap_json_str(got, "metadata.resourceVersion"), "2");
	json_decref(got);
	json_t *node = json_pack("{s:{s:s}}", "metadata", "name", "n1");
	assert_int_equal(recap_kube_store_put(s, node, NULL, NULL), 0);
	assert_true(recap_kube_store_contains(s, "n1"));
	struct recap_error *err = NULL;
	assert_int_equal(recap_kube_store_put(s, json_pack("{s:{}}", "metadata"), NULL, &err), -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "metadata.name"));
	recap_error_free(err);
	assert_int_equal(recap_kube_store_size(s), 2);
	assert_int_equal(recap_kube_store_delete(s, "ns/a", &old), 1);
	json_decref(old);
	assert_int_equal(recap_kube_store_delete(s, "ns/a", NULL), 0);
	assert_null(recap_kube_store_get(s, "ns/a"));
	assert_false(recap_kube_store_contains(s, "ns/a"));
	/* indexes cannot be added to a filled store */
	assert_int_equal(recap_kube_store_add_index(s, "late", node_index, NULL, NULL), -EBUSY);
	recap_kube_store_free(s);
}

static void limit_is_enforced(void **state)
{
	struct recap_kube_store *s = new_store(2);
	struct recap_error *err = NULL;
	assert_int_equal(recap_kube_store_put(s, cm("ns", "a", "1", NULL), NULL, NULL), 0);
	assert_int_equal(recap_kube_store_put(s, cm("ns", "b", "1", NULL), NULL, NULL), 0);
	assert_int_equal(recap_kube_store_put(s, cm("ns", "c", "1", "{\"x\":\"y\"}"), NULL, &err), -ENOBUFS);
	assert_string_equal(recap_error_message(err), "configmaps: full (2 objects), cannot add 'ns/c'");
	recap_error_free(err);
	/* nothing of the rejected object stayed in an index */
	char out[256] = "";
	assert_int_equal(recap_kube_store_by_index(s, "labels", "x=y", collect, out), 0);
	assert_string_equal(out, "");
	recap_kube_store_free(s);
}

static void indexes_follow_updates_and_deletes(void **state)
{
	struct recap_kube_store *s = new_store(0);
	json_t *p1 = cm("ns", "p1", "1", "{\"app\":\"web\",\"tier\":\"front\"}");
	json_object_set_new(p1, "spec", json_pack("{s:s}", "nodeName", "node-a"));
	json_t *p2 = cm("ns", "p2", "1", "{\"app\":\"web\"}");
	json_object_set_new(p2, "spec", json_pack("{s:s}", "nodeName", "node-b"));
	json_t *p3 = cm("other", "p3", "1", "{\"app\":\"db\"}");
	assert_int_equal(recap_kube_store_put(s, p1, NULL, NULL), 0);
	assert_int_equal(recap_kube_store_put(s, p2, NULL, NULL), 0);
	assert_int_equal(recap_kube_store_put(s, p3, NULL, NULL), 0);
	char out[256] = "";
	recap_kube_store_by_index(s, "labels", "app=web", collect, out);
	assert_string_equal(out, "ns/p1 ns/p2 ");
	out[0] = '\0';
	recap_kube_store_by_index(s, "node", "node-a", collect, out);
	assert_string_equal(out, "ns/p1 ");
	assert_int_equal(recap_kube_store_by_index(s, "nope", "x", collect, out), -ENOENT);

	/* p1 moves to node-b and changes app: the old index entries go */
	json_t *p1b = cm("ns", "p1", "2", "{\"app\":\"api\"}");
	json_object_set_new(p1b, "spec", json_pack("{s:s}", "nodeName", "node-b"));
	assert_int_equal(recap_kube_store_put(s, p1b, NULL, NULL), 0);
	out[0] = '\0';
	recap_kube_store_by_index(s, "node", "node-a", collect, out);
	assert_string_equal(out, "");
	recap_kube_store_by_index(s, "node", "node-b", collect, out);
	assert_string_equal(out, "ns/p1 ns/p2 ");
	out[0] = '\0';
	recap_kube_store_by_index(s, "labels", "app=web", collect, out);
	assert_string_equal(out, "ns/p2 ");
	recap_kube_store_delete(s, "ns/p2", NULL);
	out[0] = '\0';
	recap_kube_store_by_index(s, "labels", "app=web", collect, out);
	assert_string_equal(out, "");

	struct recap_kube_selector *sel = NULL;
	assert_int_equal(recap_kube_selector_parse("app in (api,db)", &sel, NULL), 0);
	out[0] = '\0';
	recap_kube_store_select(s, sel, collect, out);
	assert_string_equal(out, "ns/p1 other/p3 ");
	recap_kube_selector_free(sel);
	assert_int_equal(recap_kube_selector_parse("app=api,!tier", &sel, NULL), 0);
	out[0] = '\0';
	recap_kube_store_select(s, sel, collect, out);
	assert_string_equal(out, "ns/p1 ");
	recap_kube_selector_free(sel);
	recap_kube_store_free(s);
}

/* Without a label index select scans, with the same answer. */
static void select_without_label_index(void **state)
{
	struct recap_kube_store *s = NULL;
	assert_int_equal(recap_kube_store_new("plain", 0, &s, NULL), 0);
	recap_kube_store_put(s, cm("ns", "a", "1", "{\"app\":\"web\"}"), NULL, NULL);
	recap_kube_store_put(s, cm("ns", "b", "1", "{\"app\":\"db\"}"), NULL, NULL);
	recap_kube_store_put(s, cm("ns", "c", "1", NULL), NULL, NULL);
	struct recap_kube_selector *sel = NULL;
	assert_int_equal(recap_kube_selector_parse("app=web", &sel, NULL), 0);
	char out[256] = "";
	assert_int_equal(recap_kube_store_select(s, sel, collect, out), 0);
	assert_string_equal(out, "ns/a ");
	recap_kube_selector_free(sel);
	assert_int_equal(recap_kube_selector_parse("app!=web", &sel, NULL), 0);
	out[0] = '\0';
	recap_kube_store_select(s, sel, collect, out);
	assert_string_equal(out, "ns/b ns/c ");
	recap_kube_selector_free(sel);
	assert_int_equal(recap_kube_store_by_index(s, "labels", "app=web", collect, out), -ENOENT);
	recap_kube_store_free(s);
}

struct deltas {
	char log[1024];
};

static void on_added(json_t *obj, void *userdata)
{
	struct deltas *d = userdata;
	char line[128];
	snprintf(line, sizeof(line), "+%s ", recap_json_str(obj, "metadata.name"));
	strcat(d->log, line);
}

static void on_updated(json_t *old_obj, json_t *new_obj, void *userdata)
{
	struct deltas *d = userdata;
	char line[128];
	snprintf(line, sizeof(line), "~%s(%s>%s) ", recap_json_str(new_obj, "metadata.name"),
		 recap_json_str(old_obj, "metadata.resourceVersion"),
		 recap_json_str(new_obj, "metadata.resourceVersion"));
	strcat(d->log, line);
}

static void on_deleted(json_t *obj, void *userdata)
{
	struct deltas *d = userdata;
	char line[128];
	snprintf(line, sizeof(line), "-%s ", recap_json_str(obj, "metadata.name"));
	strcat(d->log, line);
}

static const struct recap_kube_store_delta_ops delta_ops = {
    .added = on_added,
    .updated = on_updated,
    .deleted = on_deleted,
};

/* The relist path: vanished objects are deleted, changed ones updated,
 * unchanged ones left alone, new ones added. */
static void replace_computes_deltas(void **state)
{
	struct recap_kube_store *s = new_store(0);
	recap_kube_store_put(s, cm("ns", "keep", "1", "{\"a\":\"1\"}"), NULL, NULL);
	recap_kube_store_put(s, cm("ns", "change", "1", "{\"a\":\"1\"}"), NULL, NULL);
	recap_kube_store_put(s, cm("ns", "gone", "1", "{\"a\":\"1\"}"), NULL, NULL);
	json_t *items = json_array();
	json_array_append_new(items, cm("ns", "keep", "1", "{\"a\":\"1\"}"));
	json_array_append_new(items, cm("ns", "change", "7", "{\"a\":\"2\"}"));
	json_array_append_new(items, cm("ns", "new", "8", "{\"a\":\"1\"}"));
	struct deltas d = {{0}};
	assert_int_equal(recap_kube_store_replace(s, items, &delta_ops, &d, NULL), 0);
	json_decref(items);
	assert_string_equal(d.log, "~change(1>7) +new -gone ");
	assert_int_equal(recap_kube_store_size(s), 3);
	assert_null(recap_kube_store_get(s, "ns/gone"));
	char out[256] = "";
	recap_kube_store_by_index(s, "labels", "a=1", collect, out);
	assert_string_equal(out, "ns/keep ns/new ");

	/* a relist with nothing deletes everything */
	items = json_array();
	d.log[0] = '\0';
	assert_int_equal(recap_kube_store_replace(s, items, &delta_ops, &d, NULL), 0);
	json_decref(items);
	assert_int_equal(strlen(d.log), strlen("-keep -change -new "));
	assert_int_equal(recap_kube_store_size(s), 0);
	struct recap_error *err = NULL;
	assert_int_equal(recap_kube_store_replace(s, NULL, &delta_ops, &d, &err), -EINVAL);
	recap_error_free(err);
	recap_kube_store_free(s);
}

static const char *full_pod =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-7d4b9c6f5-x2x8k\","
    "\"namespace\":\"default\",\"uid\":\"3f1c2a4e-8d2b-4b7a-9e55-1c2d3e4f5a6b\",\"resourceVersion\":"
    "\"123456\","
    "\"generateName\":\"web-7d4b9c6f5-\",\"creationTimestamp\":\"2026-11-23T13:46:08Z\","
    "\"labels\":{\"app\":\"web\",\"pod-template-hash\":\"7d4b9c6f5\"},"
    "\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\"2026-11-23T13:46:08Z\"},"
    "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"web-7d4b9c6f5\","
    "\"uid\":\"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\",\"controller\":true}],"
    "\"managedFields\":[{\"manager\":\"kube-controller-manager\",\"operation\":\"Update\","
    "\"fieldsV1\":{\"f:metadata\":{\"f:labels\":{}}}}]},"
    "\"spec\":{\"nodeName\":\"node-1\",\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.27\","
    "\"ports\":[{\"containerPort\":80}],\"resources\":{}},{\"name\":\"sidecar\",\"image\":\"busybox\"}],"
    "\"restartPolicy\":\"Always\",\"dnsPolicy\":\"ClusterFirst\",\"serviceAccountName\":\"default\"},"
    "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.12\",\"hostIP\":\"192.168.1.5\","
    "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],\"containerStatuses\":["
    "{\"name\":\"web\",\"ready\":true,\"restartCount\":0,\"image\":\"nginx:1.27\","
    "\"containerID\":\"containerd://0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"},"
    "{\"name\":\"sidecar\",\"ready\":true,\"restartCount\":0,"
    "\"containerID\":\"containerd://fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210\"}]}}";

/* What a controller that targets pods by label and container might keep. */
static const char *const pod_fields[] = {
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "metadata.labels",
    "metadata.resourceVersion",
    "spec.nodeName",
    "spec.containers[].name",
    "status.phase",
    "status.podIP",
    "status.containerStatuses[].name",
    "status.containerStatuses[].containerID",
};

static void pod_projection_keeps_only_what_is_needed(void **state)
{
	struct recap_kube_projection *p = NULL;
	assert_int_equal(recap_kube_projection_new(pod_fields, ARRAY_SIZE(pod_fields), &p, NULL), 0);
	json_t *pod = json_loads(full_pod, 0, NULL);
	assert_non_null(pod);
	json_t *small = recap_kube_projection_apply(p, pod);
	json_decref(pod);
	char *text = json_dumps(small, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(
	    text,
	    "{\"metadata\":{\"labels\":{\"app\":\"web\",\"pod-template-hash\":\"7d4b9c6f5\"},"
	    "\"name\":\"web-7d4b9c6f5-x2x8k\",\"namespace\":\"default\",\"resourceVersion\":\"123456\","
	    "\"uid\":\"3f1c2a4e-8d2b-4b7a-9e55-1c2d3e4f5a6b\"},\"spec\":{\"containers\":[{\"name\":\"web\"},"
	    "{\"name\":\"sidecar\"}],\"nodeName\":\"node-1\"},\"status\":{\"containerStatuses\":[{"
	    "\"containerID\":\"containerd://"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",\"name\":\"web\"},{"
	    "\"containerID\":\"containerd://"
	    "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210\",\"name\":\"sidecar\"}],"
	    "\"phase\":\"Running\",\"podIP\":\"10.0.0.12\"}}");
	free(text);
	json_decref(small);

	struct recap_error *err = NULL;
	const char *bad[] = {"spec.containers[x].name"};
	recap_kube_projection_free(p);
	p = NULL;
	assert_int_equal(recap_kube_projection_new(bad, 1, &p, &err), -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "spec.containers[x].name"));
	recap_error_free(err);
	err = NULL;
	const char *empty[] = {"a..b"};
	assert_int_equal(recap_kube_projection_new(empty, 1, &p, &err), -EINVAL);
	recap_error_free(err);
}

static int node_index_fn(json_t *obj, struct recap_kube_index_values *out, void *userdata)
{
	return node_index(obj, out, userdata);
}

/* The product goal: a projected pod costs at most 1 KiB in the cache,
 * indexes included. */
static void projected_pods_stay_under_one_kib(void **state)
{
	enum { N = 2000 };
	struct recap_kube_projection *p = NULL;
	assert_int_equal(recap_kube_projection_new(pod_fields, ARRAY_SIZE(pod_fields), &p, NULL), 0);
	struct recap_kube_store *s = NULL;
	assert_int_equal(recap_kube_store_new("pods", 0, &s, NULL), 0);
	assert_int_equal(recap_kube_store_add_label_index(s, NULL), 0);
	assert_int_equal(recap_kube_store_add_index(s, "node", node_index_fn, NULL, NULL), 0);
	json_t *pod = json_loads(full_pod, 0, NULL);
	for (int i = 0; i < N; i++) {
		char name[64], node[32];
		snprintf(name, sizeof(name), "web-7d4b9c6f5-%05d", i);
		snprintf(node, sizeof(node), "node-%d", i % 50);
		json_object_set_new(json_object_get(pod, "metadata"), "name", json_string(name));
		json_object_set_new(json_object_get(pod, "spec"), "nodeName", json_string(node));
		assert_int_equal(recap_kube_store_put(s, recap_kube_projection_apply(p, pod), NULL, NULL), 0);
	}
	json_decref(pod);
	size_t per_pod = recap_kube_store_footprint(s) / N;
	print_message("store footprint per projected pod: %zu bytes\n", per_pod);
	assert_true(per_pod <= 1024);
	assert_true(per_pod >= 400); /* the projected text alone is ~450 bytes */
	recap_kube_store_free(s);
	recap_kube_projection_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(put_get_delete_and_keys),
	    cmocka_unit_test(limit_is_enforced),
	    cmocka_unit_test(indexes_follow_updates_and_deletes),
	    cmocka_unit_test(select_without_label_index),
	    cmocka_unit_test(replace_computes_deltas),
	    cmocka_unit_test(pod_projection_keeps_only_what_is_needed),
	    cmocka_unit_test(projected_pods_stay_under_one_kib),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

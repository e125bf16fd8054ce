/* Informers against a real kube-apiserver (started by with-cluster.sh):
 * the store and a mirror kept only from handler calls both equal a fresh
 * list after bursts, after a 410 relist and after an API server restart;
 * the last two with list pages decoded through a projection as they
 * arrive (kubecache/list_decode.h). */
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
#include "kubecache/informer.h"
#include "kubecache/strmap.h"

static const struct recap_kube_resource PODTEMPLATES = {"", "v1", "podtemplates", true};

/* The controller manager publishes kube-root-ca.crt into every namespace,
 * at a moment of its choosing: keep it out of the counts. */
#define FIELD_SELECTOR "metadata.name!=kube-root-ca.crt"

static struct tclient T; /* the informer's loop */

/* What the decoded informers keep: what the mirror and the comparison read. */
static const char *const kept[] = {"metadata.name", "metadata.namespace", "metadata.resourceVersion",
				   "metadata.labels"};
static struct recap_kube_projection *kept_projection;
static struct tclient M; /* a second client that changes objects */

struct mirror {
	struct recap_kube_strmap *objs; /* key -> resourceVersion (strdup) */
	unsigned adds, updates, deletes, anomalies;
	bool synced;
	unsigned errors;
};

static char *key_of(json_t *obj)
{
	char *k = NULL;
	if (asprintf(&k, "%s/%s", recap_json_str(obj, "metadata.namespace"),
		     recap_json_str(obj, "metadata.name")) < 0)
		fail();
	return k;
}

static void on_added(struct recap_kube_informer *inf, json_t *obj, void *userdata)
{
	struct mirror *m = userdata;
	char *k = key_of(obj);
	void *old = NULL;
	if (recap_kube_strmap_put(m->objs, k, strdup(recap_json_str(obj, "metadata.resourceVersion")),
				  &old) == 0) {
		m->anomalies++; /* an add for an object already known */
		free(old);
	}
	free(k);
	m->adds++;
}

static void on_updated(struct recap_kube_informer *inf, json_t *old_obj, json_t *new_obj, void *userdata)
{
	struct mirror *m = userdata;
	char *k = key_of(new_obj);
	void *old = NULL;
	if (recap_kube_strmap_put(m->objs, k, strdup(recap_json_str(new_obj, "metadata.resourceVersion")),
				  &old) != 0)
		m->anomalies++; /* an update for an unknown object */
	else if (strcmp(old, recap_json_str(old_obj, "metadata.resourceVersion")) != 0)
		m->anomalies++; /* the old object is not what we were told last */
	free(old);
	free(k);
	m->updates++;
}

static void on_deleted(struct recap_kube_informer *inf, json_t *old_obj, void *userdata)
{
	struct mirror *m = userdata;
	char *k = key_of(old_obj);
	void *old = NULL;
	if (recap_kube_strmap_remove(m->objs, k, &old) == 0)
		m->anomalies++;
	free(old);
	free(k);
	m->deletes++;
}

static void on_synced(struct recap_kube_informer *inf, void *userdata)
{
	((struct mirror *)userdata)->synced = true;
}

static void on_error(struct recap_kube_informer *inf, const struct recap_error *err, void *userdata)
{
	((struct mirror *)userdata)->errors++;
	print_message("informer: %s\n", recap_error_message(err));
}

static const struct recap_kube_informer_handlers handlers = {
    .added = on_added,
    .updated = on_updated,
    .deleted = on_deleted,
    .synced = on_synced,
    .error = on_error,
};

static void mirror_free(struct mirror *m)
{
	recap_kube_strmap_free(m->objs, free);
}

static int setup(void **state)
{
	tclient_open(&T, NULL, NULL);
	tclient_open(&M, NULL, NULL);
	json_t *ns = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata",
			       "name", "inf");
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_create(M.c, &T_NAMESPACES, NULL, ns, recap_kube_sync_cb, &s, NULL), 0);
	json_decref(ns);
	return twait(&M, &s, NULL, NULL) == RECAP_KUBE_OK ? 0 : -1;
}

static int teardown(void **state)
{
	recap_kube_projection_free(kept_projection);
	tclient_close(&T);
	tclient_close(&M);
	return 0;
}

/* ---- changing objects through M ---- */

struct batch {
	unsigned pending, failed;
};

static void batch_cb(const struct recap_kube_response *resp, void *userdata)
{
	struct batch *b = userdata;
	b->pending--;
	if (resp->code != RECAP_KUBE_OK) {
		b->failed++;
		print_message("request failed: %s\n", recap_error_message(resp->err));
	}
}

/* Runs M's loop (and the informer's, unless frozen) until every request of
 * b has answered. */
static bool informer_frozen;

static void batch_wait(struct batch *b)
{
	for (int i = 0; b->pending > 0 && i < 60000; i++) {
		uv_run(&M.loop, UV_RUN_NOWAIT);
		if (!informer_frozen)
			uv_run(&T.loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	assert_int_equal(b->pending, 0);
	assert_int_equal(b->failed, 0);
}

static json_t *new_object(const struct recap_kube_resource *res, const char *name, const char *value)
{
	if (res == &PODTEMPLATES)
		return json_pack("{s:s,s:s,s:{s:s,s:{s:s}},s:{s:{s:{s:s}},s:{s:[{s:s,s:s}]}}}", "apiVersion",
				 "v1", "kind", "PodTemplate", "metadata", "name", name, "labels", "v", value,
				 "template", "metadata", "labels", "v", value, "spec", "containers", "name",
				 "c", "image", "busybox");
	return tconfigmap(name, "v", value);
}

static void create(struct batch *b, const struct recap_kube_resource *res, const char *ns, const char *name)
{
	json_t *o = new_object(res, name, "a");
	assert_int_equal(recap_kube_create(M.c, res, ns, o, batch_cb, b, NULL), 0);
	json_decref(o);
	b->pending++;
}

static void change(struct batch *b, const struct recap_kube_resource *res, const char *ns, const char *name,
		   const char *value)
{
	json_t *patch = res == &PODTEMPLATES ? json_pack("{s:{s:{s:s}}}", "metadata", "labels", "v", value)
					     : json_pack("{s:{s:s}}", "data", "v", value);
	assert_int_equal(recap_kube_patch(M.c, res, ns, name, NULL, RECAP_KUBE_PATCH_MERGE, patch, NULL,
					  batch_cb, b, NULL),
			 0);
	json_decref(patch);
	b->pending++;
}

static void delete (struct batch *b, const struct recap_kube_resource *res, const char *ns, const char *name)
{
	assert_int_equal(recap_kube_delete(M.c, res, ns, name, NULL, batch_cb, b, NULL), 0);
	b->pending++;
}

static void names(char *out, size_t size, const char *prefix, int i)
{
	snprintf(out, size, "%s-%03d", prefix, i);
}

/* ---- comparing with a fresh list ---- */

struct compare {
	struct recap_kube_strmap *truth; /* key -> resourceVersion (borrowed from the list) */
	size_t mismatches;
};

static int compare_store(const char *key, json_t *obj, void *userdata)
{
	struct compare *c = userdata;
	const char *rv = recap_kube_strmap_get(c->truth, key);
	if (!rv || strcmp(rv, recap_json_str(obj, "metadata.resourceVersion")) != 0)
		c->mismatches++;
	return 0;
}

/* True when the store and the mirror both equal a fresh list. */
static bool equals_fresh_list(struct recap_kube_informer *inf, struct mirror *m,
			      const struct recap_kube_resource *res, const char *ns)
{
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	struct recap_kube_list_options lo = {.field_selector = FIELD_SELECTOR};
	assert_int_equal(recap_kube_list(M.c, res, ns, &lo, recap_kube_sync_cb, &s, NULL), 0);
	json_t *list = NULL;
	assert_int_equal(twait(&M, &s, &list, NULL), RECAP_KUBE_OK);
	struct compare c = {.truth = recap_kube_strmap_new(0)};
	size_t i;
	json_t *item;
	json_array_foreach (json_object_get(list, "items"), i, item) {
		char *k = key_of(item);
		recap_kube_strmap_put(c.truth, k, (void *)recap_json_str(item, "metadata.resourceVersion"),
				      NULL);
		const char *mrv = recap_kube_strmap_get(m->objs, k);
		if (!mrv || strcmp(mrv, recap_kube_strmap_get(c.truth, k)) != 0)
			c.mismatches++;
		free(k);
	}
	struct recap_kube_store *st = recap_kube_informer_store(inf);
	recap_kube_store_foreach(st, compare_store, &c);
	size_t n = recap_kube_strmap_size(c.truth);
	bool same =
	    c.mismatches == 0 && recap_kube_store_size(st) == n && recap_kube_strmap_size(m->objs) == n;
	recap_kube_strmap_free(c.truth, NULL);
	json_decref(list);
	return same;
}

static bool converge(struct recap_kube_informer *inf, struct mirror *m, const struct recap_kube_resource *res,
		     const char *ns, uint64_t timeout_ms)
{
	bool never = false;
	for (uint64_t waited = 0; waited < timeout_ms; waited += 300) {
		trun_until(&T, &never, 300);
		if (equals_fresh_list(inf, m, res, ns))
			return true;
	}
	return false;
}

/* decoded: list pages are decoded through kept_projection as they arrive
 * (the controller's and caplet's informers), else parsed whole. */
static struct recap_kube_informer *start_informer(const struct recap_kube_resource *res, const char *ns,
						  struct mirror *m, bool decoded)
{
	if (decoded && !kept_projection)
		assert_int_equal(
		    recap_kube_projection_new(kept, sizeof(kept) / sizeof(kept[0]), &kept_projection, NULL),
		    0);
	struct recap_kube_informer_options o = {
	    .project = decoded ? recap_kube_informer_project : NULL,
	    .project_data = decoded ? kept_projection : NULL,
	    .list_projection = decoded ? kept_projection : NULL,
	    .ns = ns,
	    .field_selector = FIELD_SELECTOR,
	    .page_size = 7, /* several pages even for small sets */
	    .watch = {.backoff_min_ms = 200, .backoff_max_ms = 2000},
	    .relist_backoff_min_ms = 200,
	    .relist_backoff_max_ms = 2000,
	};
	m->objs = recap_kube_strmap_new(0);
	struct recap_kube_informer *inf = NULL;
	struct recap_error *err = NULL;
	if (recap_kube_informer_new(T.c, res, &o, &handlers, m, &inf, &err) < 0 ||
	    recap_kube_store_add_label_index(recap_kube_informer_store(inf), &err) < 0 ||
	    recap_kube_informer_start(inf, &err) < 0)
		fail_msg("informer: %s", recap_error_message(err));
	assert_true(trun_until(&T, &m->synced, 20000));
	assert_true(recap_kube_informer_synced(inf));
	return inf;
}

static void stop_informer(struct recap_kube_informer *inf, struct mirror *m)
{
	recap_kube_informer_free(inf);
	uv_run(&T.loop, UV_RUN_NOWAIT);
	mirror_free(m);
}

/* ---- tests ---- */

static void store_equals_list_after_bursts(void **state)
{
	char name[32];
	struct batch b = {0};
	for (int i = 0; i < 20; i++) {
		names(name, sizeof(name), "pre", i);
		create(&b, &T_CONFIGMAPS, "inf", name);
	}
	batch_wait(&b);
	struct mirror m = {0};
	struct recap_kube_informer *inf = start_informer(&T_CONFIGMAPS, "inf", &m, false);
	/* the first list may come from the watch cache, a moment behind */
	assert_true(converge(inf, &m, &T_CONFIGMAPS, "inf", 10000));
	assert_int_equal(m.adds, 20);
	assert_int_equal(recap_kube_store_size(recap_kube_informer_store(inf)), 20);

	for (int i = 0; i < 100; i++) {
		names(name, sizeof(name), "burst", i);
		create(&b, &T_CONFIGMAPS, "inf", name);
	}
	batch_wait(&b);
	for (int i = 0; i < 50; i++) {
		names(name, sizeof(name), "burst", i + 50);
		change(&b, &T_CONFIGMAPS, "inf", name, "b");
		if (i < 10) {
			names(name, sizeof(name), "pre", i);
			change(&b, &T_CONFIGMAPS, "inf", name, "b");
		}
	}
	for (int i = 0; i < 30; i++) {
		names(name, sizeof(name), "burst", i);
		delete (&b, &T_CONFIGMAPS, "inf", name);
		if (i < 5) {
			names(name, sizeof(name), "pre", i + 15);
			delete (&b, &T_CONFIGMAPS, "inf", name);
		}
	}
	batch_wait(&b);
	assert_true(converge(inf, &m, &T_CONFIGMAPS, "inf", 20000));
	assert_int_equal(recap_kube_store_size(recap_kube_informer_store(inf)), 85);
	assert_int_equal(m.anomalies, 0);
	assert_int_equal(m.deletes, 35);
	assert_true(m.updates >= 60);
	print_message("burst: %u adds, %u updates, %u deletes, %u lists\n", m.adds, m.updates, m.deletes,
		      recap_kube_informer_lists(inf));
	stop_informer(inf, &m);
}

/* Advances etcd's revision and waits out the compaction interval (1 s), so
 * every revision before now is compacted. */
static void churn_and_compact(void)
{
	struct batch b = {0};
	char v[16];
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 10; i++) {
			snprintf(v, sizeof(v), "c%d", round * 10 + i);
			change(&b, &T_CONFIGMAPS, "inf", "churn", v);
			batch_wait(&b);
		}
		usleep(1200 * 1000);
	}
}

/* The informer misses changes while the API server is down; its watch then
 * resumes from a compacted version (podtemplates have no watch cache), gets
 * 410 Gone and relists: the vanished objects come as deletes. */
static void relist_after_410_reports_the_difference(void **state)
{
	char name[32];
	struct batch b = {0};
	create(&b, &T_CONFIGMAPS, "inf", "churn");
	for (int i = 0; i < 10; i++) {
		names(name, sizeof(name), "tpl", i);
		create(&b, &PODTEMPLATES, "inf", name);
	}
	batch_wait(&b);
	struct mirror m = {0};
	struct recap_kube_informer *inf = start_informer(&PODTEMPLATES, "inf", &m, true);
	assert_int_equal(m.adds, 10);
	/* from here on the informer's loop does not run until converge() */
	informer_frozen = true;
	tcluster("stop-apiserver");
	tcluster("start-apiserver");
	for (int i = 0; i < 4; i++) {
		names(name, sizeof(name), "tpl", i);
		delete (&b, &PODTEMPLATES, "inf", name);
	}
	for (int i = 4; i < 7; i++) {
		names(name, sizeof(name), "tpl", i);
		change(&b, &PODTEMPLATES, "inf", name, "b");
	}
	for (int i = 10; i < 15; i++) {
		names(name, sizeof(name), "tpl", i);
		create(&b, &PODTEMPLATES, "inf", name);
	}
	batch_wait(&b);
	churn_and_compact();
	informer_frozen = false;
	unsigned before = recap_kube_informer_lists(inf);
	assert_true(converge(inf, &m, &PODTEMPLATES, "inf", 30000));
	assert_true(recap_kube_informer_lists(inf) > before);
	assert_int_equal(m.anomalies, 0);
	assert_int_equal(m.deletes, 4);
	assert_int_equal(m.adds, 15);
	assert_int_equal(m.updates, 3);
	assert_int_equal(recap_kube_store_size(recap_kube_informer_store(inf)), 11);
	stop_informer(inf, &m);
}

static void converges_across_an_api_server_restart(void **state)
{
	char name[32];
	struct batch b = {0};
	struct mirror m = {0};
	struct recap_kube_informer *inf = start_informer(&T_CONFIGMAPS, "inf", &m, true);
	for (int i = 0; i < 30; i++) {
		names(name, sizeof(name), "rs", i);
		create(&b, &T_CONFIGMAPS, "inf", name);
	}
	batch_wait(&b);
	tcluster("stop-apiserver");
	bool never = false;
	trun_until(&T, &never, 1500); /* the watch fails and retries */
	unsigned errors = m.errors;
	tcluster("start-apiserver");
	for (int i = 0; i < 10; i++) {
		names(name, sizeof(name), "rs", i);
		delete (&b, &T_CONFIGMAPS, "inf", name);
		names(name, sizeof(name), "rs", i + 10);
		change(&b, &T_CONFIGMAPS, "inf", name, "after");
		names(name, sizeof(name), "rs", i + 30);
		create(&b, &T_CONFIGMAPS, "inf", name);
	}
	batch_wait(&b);
	assert_true(converge(inf, &m, &T_CONFIGMAPS, "inf", 30000));
	assert_true(errors > 0);
	assert_int_equal(m.anomalies, 0);
	stop_informer(inf, &m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(store_equals_list_after_bursts),
	    cmocka_unit_test(relist_after_410_reports_the_difference),
	    cmocka_unit_test(converges_across_an_api_server_restart),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

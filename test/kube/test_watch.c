/* Watches against a real kube-apiserver: order, bookmarks, 410 Gone after
 * compaction, and an API server killed and restarted mid-watch. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/json.h"
#include "helpers.h"

#define NS "watched"
#define MAX_EVENTS 256

static struct tclient T;
static const struct recap_kube_resource PODTEMPLATES = {"", "v1", "podtemplates", true};

struct rec {
	int n;
	char type[MAX_EVENTS][12];
	char name[MAX_EVENTS][64];
	unsigned long long rv[MAX_EVENTS];
	int bookmarks, retrying, connected;
	bool gone, want_done;
	int want; /* events (not bookmarks) to wait for */
	char last_err[512];
};

static void on_watch(struct recap_kube_watch *w, enum recap_kube_watch_note note,
		     const struct recap_kube_watch_event *ev, const struct recap_error *err, void *userdata)
{
	struct rec *r = userdata;
	switch (note) {
	case RECAP_KUBE_WATCH_CONNECTED:
		r->connected++;
		break;
	case RECAP_KUBE_WATCH_RETRYING:
		r->retrying++;
		snprintf(r->last_err, sizeof(r->last_err), "%s", recap_error_message(err));
		break;
	case RECAP_KUBE_WATCH_GONE:
		r->gone = true;
		snprintf(r->last_err, sizeof(r->last_err), "%s", recap_error_message(err));
		break;
	case RECAP_KUBE_WATCH_EVENT:
		assert_true(r->n < MAX_EVENTS);
		if (ev->type == RECAP_KUBE_WATCH_BOOKMARK)
			r->bookmarks++;
		snprintf(r->type[r->n], 12, "%s", recap_kube_watch_type_name(ev->type));
		const char *name = recap_json_str(ev->object, "metadata.name");
		snprintf(r->name[r->n], 64, "%s", name ? name : "");
		r->rv[r->n] = strtoull(ev->resource_version, NULL, 10);
		r->n++;
		if (ev->type != RECAP_KUBE_WATCH_BOOKMARK && r->n - r->bookmarks >= r->want)
			r->want_done = true;
		break;
	}
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

static json_t *create_cm(const char *ns, const char *name, const char *v)
{
	json_t *cm = tconfigmap(name, "k", v);
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_create(T.c, &T_CONFIGMAPS, ns, cm, recap_kube_sync_cb, &s, NULL), 0);
	json_decref(cm);
	return must(RECAP_KUBE_OK, &s);
}

static char *list_rv(const struct recap_kube_resource *res, const char *ns)
{
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_list(T.c, res, ns, NULL, recap_kube_sync_cb, &s, NULL), 0);
	json_t *list = must(RECAP_KUBE_OK, &s);
	char *rv = strdup(recap_json_str(list, "metadata.resourceVersion"));
	json_decref(list);
	return rv;
}

static void create_ns(const char *name)
{
	json_t *ns = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata",
			       "name", name);
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_create(T.c, &T_NAMESPACES, NULL, ns, recap_kube_sync_cb, &s, NULL), 0);
	json_decref(ns);
	json_decref(must(RECAP_KUBE_OK, &s));
}

/* kube-controller-manager publishes kube-root-ca.crt into every new
 * namespace; wait for it, so that its ADDED cannot land inside a watch that a
 * test starts right after. */
static void wait_root_ca(const char *ns)
{
	for (int i = 0; i < 300; i++) {
		struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
		assert_int_equal(recap_kube_get(T.c, &T_CONFIGMAPS, ns, "kube-root-ca.crt", NULL,
						recap_kube_sync_cb, &s, NULL),
				 0);
		json_t *obj = NULL;
		if (recap_kube_sync_wait(T.c, &s, &obj, NULL) >= 0) {
			json_decref(obj);
			return;
		}
		usleep(100 * 1000);
	}
	fail_msg("kube-root-ca.crt never appeared in namespace %s", ns);
}

static int setup(void **state)
{
	tclient_open(&T, NULL, NULL);
	create_ns(NS);
	wait_root_ca(NS);
	create_ns("elsewhere");
	return 0;
}

static int teardown(void **state)
{
	tclient_close(&T);
	return 0;
}

static struct recap_kube_watch *start(const struct recap_kube_resource *res, const char *ns, const char *rv,
				      struct recap_kube_watch_options *o, struct rec *r)
{
	struct recap_kube_watch_options def = {.allow_bookmarks = true};
	if (!o)
		o = &def;
	o->resource_version = rv;
	struct recap_kube_watch *w = NULL;
	struct recap_error *err = NULL;
	if (recap_kube_watch_start(T.c, res, ns, o, on_watch, r, &w, &err) < 0)
		fail_msg("watch: %s", recap_error_message(err));
	return w;
}

static void events_arrive_in_order(void **state)
{
	char *rv = list_rv(&T_CONFIGMAPS, NS);
	struct rec r = {.want = 21};
	struct recap_kube_watch *w = start(&T_CONFIGMAPS, NS, rv, NULL, &r);
	json_t *cm = create_cm(NS, "ordered", "0");
	for (int i = 1; i <= 19; i++) {
		char v[16];
		snprintf(v, sizeof(v), "%d", i);
		json_object_set_new(json_object_get(cm, "data"), "k", json_string(v));
		struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
		assert_int_equal(
		    recap_kube_update(T.c, &T_CONFIGMAPS, NS, cm, NULL, recap_kube_sync_cb, &s, NULL), 0);
		json_decref(cm);
		cm = must(RECAP_KUBE_OK, &s);
	}
	json_decref(cm);
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(
	    recap_kube_delete(T.c, &T_CONFIGMAPS, NS, "ordered", NULL, recap_kube_sync_cb, &s, NULL), 0);
	json_decref(must(RECAP_KUBE_OK, &s));
	assert_true(trun_until(&T, &r.want_done, 10000));
	int k = 0;
	for (int i = 0; i < r.n; i++) {
		if (strcmp(r.type[i], "BOOKMARK") == 0)
			continue;
		const char *want = k == 0 ? "ADDED" : k == 20 ? "DELETED" : "MODIFIED";
		assert_string_equal(r.type[i], want);
		assert_string_equal(r.name[i], "ordered");
		if (i > 0)
			assert_true(r.rv[i] > r.rv[i - 1]);
		k++;
	}
	assert_int_equal(k, 21);
	assert_true(r.connected >= 1);
	recap_kube_watch_stop(w);
	free(rv);
}

static void bookmarks_advance_resource_version(void **state)
{
	char *rv = list_rv(&T_CONFIGMAPS, NS);
	struct rec r = {0};
	/* The server sends a bookmark shortly before a watch's timeout. */
	struct recap_kube_watch_options o = {.allow_bookmarks = true, .timeout_min_s = 4, .timeout_max_s = 4};
	struct recap_kube_watch *w = start(&T_CONFIGMAPS, NS, rv, &o, &r);
	/* Changes elsewhere move the global revision but send this watch nothing. */
	json_t *other = create_cm("elsewhere", "bm", "x");
	unsigned long long other_rv = strtoull(recap_json_str(other, "metadata.resourceVersion"), NULL, 10);
	json_decref(other);
	bool got = false;
	/* one bookmark a watch, each 4 s long: several chances, and room for
	 * an API server slowed by the suites running beside this one */
	for (int i = 0; i < 300 && !got; i++) {
		bool never = false;
		trun_until(&T, &never, 100);
		got = r.bookmarks > 0 && r.rv[r.n - 1] >= other_rv;
	}
	assert_true(got);
	assert_string_equal(r.type[r.n - 1], "BOOKMARK");
	assert_true(strtoull(recap_kube_watch_resource_version(w), NULL, 10) >= other_rv);
	assert_true(strtoull(recap_kube_watch_resource_version(w), NULL, 10) > strtoull(rv, NULL, 10));
	recap_kube_watch_stop(w);
	free(rv);
}

static void compacted_resource_version_is_gone(void **state)
{
	/* podtemplates have no watch cache in this cluster: the watch goes to
	 * etcd, which compacts every second. */
	char *old = list_rv(&PODTEMPLATES, NS);
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "moved%d", i);
		json_decref(create_cm(NS, name, "x"));
	}
	sleep(4);
	struct rec r = {0};
	struct recap_kube_watch *w = start(&PODTEMPLATES, NS, old, NULL, &r);
	assert_true(trun_until(&T, &r.gone, 10000));
	assert_int_equal(r.n, 0);
	if (!strstr(r.last_err, "410"))
		fail_msg("no 410 in '%s'", r.last_err);
	recap_kube_watch_stop(w);
	free(old);
}

static void apiserver_restart_mid_watch_resumes(void **state)
{
	char *rv = list_rv(&T_CONFIGMAPS, NS);
	struct rec r = {.want = 1};
	/* The default backoff (to 30 s) would only make the test slower. */
	struct recap_kube_watch_options o = {.allow_bookmarks = true, .backoff_max_ms = 3000};
	struct recap_kube_watch *w = start(&T_CONFIGMAPS, NS, rv, &o, &r);
	json_decref(create_cm(NS, "before", "1"));
	assert_true(trun_until(&T, &r.want_done, 10000));
	tcluster("stop-apiserver");
	bool never = false;
	trun_until(&T, &never, 1000);
	assert_true(r.retrying >= 1);
	tcluster("start-apiserver");
	r.want = r.n - r.bookmarks + 1;
	r.want_done = false;
	json_decref(create_cm(NS, "after", "1"));
	/* Either the watch resumes from its resourceVersion, or the restarted
	 * server's watch cache starts after it and says Gone: then, as an
	 * informer does, list afresh and watch from there. */
	for (int attempt = 1; !trun_until(&T, &r.want_done, 30000); attempt++) {
		if (attempt > 3)
			fail_msg("still no event after %d relists: %d events, %d retries, last error: %s",
				 attempt - 1, r.n, r.retrying, r.last_err);
		if (!r.gone)
			fail_msg(
			    "no event after the restart: %d events, %d retries, %d connects, last error: %s",
			    r.n, r.retrying, r.connected, r.last_err);
		recap_kube_watch_stop(w);
		free(rv);
		rv = list_rv(&T_CONFIGMAPS, NS);
		r.gone = false;
		w = start(&T_CONFIGMAPS, NS, rv, &o, &r);
		json_decref(create_cm(NS, "after-relist", "1"));
	}
	assert_true(strncmp(r.name[r.n - 1], "after", 5) == 0);
	assert_string_equal(r.type[r.n - 1], "ADDED");
	assert_true(r.connected >= 2);
	recap_kube_watch_stop(w);
	free(rv);
}

/* Established TCP connections from this process to the API server. */
static int connections_to_apiserver(void)
{
	const char *port_s = getenv("RECAP_APISERVER_PORT");
	assert_non_null(port_s);
	unsigned port = (unsigned)atoi(port_s);
	/* Socket inodes this process holds. */
	unsigned long inodes[256];
	int n_inodes = 0;
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d)) && n_inodes < 256;) {
		char link[300], target[64];
		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		ssize_t len = readlink(link, target, sizeof(target) - 1);
		if (len > 0 && (target[len] = '\0', sscanf(target, "socket:[%lu]", &inodes[n_inodes]) == 1))
			n_inodes++;
	}
	closedir(d);
	FILE *f = fopen("/proc/net/tcp", "re");
	assert_non_null(f);
	char line[512];
	int count = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned rport, st;
		unsigned long inode;
		if (sscanf(line, " %*d: %*x:%*x %*x:%x %x %*x:%*x %*x:%*x %*x %*u %*u %lu", &rport, &st,
			   &inode) != 3)
			continue;
		for (int i = 0; i < n_inodes; i++)
			count += rport == port && st == 1 /* ESTABLISHED */ && inode == inodes[i];
	}
	fclose(f);
	return count;
}

static void watches_share_one_http2_connection(void **state)
{
	int before = connections_to_apiserver(); /* the shared client's */
	struct tclient t;			 /* a fresh client: no connection yet */
	tclient_open(&t, NULL, NULL);
	struct rec r[12] = {0};
	struct recap_kube_watch *w[12];
	for (int i = 0; i < 12; i++) {
		struct recap_kube_watch_options o = {0};
		assert_int_equal(recap_kube_watch_start(t.c, &T_CONFIGMAPS, i % 2 ? NS : "elsewhere", &o,
							on_watch, &r[i], &w[i], NULL),
				 0);
	}
	bool all = false;
	for (int k = 0; k < 100 && !all; k++) {
		bool never = false;
		trun_until(&t, &never, 100);
		all = true;
		for (int i = 0; i < 12; i++)
			all &= r[i].connected > 0;
	}
	assert_true(all);
#ifdef RECAP_KUBE_LEAN
	/* HTTP/1.1: each watch holds a connection of its own. */
	assert_int_equal(connections_to_apiserver() - before, 12);
#else
	assert_int_equal(connections_to_apiserver() - before, 1);
#endif
	for (int i = 0; i < 12; i++)
		recap_kube_watch_stop(w[i]);
	tclient_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(events_arrive_in_order),
	    cmocka_unit_test(watches_share_one_http2_connection),
	    cmocka_unit_test(bookmarks_advance_resource_version),
	    cmocka_unit_test(compacted_resource_version_is_gone),
	    cmocka_unit_test(apiserver_restart_mid_watch_resumes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* Informer measurements against a running API server ($KUBECONFIG):
 *
 *   bench-informer create NS N        create N pods (Pending: no node runs them)
 *   bench-informer sync NS [--full|--tree]   pod informer: time to sync, memory per pod
 *     (--full: whole objects; --tree: projected, but every page parsed whole first)
 *   bench-informer latency NS N       create -> added handler, N ConfigMaps
 *
 * Results are one JSON object per line on stdout.
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/json.h"
#include "base/timeutil.h"
#include "controller/causes.h"
#include "kube/client.h"
#include "kubecache/informer.h"
#include "kubecache/projection.h"
#include "kubecache/strmap.h"

static const struct recap_kube_resource PODS = {"", "v1", "pods", true};
static const struct recap_kube_resource CONFIGMAPS = {"", "v1", "configmaps", true};

static uv_loop_t loop;
static struct recap_kube_client *client;

static void die(const char *what, struct recap_error *err)
{
	fprintf(stderr, "bench-informer: %s: %s\n", what, err ? recap_error_message(err) : "failed");
	exit(1);
}

static void open_client(double qps)
{
	struct recap_kube_config *cfg = NULL;
	struct recap_error *err = NULL;
	if (uv_loop_init(&loop) < 0)
		die("loop", NULL);
	if (recap_kube_config_load(NULL, NULL, &cfg, &err) < 0)
		die("kubeconfig", err);
	struct recap_kube_client_options o = {.qps = qps, .burst = 100};
	if (recap_kube_client_new(&loop, cfg, &o, &client, &err) < 0)
		die("client", err);
	recap_kube_config_free(cfg);
}

static void close_client(void)
{
	recap_kube_client_close(client);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
}

static long rss_bytes(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "re");
	if (!f || fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = 0;
	if (f)
		fclose(f);
	return resident * sysconf(_SC_PAGESIZE);
}

/* ---- create ---- */

struct creating {
	unsigned pending, failed, next, total;
	const char *ns;
};

static void send_pod(struct creating *c);

static void pod_created(const struct recap_kube_response *resp, void *userdata)
{
	struct creating *c = userdata;
	c->pending--;
	if (resp->code != RECAP_KUBE_OK && resp->code != RECAP_KUBE_ERR_ALREADY_EXISTS) {
		if (c->failed++ < 5)
			fprintf(stderr, "create: %s\n", recap_error_message(resp->err));
	}
	send_pod(c);
}

static void send_pod(struct creating *c)
{
	if (c->next >= c->total)
		return;
	char name[64], hash[16];
	snprintf(name, sizeof(name), "web-7d4b9c6f5-%06u", c->next);
	snprintf(hash, sizeof(hash), "h%u", c->next % 100);
	json_t *pod =
	    json_pack("{s:s, s:s, s:{s:s, s:{s:s, s:s}, s:{s:s}}, s:{s:[{s:s, s:s, s:[{s:i}], "
		      "s:{s:{s:s, s:s}}}], s:b}}",
		      "apiVersion", "v1", "kind", "Pod", "metadata", "name", name, "labels", "app", "web",
		      "pod-template-hash", hash, "annotations", "bench.recap.dev/note",
		      "a pod that stays Pending", "spec", "containers", "name", "web", "image",
		      "registry.example/web:1.27", "ports", "containerPort", 8080, "resources", "requests",
		      "cpu", "10m", "memory", "16Mi", "automountServiceAccountToken", 0);
	struct recap_error *err = NULL;
	if (recap_kube_create(client, &PODS, c->ns, pod, pod_created, c, &err) < 0)
		die("create", err);
	json_decref(pod);
	c->next++;
	c->pending++;
}

static int cmd_create(const char *ns, unsigned n)
{
	open_client(-1);
	struct creating c = {.total = n, .ns = ns};
	uint64_t t0 = recap_now_mono_ms();
	for (int i = 0; i < 64; i++) /* 64 calls in flight */
		send_pod(&c);
	while (c.pending > 0)
		uv_run(&loop, UV_RUN_ONCE);
	printf("{\"created\":%u,\"failed\":%u,\"ms\":%" PRIu64 "}\n", n - c.failed, c.failed,
	       recap_now_mono_ms() - t0);
	close_client();
	return c.failed ? 1 : 0;
}

/* ---- sync ---- */

static uint64_t synced_at_ms;

/* Timed here: after the callback the client still frees the list response. */
static void on_synced(struct recap_kube_informer *inf, void *userdata)
{
	synced_at_ms = recap_now_mono_ms();
	*(bool *)userdata = true;
}

static void on_error(struct recap_kube_informer *inf, const struct recap_error *err, void *userdata)
{
	fprintf(stderr, "informer: %s\n", recap_error_message(err));
}

static int node_index(json_t *obj, struct recap_kube_index_values *out, void *userdata)
{
	const char *node = recap_json_str(obj, "spec.nodeName");
	return node ? recap_kube_index_values_add(out, node) : 0;
}

static int cmd_sync(const char *ns, const char *mode)
{
	bool full = strcmp(mode, "--full") == 0, tree = strcmp(mode, "--tree") == 0;
	if (*mode && !full && !tree) {
		fprintf(stderr, "bench-informer sync: unknown option %s\n", mode);
		return 2;
	}
	open_client(0);
	struct recap_kube_projection *proj = NULL;
	struct recap_error *err = NULL;
	if (recap_kube_projection_new(recap_controller_pod_projection, RECAP_CONTROLLER_POD_PROJECTION_LEN,
				      &proj, &err) < 0)
		die("projection", err);
	bool synced = false;
	struct recap_kube_informer_handlers h = {.synced = on_synced, .error = on_error};
	struct recap_kube_informer_options o = {
	    .ns = *ns ? ns : NULL,
	    .project = full ? NULL : recap_controller_pod_project,
	    .project_data = proj,
	    .list_projection = full || tree ? NULL : proj,
	};
	struct recap_kube_informer *inf = NULL;
	malloc_trim(0);
	long rss0 = rss_bytes();
	size_t heap0 = mallinfo2().uordblks;
	if (recap_kube_informer_new(client, &PODS, &o, &h, &synced, &inf, &err) < 0 ||
	    recap_kube_store_add_label_index(recap_kube_informer_store(inf), &err) < 0 ||
	    recap_kube_store_add_index(recap_kube_informer_store(inf), "node", node_index, NULL, &err) < 0)
		die("informer", err);
	uint64_t t0 = recap_now_mono_ms();
	if (recap_kube_informer_start(inf, &err) < 0)
		die("informer", err);
	while (!synced)
		uv_run(&loop, UV_RUN_ONCE);
	uint64_t sync_ms = synced_at_ms - t0;
	malloc_trim(0);
	long rss1 = rss_bytes();
	size_t heap1 = mallinfo2().uordblks;
	size_t n = recap_kube_store_size(recap_kube_informer_store(inf));
	printf("{\"client\":\"recap%s\",\"pods\":%zu,\"sync_ms\":%" PRIu64
	       ",\"rss_delta_bytes\":%ld,\"rss_per_pod\":%ld,\"heap_per_pod\":%zu,\"store_per_pod\":%zu}\n",
	       full   ? " (no projection)"
	       : tree ? " (pages parsed whole)"
		      : "",
	       n, sync_ms, rss1 - rss0, n ? (rss1 - rss0) / (long)n : 0, n ? (heap1 - heap0) / n : 0,
	       n ? recap_kube_store_footprint(recap_kube_informer_store(inf)) / n : 0);
	recap_kube_informer_free(inf);
	recap_kube_projection_free(proj);
	close_client();
	return 0;
}

/* ---- latency ---- */

struct latency {
	struct recap_kube_strmap *sent; /* name -> send time (µs, in the pointer) */
	uint64_t *lat_us;
	unsigned n, seen, next, failed;
	const char *ns;
	bool synced;
};

static void send_cm(struct latency *l);

static void cm_created(const struct recap_kube_response *resp, void *userdata)
{
	struct latency *l = userdata;
	if (resp->code != RECAP_KUBE_OK) {
		l->failed++;
		fprintf(stderr, "bench-informer latency: create: %s\n", recap_error_message(resp->err));
	}
	send_cm(l);
}

static void send_cm(struct latency *l)
{
	if (l->next >= l->n)
		return;
	char name[32];
	snprintf(name, sizeof(name), "lat-%05u", l->next++);
	json_t *cm = json_pack("{s:s, s:s, s:{s:s}, s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
			       "metadata", "name", name, "data", "k", "v");
	recap_kube_strmap_put(l->sent, name, (void *)(uintptr_t)(recap_now_mono_ns() / 1000), NULL);
	struct recap_error *err = NULL;
	if (recap_kube_create(client, &CONFIGMAPS, l->ns, cm, cm_created, l, &err) < 0)
		die("create", err);
	json_decref(cm);
}

static void cm_added(struct recap_kube_informer *inf, json_t *obj, void *userdata)
{
	struct latency *l = userdata;
	const char *name = recap_json_str(obj, "metadata.name");
	void *sent = NULL;
	if (!l->synced || !name || recap_kube_strmap_remove(l->sent, name, &sent) == 0)
		return;
	l->lat_us[l->seen++] = recap_now_mono_ns() / 1000 - (uintptr_t)sent;
}

static void lat_synced(struct recap_kube_informer *inf, void *userdata)
{
	((struct latency *)userdata)->synced = true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmd_latency(const char *ns, unsigned n)
{
	open_client(-1);
	struct latency l = {
	    .n = n, .ns = ns, .sent = recap_kube_strmap_new(0), .lat_us = calloc(n, sizeof(uint64_t))};
	struct recap_kube_informer_handlers h = {.added = cm_added, .synced = lat_synced, .error = on_error};
	struct recap_kube_informer_options o = {.ns = ns};
	struct recap_kube_informer *inf = NULL;
	struct recap_error *err = NULL;
	if (recap_kube_informer_new(client, &CONFIGMAPS, &o, &h, &l, &inf, &err) < 0 ||
	    recap_kube_informer_start(inf, &err) < 0)
		die("informer", err);
	while (!l.synced)
		uv_run(&loop, UV_RUN_ONCE);
	send_cm(&l); /* one create in flight at a time */
	while (l.seen + l.failed < n)
		uv_run(&loop, UV_RUN_ONCE);
	qsort(l.lat_us, l.seen, sizeof(uint64_t), cmp_u64);
	printf("{\"client\":\"recap\",\"objects\":%u,\"p50_us\":%" PRIu64 ",\"p99_us\":%" PRIu64
	       ",\"max_us\":%" PRIu64 "}\n",
	       l.seen, l.seen ? l.lat_us[l.seen / 2] : 0, l.seen ? l.lat_us[l.seen * 99 / 100] : 0,
	       l.seen ? l.lat_us[l.seen - 1] : 0);
	recap_kube_informer_free(inf);
	close_client();
	recap_kube_strmap_free(l.sent, NULL);
	free(l.lat_us);
	return l.failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "create") == 0)
		return cmd_create(argv[2], (unsigned)strtoul(argv[3], NULL, 10));
	if (argc >= 3 && strcmp(argv[1], "sync") == 0)
		return cmd_sync(argv[2], argc >= 4 ? argv[3] : "");
	if (argc >= 4 && strcmp(argv[1], "latency") == 0)
		return cmd_latency(argv[2], (unsigned)strtoul(argv[3], NULL, 10));
	fprintf(stderr, "usage: bench-informer create NS N | sync NS [--full|--tree] | latency NS N\n");
	return 2;
}

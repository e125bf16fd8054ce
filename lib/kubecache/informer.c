#include "kubecache/informer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/backoff.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "kubecache/list_decode.h"

#define DEFAULT_MAX_OBJECTS 1000000
#define DEFAULT_PAGE_SIZE 500
/* Nothing of a decoded page is held: bigger pages only save round trips.
 * 2,000 pods of 32 KiB each still fit the client's 64 MiB answer limit. */
#define DEFAULT_DECODED_PAGE_SIZE 2000
#define DEFAULT_BACKOFF_MIN_MS 1000
#define DEFAULT_BACKOFF_MAX_MS 30000

struct recap_kube_informer {
	struct recap_kube_client *c;
	char *group, *version, *resource;
	struct recap_kube_resource res;
	char *name, *ns, *label_selector, *field_selector;
	struct recap_kube_informer_options o;
	struct recap_kube_informer_handlers h;
	void *userdata;
	struct recap_kube_store *store;
	struct recap_kube_store_relist *relist;
	struct recap_kube_list_sink sink; /* list pages decoded through o.list_projection */
	struct recap_kube_watch *watch;
	char *list_rv;
	uv_timer_t timer;
	unsigned failures;
	unsigned lists;
	bool synced;
	bool started;
	bool list_pending; /* a list request is in flight: its callback will come */
	bool busy;	   /* inside a callback from the client */
	bool freed;
	bool timer_closed;
};

json_t *recap_kube_informer_project(json_t *obj, void *projection)
{
	return recap_kube_projection_apply(projection, obj);
}

static void destroy(struct recap_kube_informer *inf)
{
	recap_kube_store_relist_abort(inf->relist);
	recap_kube_store_free(inf->store);
	free(inf->list_rv);
	free(inf->group);
	free(inf->version);
	free(inf->resource);
	free(inf->name);
	free(inf->ns);
	free(inf->label_selector);
	free(inf->field_selector);
	free(inf);
}

static void maybe_destroy(struct recap_kube_informer *inf)
{
	if (inf->freed && !inf->busy && !inf->list_pending && inf->timer_closed)
		destroy(inf);
}

static void on_timer_closed(uv_handle_t *h)
{
	struct recap_kube_informer *inf = h->data;
	inf->timer_closed = true;
	maybe_destroy(inf);
}

void recap_kube_informer_free(struct recap_kube_informer *inf)
{
	if (!inf || inf->freed)
		return;
	inf->freed = true;
	recap_kube_watch_stop(inf->watch);
	inf->watch = NULL;
	uv_close((uv_handle_t *)&inf->timer, on_timer_closed);
}

struct recap_kube_store *recap_kube_informer_store(struct recap_kube_informer *inf)
{
	return inf->store;
}

bool recap_kube_informer_synced(const struct recap_kube_informer *inf)
{
	return inf->synced;
}

unsigned recap_kube_informer_lists(const struct recap_kube_informer *inf)
{
	return inf->lists;
}

static void report(struct recap_kube_informer *inf, const struct recap_error *err)
{
	if (inf->h.error && !inf->freed)
		inf->h.error(inf, err, inf->userdata);
}

/* ---- store deltas -> handlers ---- */

static void delta_added(json_t *obj, void *userdata)
{
	struct recap_kube_informer *inf = userdata;
	if (inf->h.added && !inf->freed)
		inf->h.added(inf, obj, inf->userdata);
}

static void delta_updated(json_t *old_obj, json_t *new_obj, void *userdata)
{
	struct recap_kube_informer *inf = userdata;
	if (inf->h.updated && !inf->freed)
		inf->h.updated(inf, old_obj, new_obj, inf->userdata);
}

static void delta_deleted(json_t *old_obj, void *userdata)
{
	struct recap_kube_informer *inf = userdata;
	if (inf->h.deleted && !inf->freed)
		inf->h.deleted(inf, old_obj, inf->userdata);
}

static const struct recap_kube_store_delta_ops delta_ops = {
    .added = delta_added,
    .updated = delta_updated,
    .deleted = delta_deleted,
};

static json_t *project(struct recap_kube_informer *inf, json_t *obj)
{
	return inf->o.project ? inf->o.project(obj, inf->o.project_data) : json_incref(obj);
}

/* ---- watch ---- */

static int list_page(struct recap_kube_informer *inf, const char *continue_token, struct recap_error **err);
static void relist(struct recap_kube_informer *inf);

static void apply_upsert(struct recap_kube_informer *inf, json_t *raw)
{
	struct recap_error *err = NULL;
	json_t *obj = project(inf, raw);
	json_t *old = NULL;
	if (!obj) {
		recap_error_set(&err, ENOMEM, "%s: projection failed", inf->name);
	} else if (recap_kube_store_put(inf->store, json_incref(obj), &old, &err) >= 0) {
		if (old)
			delta_updated(old, obj, inf);
		else
			delta_added(obj, inf);
	}
	if (err)
		report(inf, err);
	recap_error_free(err);
	json_decref(old);
	json_decref(obj);
}

static void apply_delete(struct recap_kube_informer *inf, json_t *raw)
{
	struct recap_buf kb = RECAP_BUF_INIT(1024);
	json_t *old = NULL;
	if (recap_kube_object_key(raw, &kb, NULL) >= 0 &&
	    recap_kube_store_delete(inf->store, kb.data, &old) > 0)
		delta_deleted(old, inf);
	json_decref(old);
	recap_buf_free(&kb);
}

static void on_watch(struct recap_kube_watch *w, enum recap_kube_watch_note note,
		     const struct recap_kube_watch_event *ev, const struct recap_error *err, void *userdata)
{
	struct recap_kube_informer *inf = userdata;
	if (inf->freed)
		return;
	inf->busy = true;
	switch (note) {
	case RECAP_KUBE_WATCH_EVENT:
		if (ev->type == RECAP_KUBE_WATCH_ADDED || ev->type == RECAP_KUBE_WATCH_MODIFIED)
			apply_upsert(inf, ev->object);
		else if (ev->type == RECAP_KUBE_WATCH_DELETED)
			apply_delete(inf, ev->object);
		break;
	case RECAP_KUBE_WATCH_RETRYING:
		if (err)
			report(inf, err);
		break;
	case RECAP_KUBE_WATCH_GONE:
		recap_kube_watch_stop(w);
		inf->watch = NULL;
		relist(inf);
		break;
	case RECAP_KUBE_WATCH_CONNECTED:
		if (inf->h.answered)
			inf->h.answered(inf, inf->userdata);
		break;
	}
	inf->busy = false;
	maybe_destroy(inf);
}

static void start_watch(struct recap_kube_informer *inf)
{
	struct recap_kube_watch_options wo = inf->o.watch;
	wo.label_selector = inf->label_selector;
	wo.field_selector = inf->field_selector;
	wo.resource_version = inf->list_rv;
	wo.allow_bookmarks = true;
	struct recap_error *err = NULL;
	int r = recap_kube_watch_start(inf->c, &inf->res, inf->ns, &wo, on_watch, inf, &inf->watch, &err);
	if (r < 0) {
		inf->watch = NULL;
		report(inf, err);
		recap_error_free(err);
		relist(inf); /* with backoff: failures was counted by relist */
	}
}

/* ---- list ---- */

static void on_retry_timer(uv_timer_t *t)
{
	struct recap_kube_informer *inf = t->data;
	struct recap_error *err = NULL;
	if (list_page(inf, NULL, &err) < 0) {
		report(inf, err);
		recap_error_free(err);
		relist(inf);
	}
}

/* Lists again: right away the first time, then after a doubling backoff
 * with jitter (between half and all of min, 2 min, 4 min, ... up to max), so
 * the informers of many clients that lost an API server together do not all
 * list again in the same instant when it is back. */
static void relist(struct recap_kube_informer *inf)
{
	if (inf->freed)
		return;
	uint64_t d = 0;
	if (inf->failures > 0)
		d = recap_backoff_ms(inf->o.relist_backoff_min_ms, inf->o.relist_backoff_max_ms,
				     inf->failures);
	inf->failures++;
	uv_timer_start(&inf->timer, on_retry_timer, d, 0);
}

static void list_failed(struct recap_kube_informer *inf, const struct recap_error *err)
{
	recap_kube_store_relist_abort(inf->relist);
	inf->relist = NULL;
	report(inf, err);
	relist(inf);
}

static void apply_item(struct recap_kube_informer *inf, json_t *item)
{
	struct recap_error *err = NULL;
	json_t *obj = project(inf, item);
	int r = obj ? recap_kube_store_relist_put(inf->relist, obj, &delta_ops, inf, &err)
		    : recap_error_set(&err, ENOMEM, "%s: projection failed", inf->name);
	if (r < 0) {
		report(inf, err);
		recap_error_free(err);
	}
}

/* An item of the page being read, decoded through o.list_projection. */
static void on_list_item(json_t *item, void *userdata)
{
	struct recap_kube_informer *inf = userdata;
	if (!inf->freed && inf->relist) {
		inf->busy = true;
		apply_item(inf, item);
		inf->busy = false;
	}
	json_decref(item);
}

/* What the page still holds: all its items, unless they were applied as
 * they arrived (on_list_item). */
static void apply_page(struct recap_kube_informer *inf, json_t *list)
{
	json_t *items = json_object_get(list, "items");
	size_t i;
	json_t *item;
	json_array_foreach (items, i, item)
		apply_item(inf, item);
}

static void list_complete(struct recap_kube_informer *inf)
{
	recap_kube_store_relist_finish(inf->relist, &delta_ops, inf);
	inf->relist = NULL;
	inf->lists++;
	inf->failures = 0;
	if (inf->h.answered && !inf->freed)
		inf->h.answered(inf, inf->userdata);
	if (!inf->synced && !inf->freed) {
		inf->synced = true;
		if (inf->h.synced)
			inf->h.synced(inf, inf->userdata);
	}
	if (!inf->freed)
		start_watch(inf);
}

static void on_list(const struct recap_kube_response *resp, void *userdata)
{
	struct recap_kube_informer *inf = userdata;
	inf->list_pending = false;
	if (inf->freed) {
		maybe_destroy(inf);
		return;
	}
	inf->busy = true;
	if (resp->code != RECAP_KUBE_OK || !json_is_object(resp->object)) {
		struct recap_error *err = NULL;
		if (!resp->err)
			recap_error_set(&err, EBADMSG, "%s: list answer is not an object", inf->name);
		list_failed(inf, resp->err ? resp->err : err);
		recap_error_free(err);
	} else {
		const char *rv = recap_json_str(resp->object, "metadata.resourceVersion");
		const char *cont = recap_json_str(resp->object, "metadata.continue");
		if (rv) { /* every page carries the snapshot's version */
			free(inf->list_rv);
			inf->list_rv = strdup(rv);
		}
		/* The next page is asked for before this one is applied: the
		 * server prepares and sends it while this page is projected. */
		struct recap_error *err = NULL;
		if (cont && *cont) {
			if (list_page(inf, cont, &err) < 0) {
				list_failed(inf, err);
				recap_error_free(err);
			} else {
				apply_page(inf, resp->object);
			}
		} else {
			apply_page(inf, resp->object);
			if (!inf->freed)
				list_complete(inf);
		}
	}
	inf->busy = false;
	maybe_destroy(inf);
}

static int list_page(struct recap_kube_informer *inf, const char *continue_token, struct recap_error **err)
{
	if (!continue_token) {
		recap_kube_store_relist_abort(inf->relist);
		inf->relist = NULL;
		free(inf->list_rv);
		inf->list_rv = NULL;
		int r = recap_kube_store_relist_begin(inf->store, &inf->relist, err);
		if (r < 0)
			return r;
	}
	struct recap_kube_list_options lo = {
	    .label_selector = inf->label_selector,
	    .field_selector = inf->field_selector,
	    .limit = inf->o.page_size,
	    .continue_token = continue_token,
	    /* Every list is a consistent, paginated read (no resourceVersion).
	     * "0" would let the watch cache answer, but it ignores the limit
	     * and sends every object in one body: for 10,000 pods ~20 MB of
	     * JSON, a ~250 MiB peak when parsed at once. Pages bound what one
	     * answer holds (and a page decoded through list_projection holds
	     * nothing); a relist after 410 must not go back in time either,
	     * and one after ResourceVersionTooLarge must not ask again for a
	     * version the server has not seen. */
	    .resource_version = NULL,
	    .decoder = inf->o.list_projection ? &recap_kube_list_decoder : NULL,
	    .decoder_data = &inf->sink,
	};
	int r = recap_kube_list(inf->c, &inf->res, inf->ns, &lo, on_list, inf, err);
	if (r < 0)
		return recap_error_wrap(err, r, "%s: list", inf->name);
	inf->list_pending = true;
	return 0;
}

/* ---- setup ---- */

static int dup_opt(char **dst, const char *src)
{
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

static int copy_options(struct recap_kube_informer *inf, const struct recap_kube_resource *res,
			const struct recap_kube_informer_options *opts)
{
	inf->o = opts ? *opts : (struct recap_kube_informer_options){0};
	if (!inf->o.page_size)
		inf->o.page_size = inf->o.list_projection ? DEFAULT_DECODED_PAGE_SIZE : DEFAULT_PAGE_SIZE;
	if (!inf->o.max_objects)
		inf->o.max_objects = DEFAULT_MAX_OBJECTS;
	if (!inf->o.relist_backoff_min_ms)
		inf->o.relist_backoff_min_ms = DEFAULT_BACKOFF_MIN_MS;
	if (inf->o.relist_backoff_max_ms < inf->o.relist_backoff_min_ms)
		inf->o.relist_backoff_max_ms = DEFAULT_BACKOFF_MAX_MS > inf->o.relist_backoff_min_ms
						   ? DEFAULT_BACKOFF_MAX_MS
						   : inf->o.relist_backoff_min_ms;
	if (dup_opt(&inf->group, res->group) < 0 || dup_opt(&inf->version, res->version) < 0 ||
	    dup_opt(&inf->resource, res->resource) < 0 || dup_opt(&inf->ns, inf->o.ns) < 0 ||
	    dup_opt(&inf->label_selector, inf->o.label_selector) < 0 ||
	    dup_opt(&inf->field_selector, inf->o.field_selector) < 0 ||
	    dup_opt(&inf->name, inf->o.name ? inf->o.name : res->resource) < 0)
		return -ENOMEM;
	inf->o.ns = inf->o.label_selector = inf->o.field_selector = inf->o.name = NULL;
	inf->res = (struct recap_kube_resource){
	    .group = inf->group,
	    .version = inf->version,
	    .resource = inf->resource,
	    .namespaced = res->namespaced,
	};
	return 0;
}

int recap_kube_informer_new(struct recap_kube_client *c, const struct recap_kube_resource *res,
			    const struct recap_kube_informer_options *opts,
			    const struct recap_kube_informer_handlers *handlers, void *userdata,
			    struct recap_kube_informer **ret, struct recap_error **err)
{
	if (!res || !res->version || !res->resource)
		return recap_error_set(err, EINVAL, "informer: resource needs a version and a name");
	struct recap_kube_informer *inf = calloc(1, sizeof(*inf));
	if (!inf)
		return recap_error_set(err, ENOMEM, "informer: out of memory");
	inf->timer_closed = true; /* until the timer exists */
	if (copy_options(inf, res, opts) < 0) {
		destroy(inf);
		return recap_error_set(err, ENOMEM, "informer: out of memory");
	}
	int r = recap_kube_store_new(inf->name, inf->o.max_objects, &inf->store, err);
	if (r < 0) {
		destroy(inf);
		return r;
	}
	r = uv_timer_init(recap_kube_client_loop(c), &inf->timer);
	if (r < 0) {
		destroy(inf);
		return recap_error_set(err, -r, "informer %s: timer: %s", res->resource, uv_strerror(r));
	}
	inf->timer.data = inf;
	inf->timer_closed = false;
	inf->sink = (struct recap_kube_list_sink){
	    .projection = inf->o.list_projection, .item = on_list_item, .userdata = inf};
	inf->c = c;
	if (handlers)
		inf->h = *handlers;
	inf->userdata = userdata;
	*ret = inf;
	return 0;
}

int recap_kube_informer_start(struct recap_kube_informer *inf, struct recap_error **err)
{
	if (inf->started)
		return recap_error_set(err, EALREADY, "informer %s: already started", inf->name);
	int r = list_page(inf, NULL, err);
	if (r < 0)
		return r;
	inf->started = true;
	return 0;
}

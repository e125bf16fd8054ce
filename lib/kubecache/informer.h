/* An informer: list + watch of one resource into a store, with handlers.
 *
 * It lists (in pages), fills the store, reports every object as added and
 * then `synced`; then it watches from the list's resourceVersion and
 * applies each event to the store, calling added/updated/deleted with the
 * old and new object. When the watch reports GONE (410: the version was
 * compacted away; or ResourceVersionTooLarge: the server has not seen it yet)
 * it lists again, without a resourceVersion, and reports the difference: objects that
 * vanished meanwhile are deleted, changed ones updated. A failed list is
 * retried with backoff (1 s doubling to 30 s); `error` is told why.
 *
 * There is no periodic resync: handlers see real changes only. Objects
 * pass through the optional projection before they are stored or handed
 * to handlers, so handlers see exactly what the store holds.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "kube/client.h"
#include "kubecache/projection.h"
#include "kubecache/store.h"
#include "kube/watch.h"

struct recap_kube_informer;

/* Objects are borrowed for the duration of the call. Handlers may read the
 * store but must not change it; they may free the informer. */
struct recap_kube_informer_handlers {
	void (*added)(struct recap_kube_informer *inf, json_t *obj, void *userdata);
	void (*updated)(struct recap_kube_informer *inf, json_t *old_obj, json_t *new_obj, void *userdata);
	void (*deleted)(struct recap_kube_informer *inf, json_t *old_obj, void *userdata);
	/* After the first complete list has been applied. */
	void (*synced)(struct recap_kube_informer *inf, void *userdata);
	/* Something went wrong and is being retried (for logs). */
	void (*error)(struct recap_kube_informer *inf, const struct recap_error *err, void *userdata);
	/* The API server answered: a list completed, or a watch was
	 * (re)established (for health: what follows an error). */
	void (*answered)(struct recap_kube_informer *inf, void *userdata);
};

/* Returns a new reference to the kept part of obj, or NULL to fail. */
typedef json_t *(*recap_kube_project_fn)(json_t *obj, void *userdata);

struct recap_kube_informer_options {
	const char *name; /* for messages; default the resource name */
	const char *ns;	  /* NULL: all namespaces */
	const char *label_selector;
	const char *field_selector;
	size_t max_objects; /* store limit; 0: 1,000,000 */
	long page_size;	    /* list page size; 0: 500, 2,000 with list_projection */
	recap_kube_project_fn project;
	void *project_data;
	/* When set, list pages are decoded through it as they arrive: of each
	 * item only the fields it keeps are built (kubecache/list_decode.h),
	 * then `project` runs on that and the item is applied at once, so no
	 * page is held. It must keep every field `project` and the store's key
	 * (metadata.namespace, metadata.name) read. Watch events are parsed
	 * whole. */
	const struct recap_kube_projection *list_projection;
	/* Passed to the watch (timeouts, backoff); selectors and version are set here. */
	struct recap_kube_watch_options watch;
	uint64_t relist_backoff_min_ms, relist_backoff_max_ms;
};

/* A recap_kube_project_fn for a recap_kube_projection (project_data). */
json_t *recap_kube_informer_project(json_t *obj, void *projection);

int recap_kube_informer_new(struct recap_kube_client *c, const struct recap_kube_resource *res,
			    const struct recap_kube_informer_options *opts,
			    const struct recap_kube_informer_handlers *handlers, void *userdata,
			    struct recap_kube_informer **ret, struct recap_error **err);
/* The store, to add indexes before start and to read from. */
struct recap_kube_store *recap_kube_informer_store(struct recap_kube_informer *inf);
int recap_kube_informer_start(struct recap_kube_informer *inf, struct recap_error **err);
bool recap_kube_informer_synced(const struct recap_kube_informer *inf);
/* Lists completed (the first and every relist). */
unsigned recap_kube_informer_lists(const struct recap_kube_informer *inf);
/* Stops watching; no handler runs afterwards. Memory is released from the
 * loop once requests in flight have ended. Accepts NULL. */
void recap_kube_informer_free(struct recap_kube_informer *inf);

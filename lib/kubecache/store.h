/* An in-memory object cache keyed by "namespace/name" ("name" for
 * cluster-scoped objects), with secondary indexes.
 *
 * An index function maps an object to zero or more index values (a node
 * name, "key=value" for each label, ...); the store keeps, per index value,
 * the set of object keys, and updates it on every put and delete by
 * recomputing the old object's values. The object count is limited; a put
 * past the limit fails with -ENOBUFS naming the store and the limit.
 *
 * Objects are kept as compact JSON text, not as jansson trees: a jansson
 * tree costs several times the text's size, and memory per cached object is
 * what bounds a node agent. Reading an object parses it again, so readers
 * get their own reference.
 *
 * recap_kube_store_replace() is the relist path: it swaps the whole content
 * for a fresh list and reports the difference as adds, updates (only when
 * resourceVersion changed) and deletes of objects that vanished.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/error.h"
#include "kubesel/selector.h"

struct recap_kube_store;
struct recap_kube_index_values;

/* Adds one index value for the object being indexed (copied). */
int recap_kube_index_values_add(struct recap_kube_index_values *out, const char *value);
/* Emits obj's values with recap_kube_index_values_add(); a negative return
 * fails the put. */
typedef int (*recap_kube_index_fn)(json_t *obj, struct recap_kube_index_values *out, void *userdata);

#define RECAP_KUBE_INDEX_LABELS "labels" /* "key=value" per label */
#define RECAP_KUBE_STORE_MAX_INDEXES 8
#define RECAP_KUBE_STORE_MAX_INDEX_VALUES 256 /* per object and index */

/* Appends obj's key; -EINVAL with *err when metadata.name is missing. */
int recap_kube_object_key(json_t *obj, struct recap_buf *b, struct recap_error **err);

int recap_kube_store_new(const char *name, size_t max_objects, struct recap_kube_store **ret,
			 struct recap_error **err);
void recap_kube_store_free(struct recap_kube_store *s);

/* Adds an index before any object is stored (-EBUSY after). */
int recap_kube_store_add_index(struct recap_kube_store *s, const char *name, recap_kube_index_fn fn,
			       void *userdata, struct recap_error **err);
/* The label index, used by recap_kube_store_select(). */
int recap_kube_store_add_label_index(struct recap_kube_store *s, struct recap_error **err);

/* Inserts or replaces; takes over the caller's reference to obj, also on
 * failure. The previous object (a reference the caller drops) goes to
 * *ret_old, NULL when the key was new. */
int recap_kube_store_put(struct recap_kube_store *s, json_t *obj, json_t **ret_old, struct recap_error **err);
/* Removes key; 1 and the object (caller drops) when it was there, else 0. */
int recap_kube_store_delete(struct recap_kube_store *s, const char *key, json_t **ret_old);

/* A new reference (the caller drops it), or NULL when absent. */
json_t *recap_kube_store_get(const struct recap_kube_store *s, const char *key);
bool recap_kube_store_contains(const struct recap_kube_store *s, const char *key);
size_t recap_kube_store_size(const struct recap_kube_store *s);
/* Bytes the store holds for objects, keys and indexes (allocator overhead
 * estimated at 16 bytes per allocation). */
size_t recap_kube_store_footprint(const struct recap_kube_store *s);

/* Visits objects (obj is borrowed for the call); a non-zero return from fn stops and is returned. The
 * store must not change during the walk. */
typedef int (*recap_kube_store_visit_fn)(const char *key, json_t *obj, void *userdata);
int recap_kube_store_foreach(const struct recap_kube_store *s, recap_kube_store_visit_fn fn, void *userdata);
/* Objects whose index `index` holds `value`; -ENOENT for an unknown index. */
int recap_kube_store_by_index(const struct recap_kube_store *s, const char *index, const char *value,
			      recap_kube_store_visit_fn fn, void *userdata);
/* Objects matching sel; uses the label index for an equality requirement
 * when there is one. */
int recap_kube_store_select(const struct recap_kube_store *s, const struct recap_kube_selector *sel,
			    recap_kube_store_visit_fn fn, void *userdata);

/* How a replace differs from the content before it. old/new are borrowed. */
struct recap_kube_store_delta_ops {
	void (*added)(json_t *obj, void *userdata);
	void (*updated)(json_t *old_obj, json_t *new_obj, void *userdata);
	void (*deleted)(json_t *old_obj, void *userdata);
};

/* A relist in steps (one page at a time): objects put through it are
 * reported as added or updated (when resourceVersion changed); finish
 * deletes and reports every object no put mentioned. */
struct recap_kube_store_relist;
int recap_kube_store_relist_begin(struct recap_kube_store *s, struct recap_kube_store_relist **ret,
				  struct recap_error **err);
/* Takes over the caller's reference to obj, also on failure. */
int recap_kube_store_relist_put(struct recap_kube_store_relist *rl, json_t *obj,
				const struct recap_kube_store_delta_ops *ops, void *userdata,
				struct recap_error **err);
/* Deletes what was not seen, then frees rl. */
void recap_kube_store_relist_finish(struct recap_kube_store_relist *rl,
				    const struct recap_kube_store_delta_ops *ops, void *userdata);
/* Frees rl without deleting anything. Accepts NULL. */
void recap_kube_store_relist_abort(struct recap_kube_store_relist *rl);

/* Replaces the content with items (a JSON array; the store takes references
 * to its elements). Items that fail to index are skipped with *err set and
 * a negative return after the rest are applied. */
int recap_kube_store_replace(struct recap_kube_store *s, json_t *items,
			     const struct recap_kube_store_delta_ops *ops, void *userdata,
			     struct recap_error **err);

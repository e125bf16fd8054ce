/* A hash map from strings to pointers with a hard entry limit.
 *
 * Keys are copied into the entry (one allocation per entry); values are
 * borrowed and freed only by recap_kube_strmap_free()'s callback. An insert
 * past max_entries fails with -ENOBUFS and leaves the map unchanged. The
 * table grows by doubling and never shrinks below its initial size.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct recap_kube_strmap;

struct recap_kube_strmap_iter {
	size_t bucket;
	void *next; /* prefetched so that removing the current entry is safe */
};

#define RECAP_KUBE_STRMAP_ITER_INIT ((struct recap_kube_strmap_iter){0})

/* Returns NULL when out of memory. max_entries 0 means SIZE_MAX. */
struct recap_kube_strmap *recap_kube_strmap_new(size_t max_entries);
/* free_value (may be NULL) is called on every value. Accepts NULL. */
void recap_kube_strmap_free(struct recap_kube_strmap *m, void (*free_value)(void *));

size_t recap_kube_strmap_size(const struct recap_kube_strmap *m);
size_t recap_kube_strmap_max(const struct recap_kube_strmap *m);
/* Bytes held by the map itself (table and entries, not values). */
size_t recap_kube_strmap_footprint(const struct recap_kube_strmap *m);

/* Returns the value or NULL; use _contains to tell a NULL value from none. */
void *recap_kube_strmap_get(const struct recap_kube_strmap *m, const char *key);
bool recap_kube_strmap_contains(const struct recap_kube_strmap *m, const char *key);
/* Inserts or replaces. On replace *ret_old (if not NULL) gets the old value
 * and 0 is returned; a new entry returns 1. -ENOBUFS at the limit, -ENOMEM. */
int recap_kube_strmap_put(struct recap_kube_strmap *m, const char *key, void *value, void **ret_old);
/* Returns 1 and the value in *ret_value when the key was present, else 0. */
int recap_kube_strmap_remove(struct recap_kube_strmap *m, const char *key, void **ret_value);

/* Visits every entry once in unspecified order. Removing the entry just
 * returned is allowed; any other change during the walk is not. */
bool recap_kube_strmap_next(const struct recap_kube_strmap *m, struct recap_kube_strmap_iter *it,
			    const char **ret_key, void **ret_value);

#include "kubecache/strmap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define INITIAL_BUCKETS 4

struct entry {
	struct entry *next;
	void *value;
	uint32_t hash;
	char key[];
};

struct recap_kube_strmap {
	struct entry **buckets;
	size_t nbuckets; /* a power of two */
	size_t size;
	size_t max;
	size_t key_bytes;
};

/* FNV-1a: keys are namespace/name strings, short and not adversarial
 * enough to need a keyed hash (the entry limit bounds any damage). */
static uint32_t hash_key(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

struct recap_kube_strmap *recap_kube_strmap_new(size_t max_entries)
{
	struct recap_kube_strmap *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->buckets = calloc(INITIAL_BUCKETS, sizeof(*m->buckets));
	if (!m->buckets) {
		free(m);
		return NULL;
	}
	m->nbuckets = INITIAL_BUCKETS;
	m->max = max_entries ? max_entries : SIZE_MAX;
	return m;
}

void recap_kube_strmap_free(struct recap_kube_strmap *m, void (*free_value)(void *))
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct entry *e = m->buckets[i];
		while (e) {
			struct entry *next = e->next;
			if (free_value)
				free_value(e->value);
			free(e);
			e = next;
		}
	}
	free(m->buckets);
	free(m);
}

size_t recap_kube_strmap_size(const struct recap_kube_strmap *m)
{
	return m->size;
}

size_t recap_kube_strmap_max(const struct recap_kube_strmap *m)
{
	return m->max;
}

size_t recap_kube_strmap_footprint(const struct recap_kube_strmap *m)
{
	return sizeof(*m) + m->nbuckets * sizeof(*m->buckets) + m->size * (sizeof(struct entry) + 1) +
	       m->key_bytes;
}

static struct entry **find_slot(const struct recap_kube_strmap *m, const char *key, uint32_t hash)
{
	struct entry **p = &m->buckets[hash & (m->nbuckets - 1)];
	for (; *p; p = &(*p)->next)
		if ((*p)->hash == hash && strcmp((*p)->key, key) == 0)
			break;
	return p;
}

void *recap_kube_strmap_get(const struct recap_kube_strmap *m, const char *key)
{
	struct entry *e = *find_slot(m, key, hash_key(key));
	return e ? e->value : NULL;
}

bool recap_kube_strmap_contains(const struct recap_kube_strmap *m, const char *key)
{
	return *find_slot(m, key, hash_key(key)) != NULL;
}

/* Doubling failure is not an error: the map works, only with longer chains. */
static void maybe_grow(struct recap_kube_strmap *m)
{
	if (m->size < m->nbuckets || m->nbuckets > SIZE_MAX / 2 / sizeof(struct entry *))
		return;
	size_t n = m->nbuckets * 2;
	struct entry **b = calloc(n, sizeof(*b));
	if (!b)
		return;
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct entry *e = m->buckets[i];
		while (e) {
			struct entry *next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
			e = next;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = n;
}

int recap_kube_strmap_put(struct recap_kube_strmap *m, const char *key, void *value, void **ret_old)
{
	uint32_t hash = hash_key(key);
	struct entry **slot = find_slot(m, key, hash);
	if (*slot) {
		if (ret_old)
			*ret_old = (*slot)->value;
		(*slot)->value = value;
		return 0;
	}
	if (m->size >= m->max)
		return -ENOBUFS;
	size_t klen = strlen(key);
	struct entry *e = malloc(sizeof(*e) + klen + 1);
	if (!e)
		return -ENOMEM;
	memcpy(e->key, key, klen + 1);
	e->hash = hash;
	e->value = value;
	e->next = NULL;
	*slot = e;
	m->size++;
	m->key_bytes += klen;
	maybe_grow(m);
	return 1;
}

int recap_kube_strmap_remove(struct recap_kube_strmap *m, const char *key, void **ret_value)
{
	struct entry **slot = find_slot(m, key, hash_key(key));
	struct entry *e = *slot;
	if (!e)
		return 0;
	*slot = e->next;
	if (ret_value)
		*ret_value = e->value;
	m->size--;
	m->key_bytes -= strlen(e->key);
	free(e);
	return 1;
}

bool recap_kube_strmap_next(const struct recap_kube_strmap *m, struct recap_kube_strmap_iter *it,
			    const char **ret_key, void **ret_value)
{
	struct entry *e = it->next;
	while (!e && it->bucket < m->nbuckets)
		e = m->buckets[it->bucket++];
	if (!e)
		return false;
	it->next = e->next;
	if (ret_key)
		*ret_key = e->key;
	if (ret_value)
		*ret_value = e->value;
	return true;
}

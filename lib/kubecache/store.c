#include "kubecache/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "kubecache/strmap.h"

#define KEY_MAX 512 /* namespace (63) + '/' + name (253), with room to spare */

struct index {
	char *name;
	recap_kube_index_fn fn;
	void *userdata;
	struct recap_kube_strmap *values; /* index value -> set (strmap) of object keys */
};

/* Grows on demand: a fixed array of the maximum would make every put a
 * multi-KiB allocation. */
struct recap_kube_index_values {
	char **v;
	size_t n, cap;
	bool overflow;
};

struct recap_kube_store {
	char *name;
	struct recap_kube_strmap *objects; /* key -> compact JSON text */
	size_t text_bytes;
	struct index indexes[RECAP_KUBE_STORE_MAX_INDEXES];
	size_t nindexes;
};

int recap_kube_object_key(json_t *obj, struct recap_buf *b, struct recap_error **err)
{
	const char *name = recap_json_str(obj, "metadata.name");
	const char *ns = recap_json_str(obj, "metadata.namespace");
	if (!name || !*name)
		return recap_error_set(err, EINVAL, "object without metadata.name");
	int r = ns && *ns ? recap_buf_printf(b, "%s/%s", ns, name) : recap_buf_appends(b, name);
	if (r < 0)
		return recap_error_set(err, -r, "object key '%s/%s' too long", ns ? ns : "", name);
	return 0;
}

int recap_kube_index_values_add(struct recap_kube_index_values *out, const char *value)
{
	if (out->n >= RECAP_KUBE_STORE_MAX_INDEX_VALUES) {
		out->overflow = true;
		return -E2BIG;
	}
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 4;
		char **v = realloc(out->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		out->v = v;
		out->cap = cap;
	}
	out->v[out->n] = strdup(value);
	if (!out->v[out->n])
		return -ENOMEM;
	out->n++;
	return 0;
}

static void index_values_clear(struct recap_kube_index_values *iv)
{
	for (size_t i = 0; i < iv->n; i++)
		free(iv->v[i]);
	free(iv->v);
	*iv = (struct recap_kube_index_values){0};
}

static int label_index(json_t *obj, struct recap_kube_index_values *out, void *userdata)
{
	const char *k;
	json_t *v;
	struct recap_buf b = RECAP_BUF_INIT(KEY_MAX);
	int r = 0;
	json_object_foreach (recap_json_at(obj, "metadata", "labels", NULL), k, v) {
		recap_buf_reset(&b);
		if (!json_is_string(v))
			continue;
		r = recap_buf_printf(&b, "%s=%s", k, json_string_value(v));
		if (r >= 0)
			r = recap_kube_index_values_add(out, b.data);
		if (r < 0)
			break;
	}
	recap_buf_free(&b);
	return r;
}

static void free_set(void *set)
{
	recap_kube_strmap_free(set, NULL);
}

int recap_kube_store_new(const char *name, size_t max_objects, struct recap_kube_store **ret,
			 struct recap_error **err)
{
	struct recap_kube_store *s = calloc(1, sizeof(*s));
	if (!s)
		return recap_error_set(err, ENOMEM, "store: out of memory");
	s->name = strdup(name ? name : "store");
	s->objects = recap_kube_strmap_new(max_objects);
	if (!s->name || !s->objects) {
		recap_kube_store_free(s);
		return recap_error_set(err, ENOMEM, "store: out of memory");
	}
	*ret = s;
	return 0;
}

void recap_kube_store_free(struct recap_kube_store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nindexes; i++) {
		free(s->indexes[i].name);
		recap_kube_strmap_free(s->indexes[i].values, free_set);
	}
	recap_kube_strmap_free(s->objects, free);
	free(s->name);
	free(s);
}

int recap_kube_store_add_index(struct recap_kube_store *s, const char *name, recap_kube_index_fn fn,
			       void *userdata, struct recap_error **err)
{
	if (s->objects && recap_kube_strmap_size(s->objects) > 0)
		return recap_error_set(err, EBUSY, "%s: index '%s' must be added before objects", s->name,
				       name);
	if (s->nindexes >= RECAP_KUBE_STORE_MAX_INDEXES)
		return recap_error_set(err, E2BIG, "%s: more than %d indexes", s->name,
				       RECAP_KUBE_STORE_MAX_INDEXES);
	for (size_t i = 0; i < s->nindexes; i++)
		if (strcmp(s->indexes[i].name, name) == 0)
			return recap_error_set(err, EEXIST, "%s: index '%s' exists", s->name, name);
	struct index *ix = &s->indexes[s->nindexes];
	ix->name = strdup(name);
	ix->values = recap_kube_strmap_new(0);
	if (!ix->name || !ix->values) {
		free(ix->name);
		recap_kube_strmap_free(ix->values, NULL);
		*ix = (struct index){0};
		return recap_error_set(err, ENOMEM, "%s: out of memory", s->name);
	}
	ix->fn = fn;
	ix->userdata = userdata;
	s->nindexes++;
	return 0;
}

int recap_kube_store_add_label_index(struct recap_kube_store *s, struct recap_error **err)
{
	return recap_kube_store_add_index(s, RECAP_KUBE_INDEX_LABELS, label_index, NULL, err);
}

static int compute_values(struct recap_kube_store *s, size_t i, json_t *obj,
			  struct recap_kube_index_values *iv, struct recap_error **err)
{
	struct index *ix = &s->indexes[i];
	int r = ix->fn(obj, iv, ix->userdata);
	if (iv->overflow)
		return recap_error_set(err, E2BIG, "%s: index '%s': more than %d values for one object",
				       s->name, ix->name, RECAP_KUBE_STORE_MAX_INDEX_VALUES);
	if (r < 0)
		return recap_error_set(err, -r, "%s: index '%s' failed", s->name, ix->name);
	return 0;
}

static void index_remove(struct index *ix, const struct recap_kube_index_values *iv, const char *key)
{
	for (size_t i = 0; i < iv->n; i++) {
		struct recap_kube_strmap *set = recap_kube_strmap_get(ix->values, iv->v[i]);
		if (!set)
			continue;
		recap_kube_strmap_remove(set, key, NULL);
		if (recap_kube_strmap_size(set) == 0) {
			recap_kube_strmap_remove(ix->values, iv->v[i], NULL);
			recap_kube_strmap_free(set, NULL);
		}
	}
}

static int index_insert(struct index *ix, const struct recap_kube_index_values *iv, const char *key)
{
	for (size_t i = 0; i < iv->n; i++) {
		struct recap_kube_strmap *set = recap_kube_strmap_get(ix->values, iv->v[i]);
		if (!set) {
			set = recap_kube_strmap_new(0);
			if (!set)
				return -ENOMEM;
			int r = recap_kube_strmap_put(ix->values, iv->v[i], set, NULL);
			if (r < 0) {
				recap_kube_strmap_free(set, NULL);
				return r;
			}
		}
		int r = recap_kube_strmap_put(set, key, NULL, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Drops obj's entries from every index (obj must be the stored object). */
static void unindex(struct recap_kube_store *s, json_t *obj, const char *key)
{
	struct recap_kube_index_values iv = {0};
	for (size_t i = 0; obj && i < s->nindexes; i++) {
		(void)compute_values(s, i, obj, &iv, NULL); /* what succeeded at put */
		index_remove(&s->indexes[i], &iv, key);
		index_values_clear(&iv);
	}
}

static void free_values(struct recap_kube_index_values *ivs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		index_values_clear(&ivs[i]);
}

static json_t *load(const char *text)
{
	return text ? json_loads(text, 0, NULL) : NULL;
}

static size_t text_cost(const char *text)
{
	return strlen(text) + 1 + 16;
}

/* Stores text under key after its index values were computed; drops the
 * previous object's index entries and hands it out parsed when asked. */
static int swap_in(struct recap_kube_store *s, const char *key, char *text, json_t **ret_old,
		   struct recap_error **err)
{
	void *prev = NULL;
	int r = recap_kube_strmap_put(s->objects, key, text, &prev);
	if (r == -ENOBUFS)
		return recap_error_set(err, ENOBUFS, "%s: full (%zu objects), cannot add '%s'", s->name,
				       recap_kube_strmap_max(s->objects), key);
	if (r < 0)
		return recap_error_set(err, -r, "%s: out of memory adding '%s'", s->name, key);
	s->text_bytes += text_cost(text);
	json_t *old = NULL;
	if (prev) {
		s->text_bytes -= text_cost(prev);
		old = s->nindexes || ret_old ? load(prev) : NULL;
		unindex(s, old, key);
		free(prev);
	}
	if (ret_old)
		*ret_old = old;
	else
		json_decref(old);
	return 0;
}

int recap_kube_store_put(struct recap_kube_store *s, json_t *obj, json_t **ret_old, struct recap_error **err)
{
	_cleanup_json_ json_t *o = obj;
	struct recap_buf kb = RECAP_BUF_INIT(KEY_MAX);
	int r = recap_kube_object_key(o, &kb, err);
	if (r < 0) {
		recap_buf_free(&kb);
		return recap_error_wrap(err, r, "%s", s->name);
	}
	struct recap_kube_index_values ivs[RECAP_KUBE_STORE_MAX_INDEXES] = {{0}};
	char *text = json_dumps(o, JSON_COMPACT);
	if (!text)
		r = recap_error_set(err, ENOMEM, "%s: out of memory", s->name);
	for (size_t i = 0; r >= 0 && i < s->nindexes; i++)
		r = compute_values(s, i, o, &ivs[i], err);
	if (r >= 0)
		r = swap_in(s, kb.data, text, ret_old, err);
	if (r < 0)
		free(text);
	for (size_t i = 0; r >= 0 && i < s->nindexes; i++)
		if (index_insert(&s->indexes[i], &ivs[i], kb.data) < 0)
			r = recap_error_set(err, ENOMEM, "%s: out of memory indexing '%s'", s->name, kb.data);
	free_values(ivs, s->nindexes);
	recap_buf_free(&kb);
	return r;
}

int recap_kube_store_delete(struct recap_kube_store *s, const char *key, json_t **ret_old)
{
	void *text = NULL;
	if (recap_kube_strmap_remove(s->objects, key, &text) == 0)
		return 0;
	s->text_bytes -= text_cost(text);
	json_t *old = s->nindexes || ret_old ? load(text) : NULL;
	free(text);
	unindex(s, old, key);
	if (ret_old)
		*ret_old = old;
	else
		json_decref(old);
	return 1;
}

json_t *recap_kube_store_get(const struct recap_kube_store *s, const char *key)
{
	return load(recap_kube_strmap_get(s->objects, key));
}

bool recap_kube_store_contains(const struct recap_kube_store *s, const char *key)
{
	return recap_kube_strmap_contains(s->objects, key);
}

size_t recap_kube_store_size(const struct recap_kube_store *s)
{
	return recap_kube_strmap_size(s->objects);
}

size_t recap_kube_store_footprint(const struct recap_kube_store *s)
{
	size_t total = sizeof(*s) + recap_kube_strmap_footprint(s->objects) + s->text_bytes;
	for (size_t i = 0; i < s->nindexes; i++) {
		const struct index *ix = &s->indexes[i];
		struct recap_kube_strmap_iter it = RECAP_KUBE_STRMAP_ITER_INIT;
		void *set;
		total += recap_kube_strmap_footprint(ix->values);
		while (recap_kube_strmap_next(ix->values, &it, NULL, &set))
			total += recap_kube_strmap_footprint(set);
	}
	return total;
}

static int visit_text(const char *key, const char *text, recap_kube_store_visit_fn fn, void *userdata)
{
	json_t *obj = load(text);
	if (!obj)
		return -ENOMEM;
	int r = fn(key, obj, userdata);
	json_decref(obj);
	return r;
}

int recap_kube_store_foreach(const struct recap_kube_store *s, recap_kube_store_visit_fn fn, void *userdata)
{
	struct recap_kube_strmap_iter it = RECAP_KUBE_STRMAP_ITER_INIT;
	const char *key;
	void *text;
	while (recap_kube_strmap_next(s->objects, &it, &key, &text)) {
		int r = visit_text(key, text, fn, userdata);
		if (r)
			return r;
	}
	return 0;
}

static const struct index *find_index(const struct recap_kube_store *s, const char *name)
{
	for (size_t i = 0; i < s->nindexes; i++)
		if (strcmp(s->indexes[i].name, name) == 0)
			return &s->indexes[i];
	return NULL;
}

int recap_kube_store_by_index(const struct recap_kube_store *s, const char *index, const char *value,
			      recap_kube_store_visit_fn fn, void *userdata)
{
	const struct index *ix = find_index(s, index);
	if (!ix)
		return -ENOENT;
	struct recap_kube_strmap *set = recap_kube_strmap_get(ix->values, value);
	struct recap_kube_strmap_iter it = RECAP_KUBE_STRMAP_ITER_INIT;
	const char *key;
	while (set && recap_kube_strmap_next(set, &it, &key, NULL)) {
		const char *text = recap_kube_strmap_get(s->objects, key);
		int r = text ? visit_text(key, text, fn, userdata) : 0;
		if (r)
			return r;
	}
	return 0;
}

struct select_ctx {
	const struct recap_kube_selector *sel;
	recap_kube_store_visit_fn fn;
	void *userdata;
};

static int select_visit(const char *key, json_t *obj, void *userdata)
{
	struct select_ctx *c = userdata;
	if (!recap_kube_selector_matches(c->sel, recap_json_at(obj, "metadata", "labels", NULL)))
		return 0;
	return c->fn(key, obj, c->userdata);
}

int recap_kube_store_select(const struct recap_kube_store *s, const struct recap_kube_selector *sel,
			    recap_kube_store_visit_fn fn, void *userdata)
{
	struct select_ctx c = {.sel = sel, .fn = fn, .userdata = userdata};
	if (sel->nothing)
		return 0;
	for (size_t i = 0; find_index(s, RECAP_KUBE_INDEX_LABELS) && i < sel->n; i++) {
		const struct recap_kube_requirement *r = &sel->reqs[i];
		bool eq = r->op == RECAP_KUBE_SEL_EQUALS || (r->op == RECAP_KUBE_SEL_IN && r->nvalues == 1);
		if (!eq)
			continue;
		_cleanup_free_ char *kv = NULL;
		if (asprintf(&kv, "%s=%s", r->key, r->values[0]) < 0)
			return -ENOMEM;
		return recap_kube_store_by_index(s, RECAP_KUBE_INDEX_LABELS, kv, select_visit, &c);
	}
	return recap_kube_store_foreach(s, select_visit, &c);
}

static bool same_version(json_t *a, json_t *b)
{
	const char *ra = recap_json_str(a, "metadata.resourceVersion");
	const char *rb = recap_json_str(b, "metadata.resourceVersion");
	return ra && rb && strcmp(ra, rb) == 0;
}

struct recap_kube_store_relist {
	struct recap_kube_store *s;
	struct recap_kube_strmap *seen;
};

int recap_kube_store_relist_begin(struct recap_kube_store *s, struct recap_kube_store_relist **ret,
				  struct recap_error **err)
{
	struct recap_kube_store_relist *rl = calloc(1, sizeof(*rl));
	if (rl)
		rl->seen = recap_kube_strmap_new(0);
	if (!rl || !rl->seen) {
		free(rl);
		return recap_error_set(err, ENOMEM, "%s: out of memory", s->name);
	}
	rl->s = s;
	*ret = rl;
	return 0;
}

int recap_kube_store_relist_put(struct recap_kube_store_relist *rl, json_t *obj,
				const struct recap_kube_store_delta_ops *ops, void *userdata,
				struct recap_error **err)
{
	_cleanup_json_ json_t *o = obj;
	struct recap_buf kb = RECAP_BUF_INIT(KEY_MAX);
	json_t *old = NULL;
	int r = recap_kube_object_key(o, &kb, err);
	if (r >= 0 && recap_kube_strmap_put(rl->seen, kb.data, NULL, NULL) < 0)
		r = recap_error_set(err, ENOMEM, "%s: out of memory", rl->s->name);
	recap_buf_free(&kb);
	if (r >= 0)
		r = recap_kube_store_put(rl->s, json_incref(o), &old, err);
	if (r < 0)
		return r;
	if (!old && ops && ops->added)
		ops->added(o, userdata);
	else if (old && !same_version(old, o) && ops && ops->updated)
		ops->updated(old, o, userdata);
	json_decref(old);
	return 0;
}

void recap_kube_store_relist_abort(struct recap_kube_store_relist *rl)
{
	if (!rl)
		return;
	recap_kube_strmap_free(rl->seen, NULL);
	free(rl);
}

void recap_kube_store_relist_finish(struct recap_kube_store_relist *rl,
				    const struct recap_kube_store_delta_ops *ops, void *userdata)
{
	struct recap_kube_store *s = rl->s;
	struct recap_kube_strmap_iter it = RECAP_KUBE_STRMAP_ITER_INIT;
	const char *key;
	while (recap_kube_strmap_next(s->objects, &it, &key, NULL)) {
		if (recap_kube_strmap_contains(rl->seen, key))
			continue;
		json_t *old = NULL;
		_cleanup_free_ char *k = strdup(key);
		if (!k || recap_kube_store_delete(s, k, &old) <= 0)
			continue;
		if (ops && ops->deleted)
			ops->deleted(old, userdata);
		json_decref(old);
	}
	recap_kube_store_relist_abort(rl);
}

int recap_kube_store_replace(struct recap_kube_store *s, json_t *items,
			     const struct recap_kube_store_delta_ops *ops, void *userdata,
			     struct recap_error **err)
{
	if (!json_is_array(items))
		return recap_error_set(err, EINVAL, "%s: list items is not an array", s->name);
	struct recap_kube_store_relist *rl;
	int first = recap_kube_store_relist_begin(s, &rl, err);
	if (first < 0)
		return first;
	size_t i;
	json_t *item;
	json_array_foreach (items, i, item) {
		int r = recap_kube_store_relist_put(rl, json_incref(item), ops, userdata, err);
		first = first < 0 ? first : r;
	}
	recap_kube_store_relist_finish(rl, ops, userdata);
	return first;
}

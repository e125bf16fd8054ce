#include "kubecache/list_decode.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "kubecache/projection_internal.h"

/* What to do with the value that starts next. */
enum how {
	SKIP,	     /* not kept: read, never built */
	WHOLE,	     /* kept with everything in it */
	FILTER,	     /* an object keeps node's children; any other value is kept whole */
	FILTER_EACH, /* an array whose elements go through node; any other value is skipped */
	LIST,	     /* the body: "items" through the projection, the rest whole */
	ITEMS,	     /* the list's items: FILTER_EACH through the projection, to the sink */
};

struct want {
	enum how how;
	const struct node *node;
};

struct frame {
	json_t *v;	  /* the object or array being built */
	struct want self; /* how this container was wanted */
	struct want next; /* objects: for the value of the key just read */
	char *key;	  /* objects: that key, NUL-terminated copy */
	size_t key_len, key_cap;
};

struct decoder {
	const struct recap_kube_list_sink *sink;
	struct frame *stack;
	size_t depth, cap;
	size_t skip_depth; /* > 0: inside a skipped container */
	json_t *result;
	struct recap_error *err; /* why a callback stopped the parse */
};

/* Stops the parse (yajl's callbacks return 0 to cancel), saying why. */
static int fail(struct decoder *d, int code, const char *why)
{
	if (!d->err)
		recap_error_set(&d->err, code, "%s", why);
	return 0;
}

static int out_of_memory(struct decoder *d)
{
	return fail(d, ENOMEM, "out of memory");
}

/* The child of n named key, how it is kept. */
static struct want child_want(const struct node *n, const char *key, size_t len)
{
	const struct node *found = NULL;
	for (size_t i = 0; i < n->n; i++) {
		const struct node *c = &n->children[i];
		if (c->len != len || memcmp(c->name, key, len) != 0)
			continue;
		if (found) /* both "key" and "key[]": keep it all */
			return (struct want){WHOLE, NULL};
		found = c;
	}
	if (!found)
		return (struct want){SKIP, NULL};
	if (found->each)
		return (struct want){FILTER_EACH, found};
	return (struct want){found->n ? FILTER : WHOLE, found};
}

static struct want next_want(struct decoder *d)
{
	if (d->depth == 0)
		return (struct want){LIST, NULL};
	struct frame *f = &d->stack[d->depth - 1];
	if (json_is_object(f->v))
		return f->next;
	if (f->self.how == FILTER_EACH || f->self.how == ITEMS)
		return (struct want){f->self.node->n ? FILTER : WHOLE, f->self.node};
	return (struct want){WHOLE, NULL};
}

/* Puts v (a new reference, taken) where the value being read belongs. */
static int attach(struct decoder *d, json_t *v)
{
	if (!v)
		return out_of_memory(d);
	if (d->depth == 0) {
		d->result = v;
		return 1;
	}
	struct frame *f = &d->stack[d->depth - 1];
	if (f->self.how == ITEMS && d->sink->item) {
		d->sink->item(v, d->sink->userdata);
		return 1;
	}
	if (json_is_array(f->v)) {
		if (json_array_append_new(f->v, v) < 0)
			return out_of_memory(d);
		return 1;
	}
	if (json_object_getn(f->v, f->key, f->key_len)) {
		json_decref(v);
		recap_error_set(&d->err, EBADMSG, "duplicate object key '%.64s'", f->key);
		return 0;
	}
	if (json_object_setn_new(f->v, f->key, f->key_len, v) < 0)
		return out_of_memory(d);
	return 1;
}

/* Whether the scalar that starts now is kept. */
static bool scalar_kept(struct decoder *d)
{
	if (d->skip_depth)
		return false;
	enum how how = next_want(d).how;
	return how != SKIP && how != FILTER_EACH && how != ITEMS;
}

static int on_null(void *ctx)
{
	return scalar_kept(ctx) ? attach(ctx, json_null()) : 1;
}

static int on_bool(void *ctx, int b)
{
	return scalar_kept(ctx) ? attach(ctx, json_boolean(b)) : 1;
}

/* As jansson reads a number: an integer that does not fit is refused. */
static int on_number(void *ctx, const char *s, size_t len)
{
	struct decoder *d = ctx;
	if (!scalar_kept(d))
		return 1;
	json_error_t je;
	json_t *v = json_loadb(s, len, JSON_DECODE_ANY, &je);
	if (!v) {
		recap_error_set(&d->err, EBADMSG, "number %.*s: %s", len > 40 ? 40 : (int)len, s, je.text);
		return 0;
	}
	return attach(d, v);
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
	struct decoder *d = ctx;
	if (!scalar_kept(d))
		return 1;
	if (memchr(s, '\0', len))
		return fail(d, EBADMSG, "a string holds a NUL character");
	return attach(d, json_stringn((const char *)s, len));
}

static int on_key(void *ctx, const unsigned char *key, size_t len)
{
	struct decoder *d = ctx;
	if (d->skip_depth)
		return 1;
	struct frame *f = &d->stack[d->depth - 1];
	switch (f->self.how) {
	case FILTER:
		f->next = child_want(f->self.node, (const char *)key, len);
		break;
	case LIST:
		f->next = len == 5 && memcmp(key, "items", 5) == 0
			      ? (struct want){ITEMS, &d->sink->projection->root}
			      : (struct want){WHOLE, NULL};
		break;
	default:
		f->next = (struct want){WHOLE, NULL};
	}
	if (f->next.how == SKIP)
		return 1;
	if (memchr(key, '\0', len))
		return fail(d, EBADMSG, "an object key holds a NUL character");
	if (len + 1 > f->key_cap) {
		char *k = realloc(f->key, len + 1);
		if (!k)
			return out_of_memory(d);
		f->key = k;
		f->key_cap = len + 1;
	}
	memcpy(f->key, key, len);
	f->key[len] = '\0';
	f->key_len = len;
	return 1;
}

static int push(struct decoder *d, json_t *v, struct want self)
{
	if (!v)
		return out_of_memory(d);
	if (d->depth == RECAP_KUBE_LIST_DECODE_MAX_DEPTH) {
		json_decref(v);
		recap_error_set(&d->err, EBADMSG, "nesting deeper than %d levels",
				RECAP_KUBE_LIST_DECODE_MAX_DEPTH);
		return 0;
	}
	if (d->depth == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct frame *s = realloc(d->stack, cap * sizeof(*s));
		if (!s) {
			json_decref(v);
			return out_of_memory(d);
		}
		memset(s + d->cap, 0, (cap - d->cap) * sizeof(*s));
		d->stack = s;
		d->cap = cap;
	}
	struct frame *f = &d->stack[d->depth++];
	f->v = v;
	f->self = self;
	f->next = (struct want){SKIP, NULL};
	return 1;
}

static int on_start_map(void *ctx)
{
	struct decoder *d = ctx;
	if (d->skip_depth) {
		d->skip_depth++;
		return 1;
	}
	struct want w = next_want(d);
	if (w.how == SKIP || w.how == FILTER_EACH || w.how == ITEMS) {
		d->skip_depth = 1;
		return 1;
	}
	if (w.how == FILTER && !w.node->n)
		w.how = WHOLE;
	return push(d, json_object(), w);
}

static int on_start_array(void *ctx)
{
	struct decoder *d = ctx;
	if (d->skip_depth) {
		d->skip_depth++;
		return 1;
	}
	struct want w = next_want(d);
	if (w.how == SKIP) {
		d->skip_depth = 1;
		return 1;
	}
	if (w.how != FILTER_EACH && w.how != ITEMS)
		w = (struct want){WHOLE, NULL};
	return push(d, json_array(), w);
}

static int on_end(void *ctx)
{
	struct decoder *d = ctx;
	if (d->skip_depth) {
		d->skip_depth--;
		return 1;
	}
	json_t *v = d->stack[--d->depth].v;
	d->stack[d->depth].v = NULL;
	return attach(d, v);
}

static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_bool,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

static void decoder_clear(struct decoder *d)
{
	for (size_t i = 0; i < d->cap; i++) {
		json_decref(d->stack[i].v);
		free(d->stack[i].key);
	}
	free(d->stack);
	json_decref(d->result);
	recap_error_free(d->err);
}

struct list_decode {
	struct decoder d;
	yajl_handle h;
	size_t offset; /* of the piece being fed */
};

static void *decode_begin(void *sink)
{
	struct list_decode *ld = calloc(1, sizeof(*ld));
	if (!ld)
		return NULL;
	ld->d.sink = sink;
	ld->h = yajl_alloc(&callbacks, NULL, &ld->d);
	if (!ld->h) {
		free(ld);
		return NULL;
	}
	return ld;
}

static void decode_abort(void *state)
{
	struct list_decode *ld = state;
	if (!ld)
		return;
	yajl_free(ld->h);
	decoder_clear(&ld->d);
	free(ld);
}

/* Why yajl stopped: a callback's reason, or yajl's own (without its
 * trailing newline) and where. */
static int decode_failed(struct list_decode *ld, yajl_status st, const char *p, size_t n,
			 struct recap_error **err)
{
	if (st == yajl_status_client_canceled) {
		if (!ld->d.err)
			recap_error_set(&ld->d.err, EBADMSG, "stopped");
		int r = -recap_error_code(ld->d.err);
		recap_error_wrap(&ld->d.err, -r, "near byte %zu",
				 ld->offset + yajl_get_bytes_consumed(ld->h));
		if (err) {
			*err = ld->d.err;
			ld->d.err = NULL;
		}
		return r;
	}
	unsigned char *msg = yajl_get_error(ld->h, 0, (const unsigned char *)p, n);
	const char *m = msg ? (const char *)msg : "parse error";
	int r = recap_error_set(err, EBADMSG, "invalid JSON near byte %zu: %.*s",
				ld->offset + yajl_get_bytes_consumed(ld->h), (int)strcspn(m, "\n"), m);
	if (msg)
		yajl_free_error(ld->h, msg);
	return r;
}

static int decode_feed(void *state, const char *p, size_t n, struct recap_error **err)
{
	struct list_decode *ld = state;
	yajl_status st = yajl_parse(ld->h, (const unsigned char *)p, n);
	if (st != yajl_status_ok)
		return decode_failed(ld, st, p, n, err);
	ld->offset += n;
	return 0;
}

static int decode_end(void *state, json_t **ret, struct recap_error **err)
{
	struct list_decode *ld = state;
	yajl_status st = yajl_complete_parse(ld->h);
	int r = 0;
	if (st != yajl_status_ok) {
		r = decode_failed(ld, st, NULL, 0, err);
	} else {
		*ret = ld->d.result;
		ld->d.result = NULL;
	}
	decode_abort(ld);
	return r;
}

const struct recap_kube_decoder recap_kube_list_decoder = {
    .begin = decode_begin,
    .feed = decode_feed,
    .end = decode_end,
    .abort = decode_abort,
};

int recap_kube_list_decode(const char *body, size_t len, const struct recap_kube_list_sink *sink,
			   json_t **ret, struct recap_error **err)
{
	void *st = decode_begin((void *)sink);
	if (!st)
		return recap_error_set(err, ENOMEM, "list decode: out of memory");
	int r = decode_feed(st, body, len, err);
	if (r < 0) {
		decode_abort(st);
		return r;
	}
	return decode_end(st, ret, err);
}

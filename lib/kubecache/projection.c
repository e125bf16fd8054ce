#include "kubecache/projection.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "kubecache/projection_internal.h"

const char *const recap_kube_namespace_projection[RECAP_KUBE_NAMESPACE_PROJECTION_LEN] = {
    "metadata.name",
    "metadata.labels",
    "metadata.resourceVersion",
};

static void node_clear(struct node *n)
{
	for (size_t i = 0; i < n->n; i++)
		node_clear(&n->children[i]);
	free(n->children);
	free(n->name);
}

void recap_kube_projection_free(struct recap_kube_projection *p)
{
	if (!p)
		return;
	node_clear(&p->root);
	free(p);
}

static struct node *child(struct node *parent, const char *name, size_t len, bool each)
{
	for (size_t i = 0; i < parent->n; i++) {
		struct node *c = &parent->children[i];
		if (c->len == len && memcmp(c->name, name, len) == 0 && c->each == each)
			return c;
	}
	struct node *cs = realloc(parent->children, (parent->n + 1) * sizeof(*cs));
	if (!cs)
		return NULL;
	parent->children = cs;
	struct node *c = &cs[parent->n];
	*c = (struct node){.each = each, .name = strndup(name, len), .len = len};
	if (!c->name)
		return NULL;
	parent->n++;
	return c;
}

static int add_path(struct recap_kube_projection *p, const char *path, struct recap_error **err)
{
	struct node *at = &p->root;
	const char *s = path;
	for (;;) {
		size_t len = strcspn(s, ".[");
		bool each = s[len] == '[';
		if (len == 0 || (each && strncmp(s + len, "[]", 2) != 0))
			return recap_error_set(
			    err, EINVAL, "projection path '%s': empty name or bad '[' at '%s'", path, s);
		at = child(at, s, len, each);
		if (!at)
			return recap_error_set(err, ENOMEM, "projection: out of memory");
		s += len + (each ? 2 : 0);
		if (*s == '\0')
			return 0;
		if (*s != '.')
			return recap_error_set(err, EINVAL, "projection path '%s': expected '.' at '%s'",
					       path, s);
		s++;
	}
}

int recap_kube_projection_new(const char *const *paths, size_t n, struct recap_kube_projection **ret,
			      struct recap_error **err)
{
	if (n > RECAP_KUBE_PROJECTION_MAX_PATHS)
		return recap_error_set(err, E2BIG, "projection: more than %d paths",
				       RECAP_KUBE_PROJECTION_MAX_PATHS);
	struct recap_kube_projection *p = calloc(1, sizeof(*p));
	if (!p)
		return recap_error_set(err, ENOMEM, "projection: out of memory");
	for (size_t i = 0; i < n; i++) {
		int r = add_path(p, paths[i], err);
		if (r < 0) {
			recap_kube_projection_free(p);
			return r;
		}
	}
	*ret = p;
	return 0;
}

static json_t *project(const struct node *n, json_t *src);

static json_t *project_each(const struct node *n, json_t *arr)
{
	json_t *out = json_array();
	size_t i;
	json_t *el;
	json_array_foreach (arr, i, el) {
		json_t *p = n->n ? project(n, el) : json_incref(el);
		if (!p || json_array_append_new(out, p) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* Projects src (an object) through n's children. */
static json_t *project(const struct node *n, json_t *src)
{
	if (!json_is_object(src))
		return json_incref(src);
	json_t *out = json_object();
	for (size_t i = 0; out && i < n->n; i++) {
		const struct node *c = &n->children[i];
		json_t *v = json_object_get(src, c->name);
		if (!v)
			continue;
		json_t *p;
		if (c->each)
			p = json_is_array(v) ? project_each(c, v) : NULL;
		else
			p = c->n ? project(c, v) : json_incref(v);
		if (p && json_object_set_new(out, c->name, p) < 0) {
			json_decref(out);
			out = NULL;
		}
	}
	return out;
}

json_t *recap_kube_projection_apply(const struct recap_kube_projection *p, json_t *obj)
{
	if (!json_is_object(obj))
		return NULL;
	return project(&p->root, obj);
}

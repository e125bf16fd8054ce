#include "kube/resource.h"

#include <errno.h>
#include <string.h>

/* Names are DNS labels/subdomains or paths segments the API server accepts;
 * refuse what could change the path's shape, escape the rest. */
static int check_segment(const char *what, const char *s, struct recap_error **err)
{
	if (!s || !*s)
		return recap_error_set(err, EINVAL, "%s is empty", what);
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return recap_error_set(err, EINVAL, "%s '%s' is not a valid name", what, s);
	if (strlen(s) > 253)
		return recap_error_set(err, EINVAL, "%s is longer than 253 characters", what);
	return 0;
}

static bool unreserved(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

static int append_escaped(struct recap_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
		int r = unreserved(*p) ? recap_buf_append(b, p, 1) : recap_buf_append(b, enc, 3);
		if (r < 0)
			return r;
	}
	return 0;
}

static int append_segment(struct recap_buf *b, const char *what, const char *s, struct recap_error **err)
{
	int r = check_segment(what, s, err);
	if (r < 0)
		return r;
	if (recap_buf_appends(b, "/") < 0 || append_escaped(b, s) < 0)
		return recap_error_set(err, ENAMETOOLONG, "request path is longer than %zu bytes", b->max);
	return 0;
}

static int append_prefix(struct recap_buf *b, const struct recap_kube_resource *res, struct recap_error **err)
{
	int r;
	if (!res || !res->resource || !res->version)
		return recap_error_set(err, EINVAL, "resource needs a version and a resource name");
	if (!res->group || !*res->group) {
		r = recap_buf_appends(b, "/api");
	} else {
		r = recap_buf_appends(b, "/apis");
		if (r >= 0)
			r = append_segment(b, "API group", res->group, err);
	}
	if (r < 0)
		return recap_error_set(err, ENAMETOOLONG, "request path too long");
	return append_segment(b, "API version", res->version, err);
}

int recap_kube_path(struct recap_buf *b, const struct recap_kube_resource *res, const char *ns,
		    const char *name, const char *subresource, struct recap_error **err)
{
	size_t before = b->len;
	int r = append_prefix(b, res, err);
	if (r >= 0 && res->namespaced && !ns && name)
		r = recap_error_set(err, EINVAL, "%s '%s' needs a namespace", res->resource, name);
	if (r >= 0 && !res->namespaced && ns)
		r = recap_error_set(err, EINVAL, "%s are cluster-scoped: no namespace allowed",
				    res->resource);
	if (r >= 0 && res->namespaced && ns) {
		r = append_segment(b, "namespaces", "namespaces", err);
		if (r >= 0)
			r = append_segment(b, "namespace", ns, err);
	}
	if (r >= 0)
		r = append_segment(b, "resource", res->resource, err);
	if (r >= 0 && name)
		r = append_segment(b, "name", name, err);
	if (r >= 0 && subresource && !name)
		r = recap_error_set(err, EINVAL, "subresource '%s' needs an object name", subresource);
	if (r >= 0 && subresource)
		r = append_segment(b, "subresource", subresource, err);
	if (r < 0) {
		b->len = before;
		if (b->data)
			b->data[before] = '\0';
	}
	return r;
}

int recap_kube_query_add(struct recap_buf *b, const char *key, const char *value)
{
	if (!value || !*value)
		return 0;
	size_t before = b->len;
	bool first = !b->data || !memchr(b->data, '?', b->len);
	int r = recap_buf_appends(b, first ? "?" : "&");
	if (r >= 0)
		r = append_escaped(b, key);
	if (r >= 0)
		r = recap_buf_appends(b, "=");
	if (r >= 0)
		r = append_escaped(b, value);
	if (r < 0) {
		b->len = before;
		if (b->data)
			b->data[before] = '\0';
	}
	return r;
}

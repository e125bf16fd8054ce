/* hosts.toml (hosts.h): a reader for the subset of TOML these files use,
 * straight into endpoints. */
#include "oci/hosts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/fileio.h"

#define STR_MAX 4096
#define PATH_PARTS 4
#define ARRAY_MAX 8

struct cursor {
	const char *s, *end;
	int line;
	const char *file;
	struct recap_error **err;
};

enum vtype { V_STR, V_BOOL, V_ARRAY, V_OTHER };

struct value {
	enum vtype type;
	char str[STR_MAX];
	bool b;
	char arr[ARRAY_MAX][STR_MAX / 4];
	size_t n;
};

/* What the file says of one endpoint, before it is one. */
struct spec {
	char url[STR_MAX];
	bool has_url, skip_verify, override_path;
	int caps; /* -1: not said */
	char ca[STR_MAX];
};

struct doc {
	struct spec server;
	struct spec host[RECAP_OCI_HOSTS_MAX];
	size_t n_hosts;
};

static int fail(struct cursor *c, const char *what)
{
	return recap_error_set(c->err, EINVAL, "%s:%d: %s", c->file, c->line, what);
}

static bool at_end(const struct cursor *c)
{
	return c->s >= c->end;
}

static void skip_blank(struct cursor *c)
{
	while (!at_end(c) && (*c->s == ' ' || *c->s == '\t'))
		c->s++;
}

static void skip_comment(struct cursor *c)
{
	if (!at_end(c) && *c->s == '#')
		while (!at_end(c) && *c->s != '\n')
			c->s++;
}

/* Blanks, comments and newlines (inside an array). */
static void skip_space(struct cursor *c)
{
	for (;;) {
		skip_blank(c);
		skip_comment(c);
		if (at_end(c) || (*c->s != '\n' && *c->s != '\r'))
			return;
		if (*c->s == '\n')
			c->line++;
		c->s++;
	}
}

/* "..." with \" \\ \n \t \r \/ (and \uXXXX of ASCII), or '...' as is. */
static int string(struct cursor *c, char *out, size_t size)
{
	char q = *c->s++;
	size_t n = 0;
	while (!at_end(c) && *c->s != q) {
		char ch = *c->s++;
		if (ch == '\n')
			return fail(c, "a string does not end on its line");
		if (ch == '\\' && q == '"') {
			if (at_end(c))
				break;
			char e = *c->s++;
			unsigned v = 0;
			switch (e) {
			case 'n':
				ch = '\n';
				break;
			case 't':
				ch = '\t';
				break;
			case 'r':
				ch = '\r';
				break;
			case '"':
			case '\\':
			case '/':
				ch = e;
				break;
			case 'u':
				for (int i = 0; i < 4; i++) {
					char h = c->s < c->end ? *c->s++ : '\0';
					int d = h >= '0' && h <= '9'   ? h - '0'
						: h >= 'a' && h <= 'f' ? h - 'a' + 10
						: h >= 'A' && h <= 'F' ? h - 'A' + 10
								       : -1;
					if (d < 0)
						return fail(c,
							    "a \\u escape of four hex digits was expected");
					v = v * 16 + (unsigned)d;
				}
				if (v < 0x20 || v > 0x7e)
					return fail(c, "a \\u escape other than printable ASCII");
				ch = (char)v;
				break;
			default:
				return fail(c, "an unknown escape in a string");
			}
		}
		if ((unsigned char)ch < 0x20 && ch != '\t')
			return fail(c, "a control character in a string");
		if (n + 1 >= size)
			return fail(c, "a string too long");
		out[n++] = ch;
	}
	if (at_end(c))
		return fail(c, "a string does not end");
	c->s++;
	out[n] = '\0';
	return 0;
}

static bool bare_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-';
}

static int key(struct cursor *c, char *out, size_t size)
{
	skip_blank(c);
	if (!at_end(c) && (*c->s == '"' || *c->s == '\''))
		return string(c, out, size);
	size_t n = 0;
	while (!at_end(c) && bare_char(*c->s)) {
		if (n + 1 >= size)
			return fail(c, "a key too long");
		out[n++] = *c->s++;
	}
	if (n == 0)
		return fail(c, "a key was expected");
	out[n] = '\0';
	return 0;
}

/* a.b."c" into parts; stops before what follows. */
static int key_path(struct cursor *c, char parts[PATH_PARTS][STR_MAX], size_t *n)
{
	*n = 0;
	for (;;) {
		if (*n >= PATH_PARTS)
			return fail(c, "a key of too many parts");
		int r = key(c, parts[(*n)++], STR_MAX);
		if (r < 0)
			return r;
		skip_blank(c);
		if (at_end(c) || *c->s != '.')
			return 0;
		c->s++;
	}
}

static int value(struct cursor *c, struct value *v)
{
	skip_blank(c);
	if (at_end(c))
		return fail(c, "a value was expected");
	if (*c->s == '"' || *c->s == '\'') {
		if (c->end - c->s >= 3 && (!strncmp(c->s, "\"\"\"", 3) || !strncmp(c->s, "'''", 3)))
			return fail(c, "multi-line strings are not read here");
		v->type = V_STR;
		return string(c, v->str, sizeof(v->str));
	}
	if (*c->s == '[') {
		c->s++;
		v->type = V_ARRAY;
		v->n = 0;
		for (;;) {
			skip_space(c);
			if (!at_end(c) && *c->s == ']') {
				c->s++;
				return 0;
			}
			if (at_end(c) || (*c->s != '"' && *c->s != '\''))
				return fail(c, "an array of strings was expected");
			if (v->n >= ARRAY_MAX)
				return fail(c, "an array of too many items");
			int r = string(c, v->arr[v->n++], sizeof(v->arr[0]));
			if (r < 0)
				return r;
			skip_space(c);
			if (!at_end(c) && *c->s == ',')
				c->s++;
			else if (at_end(c) || *c->s != ']')
				return fail(c, "',' or ']' was expected in an array");
		}
	}
	if (*c->s == '{')
		return fail(c, "inline tables are not read here");
	size_t n = 0;
	while (c->s + n < c->end &&
	       (bare_char(c->s[n]) || c->s[n] == '.' || c->s[n] == ':' || c->s[n] == '+'))
		n++;
	if (n == 4 && !strncmp(c->s, "true", 4))
		v->type = V_BOOL, v->b = true;
	else if (n == 5 && !strncmp(c->s, "false", 5))
		v->type = V_BOOL, v->b = false;
	else if (n > 0 && ((c->s[0] >= '0' && c->s[0] <= '9') || c->s[0] == '-' || c->s[0] == '+'))
		v->type = V_OTHER; /* a number or a date: no key read here takes one */
	else
		return fail(c, "a value was expected (a string, true, false, an array or a number)");
	c->s += n;
	return 0;
}

static struct spec *host_spec(struct doc *d, const char *url, struct cursor *c)
{
	for (size_t i = 0; i < d->n_hosts; i++)
		if (!strcmp(d->host[i].url, url))
			return &d->host[i];
	if (d->n_hosts >= RECAP_OCI_HOSTS_MAX) {
		char msg[64];
		snprintf(msg, sizeof(msg), "more [host] tables than %d", RECAP_OCI_HOSTS_MAX);
		fail(c, msg);
		return NULL;
	}
	struct spec *s = &d->host[d->n_hosts++];
	snprintf(s->url, sizeof(s->url), "%s", url);
	s->has_url = true;
	s->caps = -1;
	return s;
}

static int caps_of(struct cursor *c, const struct value *v)
{
	int caps = 0;
	for (size_t i = 0; i < v->n; i++) {
		if (!strcmp(v->arr[i], "pull"))
			caps |= RECAP_OCI_CAP_PULL;
		else if (!strcmp(v->arr[i], "resolve"))
			caps |= RECAP_OCI_CAP_RESOLVE;
		else if (strcmp(v->arr[i], "push") != 0)
			return fail(c, "capabilities are pull, resolve and push");
	}
	return caps;
}

/* key = value in the endpoint s (NULL: a table not read). */
static int assign(struct cursor *c, struct spec *s, const char *k, const struct value *v)
{
	if (!s)
		return 0;
	if (!strcmp(k, "server") || !strcmp(k, "ca") || !strcmp(k, "skip_verify") ||
	    !strcmp(k, "override_path") || !strcmp(k, "capabilities")) {
		bool str = v->type == V_STR, arr = v->type == V_ARRAY, b = v->type == V_BOOL;
		if (!strcmp(k, "server") && str) {
			snprintf(s->url, sizeof(s->url), "%s", v->str);
			s->has_url = true;
		} else if (!strcmp(k, "ca") && (str || (arr && v->n == 1))) {
			snprintf(s->ca, sizeof(s->ca), "%s", str ? v->str : v->arr[0]);
		} else if (!strcmp(k, "ca") && arr && v->n == 0) {
			s->ca[0] = '\0';
		} else if (!strcmp(k, "ca") && arr) {
			return fail(c, "one ca file per host is read here");
		} else if (!strcmp(k, "skip_verify") && b) {
			s->skip_verify = v->b;
		} else if (!strcmp(k, "override_path") && b) {
			s->override_path = v->b;
		} else if (!strcmp(k, "capabilities") && arr) {
			int caps = caps_of(c, v);
			if (caps < 0)
				return caps;
			s->caps = caps;
		} else {
			return fail(c, "a value of the wrong type for its key");
		}
	}
	return 0; /* others (client, dial_timeout, ...) are not read */
}

/* The endpoint a table path and a key path name, with the last key in *k. */
static struct spec *target(struct doc *d, char tbl[PATH_PARTS][STR_MAX], size_t nt,
			   char kp[PATH_PARTS][STR_MAX], size_t nk, const char **k, struct cursor *c,
			   bool *bad)
{
	const char *full[2 * PATH_PARTS];
	size_t n = 0;
	for (size_t i = 0; i < nt; i++)
		full[n++] = tbl[i];
	for (size_t i = 0; i < nk; i++)
		full[n++] = kp[i];
	*k = full[n - 1];
	*bad = false;
	if (n == 1)
		return &d->server;
	if (n == 3 && !strcmp(full[0], "host")) {
		struct spec *s = host_spec(d, full[1], c);
		*bad = !s;
		return s;
	}
	return NULL;
}

static int parse_doc(struct cursor *c, struct doc *d)
{
	char tbl[PATH_PARTS][STR_MAX], kp[PATH_PARTS][STR_MAX];
	size_t nt = 0, nk;
	struct value *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	int r = 0;
	while (r == 0) {
		skip_space(c);
		if (at_end(c))
			break;
		if (*c->s == '[') {
			c->s++;
			if (!at_end(c) && *c->s == '[') {
				r = fail(c, "arrays of tables are not read here");
				break;
			}
			r = key_path(c, tbl, &nt);
			skip_blank(c);
			if (r == 0 && (at_end(c) || *c->s != ']'))
				r = fail(c, "']' was expected");
			if (r == 0) {
				c->s++;
				if (nt == 2 && !strcmp(tbl[0], "host") && !host_spec(d, tbl[1], c))
					r = -EINVAL;
			}
		} else {
			r = key_path(c, kp, &nk);
			skip_blank(c);
			if (r == 0 && (at_end(c) || *c->s != '='))
				r = fail(c, "'=' was expected");
			if (r == 0) {
				c->s++;
				r = value(c, v);
			}
			const char *k = NULL;
			bool bad = false;
			struct spec *s = r == 0 ? target(d, tbl, nt, kp, nk, &k, c, &bad) : NULL;
			if (r == 0 && bad)
				r = -EINVAL;
			if (r == 0)
				r = assign(c, s, k, v);
		}
		if (r == 0) {
			skip_blank(c);
			skip_comment(c);
			if (!at_end(c) && *c->s != '\n' && *c->s != '\r')
				r = fail(c, "the line goes on after its value");
		}
	}
	free(v);
	return r;
}

void recap_oci_hosts_clear(struct recap_oci_hosts *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->ep[i].root);
		free(h->ep[i].host);
		free(h->ep[i].ca_file);
	}
	memset(h, 0, sizeof(*h));
}

/* One endpoint from what the file said of it. */
static int endpoint(const struct spec *s, bool mirror, const char *base_dir, const char *file,
		    struct recap_oci_endpoint *ep, struct recap_error **err)
{
	const char *url = s->url;
	bool http = !strncmp(url, "http://", 7);
	if (!http && strncmp(url, "https://", 8) != 0)
		return recap_error_set(err, EINVAL, "%s: host \"%s\" is not an http:// or https:// URL", file,
				       url);
	const char *hostpart = url + (http ? 7 : 8);
	size_t hn = strcspn(hostpart, "/?#");
	if (hn == 0 || hostpart[hn] == '?' || hostpart[hn] == '#')
		return recap_error_set(err, EINVAL, "%s: host \"%s\" is not a registry URL", file, url);
	const char *path = hostpart + hn;
	size_t pn = strlen(path);
	while (pn > 0 && path[pn - 1] == '/')
		pn--;
	ep->plain_http = http;
	ep->skip_verify = s->skip_verify;
	ep->mirror = mirror;
	ep->caps = s->caps < 0 ? RECAP_OCI_CAP_PULL | RECAP_OCI_CAP_RESOLVE : s->caps;
	ep->host = strndup(hostpart, hn);
	/* containerd: the path is the API root with override_path; else /v2 is
	 * appended unless the path already ends in it */
	bool has_v2 = pn >= 3 && !strncmp(path + pn - 3, "/v2", 3);
	if (asprintf(&ep->root, "%.*s%.*s%s", (int)(path - url), url, (int)pn, path,
		     s->override_path || has_v2 ? "" : "/v2") < 0)
		ep->root = NULL;
	if (s->ca[0]) {
		if (s->ca[0] == '/' || !base_dir)
			ep->ca_file = strdup(s->ca);
		else if (asprintf(&ep->ca_file, "%s/%s", base_dir, s->ca) < 0)
			ep->ca_file = NULL;
		if (!ep->ca_file)
			return -ENOMEM;
	}
	return ep->host && ep->root ? 0 : -ENOMEM;
}

int recap_oci_hosts_parse(const char *text, size_t len, const char *file, const char *base_dir,
			  const char *api_host, bool plain_http, const char *ca_file,
			  struct recap_oci_hosts *ret, struct recap_error **err)
{
	memset(ret, 0, sizeof(*ret));
	struct doc *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->server.caps = -1;
	struct cursor c = {.s = text, .end = text + len, .line = 1, .file = file, .err = err};
	int r = len > RECAP_OCI_HOSTS_FILE_MAX
		    ? recap_error_set(err, EFBIG, "%s: over %d bytes", file, RECAP_OCI_HOSTS_FILE_MAX)
		: memchr(text, '\0', len) ? recap_error_set(err, EINVAL, "%s: a NUL byte", file)
					  : parse_doc(&c, d);
	for (size_t i = 0; r == 0 && i < d->n_hosts; i++)
		r = endpoint(&d->host[i], true, base_dir, file, &ret->ep[ret->n++], err);
	if (r == 0 && !d->server.has_url) /* the registry itself, as the caller reaches it */
		snprintf(d->server.url, sizeof(d->server.url), "%s://%s", plain_http ? "http" : "https",
			 api_host);
	if (r == 0)
		r = endpoint(&d->server, false, base_dir, file, &ret->ep[ret->n++], err);
	struct recap_oci_endpoint *server = r == 0 ? &ret->ep[ret->n - 1] : NULL;
	if (server && !server->ca_file && ca_file && !(server->ca_file = strdup(ca_file)))
		r = -ENOMEM;
	free(d);
	if (r < 0)
		recap_oci_hosts_clear(ret);
	return r == -ENOMEM ? recap_error_set(err, ENOMEM, "out of memory") : r;
}

int recap_oci_hosts_load(const char *dir, const char *registry, const char *api_host, bool plain_http,
			 const char *ca_file, struct recap_oci_hosts *ret, struct recap_error **err)
{
	_cleanup_free_ char *base = NULL, *file = NULL, *text = NULL;
	size_t len = 0;
	int r = -ENOENT;
	for (int i = 0; dir && i < 2 && r == -ENOENT; i++) {
		free(base);
		free(file);
		base = file = NULL;
		if (strchr(registry, '/') || !strcmp(registry, ".") || !strcmp(registry, ".."))
			return recap_error_set(err, EINVAL, "registry \"%s\" is not a host name", registry);
		if (asprintf(&base, "%s/%s", dir, i == 0 ? registry : "_default") < 0 ||
		    asprintf(&file, "%s/hosts.toml", base) < 0)
			return recap_error_set(err, ENOMEM, "out of memory");
		free(text);
		text = NULL;
		struct recap_error *e = NULL;
		r = recap_read_file(file, RECAP_OCI_HOSTS_FILE_MAX, &text, &len, &e);
		if (r == -ENOENT)
			recap_error_free(e);
		else if (r < 0 && err && !*err)
			*err = e;
		else
			recap_error_free(e);
	}
	if (r == -ENOENT || !dir) {
		static const char none[] = "";
		return recap_oci_hosts_parse(none, 0, "(no hosts.toml)", NULL, api_host, plain_http, ca_file,
					     ret, err);
	}
	if (r < 0)
		return r;
	return recap_oci_hosts_parse(text, len, file, base, api_host, plain_http, ca_file, ret, err);
}

/* hosts.toml (hosts.h): what each key of the file's statements
 * (hosts_toml.c) makes of an endpoint. */
#include "oci/hosts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/cleanup.h"
#include "base/fileio.h"
#include "oci/hosts_toml.h"

#define STR_MAX TOML_STR_MAX
#define fail recap_oci_toml_fail

struct header_spec {
	char name[RECAP_OCI_HOSTS_HEADER_MAX + 1];
	char value[RECAP_OCI_HOSTS_HEADER_MAX + 1];
};

/* What the file says of one endpoint, before it is one. */
struct spec {
	char url[STR_MAX];
	bool has_url, skip_verify, override_path;
	int caps; /* -1: not said */
	char ca[STR_MAX];
	char client_cert[STR_MAX], client_key[STR_MAX]; /* key "": in the cert's file */
	long dial_timeout_ms;
	struct header_spec header[RECAP_OCI_HOSTS_HEADERS_MAX];
	size_t n_headers;
};

struct doc {
	struct spec server;
	struct spec host[RECAP_OCI_HOSTS_MAX];
	size_t n_hosts;
};

static struct spec *host_spec(struct doc *d, const char *url, struct toml_cursor *c)
{
	for (size_t i = 0; i < d->n_hosts; i++)
		if (!strcmp(d->host[i].url, url))
			return &d->host[i];
	if (d->n_hosts >= RECAP_OCI_HOSTS_MAX) {
		fail(c, "more [host] tables than %d", RECAP_OCI_HOSTS_MAX);
		return NULL;
	}
	struct spec *s = &d->host[d->n_hosts++];
	snprintf(s->url, sizeof(s->url), "%s", url);
	s->has_url = true;
	s->caps = -1;
	return s;
}

static int set_server(struct toml_cursor *c, struct spec *s, const struct toml_value *v)
{
	if (v->type != TOML_STR)
		return fail(c, "a value of the wrong type for its key");
	snprintf(s->url, sizeof(s->url), "%s", v->str);
	s->has_url = true;
	return 0;
}

static int set_ca(struct toml_cursor *c, struct spec *s, const struct toml_value *v)
{
	bool strings = recap_oci_toml_is_strings(v);
	if (strings && v->n > 1)
		return fail(c, "one ca file per host is read here");
	if (v->type != TOML_STR && !strings)
		return fail(c, "a value of the wrong type for its key");
	snprintf(s->ca, sizeof(s->ca), "%s", v->type == TOML_STR ? v->str : v->n ? v->arr[0] : "");
	return 0;
}

static int set_skip_verify(struct toml_cursor *c, struct spec *s, const struct toml_value *v)
{
	if (v->type != TOML_BOOL)
		return fail(c, "a value of the wrong type for its key");
	s->skip_verify = v->b;
	return 0;
}

static int set_override_path(struct toml_cursor *c, struct spec *s, const struct toml_value *v)
{
	if (v->type != TOML_BOOL)
		return fail(c, "a value of the wrong type for its key");
	s->override_path = v->b;
	return 0;
}

static int set_capabilities(struct toml_cursor *c, struct spec *s, const struct toml_value *v)
{
	if (!recap_oci_toml_is_strings(v))
		return fail(c, "a value of the wrong type for its key");
	int caps = 0;
	for (size_t i = 0; i < v->n; i++) {
		if (!strcmp(v->arr[i], "pull"))
			caps |= RECAP_OCI_CAP_PULL;
		else if (!strcmp(v->arr[i], "resolve"))
			caps |= RECAP_OCI_CAP_RESOLVE;
		else if (strcmp(v->arr[i], "push") != 0)
			return fail(c, "capabilities are pull, resolve and push");
	}
	s->caps = caps;
	return 0;
}

static int client_pair(struct toml_cursor *c, struct spec *s, const char *cert, const char *key)
{
	if (!cert[0] || (key && !key[0]))
		return fail(c, "client: an empty path");
	snprintf(s->client_cert, sizeof(s->client_cert), "%s", cert);
	snprintf(s->client_key, sizeof(s->client_key), "%s", key ? key : "");
	return 0;
}

/* "both.pem", ["both.pem"] or [["cert.pem", "key.pem"]]. Go's TLS picks one
 * of several certificates by the server's request; libcurl takes one. */
static int set_client(struct toml_cursor *c, struct spec *s, const struct toml_value *v)
{
	if (v->type == TOML_STR)
		return client_pair(c, s, v->str, NULL);
	if (v->type != TOML_ARRAY)
		return fail(c, "client is a path, an array of paths or an array of [cert, key] pairs");
	if (v->n_items > 1)
		return fail(c,
			    "client names %zu certificates; one per host is read here (libcurl presents one)",
			    v->n_items);
	s->client_cert[0] = s->client_key[0] = '\0';
	if (v->n_items == 0)
		return 0;
	const struct toml_item *it = &v->item[0];
	if (it->array && it->n != 2)
		return fail(c, "client: a pair is two paths, [cert, key]");
	return client_pair(c, s, v->arr[it->first], it->array ? v->arr[it->first + 1] : NULL);
}

enum { DURATION_OK, DURATION_MALFORMED, DURATION_NEGATIVE, DURATION_TOO_LONG };

/* The unit of a Go duration's number, in ns; 0: not one. */
static unsigned long long duration_unit(const char *u, size_t n)
{
	static const struct {
		const char *name;
		unsigned long long ns;
	} units[] = {
	    {"ns", 1ULL},	{"us", 1000ULL},      {"\u00b5s", 1000ULL},  {"\u03bcs", 1000ULL},
	    {"ms", 1000000ULL}, {"s", 1000000000ULL}, {"m", 60000000000ULL}, {"h", 3600000000000ULL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (strlen(units[i].name) == n && !strncmp(units[i].name, u, n))
			return units[i].ns;
	return 0;
}

/* One number and its unit of a Go duration ("1.5s"), in ns, capped just
 * past max_ns; advances *p. */
static int duration_term(const char **p, unsigned long long max_ns, unsigned __int128 *ret_ns)
{
	const char *q = *p;
	unsigned __int128 whole = 0, frac = 0, scale = 1;
	bool digits = false;
	for (; *q >= '0' && *q <= '9'; q++, digits = true)
		if (whole <= max_ns) /* past it the sum is too long anyway */
			whole = whole * 10 + (unsigned)(*q - '0');
	if (*q == '.')
		for (q++; *q >= '0' && *q <= '9'; q++, digits = true)
			if (scale < 1000000000000000000ULL) { /* finer than 1e-18 of a unit is nothing */
				frac = frac * 10 + (unsigned)(*q - '0');
				scale *= 10;
			}
	size_t un = strcspn(q, "0123456789.");
	unsigned long long unit = duration_unit(q, un);
	if (!digits || !unit)
		return DURATION_MALFORMED;
	*p = q + un;
	*ret_ns = whole * unit + frac * unit / scale;
	return DURATION_OK;
}

/* Go's time.ParseDuration, as containerd reads dial_timeout: an optional
 * sign, then numbers (with fractions) each with its unit ("1m30s", "1.5s",
 * "300ms"), or "0". *ret_ns is set when it is one of at most max_ns. */
static int duration_ns(const char *p, unsigned long long max_ns, unsigned long long *ret_ns)
{
	bool negative = *p == '-';
	if (*p == '-' || *p == '+')
		p++;
	unsigned __int128 total = 0;
	if (strcmp(p, "0") != 0) {
		do {
			unsigned __int128 ns;
			if (duration_term(&p, max_ns, &ns) != DURATION_OK)
				return DURATION_MALFORMED;
			total += ns;
			if (total > max_ns)
				total = (unsigned __int128)max_ns + 1;
		} while (*p);
	}
	if (negative && total)
		return DURATION_NEGATIVE;
	if (total > max_ns)
		return DURATION_TOO_LONG;
	*ret_ns = (unsigned long long)total;
	return DURATION_OK;
}

/* "5s": the connection's timeout, rounded up to a millisecond; "" (as
 * containerd takes it) and "0s" leave the caller's. */
static int set_dial_timeout(struct toml_cursor *c, struct spec *s, const struct toml_value *v)
{
	if (v->type != TOML_STR)
		return fail(c, "dial_timeout is a duration string, such as \"5s\"");
	unsigned long long ns = 0;
	int r = v->str[0] ? duration_ns(v->str, RECAP_OCI_HOSTS_DIAL_TIMEOUT_MAX_MS * 1000000ULL, &ns)
			  : DURATION_OK;
	if (r == DURATION_MALFORMED)
		return fail(c, "dial_timeout \"%s\" is not a duration (such as \"500ms\", \"5s\", \"1m30s\")",
			    v->str);
	if (r == DURATION_NEGATIVE)
		return fail(c, "dial_timeout \"%s\" is negative", v->str);
	if (r == DURATION_TOO_LONG)
		return fail(c, "dial_timeout \"%s\" is over %ld s", v->str,
			    RECAP_OCI_HOSTS_DIAL_TIMEOUT_MAX_MS / 1000);
	s->dial_timeout_ms = (long)((ns + 999999) / 1000000);
	return 0;
}

/* An RFC 9110 token. */
static bool header_name_ok(const char *name)
{
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("!#$%&'*+-.^_`|~", *p)))
			return false;
	return name[0] != '\0';
}

/* What a header RECap or libcurl sets would do if a file set it too; NULL:
 * the file's to set. */
static const char *header_reserved(const char *name)
{
	static const struct {
		const char *name, *why;
	} reserved[] = {
	    {"Authorization", "would override the credentials RECap sends"},
	    {"Proxy-Authorization", "would override the credentials RECap sends"},
	    {"Host", "would override the host RECap asks"},
	    {"Accept", "would override the media types RECap asks for"},
	    {"Content-Length", "is HTTP framing, libcurl's to set"},
	    {"Transfer-Encoding", "is HTTP framing, libcurl's to set"},
	    {"Connection", "is HTTP framing, libcurl's to set"},
	    {"Upgrade", "is HTTP framing, libcurl's to set"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++)
		if (!strcasecmp(reserved[i].name, name))
			return reserved[i].why;
	return NULL;
}

static int header_name_check(struct toml_cursor *c, const struct spec *s, const char *name)
{
	if (!header_name_ok(name))
		return fail(c, "header \"%s\" is not an HTTP header name", name);
	const char *why = header_reserved(name);
	if (why)
		return fail(c, "header \"%s\" %s", name, why);
	for (size_t i = 0; i < s->n_headers; i++)
		if (!strcasecmp(s->header[i].name, name))
			return fail(c, "header \"%s\" is given twice (its values go in one array)", name);
	return 0;
}

static int add_header(struct toml_cursor *c, struct spec *s, const char *name, const char *value)
{
	if (strchr(value, 0x7f)) /* the string reader took every other control character but tab */
		return fail(c, "header \"%s\": a control character in its value", name);
	if (strlen(name) + strlen(value) > RECAP_OCI_HOSTS_HEADER_MAX)
		return fail(c, "header \"%s\": over %d bytes", name, RECAP_OCI_HOSTS_HEADER_MAX);
	if (s->n_headers >= RECAP_OCI_HOSTS_HEADERS_MAX)
		return fail(c, "more than %d header values for one host", RECAP_OCI_HOSTS_HEADERS_MAX);
	struct header_spec *h = &s->header[s->n_headers++];
	snprintf(h->name, sizeof(h->name), "%s", name);
	snprintf(h->value, sizeof(h->value), "%s", value);
	return 0;
}

/* name = "value" or name = ["v1", "v2"] in a header table. */
static int set_header(struct toml_cursor *c, struct spec *s, const char *name, const struct toml_value *v)
{
	int r = header_name_check(c, s, name);
	if (r < 0)
		return r;
	if (v->type == TOML_STR)
		return add_header(c, s, name, v->str);
	if (!recap_oci_toml_is_strings(v))
		return fail(c, "header \"%s\": a string or an array of strings was expected", name);
	for (size_t i = 0; i < v->n && r == 0; i++)
		r = add_header(c, s, name, v->arr[i]);
	return r;
}

static int header_not_table(struct toml_cursor *c, struct spec *s, const struct toml_value *v)
{
	return fail(c, "header is a table of name = value ([header] or header.NAME = ...)");
}

/* key = value in the endpoint s. */
static int assign(struct toml_cursor *c, struct spec *s, const char *k, const struct toml_value *v)
{
	static const struct {
		const char *key;
		int (*set)(struct toml_cursor *c, struct spec *s, const struct toml_value *v);
	} keys[] = {
	    {"server", set_server},
	    {"ca", set_ca},
	    {"skip_verify", set_skip_verify},
	    {"override_path", set_override_path},
	    {"capabilities", set_capabilities},
	    {"client", set_client},
	    {"dial_timeout", set_dial_timeout},
	    {"header", header_not_table},
	};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(k, keys[i].key))
			return keys[i].set(c, s, v);
	return 0; /* a key containerd does not read either */
}

/* The endpoint a key's whole path (its table's, then its own) names: its
 * key (host."URL".KEY, or KEY for the server), its header
 * (host."URL".header.NAME, header.NAME), or nothing read (*ret_s NULL). */
static int target(struct doc *d, const char *const *path, size_t n, struct toml_cursor *c,
		  struct spec **ret_s, const char **ret_k, bool *ret_header)
{
	*ret_s = NULL;
	struct spec *s = &d->server;
	if (!strcmp(path[0], "host")) {
		if (n < 3)
			return 0;
		if (!(s = host_spec(d, path[1], c)))
			return -EINVAL;
		path += 2;
		n -= 2;
	}
	bool header = n >= 2 && !strcmp(path[0], "header");
	if (header && n > 2)
		return fail(c, "header \"%s\": a string or an array of strings was expected", path[1]);
	if (n > 1 && !header)
		return 0;
	*ret_s = s;
	*ret_k = path[n - 1];
	*ret_header = header;
	return 0;
}

static int key_statement(struct doc *d, struct toml_cursor *c, char table[][STR_MAX], size_t nt,
			 const struct toml_stmt *st)
{
	const char *path[2 * TOML_PATH_PARTS];
	size_t n = 0;
	for (size_t i = 0; i < nt; i++)
		path[n++] = table[i];
	for (size_t i = 0; i < st->n; i++)
		path[n++] = st->path[i];
	struct spec *s;
	const char *k;
	bool header;
	int r = target(d, path, n, c, &s, &k, &header);
	if (r < 0 || !s)
		return r;
	return header ? set_header(c, s, k, &st->v) : assign(c, s, k, &st->v);
}

static int parse_doc(struct toml_cursor *c, struct doc *d)
{
	struct {
		struct toml_stmt st;
		char table[TOML_PATH_PARTS][STR_MAX];
		size_t nt;
	} *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	int r;
	while ((r = recap_oci_toml_next(c, &p->st)) == 0 && p->st.kind != TOML_END) {
		if (p->st.kind == TOML_KEY) {
			r = key_statement(d, c, p->table, p->nt, &p->st);
		} else {
			memcpy(p->table, p->st.path, sizeof(p->table));
			p->nt = p->st.n;
			/* a [host] table's place in the file is its mirror's */
			if (p->nt >= 2 && !strcmp(p->table[0], "host") && !host_spec(d, p->table[1], c))
				r = -EINVAL;
		}
		if (r < 0)
			break;
	}
	free(p);
	return r;
}

void recap_oci_hosts_clear(struct recap_oci_hosts *h)
{
	for (size_t i = 0; i < h->n; i++) {
		struct recap_oci_endpoint *ep = &h->ep[i];
		free(ep->root);
		free(ep->host);
		free(ep->ca_file);
		free(ep->client_cert);
		free(ep->client_key);
		for (size_t j = 0; j < ep->n_headers; j++) {
			free(ep->header[j].name);
			free(ep->header[j].value);
		}
	}
	memset(h, 0, sizeof(*h));
}

/* p as the file names it: relative to the file's directory. */
static char *file_path(const char *base_dir, const char *p)
{
	char *out = NULL;
	if (p[0] == '/' || !base_dir)
		return strdup(p);
	return asprintf(&out, "%s/%s", base_dir, p) < 0 ? NULL : out;
}

/* Its TLS files, connection timeout and headers. */
static int endpoint_own(const struct spec *s, const char *base_dir, const char *file,
			struct recap_oci_endpoint *ep, struct recap_error **err)
{
	/* containerd would try https:// first there; plain HTTP would drop the
	 * certificate unsaid */
	if (ep->plain_http && s->client_cert[0])
		return recap_error_set(
		    err, EINVAL,
		    "%s: host \"%s\" is plain http:// and has a client certificate (use https://)", file,
		    s->url);
	if (s->ca[0] && !(ep->ca_file = file_path(base_dir, s->ca)))
		return -ENOMEM;
	if (s->client_cert[0]) {
		ep->client_cert = file_path(base_dir, s->client_cert);
		ep->client_key = file_path(base_dir, s->client_key[0] ? s->client_key : s->client_cert);
		if (!ep->client_cert || !ep->client_key)
			return -ENOMEM;
	}
	ep->dial_timeout_ms = s->dial_timeout_ms;
	for (size_t i = 0; i < s->n_headers; i++) {
		struct recap_oci_header *h = &ep->header[ep->n_headers++];
		h->name = strdup(s->header[i].name);
		h->value = strdup(s->header[i].value);
		if (!h->name || !h->value)
			return -ENOMEM;
	}
	return 0;
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
	if (!ep->host || !ep->root)
		return -ENOMEM;
	return endpoint_own(s, base_dir, file, ep, err);
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
	struct toml_cursor c = {.s = text, .end = text + len, .line = 1, .file = file, .err = err};
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

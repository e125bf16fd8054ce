/* attach's WebSocket handshake and Status, without I/O: see attachws.h. */
#include "attachws.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/names.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "wsproto/channel.h"

static void escape(FILE *f, const char *s)
{
	static const char unreserved[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~";
	for (; *s; s++)
		if (strchr(unreserved, *s))
			fputc(*s, f);
		else
			fprintf(f, "%%%02X", (unsigned char)*s);
}

char *plugin_attach_path(const char *ns, const char *run, const char *pod)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);
	if (!f)
		return NULL;
	fputs("/apis/" RECAP_SUBRESOURCES_GROUP_VERSION "/namespaces/", f);
	escape(f, ns);
	fputs("/" RECAP_RESOURCE_CAPSULE_RUN "/", f);
	escape(f, run);
	fputs("/attach?target=", f);
	escape(f, pod);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

void plugin_attach_headers(const char key[RECAP_WS_KEY_LEN + 1], struct plugin_attach_headers *out)
{
	snprintf(out->h[0], sizeof(out->h[0]), "Connection: Upgrade");
	snprintf(out->h[1], sizeof(out->h[1]), "Upgrade: websocket");
	snprintf(out->h[2], sizeof(out->h[2]), "Sec-WebSocket-Version: 13");
	snprintf(out->h[3], sizeof(out->h[3]), "Sec-WebSocket-Key: %s", key);
	snprintf(out->h[4], sizeof(out->h[4]), "Sec-WebSocket-Protocol: %s", PLUGIN_ATTACH_PROTOCOLS);
	for (size_t i = 0; i < PLUGIN_ATTACH_NHEADERS; i++)
		out->v[i] = out->h[i];
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

static const char *find_end(const char *data, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++)
		if (memcmp(data + i, "\r\n\r\n", 4) == 0)
			return data + i + 4;
	return NULL;
}

/* "HTTP/1.x NNN reason": NNN, or -1. */
static int status_code(const char *line)
{
	const char *sp = line ? strchr(line, ' ') : NULL;
	char *end = NULL;
	long status = sp ? strtol(sp + 1, &end, 10) : 0;
	if (!sp || strncmp(line, "HTTP/1.", 7) != 0 || end != sp + 4 || status < 100 || (*end && *end != ' '))
		return -1;
	return (int)status;
}

int plugin_http_head_parse(const char *data, size_t len, struct plugin_http_head *h, struct recap_error **err)
{
	*h = (struct plugin_http_head){0};
	const char *end = find_end(data, len < PLUGIN_HTTP_HEAD_MAX ? len : PLUGIN_HTTP_HEAD_MAX);
	if (!end)
		return len >= PLUGIN_HTTP_HEAD_MAX
			   ? recap_error_set(err, EPROTO, "the answer's head is longer than %d bytes",
					     PLUGIN_HTTP_HEAD_MAX)
			   : 0;
	if (len < 5 || memcmp(data, "HTTP/", 5) != 0)
		return recap_error_set(err, EPROTO, "the answer is not HTTP");
	h->len = (size_t)(end - data);
	if (!(h->copy = strndup(data, h->len - 4)))
		return -ENOMEM;
	char *save = NULL, *line = strtok_r(h->copy, "\r\n", &save);
	if ((h->status = status_code(line)) < 0) {
		plugin_http_head_free(h);
		return recap_error_set(err, EPROTO, "the answer's status line is not HTTP/1.x");
	}
	while ((line = strtok_r(NULL, "\r\n", &save))) {
		char *colon = strchr(line, ':');
		if (!colon || colon == line || h->n >= PLUGIN_HTTP_HEADERS_MAX) {
			plugin_http_head_free(h);
			return recap_error_set(err, EPROTO, "the answer has a bad header or too many");
		}
		*colon = '\0';
		h->name[h->n] = line;
		h->value[h->n++] = trim(colon + 1);
	}
	return 1;
}

void plugin_http_head_free(struct plugin_http_head *h)
{
	free(h->copy);
	*h = (struct plugin_http_head){0};
}

const char *plugin_http_header(const struct plugin_http_head *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcasecmp(h->name[i], name) == 0)
			return h->value[i];
	return NULL;
}

/* Whether a comma-separated list holds the token (case-insensitive). */
static bool has_token(const char *list, const char *token)
{
	size_t n = strlen(token);
	for (const char *p = list; p && *p;) {
		p += strspn(p, " \t,");
		size_t k = strcspn(p, ",");
		size_t t = k;
		while (t && (p[t - 1] == ' ' || p[t - 1] == '\t'))
			t--;
		if (t == n && strncasecmp(p, token, n) == 0)
			return true;
		p += k;
	}
	return false;
}

int plugin_attach_check(const struct plugin_http_head *h, const char *key, int *ret_version,
			struct recap_error **err)
{
	if (h->status != 101)
		return recap_error_set(err, EPROTO, "the server answered %d, not 101 Switching Protocols",
				       h->status);
	const char *upgrade = plugin_http_header(h, "Upgrade");
	const char *connection = plugin_http_header(h, "Connection");
	if (!upgrade || strcasecmp(upgrade, "websocket") != 0 || !connection ||
	    !has_token(connection, "upgrade"))
		return recap_error_set(err, EPROTO, "the server's 101 is not an upgrade to WebSocket");
	const char *accept = plugin_http_header(h, "Sec-WebSocket-Accept");
	if (!accept)
		return recap_error_set(err, EPROTO, "the server's 101 has no Sec-WebSocket-Accept");
	int r = recap_ws_accept_check(key, accept, err);
	if (r < 0)
		return recap_error_wrap(err, r, "the server's Sec-WebSocket-Accept");
	const char *proto = plugin_http_header(h, "Sec-WebSocket-Protocol");
	if (!proto)
		return recap_error_set(
		    err, EPROTO, "the server chose no protocol (asked for " PLUGIN_ATTACH_PROTOCOLS ")");
	if (!has_token(PLUGIN_ATTACH_PROTOCOLS, proto))
		return recap_error_set(
		    err, EPROTO, "the server chose protocol \"%s\", not one of " PLUGIN_ATTACH_PROTOCOLS,
		    proto);
	r = recap_wschan_version(proto, err);
	if (r < 0)
		return r;
	*ret_version = r;
	return 0;
}

/* A chunked body: 1 when whole (decoded into *ret), 0 for more. */
static int dechunk(const char *p, size_t len, char **ret, size_t *ret_len, struct recap_error **err)
{
	_cleanup_free_ char *out = malloc(len + 1);
	size_t o = 0, i = 0;
	if (!out)
		return -ENOMEM;
	for (;;) {
		const char *eol = memmem(p + i, len - i, "\r\n", 2);
		if (!eol)
			return 0;
		char *end = NULL;
		unsigned long n = strtoul(p + i, &end, 16);
		if (end == p + i || (end != eol && *end != ';'))
			return recap_error_set(err, EPROTO, "the answer's chunked body is malformed");
		i = (size_t)(eol - p) + 2;
		if (n == 0)
			break; /* trailers, if any, do not matter */
		if (n > len - i || len - i - n < 2)
			return 0;
		memcpy(out + o, p + i, n);
		o += n;
		i += n + 2;
	}
	out[o] = '\0';
	*ret_len = o;
	*ret = steal_ptr(out);
	return 1;
}

int plugin_http_body(const struct plugin_http_head *h, const char *data, size_t len, bool eof, char **ret,
		     size_t *ret_len, struct recap_error **err)
{
	const char *te = plugin_http_header(h, "Transfer-Encoding");
	const char *cl = plugin_http_header(h, "Content-Length");
	size_t want = len;
	if (te && has_token(te, "chunked")) {
		int r = dechunk(data, len, ret, ret_len, err);
		if (r != 0 || !eof)
			return r;
	} else if (cl) {
		want = strtoul(cl, NULL, 10);
		if (len < want && !eof && len < PLUGIN_HTTP_BODY_MAX)
			return 0;
	} else if (!eof && len < PLUGIN_HTTP_BODY_MAX) {
		return 0;
	}
	if (want > len)
		want = len;
	if (want > PLUGIN_HTTP_BODY_MAX)
		want = PLUGIN_HTTP_BODY_MAX;
	char *out = strndup(data, want);
	if (!out)
		return -ENOMEM;
	*ret = out;
	*ret_len = want;
	return 1;
}

char *plugin_attach_refusal(const struct plugin_http_head *h, const char *body, size_t len)
{
	_cleanup_json_ json_t *status = json_loadb(body, len, 0, NULL);
	const char *m = json_string_value(json_object_get(status, "message"));
	char *out = NULL;
	if (m && *m)
		return strdup(m);
	if (asprintf(&out, "HTTP %d%s%.*s", h->status, len ? ": " : "", len > 200 ? 200 : (int)len, body) < 0)
		return NULL;
	return out;
}

int plugin_attach_exit_code(const void *status, size_t len, char **ret_message)
{
	struct recap_error *err = NULL;
	int code = 0;
	char *message = NULL;
	*ret_message = NULL;
	int r = recap_wschan_status_parse(status, len, &code, &message, &err);
	if (r < 0) {
		if (asprintf(ret_message, "the session's exit status cannot be read: %s",
			     recap_error_message(err)) < 0)
			*ret_message = NULL;
		recap_error_free(err);
		return 1;
	}
	if (code >= 0)
		return code;
	*ret_message = message ? message : strdup("the session failed");
	return 1;
}

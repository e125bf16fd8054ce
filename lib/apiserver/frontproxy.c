#include "apiserver/frontproxy.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/json.h"

void apiserver_frontproxy_free(struct apiserver_frontproxy *fp)
{
	free(fp->ca);
	for (int i = 0; i < APISERVER_FP_MAX; i++) {
		free(fp->allowed[i]);
		free(fp->user_headers[i]);
		free(fp->group_headers[i]);
		free(fp->extra_prefixes[i]);
	}
	memset(fp, 0, sizeof(*fp));
}

/* The ConfigMap holds lists as JSON arrays in strings. */
static int list(json_t *data, const char *key, char **out, bool required, struct recap_error **err)
{
	const char *v = recap_json_str(data, key);
	if (!v)
		return required
			   ? recap_error_set(err, ENOENT, "the front proxy's configuration has no %s", key)
			   : 0;
	json_t *a = json_loads(v, 0, NULL);
	size_t i;
	json_t *e;
	if (!json_is_array(a) || json_array_size(a) > APISERVER_FP_MAX) {
		json_decref(a);
		return recap_error_set(err, EINVAL, "%s is not a JSON list of at most %d strings", key,
				       APISERVER_FP_MAX);
	}
	json_array_foreach (a, i, e) {
		if (!json_is_string(e) || !(out[i] = strdup(json_string_value(e)))) {
			json_decref(a);
			return recap_error_set(err, EINVAL, "%s[%zu] is not a string", key, i);
		}
	}
	json_decref(a);
	return 0;
}

int apiserver_frontproxy_parse(json_t *cm, struct apiserver_frontproxy *ret, struct recap_error **err)
{
	struct apiserver_frontproxy fp = {0};
	json_t *data = json_object_get(cm, "data");
	const char *ca = recap_json_str(data, "requestheader-client-ca-file");
	int r = 0;
	if (!ca || !strstr(ca, "-----BEGIN CERTIFICATE-----"))
		r = recap_error_set(
		    err, ENOENT,
		    "kube-system/extension-apiserver-authentication has no requestheader-client-ca-file: "
		    "the API server's aggregation layer is not configured (--requestheader-client-ca-file)");
	else if (!(fp.ca = strdup(ca)))
		r = recap_error_set(err, ENOMEM, "out of memory");
	if (r >= 0)
		r = list(data, "requestheader-allowed-names", fp.allowed, false, err);
	if (r >= 0)
		r = list(data, "requestheader-username-headers", fp.user_headers, true, err);
	if (r >= 0)
		r = list(data, "requestheader-group-headers", fp.group_headers, false, err);
	if (r >= 0)
		r = list(data, "requestheader-extra-headers-prefix", fp.extra_prefixes, false, err);
	if (r < 0) {
		apiserver_frontproxy_free(&fp);
		return r;
	}
	*ret = fp;
	return 0;
}

bool apiserver_frontproxy_allows(const struct apiserver_frontproxy *fp, const char *cn)
{
	if (!fp->allowed[0]) /* no names: any certificate the CA signed */
		return true;
	for (int i = 0; i < APISERVER_FP_MAX && fp->allowed[i]; i++)
		if (strcmp(fp->allowed[i], cn) == 0)
			return true;
	return false;
}

static int hexval(char h)
{
	return isdigit((unsigned char)h) ? h - '0' : tolower((unsigned char)h) - 'a' + 10;
}

/* Extra keys are percent-encoded in header names; stored lower case. */
static char *extra_key(const char *s, size_t n)
{
	char *k = malloc(n + 1);
	size_t o = 0;
	for (size_t i = 0; k && i < n; i++) {
		if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			k[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			k[o++] = (char)tolower((unsigned char)s[i]);
		}
	}
	if (k)
		k[o] = '\0';
	return k;
}

static bool in(char *const *names, const char *h, size_t n)
{
	for (int i = 0; i < APISERVER_FP_MAX && names[i]; i++)
		if (strlen(names[i]) == n && strncasecmp(names[i], h, n) == 0)
			return true;
	return false;
}

static const char *prefix_of(char *const *prefixes, const char *h, size_t n)
{
	for (int i = 0; i < APISERVER_FP_MAX && prefixes[i]; i++) {
		size_t pl = strlen(prefixes[i]);
		if (pl < n && strncasecmp(prefixes[i], h, pl) == 0)
			return h + pl;
	}
	return NULL;
}

static void add_extra(json_t *extra, const char *key, size_t key_len, const char *v, size_t vn)
{
	char *k = extra_key(key, key_len);
	if (!k)
		return;
	json_t *a = json_object_get(extra, k);
	if (!a)
		json_object_set_new(extra, k, a = json_array());
	json_array_append_new(a, json_stringn(v, vn));
	free(k);
}

/* One header line: name, value (trimmed). */
static void take(const struct apiserver_frontproxy *fp, struct apiserver_user *u, const char *h, size_t n,
		 const char *v, size_t vn)
{
	const char *key;
	if (in(fp->user_headers, h, n) && !u->name && vn > 0)
		u->name = strndup(v, vn);
	else if (in(fp->group_headers, h, n))
		json_array_append_new(u->groups, json_stringn(v, vn));
	else if ((key = prefix_of(fp->extra_prefixes, h, n)))
		add_extra(u->extra, key, (size_t)(h + n - key), v, vn);
}

int apiserver_frontproxy_user(const struct apiserver_frontproxy *fp, const char *head,
			      struct apiserver_user *ret, struct recap_error **err)
{
	struct apiserver_user u = {.groups = json_array(), .extra = json_object()};
	for (const char *l = strstr(head, "\r\n"); l && l[2] && !(l[2] == '\r' && l[3] == '\n');
	     l = strstr(l + 2, "\r\n")) {
		const char *h = l + 2, *colon = strchr(h, ':'), *eol = strstr(h, "\r\n");
		if (!colon || !eol || colon > eol)
			continue;
		const char *v = colon + 1;
		while (v < eol && (*v == ' ' || *v == '\t'))
			v++;
		size_t vn = (size_t)(eol - v);
		while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
			vn--;
		take(fp, &u, h, (size_t)(colon - h), v, vn);
	}
	if (!u.name) {
		apiserver_user_free(&u);
		return recap_error_set(err, EACCES, "the front proxy named no user");
	}
	*ret = u;
	return 0;
}

void apiserver_user_free(struct apiserver_user *u)
{
	free(u->name);
	json_decref(u->groups);
	json_decref(u->extra);
	memset(u, 0, sizeof(*u));
}

/* Kubeconfig files: clusters, users and contexts (the kubectl format). */
#include "kube/config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "kube/execcred.h"
#include "base/base64.h"
#include "base/fileio.h"
#include "kube/kubeconfig_internal.h"
#include "kube/yamlconv.h"

/* Where we are in the file, for messages: "<file>: users[0].user". */
struct kc {
	const char *name; /* the file of the entry being read */
	const char *all;  /* every file read (one, or a merged list) */
	const char *base_dir;
	json_t *root;
	json_t *cluster; /* the context's, once loaded */
	struct recap_kube_config *cfg;
	struct recap_error **err;
};

/* Finds the entry named `want` in the list `list` ("clusters"...), returns
 * its inner object `inner` ("cluster") and its index. */
static int find_named(struct kc *k, const char *list, const char *inner, const char *want, json_t **ret,
		      size_t *ret_index)
{
	json_t *arr = json_object_get(k->root, list);
	if (arr && !json_is_array(arr))
		return recap_error_set(k->err, EINVAL, "%s: %s: not a list", k->name, list);
	size_t i;
	json_t *e;
	json_array_foreach (arr, i, e) {
		const char *n = recap_json_str(e, "name");
		if (!n)
			return recap_error_set(k->err, EINVAL, "%s: %s[%zu].name: missing", k->name, list, i);
		if (strcmp(n, want) != 0)
			continue;
		/* merged from several files: messages name the entry's own */
		const char *source = recap_json_str(e, RECAP_KUBECONFIG_SOURCE);
		json_t *index = json_object_get(e, RECAP_KUBECONFIG_INDEX);
		if (source)
			k->name = source;
		if (json_is_integer(index))
			i = (size_t)json_integer_value(index);
		json_t *v = json_object_get(e, inner);
		if (!json_is_object(v))
			return recap_error_set(k->err, EINVAL, "%s: %s[%zu].%s: missing or not a mapping",
					       k->name, list, i, inner);
		*ret = v;
		*ret_index = i;
		return 0;
	}
	return recap_error_set(k->err, ENOENT, "%s: %s: no entry named '%s'", k->all, list, want);
}

/* A string field; absent is fine (NULL), another type is an error. */
static int get_str(struct kc *k, json_t *obj, const char *where, const char *key, const char **ret)
{
	json_t *v = json_object_get(obj, key);
	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return recap_error_set(k->err, EINVAL, "%s: %s.%s: not a string", k->name, where, key);
	*ret = json_string_value(v);
	return 0;
}

static int resolve_path(struct kc *k, const char *p, char **ret)
{
	int n = p[0] == '/' || !k->base_dir ? asprintf(ret, "%s", p) : asprintf(ret, "%s/%s", k->base_dir, p);
	return n < 0 ? -ENOMEM : 0;
}

/* "<key>" names a file, "<key>-data" holds base64 PEM; either may be given. */
static int load_pem(struct kc *k, json_t *obj, const char *where, const char *key, char **ret,
		    size_t *ret_len)
{
	char data_key[64];
	snprintf(data_key, sizeof(data_key), "%s-data", key);
	const char *file, *data;
	int r = get_str(k, obj, where, key, &file);
	if (r >= 0)
		r = get_str(k, obj, where, data_key, &data);
	if (r < 0)
		return r;
	if (data && *data) {
		if (strlen(data) > RECAP_KUBE_PEM_MAX_BYTES * 4 / 3 + 4)
			return recap_error_set(k->err, EFBIG, "%s: %s.%s: larger than %u bytes", k->name,
					       where, data_key, RECAP_KUBE_PEM_MAX_BYTES);
		if (recap_base64_decode(data, strlen(data), ret, ret_len) < 0)
			return recap_error_set(k->err, EINVAL, "%s: %s.%s: not valid base64", k->name, where,
					       data_key);
		return 0;
	}
	if (!file || !*file)
		return 0;
	_cleanup_free_ char *path = NULL;
	if (resolve_path(k, file, &path) < 0)
		return -ENOMEM;
	r = recap_read_file(path, RECAP_KUBE_PEM_MAX_BYTES, ret, ret_len, k->err);
	if (r < 0)
		return recap_error_wrap(k->err, r, "%s: %s.%s", k->name, where, key);
	return 0;
}

static int dup_str(const char *s, char **ret)
{
	if (!s)
		return 0;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static int load_cluster(struct kc *k, const char *name)
{
	json_t *cl;
	size_t i;
	int r = find_named(k, "clusters", "cluster", name, &cl, &i);
	if (r < 0)
		return r;
	char where[64];
	snprintf(where, sizeof(where), "clusters[%zu].cluster", i);
	const char *server;
	r = get_str(k, cl, where, "server", &server);
	if (r < 0)
		return r;
	if (!server || (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0))
		return recap_error_set(k->err, EINVAL, "%s: %s.server: %s", k->name, where,
				       server ? "not an http(s) URL" : "missing");
	size_t n = strlen(server);
	while (n > 0 && server[n - 1] == '/')
		n--;
	k->cfg->server = strndup(server, n);
	if (!k->cfg->server)
		return -ENOMEM;
	json_t *insecure = json_object_get(cl, "insecure-skip-tls-verify");
	if (insecure && !json_is_boolean(insecure))
		return recap_error_set(k->err, EINVAL, "%s: %s.insecure-skip-tls-verify: not a boolean",
				       k->name, where);
	k->cfg->insecure = json_is_true(insecure);
	k->cluster = cl;
	const char *sni, *proxy;
	r = get_str(k, cl, where, "tls-server-name", &sni);
	if (r >= 0)
		r = get_str(k, cl, where, "proxy-url", &proxy);
	if (r < 0)
		return r;
	if (sni && *sni && (strpbrk(sni, ":/[]@ \t\r\n") || strlen(sni) > 253))
		return recap_error_set(k->err, EINVAL, "%s: %s.tls-server-name: '%s' is not a host name",
				       k->name, where, sni);
	if (proxy && *proxy && strncmp(proxy, "http://", 7) != 0 && strncmp(proxy, "https://", 8) != 0 &&
	    strncmp(proxy, "socks5://", 9) != 0)
		return recap_error_set(k->err, EINVAL,
				       "%s: %s.proxy-url: '%s' is not an http://, https:// or "
				       "socks5:// URL",
				       k->name, where, proxy);
	if ((sni && *sni && dup_str(sni, &k->cfg->tls_server_name) < 0) ||
	    (proxy && *proxy && dup_str(proxy, &k->cfg->proxy_url) < 0))
		return -ENOMEM;
	r = load_pem(k, cl, where, "certificate-authority", &k->cfg->ca_data, &k->cfg->ca_len);
	if (r >= 0 && k->cfg->insecure && k->cfg->ca_data) /* kubectl's rule: trust one way */
		return recap_error_set(k->err, EINVAL,
				       "%s: %s: certificate-authority and insecure-skip-tls-verify: set one, "
				       "not both",
				       k->name, where);
	return r;
}

static int load_token(struct kc *k, json_t *u, const char *where)
{
	const char *token, *token_file;
	int r = get_str(k, u, where, "token", &token);
	if (r >= 0)
		r = get_str(k, u, where, "tokenFile", &token_file);
	if (r < 0)
		return r;
	if (token_file && *token_file) {
		r = resolve_path(k, token_file, &k->cfg->token_file);
		if (r < 0)
			return r;
		/* Fail now, naming the field, rather than on the first request. */
		_cleanup_free_ char *tmp = NULL;
		size_t len;
		r = recap_read_file(k->cfg->token_file, RECAP_KUBE_TOKEN_MAX_BYTES, &tmp, &len, k->err);
		if (r < 0)
			return recap_error_wrap(k->err, r, "%s: %s.tokenFile", k->name, where);
	}
	return dup_str(token && *token ? token : NULL, &k->cfg->token);
}

static int load_impersonation(struct kc *k, json_t *u, const char *where)
{
	const char *as, *uid;
	int r = get_str(k, u, where, "as", &as);
	if (r >= 0)
		r = get_str(k, u, where, "as-uid", &uid);
	if (r < 0)
		return r;
	if ((as && strpbrk(as, "\r\n")) || (uid && strpbrk(uid, "\r\n")))
		return recap_error_set(k->err, EINVAL, "%s: %s.as/as-uid: more than one line", k->name,
				       where);
	if ((as && *as && dup_str(as, &k->cfg->as_user) < 0) ||
	    (uid && *uid && dup_str(uid, &k->cfg->as_uid) < 0))
		return -ENOMEM;
	json_t *groups = json_object_get(u, "as-groups"), *g;
	if (!groups || json_is_null(groups))
		return 0;
	if (!json_is_array(groups) || json_array_size(groups) > RECAP_KUBE_AS_GROUPS_MAX)
		return recap_error_set(k->err, EINVAL, "%s: %s.as-groups: not a list of at most %d strings",
				       k->name, where, RECAP_KUBE_AS_GROUPS_MAX);
	size_t i;
	json_array_foreach (groups, i, g)
		if (!json_is_string(g) || !*json_string_value(g) || strpbrk(json_string_value(g), "\r\n"))
			return recap_error_set(k->err, EINVAL, "%s: %s.as-groups[%zu]: not a string", k->name,
					       where, i);
	if (!(k->cfg->as_groups = calloc(json_array_size(groups) + 1, sizeof(char *))))
		return -ENOMEM;
	json_array_foreach (groups, i, g)
		if (!(k->cfg->as_groups[i] = strdup(json_string_value(g))))
			return -ENOMEM;
	return 0;
}

/* A header value: printable (UTF-8 allowed), one line, not empty. */
static bool header_text(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return *s && strlen(s) <= 1024;
}

/* as-user-extra: {key: [value, ...]}, as client-go's ImpersonateUserExtra. */
static int load_impersonation_extra(struct kc *k, json_t *u, const char *where)
{
	json_t *extra = json_object_get(u, "as-user-extra"), *vals, *v;
	if (!extra || json_is_null(extra) || (json_is_object(extra) && !json_object_size(extra)))
		return 0;
	if (!json_is_object(extra))
		return recap_error_set(k->err, EINVAL,
				       "%s: %s.as-user-extra: not a map of keys to lists of strings", k->name,
				       where);
	const char *key;
	size_t n = 0, i;
	json_object_foreach (extra, key, vals) {
		if (!*key || strlen(key) > 256)
			return recap_error_set(
			    k->err, EINVAL, "%s: %s.as-user-extra: an empty key or one longer than 256 bytes",
			    k->name, where);
		if (json_is_string(vals)) /* kubectl takes a list only */
			return recap_error_set(k->err, EINVAL,
					       "%s: %s.as-user-extra.%s: a list of strings, not a string",
					       k->name, where, key);
		if (!json_is_array(vals))
			return recap_error_set(k->err, EINVAL,
					       "%s: %s.as-user-extra.%s: not a list of strings", k->name,
					       where, key);
		json_array_foreach (vals, i, v)
			if (!json_is_string(v) || !header_text(json_string_value(v)))
				return recap_error_set(
				    k->err, EINVAL,
				    "%s: %s.as-user-extra.%s[%zu]: not a string of one line of at "
				    "most 1024 bytes without control characters",
				    k->name, where, key, i);
		n += json_array_size(vals);
	}
	if (n > RECAP_KUBE_AS_EXTRA_MAX)
		return recap_error_set(k->err, E2BIG, "%s: %s.as-user-extra: more than %d values", k->name,
				       where, RECAP_KUBE_AS_EXTRA_MAX);
	if (!(k->cfg->as_extra = calloc(2 * n + 1, sizeof(char *))))
		return -ENOMEM;
	size_t at = 0;
	json_object_foreach (extra, key, vals)
		json_array_foreach (vals, i, v) {
			if (!(k->cfg->as_extra[at++] = strdup(key)) ||
			    !(k->cfg->as_extra[at++] = strdup(json_string_value(v))))
				return -ENOMEM;
		}
	return 0;
}

static int load_user(struct kc *k, const char *name)
{
	json_t *u;
	size_t i;
	int r = find_named(k, "users", "user", name, &u, &i);
	if (r < 0)
		return r;
	char where[64];
	snprintf(where, sizeof(where), "users[%zu].user", i);
	r = load_pem(k, u, where, "client-certificate", &k->cfg->cert_data, &k->cfg->cert_len);
	if (r >= 0)
		r = load_pem(k, u, where, "client-key", &k->cfg->key_data, &k->cfg->key_len);
	if (r >= 0)
		r = load_token(k, u, where);
	if (r >= 0)
		r = load_impersonation(k, u, where);
	if (r >= 0)
		r = load_impersonation_extra(k, u, where);
	if (r < 0)
		return r;
	if (!!k->cfg->cert_data != !!k->cfg->key_data)
		return recap_error_set(
		    k->err, EINVAL, "%s: %s: client-certificate and client-key go together", k->name, where);
	bool has_auth = k->cfg->cert_data || k->cfg->token || k->cfg->token_file;
	json_t *exec = json_object_get(u, "exec");
	if (!has_auth && exec && !json_is_null(exec)) {
		char at[PATH_MAX + 96];
		snprintf(at, sizeof(at), "%s: %s.exec", k->name, where);
		return recap_kube_exec_parse(exec, at, k->base_dir, k->cluster, k->cfg->ca_data,
					     k->cfg->ca_len, &k->cfg->exec, k->err);
	}
	if (!has_auth && json_object_get(u, "auth-provider"))
		return recap_error_set(k->err, ENOTSUP,
				       "%s: %s.auth-provider: not supported (kubectl dropped it too); use an "
				       "exec plugin (e.g. kubelogin, gke-gcloud-auth-plugin), a token or a "
				       "client certificate",
				       k->name, where);
	return 0;
}

static int load_context(struct kc *k, const struct recap_kube_select *sel)
{
	const char *current;
	int r = get_str(k, k->root, "(top)", "current-context", &current);
	if (r < 0)
		return r;
	const char *name = sel && sel->context ? sel->context : current;
	if (!name || !*name)
		return recap_error_set(k->err, EINVAL, "%s: current-context: not set and no context given",
				       k->name);
	json_t *ctx;
	size_t i;
	r = find_named(k, "contexts", "context", name, &ctx, &i);
	if (r < 0)
		return r;
	char where[64];
	snprintf(where, sizeof(where), "contexts[%zu].context", i);
	const char *cluster, *user, *ns;
	r = get_str(k, ctx, where, "cluster", &cluster);
	if (r >= 0)
		r = get_str(k, ctx, where, "user", &user);
	if (r >= 0)
		r = get_str(k, ctx, where, "namespace", &ns);
	if (r < 0)
		return r;
	if (sel && sel->cluster)
		cluster = sel->cluster;
	if (sel && sel->user)
		user = sel->user;
	if (!cluster || !*cluster)
		return recap_error_set(k->err, EINVAL, "%s: %s.cluster: missing", k->name, where);
	if (dup_str(name, &k->cfg->context) < 0 ||
	    dup_str(ns && *ns ? ns : "default", &k->cfg->namespace) < 0)
		return -ENOMEM;
	r = load_cluster(k, cluster);
	if (r >= 0 && user && *user)
		r = load_user(k, user);
	return r;
}

int recap_kube_config_from_yaml(const char *data, size_t len, const char *name, const char *base_dir,
				const char *context, struct recap_kube_config **ret, struct recap_error **err)
{
	_cleanup_json_ json_t *root = NULL;
	int r = recap_kube_yaml_parse(data, len, &root, err);
	if (r < 0)
		return recap_error_wrap(err, r, "%s", name);
	if (!json_is_object(root))
		return recap_error_set(err, EINVAL, "%s: not a kubeconfig (top level is not a mapping)",
				       name);
	struct recap_kube_select sel = {.context = context};
	return recap_kube_config_from_root(root, name, base_dir, &sel, ret, err);
}

int recap_kube_config_from_root(json_t *root, const char *name, const char *base_dir,
				const struct recap_kube_select *sel, struct recap_kube_config **ret,
				struct recap_error **err)
{
	int r;
	_cleanup_kube_config_ struct recap_kube_config *cfg = calloc(1, sizeof(*cfg));
	if (!cfg || !(cfg->source = strdup(name)))
		return recap_error_set(err, ENOMEM, "%s: out of memory", name);
	struct kc k = {.name = name, .all = name, .base_dir = base_dir, .root = root, .cfg = cfg, .err = err};
	r = load_context(&k, sel);
	if (r < 0) /* messages already name the file; only ENOMEM comes bare */
		return err && *err ? r : recap_error_set(err, -r, "%s: out of memory", name);
	*ret = steal_ptr(cfg);
	return 0;
}

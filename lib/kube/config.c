/* Finding the configuration: explicit path, $KUBECONFIG, ~/.kube/config,
 * in-cluster. */
#include "kube/config.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "kube/execcred.h"
#include "base/fileio.h"
#include "kube/kubeconfig_internal.h"
#include "kube/yamlconv.h"

void recap_kube_config_free(struct recap_kube_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->source);
	free(cfg->context);
	free(cfg->server);
	free(cfg->namespace);
	free(cfg->ca_data);
	free(cfg->cert_data);
	if (cfg->key_data) {
		explicit_bzero(cfg->key_data, cfg->key_len);
		free(cfg->key_data);
	}
	if (cfg->token) {
		explicit_bzero(cfg->token, strlen(cfg->token));
		free(cfg->token);
	}
	free(cfg->token_file);
	free(cfg->tls_server_name);
	free(cfg->proxy_url);
	recap_kube_exec_free(cfg->exec);
	free(cfg->as_user);
	free(cfg->as_uid);
	for (char **g = cfg->as_groups; g && *g; g++)
		free(*g);
	free(cfg->as_groups);
	for (char **x = cfg->as_extra; x && *x; x++)
		free(*x);
	free(cfg->as_extra);
	free(cfg);
}

void recap_kube_config_freep(struct recap_kube_config **cfg)
{
	recap_kube_config_free(*cfg);
	*cfg = NULL;
}

int recap_kube_config_from_file(const char *path, const char *context, struct recap_kube_config **ret,
				struct recap_error **err)
{
	struct recap_kube_select sel = {.context = context};
	return recap_kube_config_from_file_select(path, &sel, ret, err);
}

int recap_kube_config_read_root(const char *path, json_t **ret, struct recap_error **err)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r = recap_read_file(path, RECAP_KUBE_CONFIG_MAX_BYTES, &data, &len, err);
	if (r < 0)
		return recap_error_wrap(err, r, "kubeconfig");
	_cleanup_json_ json_t *root = NULL;
	if ((r = recap_kube_yaml_parse(data, len, &root, err)) < 0)
		return recap_error_wrap(err, r, "%s", path);
	if (!json_is_object(root))
		return recap_error_set(err, EINVAL, "%s: not a kubeconfig (top level is not a mapping)",
				       path);
	*ret = steal_ptr(root);
	return 0;
}

int recap_kube_config_from_file_select(const char *path, const struct recap_kube_select *sel,
				       struct recap_kube_config **ret, struct recap_error **err)
{
	_cleanup_json_ json_t *root = NULL;
	_cleanup_free_ char *copy = strdup(path);
	if (!copy)
		return recap_error_set(err, ENOMEM, "out of memory");
	int r = recap_kube_config_read_root(path, &root, err);
	return r < 0 ? r : recap_kube_config_from_root(root, path, dirname(copy), sel, ret, err);
}

/* $KUBECONFIG is a colon list, merged as kubectl merges it. */
static int from_env_list(const char *list, const struct recap_kube_select *sel,
			 struct recap_kube_config **ret, struct recap_error **err)
{
	_cleanup_free_ char *copy = strdup(list);
	char *paths[65];
	size_t n = 0;
	if (!copy)
		return recap_error_set(err, ENOMEM, "out of memory");
	char *save = NULL;
	for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
		if (n == sizeof(paths) / sizeof(paths[0]))
			return recap_error_set(err, E2BIG, "$KUBECONFIG lists more than %zu files", n - 1);
		paths[n++] = p;
	}
	int r = recap_kube_config_from_files(paths, n, sel, ret, err);
	return r < 0 ? recap_error_wrap(err, r, "$KUBECONFIG") : r;
}

static int find_kubeconfig(char **ret)
{
	const char *home = getenv("HOME");
	if (!home || !*home)
		return 0;
	if (asprintf(ret, "%s/.kube/config", home) < 0)
		return -ENOMEM;
	if (access(*ret, F_OK) == 0)
		return 1;
	free(*ret);
	*ret = NULL;
	return 0;
}

int recap_kube_config_load(const char *path, const char *context, struct recap_kube_config **ret,
			   struct recap_error **err)
{
	struct recap_kube_select sel = {.context = context};
	return recap_kube_config_load_select(path, &sel, ret, err);
}

int recap_kube_config_load_select(const char *path, const struct recap_kube_select *sel,
				  struct recap_kube_config **ret, struct recap_error **err)
{
	if (path && *path)
		return recap_kube_config_from_file_select(path, sel, ret, err);
	const char *env = getenv("KUBECONFIG");
	if (env && *env)
		return from_env_list(env, sel, ret, err);
	_cleanup_free_ char *found = NULL;
	int r = find_kubeconfig(&found);
	if (r < 0)
		return recap_error_set(err, -r, "out of memory");
	if (r > 0)
		return recap_kube_config_from_file_select(found, sel, ret, err);
	if (getenv("KUBERNETES_SERVICE_HOST"))
		return recap_kube_config_in_cluster(NULL, ret, err);
	return recap_error_set(
	    err, ENOENT,
	    "no kubeconfig: none given, $KUBECONFIG and ~/.kube/config name no existing file, "
	    "and not running in a cluster");
}

/* A header value: printable, one line, not empty. */
static bool header_value(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return *s && strlen(s) <= 1024;
}

int recap_kube_config_impersonate(struct recap_kube_config *cfg, const char *user, const char *uid,
				  const char *const *groups, size_t n_groups, struct recap_error **err)
{
	const char *bad = user && !header_value(user) ? "--as"
			  : uid && !header_value(uid) ? "--as-uid"
						      : NULL;
	for (size_t i = 0; i < n_groups && !bad; i++)
		bad = header_value(groups[i]) ? NULL : "--as-group";
	if (bad)
		return recap_error_set(err, EINVAL,
				       "%s: empty, longer than 1024 bytes or with a control character", bad);
	if (n_groups > RECAP_KUBE_AS_GROUPS_MAX)
		return recap_error_set(err, E2BIG, "more than %d --as-group", RECAP_KUBE_AS_GROUPS_MAX);
	if ((n_groups || uid) && !user && !cfg->as_user)
		return recap_error_set(err, EINVAL, "--as-group and --as-uid need --as (a user to act as)");
	if (user && (free(cfg->as_user), !(cfg->as_user = strdup(user))))
		return recap_error_set(err, ENOMEM, "out of memory");
	if (uid && (free(cfg->as_uid), !(cfg->as_uid = strdup(uid))))
		return recap_error_set(err, ENOMEM, "out of memory");
	if (!n_groups)
		return 0;
	for (char **g = cfg->as_groups; g && *g; g++)
		free(*g);
	free(cfg->as_groups);
	if (!(cfg->as_groups = calloc(n_groups + 1, sizeof(char *))))
		return recap_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n_groups; i++)
		if (!(cfg->as_groups[i] = strdup(groups[i])))
			return recap_error_set(err, ENOMEM, "out of memory");
	return 0;
}

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
#include "kube/fileutil.h"

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
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r = recap_read_file(path, RECAP_KUBE_CONFIG_MAX_BYTES, &data, &len, err);
	if (r < 0)
		return recap_error_wrap(err, r, "kubeconfig");
	_cleanup_free_ char *copy = strdup(path);
	if (!copy)
		return recap_error_set(err, ENOMEM, "out of memory");
	return recap_kube_config_from_yaml(data, len, path, dirname(copy), context, ret, err);
}

/* $KUBECONFIG is a colon list; like kubectl we take the first file that
 * exists (merging several files is not supported). */
static int from_env_list(const char *list, char **ret)
{
	_cleanup_free_ char *copy = strdup(list);
	if (!copy)
		return -ENOMEM;
	char *save = NULL;
	for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save))
		if (access(p, F_OK) == 0) {
			*ret = strdup(p);
			return *ret ? 1 : -ENOMEM;
		}
	return 0;
}

static int find_kubeconfig(char **ret)
{
	const char *env = getenv("KUBECONFIG");
	if (env && *env) {
		int r = from_env_list(env, ret);
		if (r != 0)
			return r;
	}
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
	if (path && *path)
		return recap_kube_config_from_file(path, context, ret, err);
	_cleanup_free_ char *found = NULL;
	int r = find_kubeconfig(&found);
	if (r < 0)
		return recap_error_set(err, -r, "out of memory");
	if (r > 0)
		return recap_kube_config_from_file(found, context, ret, err);
	if (getenv("KUBERNETES_SERVICE_HOST"))
		return recap_kube_config_in_cluster(NULL, ret, err);
	return recap_error_set(
	    err, ENOENT,
	    "no kubeconfig: none given, $KUBECONFIG and ~/.kube/config name no existing file, "
	    "and not running in a cluster");
}

/* In-cluster configuration: the pod's service account. */
#include "kube/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/fileio.h"

static int server_url(char **ret, struct recap_error **err)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	if (!host || !*host || !port || !*port)
		return recap_error_set(
		    err, ENOENT,
		    "in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
	if (strspn(port, "0123456789") != strlen(port) || strlen(port) > 5)
		return recap_error_set(err, EINVAL, "in-cluster: KUBERNETES_SERVICE_PORT '%s' is not a port",
				       port);
	/* An IPv6 address needs brackets in a URL. */
	bool v6 = strchr(host, ':') != NULL;
	if (asprintf(ret, v6 ? "https://[%s]:%s" : "https://%s:%s", host, port) < 0)
		return recap_error_set(err, ENOMEM, "out of memory");
	return 0;
}

static int sa_file(const char *dir, const char *name, char **ret)
{
	return asprintf(ret, "%s/%s", dir, name) < 0 ? -ENOMEM : 0;
}

int recap_kube_config_in_cluster(const char *sa_dir, struct recap_kube_config **ret, struct recap_error **err)
{
	const char *dir = sa_dir ? sa_dir : RECAP_KUBE_SA_DIR;
	_cleanup_kube_config_ struct recap_kube_config *cfg = calloc(1, sizeof(*cfg));
	if (!cfg || !(cfg->source = strdup("in-cluster")))
		return recap_error_set(err, ENOMEM, "out of memory");
	int r = server_url(&cfg->server, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *ca = NULL, *ns = NULL;
	if (sa_file(dir, "ca.crt", &ca) < 0 || sa_file(dir, "namespace", &ns) < 0 ||
	    sa_file(dir, "token", &cfg->token_file) < 0)
		return recap_error_set(err, ENOMEM, "out of memory");
	r = recap_read_file(ca, RECAP_KUBE_PEM_MAX_BYTES, &cfg->ca_data, &cfg->ca_len, err);
	if (r < 0)
		return recap_error_wrap(err, r, "in-cluster CA");
	_cleanup_free_ char *tok = NULL;
	size_t len;
	r = recap_read_file(cfg->token_file, RECAP_KUBE_TOKEN_MAX_BYTES, &tok, &len, err);
	if (r < 0)
		return recap_error_wrap(err, r, "in-cluster token");
	/* The namespace file is optional; "default" without it. */
	if (recap_read_file(ns, 256, &cfg->namespace, &len, NULL) < 0)
		cfg->namespace = NULL;
	else
		cfg->namespace[strcspn(cfg->namespace, " \r\n")] = '\0';
	if (!cfg->namespace || !*cfg->namespace) {
		free(cfg->namespace);
		if (!(cfg->namespace = strdup("default")))
			return recap_error_set(err, ENOMEM, "out of memory");
	}
	*ret = steal_ptr(cfg);
	return 0;
}

/* Where the API server is and how to authenticate to it.
 *
 * Sources, in order (recap_kube_config_load): an explicit kubeconfig path
 * (--kubeconfig), the files of $KUBECONFIG (a colon list) merged as kubectl
 * merges them, ~/.kube/config, and finally the in-cluster service account.
 *
 * Certificates and keys given as files are read at load time, so a missing
 * file is reported then, naming the kubeconfig and the field:
 *   "/root/k.yaml: users[0].user.client-certificate: /x/c.pem: No such file or directory"
 * The bearer token file is kept as a path and re-read when it changes
 * (service-account tokens rotate). An exec credential plugin is checked at
 * load time and run by the client when it first needs a credential.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

/* Limits on what configuration input may make us hold in memory. */
#define RECAP_KUBE_CONFIG_MAX_BYTES (4u << 20) /* kubeconfig file */
#define RECAP_KUBE_PEM_MAX_BYTES (1u << 20)    /* CA bundle, certificate, key */
#define RECAP_KUBE_TOKEN_MAX_BYTES (64u << 10) /* bearer token */

#define RECAP_KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

struct recap_kube_exec;

struct recap_kube_config {
	char *source;	 /* kubeconfig path or "in-cluster", for messages */
	char *context;	 /* context used (NULL in-cluster) */
	char *server;	 /* "https://host:port", no trailing slash */
	char *namespace; /* default namespace ("default" when unset) */
	/* PEM data (NUL-terminated; len excludes the NUL), NULL when not given. */
	char *ca_data;
	size_t ca_len;
	char *cert_data;
	size_t cert_len;
	char *key_data;
	size_t key_len;
	char *token;	       /* static bearer token */
	char *token_file;      /* re-read when it changes; wins over token when set */
	bool insecure;	       /* insecure-skip-tls-verify */
	char *tls_server_name; /* the name the server's certificate is checked for; NULL: the URL's host */
	char *proxy_url;       /* http://, https:// or socks5://; NULL: the environment's */
	/* an exec credential plugin (kube/execcred.h), used when the user has
	 * no token, token file or client certificate; NULL when none */
	struct recap_kube_exec *exec;
	/* impersonation (the user's as, as-uid, as-groups; kubectl's --as,
	 * --as-uid, --as-group): NULL / an empty list when none */
	char *as_user, *as_uid;
	char **as_groups; /* NULL-terminated, or NULL */
	/* as-user-extra: key, value, key, value, ..., NULL (a key once per
	 * value), or NULL; sent as Impersonate-Extra-<key> (key escaped) */
	char **as_extra;
};

/* Which entries of the kubeconfig: NULL fields mean current-context and the
 * context's own cluster and user (kubectl's --context, --cluster, --user). */
struct recap_kube_select {
	const char *context, *cluster, *user;
};

#define RECAP_KUBE_AS_GROUPS_MAX 32
#define RECAP_KUBE_AS_EXTRA_MAX 32 /* values of as-user-extra, all keys together */

/* Resolves the configuration as described above. `path` and `context` may
 * be NULL (use $KUBECONFIG/~/.kube/config, and current-context). */
int recap_kube_config_load(const char *path, const char *context, struct recap_kube_config **ret,
			   struct recap_error **err);

/* The same with --cluster and --user too. */
int recap_kube_config_load_select(const char *path, const struct recap_kube_select *sel,
				  struct recap_kube_config **ret, struct recap_error **err);
/* Impersonation set by flags (--as, --as-uid, --as-group), over the
 * kubeconfig's; NULL / 0 leaves that part as it is. */
int recap_kube_config_impersonate(struct recap_kube_config *cfg, const char *user, const char *uid,
				  const char *const *groups, size_t n_groups, struct recap_error **err);

/* One kubeconfig file; `context` NULL means its current-context. */
int recap_kube_config_from_file(const char *path, const char *context, struct recap_kube_config **ret,
				struct recap_error **err);

/* Several files merged as kubectl merges $KUBECONFIG: each cluster, user
 * and context from the first file that names it, current-context from the
 * first that sets it, relative file names each file's own; missing files
 * skipped, none existing an error that names them. */
int recap_kube_config_from_files(char *const *paths, size_t n, const struct recap_kube_select *sel,
				 struct recap_kube_config **ret, struct recap_error **err);

/* Kubeconfig text already in memory. `name` is used in messages and
 * `base_dir` resolves relative file names (as kubectl does). */
int recap_kube_config_from_yaml(const char *data, size_t len, const char *name, const char *base_dir,
				const char *context, struct recap_kube_config **ret,
				struct recap_error **err);

/* In-cluster: KUBERNETES_SERVICE_HOST/PORT and the service account files in
 * `sa_dir` (NULL: RECAP_KUBE_SA_DIR). */
int recap_kube_config_in_cluster(const char *sa_dir, struct recap_kube_config **ret,
				 struct recap_error **err);

void recap_kube_config_free(struct recap_kube_config *cfg);
void recap_kube_config_freep(struct recap_kube_config **cfg);
#define _cleanup_kube_config_ __attribute__((cleanup(recap_kube_config_freep)))

/* Credentials from an exec plugin (a kubeconfig user's `exec`), as kubectl
 * runs them: client.authentication.k8s.io/v1 and v1beta1 ExecCredential.
 *
 * The plugin is run with the caller's environment plus the configured env
 * and KUBERNETES_EXEC_INFO (the ExecCredential request: whether it may talk
 * to the user, and the cluster when provideClusterInfo); its stdout is the
 * answer (at most 1 MiB), its stderr goes to ours so that the user sees what
 * it says. stdin is the user's only when the plugin runs interactively
 * (interactiveMode IfAvailable or Always, and stdin is a terminal); else
 * /dev/null. A plugin that has not answered within 60 s (10 minutes when
 * interactive; $RECAP_KUBE_EXEC_TIMEOUT seconds, 1..3600, when set) is
 * killed. Internal to lib/kube. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define RECAP_KUBE_EXEC_TIMEOUT_MS (60u * 1000)
#define RECAP_KUBE_EXEC_INTERACTIVE_TIMEOUT_MS (600u * 1000)
#define RECAP_KUBE_EXEC_OUTPUT_MAX (1u << 20)

enum recap_kube_exec_interactive {
	RECAP_KUBE_EXEC_NEVER,
	RECAP_KUBE_EXEC_IF_AVAILABLE,
	RECAP_KUBE_EXEC_ALWAYS,
};

struct recap_kube_exec {
	char *api_version;  /* client.authentication.k8s.io/v1 or v1beta1 */
	char *command;	    /* a relative path with a slash is resolved against the kubeconfig's directory */
	char **args;	    /* NULL-terminated */
	char **env;	    /* "NAME=value", NULL-terminated */
	char *install_hint; /* shown when the command is not found */
	enum recap_kube_exec_interactive interactive;
	char *cluster; /* ExecCredential spec.cluster (JSON) when provideClusterInfo, else NULL */
};

/* A kubeconfig user's `exec` (where: "<file>: users[0].user.exec", for
 * messages); cluster is the context's cluster object with its CA already
 * loaded as PEM (for provideClusterInfo). */
int recap_kube_exec_parse(json_t *exec, const char *where, const char *base_dir, json_t *cluster,
			  const char *ca_pem, size_t ca_len, struct recap_kube_exec **ret,
			  struct recap_error **err);
struct recap_kube_exec *recap_kube_exec_dup(const struct recap_kube_exec *e);
void recap_kube_exec_free(struct recap_kube_exec *e);

struct recap_kube_exec_cred {
	char *token; /* NULL when the plugin returned a certificate only */
	char *cert, *key;
	size_t cert_len, key_len;
	int64_t expires_ms; /* wall clock, ms since the epoch; 0: does not expire */
};

/* Runs the plugin and reads its answer; an error names the plugin and what
 * went wrong (not found, with the install hint; its exit status; its output
 * not an ExecCredential of the configured version; an expired credential;
 * the time limit). */
int recap_kube_exec_run(const struct recap_kube_exec *e, struct recap_kube_exec_cred *out,
			struct recap_error **err);
void recap_kube_exec_cred_free(struct recap_kube_exec_cred *c);

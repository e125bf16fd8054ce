/* The client's credential for the Authorization header: a bearer token,
 * static or read from a file that is re-read when it changes (projected
 * service-account tokens rotate), or from an exec plugin (kube/execcred.h),
 * run when there is no credential yet, when the one it gave expires (10 s
 * ahead), or after the API server refused it. Internal. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "base/error.h"
#include "kube/execcred.h"

struct recap_kube_token {
	char *path;  /* NULL: static token only */
	char *value; /* current token or NULL */
	struct stat st;
	uint64_t checked_ms;
	/* the plugin's, when there is one */
	struct recap_kube_exec *exec;
	struct recap_kube_exec_cred cred; /* the last answer (its token is value) */
	unsigned generation;		  /* bumped at each run of the plugin, each new token in the file */
	bool refused;			  /* a 401 came for this generation: run again */
};

/* exec may be NULL; it is copied. The plugin does not run here. */
int recap_kube_token_init(struct recap_kube_token *t, const char *value, const char *path,
			  const struct recap_kube_exec *exec, struct recap_error **err);
/* The current token (*ret NULL when none) and its generation; stats the file
 * at most once a second and re-reads it when it changed (a file that became
 * unreadable keeps the last good token); runs the plugin when its
 * credential is missing, expiring or refused. < 0 with *err when the
 * plugin failed: nothing is sent without the credential it should give. */
int recap_kube_token_current(struct recap_kube_token *t, const char **ret, unsigned *generation,
			     struct recap_error **err);
/* The API server answered 401 to a request made with `generation`: true
 * when a fresh credential may help (a plugin: it runs again at the next
 * request, once per generation; a token file: it is read again at once,
 * true when it holds another token). The generation also counts the
 * token file's changes. */
bool recap_kube_token_refused(struct recap_kube_token *t, unsigned generation);
void recap_kube_token_free(struct recap_kube_token *t);

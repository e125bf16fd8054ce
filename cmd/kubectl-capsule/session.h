/* A connection to the API server as kubectl makes it (--kubeconfig,
 * $KUBECONFIG, ~/.kube/config; --context; -n or the context's namespace),
 * and blocking calls on it for the verbs. Errors name the object:
 * "capsulerun \"x\" not found in namespace \"shop\"". */
#pragma once

#include <jansson.h>

#include "args.h"
#include "base/error.h"
#include "kube/client.h"

struct session {
	uv_loop_t loop;
	struct recap_kube_client *c;
	struct recap_kube_config *cfg;
	const char *ns;
};

int session_open(struct session *s, const struct plugin_globals *g, struct recap_error **err);
/* Closes the client and runs the loop until every handle is gone. */
void session_close(struct session *s);

/* `kind` names the object in messages ("capsulerun", "pod"). */
int session_get(struct session *s, const struct recap_kube_resource *res, const char *ns, const char *kind,
		const char *name, json_t **ret, struct recap_error **err);
int session_list(struct session *s, const struct recap_kube_resource *res, const char *ns,
		 const char *label_selector, const char *field_selector, json_t **ret,
		 struct recap_error **err);
/* From the API server's cache as it is (resourceVersion 0): no wait for the
 * cache to be proven current, which a consistent list makes (up to the API
 * server's 100 ms progress tick when nothing of the kind changed since), but
 * the answer may be older than what the caller saw elsewhere. */
int session_list_cached(struct session *s, const struct recap_kube_resource *res, const char *ns,
			const char *label_selector, json_t **ret, struct recap_error **err);
int session_create(struct session *s, const struct recap_kube_resource *res, json_t *obj, json_t **ret,
		   struct recap_error **err);
int session_merge_patch(struct session *s, const struct recap_kube_resource *res, const char *kind,
			const char *name, json_t *patch, json_t **ret, struct recap_error **err);
/* Background propagation: the garbage collector removes what the object owns. */
int session_delete(struct session *s, const struct recap_kube_resource *res, const char *name,
		   struct recap_error **err);

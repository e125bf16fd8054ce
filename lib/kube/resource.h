/* Resources and request paths.
 *
 * A resource is group/version/resource plus whether it lives in a
 * namespace; it covers built-in kinds ("" group: /api/v1) and CRDs
 * (/apis/<group>/<version>). Names and namespaces are validated and
 * escaped, so a name can never change the shape of the path.
 */
#pragma once

#include <stdbool.h>

#include "base/buf.h"
#include "base/error.h"

struct recap_kube_resource {
	const char *group; /* "" or NULL for the core group */
	const char *version;
	const char *resource; /* plural, e.g. "configmaps" */
	bool namespaced;
};

#define RECAP_KUBE_PATH_MAX 4096

/* Appends "/api/v1/namespaces/<ns>/<resource>[/<name>[/<subresource>]]"
 * (or the /apis/<group>/<version> form) to b. `ns` is required for a
 * namespaced resource unless name is NULL (a list across namespaces), and
 * refused for a cluster-scoped one. */
int recap_kube_path(struct recap_buf *b, const struct recap_kube_resource *res, const char *ns,
		    const char *name, const char *subresource, struct recap_error **err);

/* Appends "?k=v" or "&k=v" with the value percent-encoded; v NULL or ""
 * appends nothing. */
int recap_kube_query_add(struct recap_buf *b, const char *key, const char *value);

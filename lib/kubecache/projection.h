/* Projections: keep only the fields of an object a component needs, so a
 * cache of thousands of objects stays small.
 *
 * A projection is a list of dotted paths; "[]" after a name applies the
 * rest of the path to every element of that array:
 *   "metadata.name", "spec.containers[].name", "status.podIP"
 * Whatever a path ends on is kept whole (shared, not copied). Fields that an
 * object lacks are left out.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "base/error.h"

struct recap_kube_projection;

#define RECAP_KUBE_PROJECTION_MAX_PATHS 128

int recap_kube_projection_new(const char *const *paths, size_t n, struct recap_kube_projection **ret,
			      struct recap_error **err);
void recap_kube_projection_free(struct recap_kube_projection *p);
/* A new object holding the projected fields (NULL when out of memory or
 * obj is not an object). */
json_t *recap_kube_projection_apply(const struct recap_kube_projection *p, json_t *obj);

/* What selecting namespaces by label needs of a Namespace. */
#define RECAP_KUBE_NAMESPACE_PROJECTION_LEN 3
extern const char *const recap_kube_namespace_projection[RECAP_KUBE_NAMESPACE_PROJECTION_LEN];

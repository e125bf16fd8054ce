/* Where a pull reads from: a registry or an OCI layout directory. Internal
 * to pull.c and its sources. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "oci/manifest.h"
#include "oci/ref.h"
#include "oci/registry.h"
#include "oci/store.h"

struct oci_source {
	/* reference: a tag, a digest, or NULL (a layout's only image). Fills
	 * body (bounded by RECAP_OCI_MANIFEST_MAX) and content_type. */
	int (*get_manifest)(struct oci_source *src, const char *reference, struct recap_buf *body,
			    char content_type[256], struct recap_error **err);
	/* Streams a blob into the store through a verifying writer. */
	int (*get_blob)(struct oci_source *src, const struct recap_oci_descriptor *d,
			struct recap_oci_store *s, uint64_t max, struct recap_error **err);
	/* Whether credentials went to the registry (NULL: never). */
	bool (*sent_credentials)(struct oci_source *src);
	void (*free)(struct oci_source *src);
	/* The registry client (signatures are fetched through it); NULL for a
	 * layout. */
	struct recap_oci_registry *registry;
};

int recap_oci_source_registry(const struct recap_oci_ref *ref, const struct recap_oci_registry_opts *opts,
			      struct oci_source **ret, struct recap_error **err);
int recap_oci_source_layout(const struct recap_oci_ref *ref, struct oci_source **ret,
			    struct recap_error **err);

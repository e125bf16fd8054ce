/* What the runtime needs to run a pulled image. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "oci/digest.h"
#include "oci/manifest.h"
#include "oci/store.h"

struct recap_oci_image {
	char manifest[RECAP_OCI_DIGEST_MAX];
	size_t n_layers;
	char **layer_ids;		 /* hex of each layer's blob digest, lowest first */
	char **layer_dirs;		 /* absolute <root>/layers/<id>, lowest first */
	struct recap_oci_config *config; /* Env, Entrypoint, Cmd, WorkingDir, User */
	/* its reference was last pulled with registry credentials (images.h) */
	bool pulled_with_credentials;
};

/* ref as accepted by recap_oci_ref_parse; the image must have been pulled.
 * Every layer must be unpacked in the store. */
int recap_oci_image_load(struct recap_oci_store *s, const char *ref, struct recap_oci_image **ret,
			 struct recap_error **err);
void recap_oci_image_free(struct recap_oci_image *img);

/* Blob digests and layer ids a manifest references (for gc). */
int recap_oci_image_manifest(struct recap_oci_store *s, const char *manifest, struct recap_oci_manifest **ret,
			     struct recap_error **err);

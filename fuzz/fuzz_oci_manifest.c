/* Manifests, indexes and image configs from arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>

#include "oci/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recap_oci_manifest *m = NULL;
	struct recap_error *err = NULL;
	if (recap_oci_manifest_parse((const char *)data, size, NULL, &m, &err) == 0) {
		const struct recap_oci_descriptor *d = NULL;
		if (m->kind == RECAP_OCI_INDEX)
			recap_oci_index_select(m, "linux", "amd64", NULL, &d, NULL);
		for (size_t i = 0; i < m->n_items; i++)
			if (recap_oci_digest_validate(m->items[i].digest, NULL) < 0)
				abort();
		recap_oci_manifest_free(m);
	}
	recap_error_free(err);
	err = NULL;
	struct recap_oci_config *c = NULL;
	if (recap_oci_config_parse((const char *)data, size, &c, &err) == 0)
		recap_oci_config_free(c);
	recap_error_free(err);
	return 0;
}

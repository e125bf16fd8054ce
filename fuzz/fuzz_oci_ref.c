/* Image references: parse arbitrary bytes; a success must be consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci/digest.h"
#include "oci/ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = strndup((const char *)data, size);
	if (!s)
		return 0;
	struct recap_oci_ref *r = NULL;
	struct recap_error *err = NULL;
	if (recap_oci_ref_parse(s, &r, &err) == 0) {
		if (!r->canonical || (r->digest && recap_oci_digest_validate(r->digest, NULL) < 0))
			abort();
		/* The canonical form parses to itself. */
		struct recap_oci_ref *again = NULL;
		if (recap_oci_ref_parse(r->canonical, &again, NULL) < 0 ||
		    strcmp(again->canonical, r->canonical))
			abort();
		recap_oci_ref_free(again);
	} else if (!err) {
		abort();
	}
	recap_oci_ref_free(r);
	recap_error_free(err);
	free(s);
	return 0;
}

/* hosts.toml: parse arbitrary bytes; a success gives bounded, well-formed
 * endpoints with the server last, a failure an error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci/hosts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recap_oci_hosts h;
	struct recap_error *err = NULL;
	if (recap_oci_hosts_parse((const char *)data, size, "fuzz.toml", "/base", "reg.example", false, NULL,
				  &h, &err) == 0) {
		if (h.n < 1 || h.n > RECAP_OCI_HOSTS_MAX + 1 || h.ep[h.n - 1].mirror)
			abort();
		for (size_t i = 0; i < h.n; i++)
			if (!h.ep[i].root || !h.ep[i].host || !*h.ep[i].host ||
			    (strncmp(h.ep[i].root, "http://", 7) && strncmp(h.ep[i].root, "https://", 8)))
				abort();
		recap_oci_hosts_clear(&h);
	} else if (!err) {
		abort();
	}
	recap_error_free(err);
	return 0;
}

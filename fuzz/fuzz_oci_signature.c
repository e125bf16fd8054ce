/* cosign signature manifests, simple-signing payloads and base64 signatures
 * from arbitrary bytes: what a registry's .sig tag can send. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci/signature.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define D1 "sha256:87bb2302021fac58c639b35d70166f49314d17c252a97646d4827731990559ad"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct recap_error *err = NULL;
	struct recap_oci_sig_layer *l = NULL;
	size_t n = 0;
	if (recap_oci_sig_manifest_parse(s, size, &l, &n, &err) == 0) {
		if (n == 0 || n > RECAP_OCI_SIG_LAYERS_MAX)
			abort();
		for (size_t i = 0; i < n; i++) {
			if (l[i].problem[0])
				continue;
			if (recap_oci_digest_validate(l[i].digest, NULL) < 0 || l[i].size < 0 ||
			    l[i].size > RECAP_OCI_SIG_PAYLOAD_MAX || strlen(l[i].b64) > RECAP_OCI_SIG_B64_MAX)
				abort();
			unsigned char sig[RECAP_OCI_SIG_B64_MAX];
			long k = recap_base64_decode_canonical(l[i].b64, sig, sizeof(sig));
			if (k > (long)sizeof(sig))
				abort();
		}
		free(l);
	}
	recap_error_free(err);
	err = NULL;
	recap_oci_sig_payload_check(s, size, D1, &err);
	recap_error_free(err);
	/* the input as a NUL-terminated base64 string */
	char *str = malloc(size + 1);
	if (!str)
		return 0;
	memcpy(str, data, size);
	str[size] = '\0';
	unsigned char out[64];
	long k = recap_base64_decode_canonical(str, out, sizeof(out));
	if (k > (long)sizeof(out))
		abort();
	free(str);
	return 0;
}

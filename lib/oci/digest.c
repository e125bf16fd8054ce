#include "oci/digest.h"
#include "base/sha256.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char prefix[] = "sha256:";

int recap_oci_digest_validate(const char *d, struct recap_error **err)
{
	if (!d)
		return recap_error_set(err, EINVAL, "missing digest");
	if (strncmp(d, prefix, sizeof(prefix) - 1) != 0) {
		const char *colon = strchr(d, ':');
		if (colon)
			return recap_error_set(err, EINVAL,
					       "unsupported digest algorithm '%.*s' (only sha256)",
					       (int)(colon - d > 32 ? 32 : colon - d), d);
		return recap_error_set(err, EINVAL, "malformed digest '%.80s': expected sha256:<64 hex>", d);
	}
	const char *hex = d + sizeof(prefix) - 1;
	size_t n = 0;
	for (; hex[n]; n++) {
		char c = hex[n];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return recap_error_set(err, EINVAL,
					       "malformed digest '%.80s': character %zu is not lowercase hex",
					       d, n + sizeof(prefix) - 1);
		if (n > RECAP_OCI_DIGEST_HEX_LEN)
			break;
	}
	if (n != RECAP_OCI_DIGEST_HEX_LEN)
		return recap_error_set(err, EINVAL, "malformed digest '%.80s': expected 64 hex digits", d);
	return 0;
}

const char *recap_oci_digest_hex(const char *d)
{
	return d + sizeof(prefix) - 1;
}

/* "sha256:" and the hex of a raw digest */
void recap_oci_digest_format(const uint8_t md[32], char out[RECAP_OCI_DIGEST_MAX])
{
	memcpy(out, prefix, sizeof(prefix) - 1);
	for (int i = 0; i < 32; i++)
		snprintf(out + sizeof(prefix) - 1 + 2 * i, 3, "%02x", md[i]);
}

int recap_oci_digest_buf(const void *data, size_t n, char out[RECAP_OCI_DIGEST_MAX])
{
	struct recap_sha256 c;
	uint8_t md[RECAP_SHA256_LEN];
	recap_sha256_init(&c);
	recap_sha256_update(&c, data, n);
	recap_sha256_final(&c, md);
	recap_oci_digest_format(md, out);
	return 0;
}

#include "oci/digest.h"

#include <errno.h>
#include <openssl/evp.h>
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

struct recap_oci_hasher {
	EVP_MD_CTX *ctx;
};

int recap_oci_hasher_new(struct recap_oci_hasher **ret)
{
	struct recap_oci_hasher *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		recap_oci_hasher_free(h);
		return -ENOMEM;
	}
	*ret = h;
	return 0;
}

void recap_oci_hasher_update(struct recap_oci_hasher *h, const void *data, size_t n)
{
	EVP_DigestUpdate(h->ctx, data, n);
}

void recap_oci_hasher_final(struct recap_oci_hasher *h, char out[RECAP_OCI_DIGEST_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_DigestFinal_ex(h->ctx, md, &len);
	memcpy(out, prefix, sizeof(prefix) - 1);
	for (unsigned int i = 0; i < len && i < 32; i++)
		snprintf(out + sizeof(prefix) - 1 + 2 * i, 3, "%02x", md[i]);
}

void recap_oci_hasher_free(struct recap_oci_hasher *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

int recap_oci_digest_buf(const void *data, size_t n, char out[RECAP_OCI_DIGEST_MAX])
{
	struct recap_oci_hasher *h = NULL;
	int r = recap_oci_hasher_new(&h);
	if (r < 0)
		return r;
	recap_oci_hasher_update(h, data, n);
	recap_oci_hasher_final(h, out);
	recap_oci_hasher_free(h);
	return 0;
}

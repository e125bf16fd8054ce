/* Streaming sha256 for downloads (the pull half of lib/oci): OpenSSL, the
 * fastest on large blobs. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>

#include "oci/digest.h"

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
	unsigned char md[EVP_MAX_MD_SIZE] = {0};
	unsigned int len = 0;
	EVP_DigestFinal_ex(h->ctx, md, &len);
	recap_oci_digest_format(md, out);
}

void recap_oci_hasher_free(struct recap_oci_hasher *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

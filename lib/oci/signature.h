/* Verification of cosign key-based image signatures (the pull half of
 * lib/oci: OpenSSL).
 *
 * cosign stores the signatures of the manifest sha256:<hex> of a repository
 * as the tag "sha256-<hex>.sig" of the same repository: an image manifest
 * whose layers of media type RECAP_OCI_SIG_MT_SIMPLESIGNING are each one
 * signature. A layer's blob is the signed payload (JSON, "simple signing"):
 *
 *   {"critical": {"identity": {"docker-reference": "<repo>"},
 *                 "image": {"docker-manifest-digest": "sha256:<hex>"},
 *                 "type": "cosign container image signature"},
 *    "optional": {...}}
 *
 * and its annotation RECAP_OCI_SIG_ANNOTATION the base64 signature of the
 * payload's bytes: ECDSA with SHA-256 (cosign's default keys, P-256; P-384
 * and P-521 keys too), RSA PKCS#1 v1.5 with SHA-256 (2048 bits or more), or
 * Ed25519. A digest is accepted when one of its signatures verifies with one
 * of the keys given and that signature's payload names that digest.
 *
 * Errors (each with a message saying why; the first four are decisions
 * about the image, the rest are transport or input errors):
 *   -ENOENT        no signature: the .sig tag does not exist
 *   -EKEYREJECTED  no signature verifies with any of the keys: signed by
 *                  another key, or the payload (or signature) was altered
 *                  after signing; the two cannot be told apart without the
 *                  other key
 *   -ESTALE        a signature verifies, but its payload is for another
 *                  digest (a signature copied from another image)
 *   -EBADMSG, -E2BIG, -EFBIG  malformed or oversized: the .sig manifest, a
 *                  payload, a signature annotation (every limit below is
 *                  checked before anything is fetched or decoded)
 *   other          the registry: not reachable, access denied, ...
 * With several signatures and none accepted, the code is the most telling
 * of theirs (-ESTALE, then -EKEYREJECTED, then malformed) and the message
 * lists the first few reasons.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "oci/digest.h"
#include "oci/registry.h"

#define RECAP_OCI_SIG_MT_SIMPLESIGNING "application/vnd.dev.cosign.simplesigning.v1+json"
#define RECAP_OCI_SIG_ANNOTATION "dev.cosignproject.cosign/signature"
#define RECAP_OCI_SIG_TYPE "cosign container image signature"

#define RECAP_OCI_SIG_MANIFEST_MAX (256 * 1024) /* the .sig manifest */
#define RECAP_OCI_SIG_LAYERS_MAX 32		/* its layers (signatures), all media types */
#define RECAP_OCI_SIG_PAYLOAD_MAX (64 * 1024)	/* one payload blob */
#define RECAP_OCI_SIG_B64_MAX 2048		/* one base64 signature annotation */
#define RECAP_OCI_SIG_KEYS_MAX 16		/* keys per verification */
#define RECAP_OCI_SIG_KEY_FILE_MAX (64 * 1024)	/* one PEM key file */

/* A public key: its PEM and the name used in messages (the file). */
struct recap_oci_sig_key;

/* Parses one PEM public key ("-----BEGIN PUBLIC KEY-----", as `cosign
 * generate-key-pair` writes cosign.pub) of a supported type: EC on P-256,
 * P-384 or P-521, RSA of 2048 bits or more, Ed25519. A private key, a
 * certificate or anything else is refused (-EINVAL, naming name). */
int recap_oci_sig_key_parse(const char *name, const char *pem, size_t len, struct recap_oci_sig_key **ret,
			    struct recap_error **err);
/* Reads path (at most RECAP_OCI_SIG_KEY_FILE_MAX) and parses it; name = path. */
int recap_oci_sig_key_load(const char *path, struct recap_oci_sig_key **ret, struct recap_error **err);
const char *recap_oci_sig_key_name(const struct recap_oci_sig_key *k);
void recap_oci_sig_key_free(struct recap_oci_sig_key *k);

struct recap_oci_sig_result {
	char digest[RECAP_OCI_DIGEST_MAX]; /* the digest verified */
	size_t key;			   /* index into keys of the key that verified it */
	size_t signature;		   /* 0-based index of the accepted signature among the layers */
	size_t n_signatures;		   /* simple-signing layers of the .sig manifest */
};

/* Verifies digest (validated "sha256:<hex>": the manifest or index digest
 * the reference resolved to, the content of which the caller has checked)
 * against the signatures in r's repository, through r (its auth, retries
 * and deadline): 0 and *ret filled when a signature verifies with one of
 * keys[0..n_keys) and names digest; otherwise an error above. */
int recap_oci_verify_signature(struct recap_oci_registry *r, const char *digest,
			       struct recap_oci_sig_key *const *keys, size_t n_keys,
			       struct recap_oci_sig_result *ret, struct recap_error **err);

/* Resolves ref (a registry reference; a tag or a digest) to the digest of
 * its manifest or index as the registry serves it (a reference with a
 * digest must match it) and verifies that digest as above. `capsule
 * verify`. */
int recap_oci_verify_ref(const char *ref, const struct recap_oci_registry_opts *opts,
			 struct recap_oci_sig_key *const *keys, size_t n_keys,
			 struct recap_oci_sig_result *ret, struct recap_error **err);

/* The parts, exposed for the unit tests and the fuzzers. */

/* Checks a simple-signing payload: bounded, valid JSON (no duplicate keys),
 * critical.type is RECAP_OCI_SIG_TYPE, critical.image.docker-manifest-digest
 * is a valid digest equal to digest (-ESTALE naming both otherwise). */
int recap_oci_sig_payload_check(const char *payload, size_t len, const char *digest,
				struct recap_error **err);

/* Verifies the base64 signature b64 of data with key: 0, -EKEYREJECTED
 * when it does not verify, -EBADMSG / -E2BIG when b64 is not base64 or too
 * long. */
int recap_oci_sig_check(const struct recap_oci_sig_key *key, const void *data, size_t len, const char *b64,
			struct recap_error **err);

/* One signature of a .sig manifest: the payload's descriptor and the
 * base64 signature (empty when the annotation is absent). */
struct recap_oci_sig_layer {
	char digest[RECAP_OCI_DIGEST_MAX];
	int64_t size;
	char b64[RECAP_OCI_SIG_B64_MAX + 1];
	char problem[160]; /* why this layer cannot be a signature ("" when it can) */
};

/* Parses a .sig manifest: its simple-signing layers (others skipped) into
 * *ret (caller frees), *n their count. A layer's own problem (annotation
 * missing or too long, payload over RECAP_OCI_SIG_PAYLOAD_MAX, a bad
 * digest) goes to its `problem`; the manifest's (not JSON, no layers, more
 * than RECAP_OCI_SIG_LAYERS_MAX, no simple-signing layer) is an error. */
int recap_oci_sig_manifest_parse(const char *data, size_t len, struct recap_oci_sig_layer **ret, size_t *n,
				 struct recap_error **err);

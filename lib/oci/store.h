/* The node store (default /var/lib/recap).
 *
 *   blobs/sha256/<hex>   verified content, renamed into place only after its
 *                        digest matched
 *   layers/<hex>/        a layer unpacked once (hex of its blob digest),
 *                        read-only, shared by every run
 *   index.json           image references -> manifest digest
 *   locks/               flock files (store, index, blob-<hex>, layer-<hex>)
 *   tmp/                 downloads in progress (never used before verified)
 *   runs/ out/           owned by the runtime (docs/node-store.md)
 *
 * Pulls hold locks/store.lock shared; gc holds it exclusive.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "oci/digest.h"

#define RECAP_OCI_STORE_DEFAULT_ROOT "/var/lib/recap"

struct recap_oci_store {
	char *root;
	int root_fd;
};

/* Creates the directories when missing. */
int recap_oci_store_open(const char *root, struct recap_oci_store **ret, struct recap_error **err);
void recap_oci_store_close(struct recap_oci_store *s);

/* Absolute paths (caller frees); digest must be valid. */
char *recap_oci_store_blob_path(const struct recap_oci_store *s, const char *digest);
char *recap_oci_store_layer_path(const struct recap_oci_store *s, const char *layer_id);
int recap_oci_store_has_blob(const struct recap_oci_store *s, const char *digest);
int recap_oci_store_has_layer(const struct recap_oci_store *s, const char *layer_id);

/* flock on locks/<name>.lock; returns the fd (close it to unlock). */
int recap_oci_store_lock(const struct recap_oci_store *s, const char *name, int exclusive,
			 struct recap_error **err);

/* Reads a stored blob into memory (at most max bytes), re-checking its digest. */
int recap_oci_store_read_blob(const struct recap_oci_store *s, const char *digest, size_t max, char **ret,
			      size_t *ret_len, struct recap_error **err);

/* Writes a blob: a temp file in tmp/, hashed while written, renamed to
 * blobs/sha256/<hex> only when the digest (and size, if known) match. */
struct recap_oci_blob_writer;
int recap_oci_blob_writer_open(struct recap_oci_store *s, const char *digest, int64_t expected_size,
			       uint64_t max_size, struct recap_oci_blob_writer **ret,
			       struct recap_error **err);
int recap_oci_blob_writer_write(struct recap_oci_blob_writer *w, const void *data, size_t n,
				struct recap_error **err);
/* Drops what was written so far (a retried download starts again). */
int recap_oci_blob_writer_reset(struct recap_oci_blob_writer *w, struct recap_error **err);
int recap_oci_blob_writer_commit(struct recap_oci_blob_writer *w, struct recap_error **err);
/* Unlinks the temp file unless committed. */
void recap_oci_blob_writer_free(struct recap_oci_blob_writer *w);

/* Writes a complete in-memory blob (manifests, configs) after checking it. */
int recap_oci_store_put_blob(struct recap_oci_store *s, const char *digest, const void *data, size_t n,
			     struct recap_error **err);

/* Removes a tree below dirfd without following symlinks (also crosses no
 * mount point). Missing is not an error. */
int recap_oci_rm_rf_at(int dirfd, const char *name);

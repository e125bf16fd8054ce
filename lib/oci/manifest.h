/* Manifests and image indexes (OCI and Docker schema 2), and image configs. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "oci/digest.h"

#define RECAP_OCI_MANIFEST_MAX (4 * 1024 * 1024)
#define RECAP_OCI_CONFIG_MAX (4 * 1024 * 1024)
#define RECAP_OCI_LAYERS_MAX 128
#define RECAP_OCI_INDEX_ENTRIES_MAX 1024

#define RECAP_OCI_MT_INDEX "application/vnd.oci.image.index.v1+json"
#define RECAP_OCI_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define RECAP_OCI_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define RECAP_OCI_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define RECAP_OCI_ACCEPT_MANIFESTS                                                                           \
	RECAP_OCI_MT_INDEX ", " RECAP_OCI_MT_MANIFEST ", " RECAP_OCI_MT_DOCKER_LIST                          \
			   ", " RECAP_OCI_MT_DOCKER_MANIFEST

struct recap_oci_descriptor {
	char media_type[128];
	char digest[RECAP_OCI_DIGEST_MAX];
	int64_t size;
	char os[32];
	char arch[32];
	char variant[32];
	char ref_name[256]; /* org.opencontainers.image.ref.name (layouts) */
};

enum recap_oci_manifest_kind {
	RECAP_OCI_MANIFEST = 0,
	RECAP_OCI_INDEX,
};

struct recap_oci_manifest {
	enum recap_oci_manifest_kind kind;
	struct recap_oci_descriptor config; /* manifests */
	struct recap_oci_descriptor *items; /* layers (lowest first) or index entries */
	size_t n_items;
};

/* content_type may be NULL; the document's own mediaType wins. */
int recap_oci_manifest_parse(const char *data, size_t len, const char *content_type,
			     struct recap_oci_manifest **ret, struct recap_error **err);
void recap_oci_manifest_free(struct recap_oci_manifest *m);

/* The running platform: "linux" and "amd64", "arm64", ... */
const char *recap_oci_platform_arch(void);

/* Picks the index entry for os/arch (variant NULL: any). */
int recap_oci_index_select(const struct recap_oci_manifest *idx, const char *os, const char *arch,
			   const char *variant, const struct recap_oci_descriptor **ret,
			   struct recap_error **err);

/* What the runtime needs from the image config. */
struct recap_oci_config {
	char **env; /* NULL-terminated "K=V" */
	char **entrypoint;
	char **cmd;
	char *working_dir;
	char *user;
	char os[32];
	char arch[32];
	size_t n_diff_ids;
};

int recap_oci_config_parse(const char *data, size_t len, struct recap_oci_config **ret,
			   struct recap_error **err);
void recap_oci_config_free(struct recap_oci_config *c);

static inline void recap_oci_manifest_freep(struct recap_oci_manifest **m)
{
	recap_oci_manifest_free(*m);
	*m = NULL;
}
#define _cleanup_oci_manifest_ __attribute__((cleanup(recap_oci_manifest_freep)))

/* Image references.
 *
 *   [registry[:port]/]repository[:tag][@sha256:<hex>]   Docker Hub defaults:
 *       "busybox" is docker.io/library/busybox:latest
 *   oci:<dir>[:tag]                                      an OCI image layout
 *
 * Parsing is strict: every part has a length limit and an allowed alphabet,
 * and the error names the part that is wrong.
 */
#pragma once

#include <stddef.h>

#include "base/error.h"

#define RECAP_OCI_REF_MAX 1024
#define RECAP_OCI_REPO_MAX 255
#define RECAP_OCI_TAG_MAX 128
#define RECAP_OCI_HOST_MAX 253
#define RECAP_OCI_LAYOUT_DIR_MAX 4096

enum recap_oci_ref_kind {
	RECAP_OCI_REF_REGISTRY = 0,
	RECAP_OCI_REF_LAYOUT,
};

struct recap_oci_ref {
	enum recap_oci_ref_kind kind;
	char *registry;	  /* "docker.io", "127.0.0.1:5000"; NULL for layouts */
	char *repository; /* "library/busybox"; NULL for layouts */
	char *layout_dir; /* oci: only */
	char *tag;	  /* NULL when absent (digest-only, or a layout without tag) */
	char *digest;	  /* validated "sha256:<hex>" or NULL */
	char *canonical;  /* normalized full name, used as the key in the store index */
};

int recap_oci_ref_parse(const char *s, struct recap_oci_ref **ret, struct recap_error **err);
void recap_oci_ref_free(struct recap_oci_ref *r);
/* Makes a relative oci: layout directory absolute (realpath), so that the
 * store's key does not depend on the working directory. A directory that
 * does not exist is left as it is. */
int recap_oci_ref_absolute_layout(struct recap_oci_ref *r);
/* Host (and port) to talk to: docker.io is served by registry-1.docker.io. */
const char *recap_oci_ref_api_host(const struct recap_oci_ref *r);

/* Validators, exposed for the tests and the fuzzers. 0 or -EINVAL. */
int recap_oci_ref_check_repository(const char *repo, struct recap_error **err);
int recap_oci_ref_check_tag(const char *tag, struct recap_error **err);
int recap_oci_ref_check_host(const char *host, struct recap_error **err);

static inline void recap_oci_ref_freep(struct recap_oci_ref **r)
{
	recap_oci_ref_free(*r);
	*r = NULL;
}
#define _cleanup_oci_ref_ __attribute__((cleanup(recap_oci_ref_freep)))

/* OCI whiteouts converted to the overlayfs format. */
#pragma once

#include "base/error.h"
#include "oci/path.h"

#define RECAP_OCI_OPAQUE_XATTR "trusted.overlay.opaque"

/* FILE: a 0:0 character device named `hidden` in pfd; OPAQUE: the xattr
 * trusted.overlay.opaque=y on the directory pfd. */
int recap_oci_whiteout_apply(int pfd, enum recap_oci_whiteout kind, const char *hidden, const char *rel,
			     struct recap_error **err);

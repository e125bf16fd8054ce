/* Layer entry paths and OCI whiteouts: pure checks, no file system access. */
#pragma once

#include <stddef.h>

#include "base/error.h"

#define RECAP_OCI_PATH_MAX 4096
#define RECAP_OCI_NAME_MAX 255
/* Deeper trees are refused: removal (recap_oci_rm_rf_at) must always be able
 * to take apart whatever unpacking created. */
#define RECAP_OCI_PATH_DEPTH_MAX 256

/* Cleans a tar entry path into out: drops "./" prefixes, "." components,
 * repeated and trailing slashes. Refuses an absolute path, any ".."
 * component, an empty result, a component over 255 bytes, a path over
 * 4096 bytes, more than 256 components. "." alone (the layer root) gives "". */
int recap_oci_path_clean(const char *in, char *out, size_t outsz, struct recap_error **err);

enum recap_oci_whiteout {
	RECAP_OCI_WHITEOUT_NONE = 0,
	RECAP_OCI_WHITEOUT_FILE,   /* ".wh.<name>": <name> deleted from lower layers */
	RECAP_OCI_WHITEOUT_OPAQUE, /* ".wh..wh..opq": the directory hides lower content */
};

/* Classifies a base name; for FILE, *ret_name is the hidden name. Refuses
 * malformed whiteouts: ".wh." alone, ".wh..", ".wh...", other ".wh..wh." names. */
int recap_oci_whiteout_classify(const char *base, enum recap_oci_whiteout *ret, const char **ret_name,
				struct recap_error **err);

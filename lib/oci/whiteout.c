#include "oci/whiteout.h"

#include <errno.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "oci/store.h"

int recap_oci_whiteout_apply(int pfd, enum recap_oci_whiteout kind, const char *hidden, const char *rel,
			     struct recap_error **err)
{
	if (kind == RECAP_OCI_WHITEOUT_OPAQUE) {
		if (fsetxattr(pfd, RECAP_OCI_OPAQUE_XATTR, "y", 1, 0) < 0)
			return recap_error_set_errno(err, errno, "opaque whiteout '%.300s': cannot set %s",
						     rel, RECAP_OCI_OPAQUE_XATTR);
		return 0;
	}
	int r = recap_oci_rm_rf_at(pfd, hidden);
	if (r < 0)
		return recap_error_set_errno(err, -r, "whiteout '%.300s': cannot replace the earlier entry",
					     rel);
	if (mknodat(pfd, hidden, S_IFCHR | 0000, makedev(0, 0)) < 0)
		return recap_error_set_errno(err, errno,
					     "whiteout '%.300s': cannot create the overlay whiteout", rel);
	return 0;
}

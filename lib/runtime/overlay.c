/* The copy-on-write root: read-only layers below a fresh per-run upper. */
#include <errno.h>
#include <string.h>
#include <sys/mount.h>

#include "base/buf.h"
#include "runtime/mounts.h"

/* mount(2) takes at most one page of options */
#define OPTIONS_MAX 4095

int recap_overlay_mount(const char *base, const struct recap_strv *layers, const char *upper,
			const char *work, const char *rootfs, struct recap_error **err)
{
	struct recap_buf o = RECAP_BUF_INIT(OPTIONS_MAX);
	int r = recap_buf_appends(&o, "lowerdir=");
	/* overlayfs lists the top layer first */
	for (size_t i = layers->n; r >= 0 && i > 0; i--)
		r = recap_buf_printf(&o, "%s:", layers->v[i - 1]);
	if (r >= 0)
		r = recap_buf_appends(&o, base);
	if (r >= 0)
		r = recap_buf_printf(&o, ",upperdir=%s,workdir=%s", upper, work);
	if (r < 0) {
		recap_buf_free(&o);
		return recap_error_set(err, E2BIG, "overlay options for %zu layers exceed %d bytes",
				       layers->n, OPTIONS_MAX);
	}
	r = mount("overlay", rootfs, "overlay", MS_NOSUID | MS_NODEV, o.data);
	int e = errno;
	recap_buf_free(&o);
	if (r < 0)
		return recap_error_set_errno(err, e, "cannot mount the overlay root at %s", rootfs);
	return 0;
}

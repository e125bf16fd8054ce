/* --image for run/attach: the bridge to the image store (lib/oci). */
#include <stdio.h>

#include "runopts.h"

int capsule_image_resolve(struct run_cli *c, uint64_t *ret_pull_ms)
{
	fprintf(stderr,
		"capsule: --image %s: the image store is not in this build yet; use --rootfs-layers\n",
		c->spec.image);
	return -1;
}

/* Shared by artifacts_open.c and artifacts_tar.c. */
#pragma once

#include "base/error.h"

/* An fd for name beneath dir (openat2 RESOLVE_BENEATH, no symlinks, no
 * magic links, O_NOFOLLOW), or -errno. */
int recap_caplet_artifacts_beneath(int dir, const char *name, int flags);
/* out/<id> of root, without following a symlink in its last two names. */
int recap_caplet_artifacts_open_run(const char *root, const char *run_id, struct recap_error **err);

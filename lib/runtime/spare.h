/* Run directories recycled instead of made and removed: on the store's ext4
 * a new inode costs an allocator scan (0.2-0.8 ms for a directory, up to
 * 1.3 ms for a small file on the development VM, bench/inode-cost.sh) where
 * a rename costs ~20 us. An escaped run's directory, holding only its old state's inode as
 * state.tmp, is renamed to runs/.spare-<k> (at most RECAP_SPARES of them);
 * the next run renames one into place and rewrites that inode. Nothing that
 * lists runs (ps, sweep, gc) looks at names starting with a dot. */
#pragma once

#include <sys/types.h>

#define RECAP_SPARES 8

/* Makes the directory path from a spare of its parent, else mkdir(mode).
 * -EEXIST when path exists. */
int recap_spare_take(const char *path, mode_t mode);
/* Hands the directory path, holding nothing but keep (a file name, or
 * NULL), back as a spare of its parent; removes both when there are
 * RECAP_SPARES spares already. 0 when path is gone. */
int recap_spare_give(const char *path, const char *keep);

/* ReadOnly means read-only: Landlock confines the writes of a run whose
 * target filesystem is ReadOnly or None to the capsule's own places. */
#pragma once

#include "base/error.h"
#include "runtime/spec.h"

enum recap_landlock_plan {
	RECAP_LANDLOCK_SKIP,   /* ReadWrite, or no Landlock and no target process in view */
	RECAP_LANDLOCK_APPLY,  /* confine */
	RECAP_LANDLOCK_REFUSE, /* no Landlock, and pid joined: the target's processes would
				  lead past a read-only /target */
};

/* The kernel's Landlock ABI version, or -errno (-ENOSYS, -EOPNOTSUPP: none). */
int recap_landlock_abi(void);

/* What a run with this target filesystem and join set does, given abi (a
 * version or -errno from recap_landlock_abi). */
enum recap_landlock_plan recap_landlock_plan(int abi, enum recap_target_fs fs, unsigned join);

/* In the command's process, after pivot_root, the working directory and
 * no_new_privs, before exec: writes (write, truncate, create, remove,
 * rename/link) are allowed only beneath the top-level entries of / but
 * /target, /proc and /sys, and of /dev only to existing files (/dev/shm and
 * /dev/mqueue fully). A file reached through /proc/<pid>/root, cwd, fd/N or
 * mem of a process outside the run is beneath none of them and refused
 * (EACCES), whatever the capabilities; Landlock also refuses ptrace of such
 * processes. Refuses the run (the plan above) where the kernel lacks Landlock
 * and pid is joined. */
int recap_landlock_confine(enum recap_target_fs fs, unsigned join, struct recap_error **err);

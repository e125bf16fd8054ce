/* The capsule's root, built inside the run's private mount namespace. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"
#include "runtime/runtime.h"
#include "runtime/spec.h"

/* Enters a new mount namespace with private propagation: nothing of the run
 * ever reaches the host's namespace. */
int recap_mounts_private_ns(struct recap_error **err);
/* A detached copy of the target's whole mount tree (entered through its
 * pidfd), read-only unless rw; *ret is an open_tree fd. */
int recap_mounts_clone_target(int pidfd, bool rw, int *ret, struct recap_error **err);
/* The capsule root's mount points, each a directory. */
#define RECAP_MOUNTPOINTS                                                                                    \
	{                                                                                                    \
		"target", "out", "proc", "sys", "dev", "tmp"                                                 \
	}
/* Makes (once, race-free: under a name with run_id, then renamed) or checks
 * the store's mount-point layer at path: every mount point as an empty
 * directory, all root-owned and writable by root only. */
int recap_mountbase_ensure(const char *path, const char *run_id, struct recap_error **err);
/* A tmpfs of bytes over the run directory (in the run's own mount
 * namespace) holding the overlay's upper, work and mount-point directories. */
struct recap_run_paths;
int recap_mounts_upper(const struct recap_run_paths *p, int64_t bytes, struct recap_error **err);
/* overlay: base (the mount-point layer) below layers (lowest first) below a
 * per-run upper, at rootfs. */
int recap_overlay_mount(const char *base, const struct recap_strv *layers, const char *upper,
			const char *work, const char *rootfs, struct recap_error **err);
/* /target (tree_fd, or none when < 0), /out (out_fd, from recap_out_make),
 * /dev, then pivot_root into rootfs. */
int recap_mounts_setup_root(const char *rootfs, int tree_fd, int out_fd, struct recap_error **err);
/* The run's /out: a detached tmpfs mount of bytes (nosuid, nodev, noexec)
 * named recap-out-<id>; *ret is its fsmount fd. */
int recap_out_make(const char *id, int64_t bytes, int *ret, struct recap_error **err);
/* Directories below /out deeper than this are not copied (counted). */
#define RECAP_OUT_MAX_DEPTH 32
struct recap_out_stats {
	int64_t bytes;	 /* copied */
	int64_t files;	 /* regular files copied */
	int64_t skipped; /* entries not kept: symlinks, devices, FIFOs, sockets, too deep, over limit */
	bool over;	 /* some were not kept because the limit was reached */
	/* the first RECAP_OUT_LIST_MAX files kept (paths under /out, sizes,
	 * sha256 of what was copied), in the order copied; unlisted: the others */
	struct recap_out_file *list;
	size_t listed;
	int64_t unlisted;
};
/* Frees the list of st (the caller may have taken it: list NULL). */
void recap_out_stats_free(struct recap_out_stats *st);
/* Copies the regular files and directories of the /out mount out_fd into
 * the directory dest (made when /out holds anything; else nothing is made),
 * at most limit bytes in all, with safe modes
 * (mounts_out.c); *ret counts what was kept and what was not, and lists
 * the files kept with their sha256 (free with recap_out_stats_free, also
 * after a failure). */
int recap_out_collect(int out_fd, const char *dest, int64_t limit, struct recap_out_stats *ret,
		      struct recap_error **err);
/* The mount namespace of pid (a child of the caller, not yet reaped), or
 * -errno. */
int recap_mounts_ns_open(pid_t pid);
/* Detaches the whole mount tree of the namespace ns_fd, root included, from
 * a child that enters it: a process that still holds the namespace (a
 * target that opened /proc/<pid>/ns/mnt of the run's command) holds an
 * empty one, and the run's tmpfs, overlay and /target clone are released
 * as soon as no process of the run is left in them. */
int recap_mounts_ns_empty(int ns_fd, struct recap_error **err);
/* A minimal /dev under rootfs. */
int recap_mounts_dev(const char *rootfs, struct recap_error **err);
int recap_mounts_pivot(const char *rootfs, struct recap_error **err);
/* /proc for the caller's PID namespace, a read-only /sys and /dev/mqueue
 * for its network and IPC namespaces, the kernel's knobs in them protected
 * (recap_mounts_protect_kernel); called after the namespaces were joined or
 * made, from inside the run's PID namespace. */
int recap_mounts_proc_sys(struct recap_error **err);

/* The run on disk and its removal (the escape stage): its paths and state
 * file, its claim on the store's layers, recycled run directories, a tree
 * removal that never follows a link, escape itself, and ps and sweep
 * (runtime.h) over what runs left. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "runtime/cgroup.h"
#include "runtime/spec.h"

/* The run's on-disk record, runs/<id>/state, rewritten at every phase so
 * `capsule ps` can list runs and `capsule sweep` can clean up after a crash.
 * It is also the run's claim on the store's layers (recap_layers_pin): `layers`
 * names them, and gc keeps every layer a state names. */

struct recap_run_paths {
	char *id;
	char *run_dir; /* <root>/runs/<id> */
	char *upper, *work, *rootfs, *state;
	char *out_dir;	 /* <root>/out/<id> */
	char *mountbase; /* <root>/mountpoints: the lowest layer of every run */
};

int recap_paths_init(const char *root, const char *id, struct recap_run_paths *ret);
void recap_paths_free(struct recap_run_paths *p);
/* 32 random hex characters. */
int recap_run_id_new(char out[33]);

struct recap_run_state {
	const char *id;
	const char *phase; /* Attaching, Running, Escaping */
	pid_t executor;	   /* the capsule process */
	uint64_t executor_start;
	pid_t target;
	pid_t supervisor; /* 0 until known */
	const char *image;
	const char *command;		   /* argv[0] */
	const struct recap_cgroup *cgroup; /* its parent is recorded too */
	const struct recap_strv *layers;   /* directories; their names are recorded */
	int64_t created;		   /* unix seconds */
};

#define RECAP_STATE_MAX (1 << 16)

/* The state file, kept open by its executor. */
struct recap_state_file {
	int fd; /* -1: none */
	size_t len;
};

/* Writes the first state (a temp file renamed into place) and keeps it open. */
int recap_state_create(const struct recap_run_paths *p, const struct recap_run_state *s,
		       struct recap_state_file *ret, struct recap_error **err);
/* A later phase: rewritten in place. The fields that change (supervisorPid,
 * phase) come last, so a reader that catches the write half done sees the
 * same executor and cgroups, or a document that does not parse; it reads
 * again (recap_runtime_list does). */
int recap_state_update(struct recap_state_file *f, const struct recap_run_state *s);
void recap_state_close(struct recap_state_file *f);

/* A run's claim on the node store's layers it mounts, so that `capsule gc`
 * never removes one in use (docs/node-store.md, "The contract with the
 * runtime"). The claim is the run's state: it names the layers. */

/* Takes <root>/locks/store.lock shared (gc holds it exclusively) and checks
 * that every layer directory is still there; a layer that is gone is an
 * error naming it. *ret_lock is the lock (-1: no lock, the root has never
 * been a store, so gc has nothing to sweep). The caller writes its state,
 * which lists the layers, then closes the lock: a gc either finished before
 * the check or reads the state. */
int recap_layers_pin(const char *root, const struct recap_strv *layers, int *ret_lock,
		     struct recap_error **err);

/* Run directories recycled instead of made and removed: on the store's ext4
 * a new inode costs an allocator scan (0.2-0.8 ms for a directory, up to
 * 1.3 ms for a small file on the development VM, bench/inode-cost.sh) where
 * a rename costs ~20 us. An escaped run's directory, holding only its old state's inode as
 * state.tmp, is renamed to runs/.spare-<k> (at most RECAP_SPARES of them);
 * the next run renames one into place and rewrites that inode. Nothing that
 * lists runs (ps, sweep, gc) looks at names starting with a dot. */

#define RECAP_SPARES 8

/* Makes the directory path from a spare of its parent, else mkdir(mode).
 * -EEXIST when path exists. */
int recap_spare_take(const char *path, mode_t mode);
/* Hands the directory path, holding nothing but keep (a file name, or
 * NULL), back as a spare of its parent; removes both when there are
 * RECAP_SPARES spares already. 0 when path is gone. */
int recap_spare_give(const char *path, const char *keep);

/* Deleting a directory tree that untrusted code wrote: never follows a
 * symlink, never crosses into another filesystem, any depth. */

/* Removes path and everything below it; absent is success. */
int recap_rmtree(const char *path, struct recap_error **err);

/* Escape: remove every trace of a run and prove it. */

/* Kills every process in the run's cgroup, unmounts whatever of the run is
 * visible in the caller's mount namespace (normally nothing: the run's
 * mounts live in its own namespace), deletes upper/work/rootfs without
 * following symlinks, removes the cgroup, then verifies that no mount,
 * process, cgroup or file of the run is left and removes the state. 0 means
 * verified escaped; the artifacts in out/<id> are kept. */
int recap_escape(const struct recap_run_paths *p, const struct recap_cgroup *cg, struct recap_error **err);

/* Number of mounts at or below dir in the caller's mount namespace. */
int recap_mounts_count_under(const char *dir);

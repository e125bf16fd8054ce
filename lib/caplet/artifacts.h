/* What a node keeps of its runs: out/<id>/ (the files of a run's /out) and
 * logs/<id> (its output log) in the node store, how long (a record per run,
 * out/<id>.meta), within a quota of the node, and a tar stream of them for
 * whoever relays them to a user. docs/node-store.md, "Artifacts". Pure
 * file-system code, blocking: the agent runs the sweep off its loop, the
 * streaming relay the tar on its own threads. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define RECAP_CAPLET_ARTIFACTS_QUOTA_DEFAULT (INT64_C(1) << 30)
#define RECAP_CAPLET_RETENTION_DEFAULT 3600 /* output.retentionSeconds' default */
/* An expired run's record stays this long after its expiry, so that a
 * request for it is told "expired" (410 Gone) rather than "never was". */
#define RECAP_CAPLET_TOMBSTONE_SECONDS 604800
/* The executor's smallest /out; a grant below it keeps nothing. */
#define RECAP_CAPLET_OUT_MIN (INT64_C(1) << 20)
#define RECAP_CAPLET_ARTIFACT_PATH_MAX 4096

/* A run id as the executor takes it: 1 to 64 of a-z, 0-9, '-', '_'. */
bool recap_caplet_artifacts_id_ok(const char *run_id);

/* The node's quota on the bytes of out/<id>/ and logs/<id> (all runs).
 * used: what the store holds (the sweep measures it); reserved: the /out
 * sizes granted to runs not ended yet. */
struct recap_caplet_quota {
	int64_t limit, used, reserved;
};
/* The /out a run may have: want, or what is left of the quota when that
 * is less, or 0 when less than RECAP_CAPLET_OUT_MIN is left (the run then
 * keeps nothing). The grant is reserved; never blocks. */
int64_t recap_caplet_quota_reserve(struct recap_caplet_quota *q, int64_t want);
/* A run ended: its grant is released, what it kept is used. */
void recap_caplet_quota_release(struct recap_caplet_quota *q, int64_t granted, int64_t kept);

/* out/<id>.meta: JSON {"runId", "namespace", "name", "endTime",
 * "expireTime" (RFC 3339), "expireUnix", "removed"}. Written whole
 * (temporary file, then rename; not synced: one a crash left torn is
 * written again by the sweep, from the run's files' mtime). */
struct recap_caplet_artifacts_meta {
	int64_t end, expire; /* unix seconds */
	bool removed;	     /* a tombstone: the artifacts were removed at expiry */
	char ns[64], name[254];
};
int recap_caplet_artifacts_meta_write(const char *root, const char *run_id,
				      const struct recap_caplet_artifacts_meta *m, struct recap_error **err);
/* -ENOENT (no err) when the run has no record. */
int recap_caplet_artifacts_meta_read(const char *root, const char *run_id,
				     struct recap_caplet_artifacts_meta *ret, struct recap_error **err);

enum recap_caplet_artifacts_state {
	RECAP_CAPLET_ARTIFACTS_NONE,	/* never existed, or the run kept nothing: 404 */
	RECAP_CAPLET_ARTIFACTS_PRESENT, /* there, not expired: 200 */
	RECAP_CAPLET_ARTIFACTS_EXPIRED, /* expired (removed or about to be): 410 */
	RECAP_CAPLET_ARTIFACTS_RUNNING, /* the run has not ended: nothing to read yet */
};
/* The state of run_id's artifacts at now (unix seconds); *ret_expire (may
 * be NULL) gets the expiry when there is a record, else 0. -EINVAL for a
 * run id that is not one. */
int recap_caplet_artifacts_state(const char *root, const char *run_id, int64_t now,
				 enum recap_caplet_artifacts_state *ret, int64_t *ret_expire,
				 struct recap_error **err);

/* Removes what expired, never following a symlink (one in the store is
 * removed as a link). Runs still in runs/<id> are left alone. A run found
 * without a record (caplet stopped before it wrote one, or a run of the
 * CLI) gets one: expiry at its files' mtime + default_retention. Records
 * are kept RECAP_CAPLET_TOMBSTONE_SECONDS past expiry, then removed.
 * *ret: runs removed, their bytes, and the bytes of out/<id>/ and logs/<id>
 * left (runs in progress not counted: their /out is reserved). */
struct recap_caplet_artifacts_sweep {
	int64_t removed_runs, removed_bytes, used_bytes;
};
int recap_caplet_artifacts_sweep(const char *root, int64_t now, int64_t default_retention,
				 struct recap_caplet_artifacts_sweep *ret, struct recap_error **err);
/* Removes out/<id>/ now (a run whose /out the quota left no room for). */
int recap_caplet_artifacts_discard(const char *root, const char *run_id, struct recap_error **err);

/* The tar stream. write gets at most 64 KiB at a time; < 0 stops the
 * stream (the reader went away). */
typedef int (*recap_caplet_write_fn)(const void *buf, size_t len, void *userdata);
/* A requested path (len bytes) made relative to /out: an optional leading
 * "/out" or "/out/", no "." or empty components kept; "" is the whole of
 * /out. Refused (-EINVAL, err naming the problem): a NUL, a ".." component,
 * an absolute path outside /out, more than RECAP_CAPLET_ARTIFACT_PATH_MAX
 * bytes or a component of more than 255. */
int recap_caplet_artifacts_path(const char *path, size_t len, char out[RECAP_CAPLET_ARTIFACT_PATH_MAX],
				struct recap_error **err);
/* Before streaming: the run's state at now, and for PRESENT whether path
 * (NULL or "": the whole of /out) is there (NONE when it is not). -EINVAL
 * (err) for a bad run id or path: a 400. */
int recap_caplet_artifacts_check(const char *root, const char *run_id, const char *path, int64_t now,
				 enum recap_caplet_artifacts_state *ret, struct recap_error **err);
/* Writes a POSIX (pax) tar of out/<run_id>/, or of path under it (a file,
 * a directory and what it holds, or a symlink as a symlink entry), entry
 * names relative to /out. Every component is opened beneath out/<run_id>
 * without following symlinks; files are read in 64 KiB chunks. -ENOENT for
 * a run or path that is not there, -ESTALE for an expired run, -EPIPE when
 * write refused a chunk; err says which. */
int recap_caplet_artifacts_tar(const char *root, const char *run_id, const char *path,
			       recap_caplet_write_fn write, void *userdata, struct recap_error **err);

/* For the node's relay (lib/relay, its artifacts function): answers a
 * request for run_id's artifacts at path; userdata is the path of the
 * helper caplet-tar, which writes the tar (recap_caplet_artifacts_tar). Returns an HTTP status with *err
 * before anything was written (400 bad path, 404 none, 409 the run has not
 * ended, 410 expired), 0 when the whole tar went out after begin(), < 0
 * when the stream broke. */
int recap_caplet_artifacts_serve(const char *root, const char *run_id, const char *path,
				 recap_caplet_write_fn write, void *stream, int (*begin)(void *stream),
				 struct recap_error **err, void *userdata);

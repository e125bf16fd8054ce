/* lib/runtime: attach a capsule to a running container, run, escape.
 *
 * recap_runtime_run() is the node algorithm of docs/design.md §3 for one run.
 * The caller must be single-threaded (setns into a mount namespace is
 * refused otherwise) and root. The stages of a run and their files:
 * docs/development.md, "lib/runtime, by stage". */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "api/names.h"
#include "base/error.h"
#include "runtime/spec.h"

/* Why a run ended (result.reason): RECAP_REASON_* of api/names.h, those
 * hack/crdgen/names.py lists as the executor's. */

struct recap_run_opts {
	const char *root;	   /* the node store, runs/ and out/ below it */
	const char *cgroup_parent; /* NULL: "recap" */
	int stream_out;		   /* copy the command's stdout here too (-1: no) */
	int stream_err;
	bool tty; /* attach: a PTY relayed to stdin/stdout, raw mode */
	bool forward_sigwinch;
};

/* A file kept in out/<id>: its path under /out, size and sha256
 * ("sha256:<hex>"), computed while it was copied. */
#define RECAP_OUT_LIST_MAX 100	     /* files listed in a result; the others counted */
#define RECAP_OUT_LIST_PATH_MAX 1024 /* a longer path is counted, not listed */
struct recap_out_file {
	char *path;
	int64_t size;
	char digest[72];
};

struct recap_run_result {
	char id[65];
	const char *reason; /* RECAP_REASON_* */
	char *message;	    /* detail, NULL when none */
	int exit_code;	    /* -1 when the command did not run */
	int signal;	    /* 0 unless killed by a signal */
	char *stdout_tail, *stderr_tail;
	size_t stdout_len, stderr_len;
	uint64_t stdout_total, stderr_total;
	uint64_t pull_ms, attach_ms, run_ms, escape_ms; /* pull_ms: set by the caller */
	bool escaped;
	pid_t target_pid;
	/* /out copied to out/<id>: bytes and files kept, entries not kept */
	int64_t out_bytes, out_files, out_skipped;
	/* the whole output in logs/<id>: bytes written, bytes past logBytes */
	int64_t log_bytes, log_dropped;
	/* the first RECAP_OUT_LIST_MAX files kept, and how many more were kept */
	struct recap_out_file *out_list;
	size_t out_listed;
	int64_t out_unlisted;
};

/* Runs spec; fills *res in every case (reason says what happened) and
 * returns 0 when the command ran, negative errno otherwise (with *err). */
int recap_runtime_run(const struct recap_run_spec *spec, const struct recap_run_opts *o,
		      struct recap_run_result *res, struct recap_error **err);
/* The exit status a CLI reports: the command's, 128+signal, 125 when it
 * never ran, 126/127 when it could not be started/found. */
int recap_runtime_exit_status(const struct recap_run_result *res);
json_t *recap_runtime_result_json(const struct recap_run_result *res);
void recap_runtime_result_free(struct recap_run_result *res);

/* Runs under <root>/runs (ps). */
struct recap_run_info {
	char id[65];
	char phase[32];
	pid_t executor, target, supervisor;
	bool executor_alive;
	bool state_busy; /* the state did not parse and was written just now */
	char image[256];
	char command[256];
	int64_t created;
	char cgroup_parent[128];
};
/* Calls fn for each run found; stops early when fn returns < 0. */
int recap_runtime_list(const char *root, int (*fn)(const struct recap_run_info *, void *), void *data,
		       struct recap_error **err);
/* Escapes every run whose executor is gone (all when force); reports each.
 * cgroup_parent (NULL: "recap") is used for runs whose state does not say. */
int recap_runtime_sweep(const char *root, const char *cgroup_parent, bool force,
			void (*report)(const char *id, int r, const struct recap_error *e, void *data),
			void *data, struct recap_error **err);
/* Removes path and all below it without following symlinks (a symlink is
 * removed as a link) or crossing into another file system. 0 when absent. */
int recap_rmtree(const char *path, struct recap_error **err);

/* The run's on-disk record, runs/<id>/state, rewritten at every phase so
 * `capsule ps` can list runs and `capsule sweep` can clean up after a crash.
 * It is also the run's claim on the store's layers (layerpin.h): `layers`
 * names them, and gc keeps every layer a state names. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "runtime/cgroup.h"
#include "runtime/spec.h"

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

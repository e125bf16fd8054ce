/* What one run does: the executor's input, from CLI flags or a JSON document
 * (schema in docs/executor-spec.md). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "base/error.h"

/* Namespaces a run may share with its target. */
enum {
	RECAP_JOIN_NET = 1 << 0,
	RECAP_JOIN_PID = 1 << 1,
	RECAP_JOIN_IPC = 1 << 2,
	RECAP_JOIN_UTS = 1 << 3,
	RECAP_JOIN_CGROUP = 1 << 4,
};
#define RECAP_JOIN_DEFAULT (RECAP_JOIN_NET | RECAP_JOIN_PID | RECAP_JOIN_IPC | RECAP_JOIN_UTS)

enum recap_target_fs {
	RECAP_TARGET_FS_NONE,
	RECAP_TARGET_FS_RO,
	RECAP_TARGET_FS_RW,
};

enum recap_seccomp_mode {
	RECAP_SECCOMP_DEFAULT,
	RECAP_SECCOMP_UNCONFINED,
	RECAP_SECCOMP_PROFILE, /* an OCI-format JSON file */
};

/* Limits on what a spec may ask for. */
#define RECAP_SPEC_MAX_BYTES (1u << 20)
#define RECAP_SPEC_MAX_ARGS 4096
#define RECAP_SPEC_MAX_LAYERS 128
#define RECAP_TAIL_MAX (1u << 20)
#define RECAP_TAIL_DEFAULT 4096
#define RECAP_CAPS_ALL UINT64_MAX
/* the run's writable layer (a tmpfs charged to the run's memory cgroup) */
#define RECAP_UPPER_DEFAULT (256ll << 20)
#define RECAP_UPPER_MIN (1ll << 20)
#define RECAP_UPPER_MAX (1ll << 40)
/* the run's /out (a tmpfs charged to the run's memory cgroup, its files
 * copied to out/<id> at the end); the same bounds as the writable layer */
#define RECAP_OUT_DEFAULT (64ll << 20)
/* the run's cgroup limits when the spec sets none: no run may take the
 * node's memory or CPU, or fork-bomb it (docs/executor-spec.md) */
#define RECAP_MEMORY_DEFAULT (512ll << 20)
#define RECAP_PIDS_DEFAULT 1024
#define RECAP_CPU_MILLIS_DEFAULT 1000
/* an interactive session (docs/executor-spec.md, "Sessions"): how long the
 * executor waits for its one client, and how long a session may be idle */
#define RECAP_SESSION_ATTACH_DEFAULT 60
#define RECAP_SESSION_ATTACH_MAX 600
#define RECAP_SESSION_IDLE_DEFAULT 900
#define RECAP_SESSION_IDLE_MIN 10
#define RECAP_SESSION_IDLE_MAX 86400

/* A NULL-terminated, owned list of owned strings. */
struct recap_strv {
	char **v;
	size_t n;
};

struct recap_run_spec {
	char *id;		      /* run id; generated when NULL */
	char *target;		      /* container id or pid */
	pid_t target_pid;	      /* 0, or the container's init as the caller confirmed it */
	char *image;		      /* the reference, for reporting only */
	struct recap_strv layers;     /* read-only layer dirs, lowest first */
	struct recap_strv image_env;  /* image config Env */
	struct recap_strv entrypoint; /* image config Entrypoint */
	struct recap_strv image_cmd;  /* image config Cmd */
	char *workdir;		      /* image config WorkingDir */
	struct recap_strv env;	      /* K=V, override the image's */
	struct recap_strv command;    /* empty: the image's Entrypoint+Cmd */
	unsigned join;		      /* RECAP_JOIN_* */
	enum recap_target_fs target_fs;
	uint64_t cap_add;  /* bit n = capability n */
	uint64_t cap_drop; /* removed from the default set; RECAP_CAPS_ALL: every one */
	enum recap_seccomp_mode seccomp;
	char *seccomp_profile;
	int64_t memory_bytes; /* 0: RECAP_MEMORY_DEFAULT */
	int64_t pids;	      /* 0: RECAP_PIDS_DEFAULT */
	int64_t cpu_millis;   /* 0: RECAP_CPU_MILLIS_DEFAULT */
	int64_t upper_bytes;  /* size of the writable layer */
	int64_t out_bytes;    /* size of /out */
	int64_t log_bytes;    /* the whole output kept in logs/<id>; 0: none */
	uint64_t timeout_ms;  /* 0: none */
	uint64_t grace_ms;    /* SIGTERM -> SIGKILL */
	size_t tail_bytes;
	bool tty;
	int64_t uid, gid; /* -1: root (0) */
	/* session: the command's terminal is a client of runs/<id>/session.sock
	 * instead of the caller's (needs tty) */
	bool session;
	int64_t session_attach_s; /* 1..RECAP_SESSION_ATTACH_MAX */
	int64_t session_idle_s;	  /* RECAP_SESSION_IDLE_MIN..MAX */
};

void recap_spec_init(struct recap_run_spec *s);
void recap_spec_free(struct recap_run_spec *s);

int recap_strv_push(struct recap_strv *l, const char *s);
void recap_strv_free(struct recap_strv *l);

/* Each parser names the bad value in *err. */
int recap_spec_parse_join(const char *list, unsigned *ret, struct recap_error **err);
int recap_spec_parse_target_fs(const char *s, enum recap_target_fs *ret, struct recap_error **err);
int recap_spec_parse_cap(const char *name, int *ret, struct recap_error **err);
/* Adds the capabilities of a comma-separated list to *mask; with allow_all,
 * "ALL" sets every bit (RECAP_CAPS_ALL). */
int recap_spec_parse_caps(const char *list, bool allow_all, uint64_t *mask, struct recap_error **err);
int recap_spec_parse_seccomp(struct recap_run_spec *s, const char *v, struct recap_error **err);
/* "64Mi", "1G", "1048576" -> bytes. */
int recap_spec_parse_bytes(const char *s, int64_t *ret, struct recap_error **err);
/* "0.5", "2", "500m" -> millicores. */
int recap_spec_parse_cpus(const char *s, int64_t *ret, struct recap_error **err);
/* "10", "1.5" seconds -> ms. */
int recap_spec_parse_seconds(const char *s, uint64_t *ret, struct recap_error **err);
/* "uid[:gid]", numeric (a name would need the capsule's /etc/passwd). */
int recap_spec_parse_user(const char *s, int64_t *ret_uid, int64_t *ret_gid, struct recap_error **err);
/* "a:b:c" -> appended to l. */
int recap_spec_split_layers(const char *s, struct recap_strv *l, struct recap_error **err);

/* Fills s from a JSON document (fields present override s). */
int recap_spec_from_json(struct recap_run_spec *s, json_t *doc, struct recap_error **err);
/* Checks the whole spec: target, layers, command, limits. */
int recap_spec_validate(const struct recap_run_spec *s, struct recap_error **err);
/* The capability name for a number ("CAP_NET_RAW"), NULL if unknown. */
const char *recap_spec_cap_name(int cap);

/* Pure translations between a CapsuleExecution and the executor: the spec
 * document `capsule run --spec-fd` takes, and the status written from the
 * result it prints. Unit-tested. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "api/runid.h"
#include "base/error.h"

#define RECAP_CAPLET_RUN_ID_MAX RECAP_API_RUN_ID_MAX
/* the whole output kept per run when the Capsule sets no output.logSize */
#define RECAP_CAPLET_LOG_SIZE_DEFAULT "8Mi"
/* status.artifacts.files lists at most this many */
#define RECAP_CAPLET_ARTIFACT_FILES_MAX 100

struct recap_caplet_image {
	const char *digest;	   /* manifest digest */
	const char *const *layers; /* unpacked layer dirs, lowest first */
	size_t n_layers;
	json_t *config; /* imageConfig: Env, Entrypoint, Cmd, WorkingDir (may be NULL) */
};

/* "ce-" and the execution's UID without dashes: one run id per execution,
 * so a restarted agent finds the executor of an execution it had started. */
int recap_caplet_run_id(const char *uid, char out[RECAP_CAPLET_RUN_ID_MAX], struct recap_error **err);

/* The executor spec for exec (a CapsuleExecution). now: unix seconds, to cut
 * the timeout at spec.deadline. seccomp_dir: where Localhost profiles live.
 * A field that cannot be translated is refused with -EINVAL and a message
 * naming it. */
int recap_caplet_spec_build(json_t *exec, const struct recap_caplet_image *img, const char *seccomp_dir,
			    int64_t now, json_t **ret, struct recap_error **err);

/* The cgroup parent for runs on a kubelet's node, from the text of the
 * caller's /proc/self/cgroup: "<path to kubepods>/recap" when the caller
 * (caplet in its DaemonSet pod) sits below the kubelet's kubepods (or
 * kubepods.slice) cgroup, taken from its memory controller's line, else the
 * v2 one. -ENOENT when neither shows one (caplet outside a pod, or in a
 * private cgroup namespace); -EINVAL when it does not fit. */
int recap_caplet_kubepods_parent(const char *proc_cgroup, char *out, size_t size);

/* Seconds left until spec.deadline (may be negative); INT64_MAX without one.
 * -EINVAL for a deadline that does not parse. */
int recap_caplet_deadline_left(json_t *exec, int64_t now, int64_t *ret, struct recap_error **err);

/* "2026-11-23T14:20:00.123456Z" from microseconds since the epoch. */
void recap_caplet_format_us(int64_t us, char out[40]);
int64_t recap_caplet_now_us(void);

struct recap_caplet_times {
	int64_t attach_start_us; /* when the executor was spawned */
	int64_t end_us;		 /* when its result arrived */
	const char *digest;
	bool target_gone; /* the target's process had vanished by then */
	/* the artifacts: kept until end + retention_s; out_asked is the
	 * Capsule's outSize, out_granted what the node's quota left (0: the
	 * run kept nothing, its out/<id> was discarded) */
	int64_t retention_s, out_asked, out_granted;
};

/* The status (a merge patch of .status) for the executor's result JSON.
 * phase Succeeded only for a command that exited 0 and escaped.
 * status.artifacts from its outList (absent when it kept no file), and a
 * message when the node's artifact quota cut /out. */
json_t *recap_caplet_status_from_result(json_t *result, const struct recap_caplet_times *t);
/* The executor spec's outSize ("64Mi", bytes, or absent: 64Mi) in bytes;
 * -EINVAL when it is not a quantity. */
int recap_caplet_spec_out_size(json_t *spec, int64_t *ret);
/* Sets the executor spec's outSize to bytes (at least 1Mi, the executor's
 * smallest). */
int recap_caplet_spec_set_out_size(json_t *spec, int64_t bytes);
/* A terminal status for an execution that never ran (escaped: nothing to
 * escape). */
json_t *recap_caplet_status_refused(const char *reason, const char *message);

/* The execution's target as the CRI reported it (the JSON line of `capsule
 * cri-status`) checked against the execution: the same container ID, the
 * kubelet's labels naming the execution's pod (spec.target.pod, the
 * execution's namespace, spec.target.podUID) and container, RUNNING, a
 * PID. On success *ret_pid is the container's init as the CRI reports it,
 * the only PID the executor is given. Otherwise *ret_reason is the status
 * reason (InvalidSpec: the container is another pod's or container's;
 * TargetNotFound: it is not running or has no process) and err says what
 * differs. */
int recap_caplet_target_check(json_t *exec, json_t *cri, int *ret_pid, const char **ret_reason,
			      struct recap_error **err);
/* The bare container ID of spec.target.containerID ("<runtime>://<id>"),
 * checked as the executor needs it (not a PID, no path); NULL and err set
 * otherwise. */
const char *recap_caplet_target_id(json_t *exec, struct recap_error **err);

/* The claim: caplet's writes that may lead to a run (Pulling, Attaching) are
 * merge patches of .status guarded by the resourceVersion it last saw. When
 * one is refused with 409 Conflict, the execution read again (NULL: it is
 * gone) decides what the conflict was. uid: the execution's UID as caplet
 * knows it; written: the status caplet tried to write. */
enum recap_caplet_claim {
	RECAP_CAPLET_CLAIM_RETRY, /* changed, but no one claimed it: write again, newer version */
	RECAP_CAPLET_CLAIM_OURS,  /* our write is there (an earlier try landed unanswered) */
	RECAP_CAPLET_CLAIM_LOST,  /* another writer claimed it, or it is gone: stand down */
};
enum recap_caplet_claim recap_caplet_claim_decide(json_t *now, const char *uid, json_t *written);
/* The first field of written that now's status does not hold as written
 * (for the log of a lost claim), or NULL. */
const char *recap_caplet_claim_differs(json_t *now, json_t *written);

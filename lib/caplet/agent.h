/* Internals of the node agent, shared by its files. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "api/names.h"
#include "api/types.h"
#include "base/histogram.h"
#include "caplet/artifacts.h"
#include "caplet/caplet.h"
#include "caplet/machine.h"
#include "caplet/proc.h"
#include "caplet/spec.h"
#include "kubecache/informer.h"

struct caplet_exec {
	struct recap_caplet *agent;
	struct caplet_exec *next;	 /* all executions */
	struct caplet_exec *next_queued; /* FIFO of the QUEUED */
	char *key, *ns, *name;
	json_t *obj; /* latest seen (informer or our own write) */
	/* Its state (machine.h), changed only by caplet_exec_step(). Whether
	 * it holds a slot, was cancelled, gave the executor its spec or may be
	 * a predecessor's run is told by the state, not by flags. What follows
	 * is data: busy says a request to the API is in flight, which happens
	 * in many states and even beside a running executor (a Running write),
	 * an I/O fact like proc; gone says the object is deleted, a fact about
	 * the API object learned in any state (from the informer or a 404) that
	 * the writing states act on when they next look, and that decides when
	 * a settled execution is forgotten; reported says what the API has,
	 * not what the agent does next, and holds across a cancellation. */
	enum caplet_state st;
	bool busy;			/* an API request in flight */
	bool gone;			/* deleted from the API: forget when idle */
	enum recap_kube_code last_code; /* of the last write */
	char run_id[RECAP_CAPLET_RUN_ID_MAX];
	char *digest, *spec_doc;
	json_t *spec;  /* the executor spec, while the target is being confirmed */
	json_t *final; /* the terminal status to write */
	struct caplet_proc *proc;
	uv_timer_t *progress; /* while the executor runs */
	json_t *claim;	      /* the status being claimed with (claim.c) */
	void (*claim_cb)(struct caplet_exec *, int, const char *);
	int claim_tries, claim_conflicts;
	uv_timer_t *claim_timer; /* backoff after a transient failure */
	int reported;		 /* what the API has: 1 Running written, 2 Escaping written */
	int64_t accepted_us, pull_start_us, attach_start_us;
	/* /out: the Capsule's outSize, and what the node's artifact quota
	 * granted (reserved while out_reserved) */
	int64_t out_asked, out_granted;
	bool out_reserved;
};

struct recap_caplet {
	struct recap_kube_client *client;
	uv_loop_t *loop;
	struct recap_caplet_options o;
	char seccomp_dir[4096];
	/* capsule-cri, beside the executor (or on PATH with it): asked
	 * directly, not through `capsule cri-status`, which would exec it */
	char cri_bin[4096];
	struct recap_kube_informer *executions, *policies, *namespaces;
	/* What the policy check needs of policies and namespaces; the rest is not cached. */
	struct recap_kube_projection *policy_fields, *namespace_fields;
	struct recap_kube_projection *exec_fields, *ended_exec_fields; /* exec_cache.c */
	struct caplet_exec *all;
	struct caplet_exec *queue_head, **queue_tail;
	struct caplet_pull *pulls;
	unsigned slots_used;
	bool stopping, recovered;
	bool trim_due; /* give freed heap back at the next tick */
	unsigned ticks_since_trim;
	void (*stop_cb)(void *);
	void *stop_data;
	uv_timer_t tick, stop_timer;
	uint64_t stop_deadline;
	int open_timers;
	unsigned long long metric_results[RECAP_EXECUTION_REASONS + 1]; /* and Other */
	struct recap_histogram metric_duration;
	unsigned long long metric_pulls, metric_pull_failures, metric_api_errors;
	/* artifacts (artifacts.c): the quota, the periodic sweep (off the loop) */
	struct recap_caplet_quota quota;
	uv_timer_t artifacts_timer;
	struct caplet_sweep_job *sweep_job; /* in flight */
	unsigned long long metric_artifacts_removed, metric_artifacts_removed_bytes;
};

extern const struct recap_kube_resource recap_caplet_executions_res;

void caplet_logf(struct recap_caplet *c, enum recap_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Starts queued executions while slots are free. */
void caplet_dispatch(struct recap_caplet *c);
/* exec_cache.c: the projections of the executions informer, and its
 * project function (project_data: the agent). */
int caplet_exec_cache_new(struct recap_caplet *c, struct recap_error **err);
void caplet_exec_cache_free(struct recap_caplet *c);
json_t *caplet_project_exec(json_t *obj, void *data);
/* Keeps obj, an answer of the API server to one of x's writes, as x's
 * latest seen object, projected as the informer projects it: an ended
 * execution's whole object (its spec, output tails, field ownership) is
 * not held for as long as the API keeps it. */
void caplet_exec_keep(struct caplet_exec *x, json_t *obj);
/* An execution reached a final state: drops what only a live one needs
 * (its executor spec, its result), so the agent keeps a small record of
 * each execution it has finished with until the API forgets it. */
void caplet_exec_release(struct caplet_exec *x);
/* spec.deadline has passed (the command must not start any more). */
bool caplet_exec_expired(struct caplet_exec *x);
/* Sets the terminal status to write (taking it) and returns CAPLET_EV_END. */
enum caplet_event caplet_exec_end(struct caplet_exec *x, json_t *status);
/* The same, for a refusal: nothing ran. */
enum caplet_event caplet_exec_refuse(struct caplet_exec *x, const char *reason, const char *msg);

/* status writes (api.c): merge patch of .status; cb(x, ok). */
int caplet_write_status(struct caplet_exec *x, json_t *status, void (*cb)(struct caplet_exec *, bool));
int caplet_set_finalizer(struct caplet_exec *x, bool present, void (*cb)(struct caplet_exec *, bool));

/* claim (claim.c): writes status (Pulling or Attaching) guarded by the
 * resourceVersion last seen; on a conflict reads the execution again and
 * claims again or reports it lost; a transient failure is retried with
 * backoff. cb gets CAPLET_CLAIMED, CAPLET_CLAIM_LOST (another writer has
 * it: write nothing more) or CAPLET_CLAIM_FAILED and why. */
enum caplet_claim_result { CAPLET_CLAIMED, CAPLET_CLAIM_LOST, CAPLET_CLAIM_FAILED };
typedef void (*caplet_claim_cb)(struct caplet_exec *x, int result, const char *msg);
void caplet_claim(struct caplet_exec *x, json_t *status, caplet_claim_cb cb);
void caplet_claim_stop(struct caplet_exec *x);
/* The wait before the next try of a claim after `failures` transient
 * failures in a row (from 1), doubling from 0.5 s to 8 s with jitter, or
 * -1 to give up: Pulling after 3 retries, Attaching once spec.deadline has
 * passed (deadline_left_s seconds left; the wait never goes beyond it). */
int64_t caplet_claim_retry_ms(bool attaching, unsigned failures, int64_t deadline_left_s);
/* A caplet_claim_cb that reports the claim's end to the state machine. */
void caplet_claim_report(struct caplet_exec *x, int claimed, const char *msg);
/* Why an execution that has not started must not start now, or NULL. */
const char *caplet_exec_no_start(struct caplet_exec *x);
/* The status of one that ends before it started: Cancelled when
 * caplet_exec_no_start() says so, else reason and msg. */
json_t *caplet_status_unstarted(struct caplet_exec *x, const char *reason, const char *msg);
/* CAPLET_EV_END (the status set) when it must not start now: Cancelled as
 * above, or DeadlineExceeded with deadline_msg; else CAPLET_EV_NONE. */
enum caplet_event caplet_exec_too_late(struct caplet_exec *x, const char *deadline_msg);

/* policy (policy.c): 1 admitted, 0 refused (*msg set), < 0 error (*msg set). */
int caplet_policy_check(struct recap_caplet *c, json_t *exec, char **msg);
/* The signature key sets the policies selecting ns require (array of
 * {"policy", "publicKeys"}; empty: none); < 0 with *msg when they cannot be
 * read (fails closed). */
int caplet_policy_signature_sets(struct recap_caplet *c, const char *ns, json_t **ret, char **msg);
int64_t caplet_max_concurrent(struct recap_caplet *c, const char *ns);

/* image (image.c): resolves exec's image (pulling when not in the store),
 * then calls cb with the image or an error message. */
struct caplet_pull;
/* reason: with error, the execution's reason (NULL: ImagePullFailed) */
typedef void (*caplet_image_cb)(struct caplet_exec *x, const struct recap_caplet_image *img,
				const char *reason, const char *error);
void caplet_image_get(struct caplet_exec *x, caplet_image_cb cb);
/* The execution's image is a registry reference: never an oci: layout, which
 * would have the agent read a node path the tenant names. */
int caplet_image_check(json_t *exec, struct recap_error **err);
/* image_keys.c: the executor's --verify-key options for the key sets of
 * caplet_policy_signature_sets (NULL-terminated, owned), and a tag that
 * tells the sets apart (part of a pull's key). */
int caplet_image_verify_args(struct recap_caplet *c, json_t *sets, char ***ret_args, char **ret_tag,
			     struct recap_error **err);
void caplet_image_verify_args_free(char **args);
/* Calls cb and returns true when the image is in the node store already. */
bool caplet_image_from_store(struct caplet_exec *x, caplet_image_cb cb);
/* target (cri.c): asks the CRI about the execution's container (a child,
 * on the loop; x->proc while it runs) and checks it is the execution's
 * pod's and running. cb gets the CRI's PID of the container, or a reason
 * and a message: the execution must then fail without starting. */
typedef void (*caplet_target_cb)(struct caplet_exec *x, int pid, const char *reason, const char *msg);
void caplet_target_confirm(struct caplet_exec *x, caplet_target_cb cb);
/* progress (progress.c): Running/Escaping from the executor's state file. */
void caplet_progress_start(struct caplet_exec *x);
void caplet_progress_stop(struct caplet_exec *x);
/* recovery (recover.c): blocking sweep at startup; per execution kill + sweep. */
int caplet_sweep_blocking(struct recap_caplet *c, struct recap_error **err);
void caplet_recover_exec(struct caplet_exec *x);
/* An executor command line: the binary and its global options (--root, and
 * --cgroup-parent when cgroup), then caplet_argv_add() words; a line that
 * would pass CAPLET_ARGV_MAX is marked full and refused by caplet_argv_done(). */
#define CAPLET_ARGV_MAX (16 + 2 * RECAP_CAPLET_INSECURE_MAX)
struct caplet_argv {
	const char *v[CAPLET_ARGV_MAX];
	int n;
	bool full;
};
void caplet_argv_executor(struct caplet_argv *a, struct recap_caplet *c, bool cgroup);
void caplet_argv_add(struct caplet_argv *a, const char *arg);
int caplet_argv_done(const struct caplet_argv *a, struct recap_error **err);

/* artifacts (agent_artifacts.c): the first sweep (blocking, at start),
 * then one every CAPLET_ARTIFACTS_SWEEP_MS off the loop. */
#define CAPLET_ARTIFACTS_SWEEP_MS 60000
int caplet_artifacts_start(struct recap_caplet *c, struct recap_error **err);
void caplet_artifacts_stop(struct recap_caplet *c);
/* The run's /out within the quota: sets x->out_asked/out_granted, reserves
 * the grant and cuts the spec's outSize to it. */
int caplet_artifacts_reserve(struct caplet_exec *x, json_t *spec);
/* The run ended: its record written (expiry), what it kept counted, the
 * rest of its grant released; kept is the result's outBytes. A run the
 * quota gave no room has its out/<id> removed. */
void caplet_artifacts_ended(struct caplet_exec *x, json_t *result, int64_t end_us);
/* Releases a grant not used (the run never ran or gave no result). */
void caplet_artifacts_release(struct caplet_exec *x);

/* The histograms' buckets, once, when the agent is made. */
void caplet_metrics_init(struct recap_caplet *c);
void caplet_metrics_result(struct recap_caplet *c, const char *phase, const char *reason,
			   int64_t duration_us);

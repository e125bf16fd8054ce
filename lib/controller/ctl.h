/* The controller's internals, shared by its files. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "base/error.h"
#include "certs/certs.h"
#include "controller/controller.h"
#include "base/histogram.h"
#include "httpd/httpd.h"
#include "kube/client.h"
#include "kubecache/events.h"
#include "kubecache/informer.h"
#include "kubecache/leader.h"
#include "kubecache/projection.h"
#include "kubecache/strmap.h"
#include "kubecache/workqueue.h"
#include "sched/strategy.h"

/* Policies whose last read of their publicKeyRefs is remembered. */
#define KEYS_READ_MAX 4096

/* How long after an informer error with no event since /readyz fails. */
#define CTL_API_DOWN_MS 60000

enum ctl_informer { INF_CAPSULE, INF_POLICY, INF_RUN, INF_EXEC, INF_POD, INF_NS, INF_EVENT, INF_N };
enum ctl_kind { KIND_CAPSULE, KIND_POLICY, KIND_RUN, KIND_N };

extern const struct recap_kube_resource recap_ctl_capsules, recap_ctl_policies, recap_ctl_runs,
    recap_ctl_execs, recap_ctl_pods, recap_ctl_namespaces, recap_ctl_pod_events;

struct ctl_op;
struct ctl_op_event;
struct ctl_sigcheck;
typedef int (*ctl_reconcile_fn)(struct recap_controller *ctl, struct ctl_op *op, struct recap_error **err);

struct ctl_queue {
	struct recap_kube_workqueue *q;
	/* key -> monotonic ns before which its next pass waits (op.c) */
	struct recap_kube_strmap *not_before;
	const char *kind;
	ctl_reconcile_fn reconcile;
	unsigned long ok, errors;
	struct recap_histogram latency;
};

struct ctl_handler_ctx {
	struct recap_controller *ctl;
	enum ctl_informer inf;
};

struct recap_controller {
	uv_loop_t *loop;
	struct recap_kube_client *client;
	struct recap_controller_options opts;
	char *identity, *lease_ns, *lease_name, *metrics_addr, *health_addr;
	char *certs_ns, *apiserver_service;  /* relay certificates (certs.c) */
	char *keys_ns;			     /* publicKeyRefs' namespace (policykeys.c) */
	struct recap_kube_strmap *keys_read; /* policy name -> loop ms of its last full read */
	struct ctl_certs *certs;
	struct recap_kube_informer *inf[INF_N];
	struct recap_kube_projection *proj[INF_N];
	struct ctl_handler_ctx hctx[INF_N];
	unsigned informer_errors;
	/* Loop time (ms) of the last informer error that no answer (event, list,
	 * watch started) has followed yet; 0: none. /readyz fails while it is
	 * recent. */
	uint64_t api_error_ms;
	struct ctl_queue queues[KIND_N];
	struct recap_kube_events *events;
	struct recap_kube_leader *leader;
	struct recap_httpd *metrics_srv, *health_srv;
	bool may_act; /* leading, or no election */
	bool active;  /* may_act and every cache synced: reconcilers run */
	bool stopping;
	unsigned stop_pending;
	recap_controller_done_fn stop_done;
	void *stop_userdata;
	uv_timer_t trim; /* returns freed memory to the system */
	bool trim_init;
	struct recap_histogram exec_latency; /* execution created -> finished */
	struct recap_kube_strmap *expected;  /* "<ns>/<name>" -> loop ms it expires */
	struct recap_kube_strmap *refused;   /* "<ns>/<name>": creates the API server refused */
	/* "<ns>/<run>" -> "<ns>/<capsule>" (allocated): triggered runs created
	 * that the run informer has not shown yet (trigger.c) */
	struct recap_kube_strmap *fired;
	unsigned long runs_created, execs_created, execs_resent, execs_deleted, runs_deleted;
	struct ctl_sigcheck *sigcheck; /* signature checks at admission (sigcheck.c) */
};

static inline struct recap_kube_store *ctl_store(struct recap_controller *ctl, enum ctl_informer i)
{
	return recap_kube_informer_store(ctl->inf[i]);
}

void recap_ctl_log(struct recap_controller *ctl, enum recap_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- asynchronous reconcile passes (op.c) ----
 * A pass holds its key until every call it issued has answered; then the
 * key is done, forgotten on success, re-queued with backoff on failure, or
 * re-queued after requeue_ns for schedules. */
struct ctl_op {
	struct recap_controller *ctl;
	enum ctl_kind kind;
	char *key;
	unsigned pending;
	bool armed, failed;
	struct recap_error *err;
	uint64_t requeue_ns; /* 0: none */
	uint64_t start_ns;
	uint64_t busy_ns;	     /* CPU time of the pass's own work, before it waited for answers */
	bool created;		     /* it created objects: the next pass is not held back */
	json_t *after_create;	     /* capsule pass: status patch once the run exists */
	struct ctl_op_event *events; /* recorded once every call has answered */
};

/* Codes a call treats as success besides OK. */
#define CTL_OK_EXISTS (1u << 0)
#define CTL_OK_NOT_FOUND (1u << 1)
#define CTL_OK_FORBIDDEN (1u << 2)

void recap_ctl_enqueue(struct recap_controller *ctl, enum ctl_kind kind, const char *key);
/* Queues key once delay_ns has passed; later calls within that window
 * coalesce into the same pass (an earlier deadline wins). */
void recap_ctl_enqueue_after(struct recap_controller *ctl, enum ctl_kind kind, const char *key,
			     uint64_t delay_ns);
void recap_ctl_process(struct recap_kube_workqueue *q, const char *key, void *userdata);
void recap_ctl_op_fail(struct ctl_op *op, struct recap_error *e);
void recap_ctl_op_requeue(struct ctl_op *op, uint64_t delay_ns);
typedef void (*ctl_then_fn)(struct ctl_op *op, const struct recap_kube_response *resp);
void recap_ctl_op_create(struct ctl_op *op, const struct recap_kube_resource *res, const char *ns,
			 json_t *obj, unsigned ok, ctl_then_fn then);
/* Called after every answer (ok: the call counts as a success), while the
 * call still counts as pending, so it may issue more calls of the pass. */
typedef void (*ctl_answered_fn)(struct ctl_op *op, const struct recap_kube_response *resp, bool ok,
				void *arg);
void recap_ctl_op_create_answered(struct ctl_op *op, const struct recap_kube_resource *res, const char *ns,
				  json_t *obj, unsigned ok, ctl_answered_fn answered, void *arg);
void recap_ctl_op_patch(struct ctl_op *op, const struct recap_kube_resource *res, const char *ns,
			const char *name, const char *subresource, json_t *patch);
/* A merge patch; answered is called after the answer, as for creates. */
void recap_ctl_op_patch_answered(struct ctl_op *op, const struct recap_kube_resource *res, const char *ns,
				 const char *name, const char *subresource, json_t *patch,
				 ctl_answered_fn answered, void *arg);
/* A get; ok: the CTL_OK_* answers that count as success besides OK. */
void recap_ctl_op_get_answered(struct ctl_op *op, const struct recap_kube_resource *res, const char *ns,
			       const char *name, unsigned ok, ctl_answered_fn answered, void *arg);
void recap_ctl_op_delete(struct ctl_op *op, const struct recap_kube_resource *res, const char *ns,
			 const char *name, const char *uid);
/* An Event about obj, emitted when the pass ends, after its writes: the
 * Event describes them and does not compete with them for the API server. */
void recap_ctl_op_event(struct ctl_op *op, json_t *obj, const char *kind, const char *type,
			const char *reason, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* ---- executions created by a pass, a window at a time (creates.c) ----
 * Takes objs (an array of CapsuleExecutions of namespace ns, each as a
 * string of compact JSON, parsed only while its create is in flight): at most
 * CTL_CREATE_WINDOW creates are in flight, the next one issued as one
 * answers; each one created (or already there) is expected (expect.c). */
#define CTL_CREATE_WINDOW 32
void recap_ctl_create_execs(struct ctl_op *op, const char *ns, json_t *objs);

/* ---- executions whose node agent is gone (lost.c) ----
 * An execution (any run's, projected) past spec.deadline plus the margin
 * (opts.exec_lost_after_s) that has not ended is ended Failed NodeLost; one
 * being deleted loses the node agent's finalizer then (a final one that
 * long after its deletion began). Otherwise the pass is re-queued for the
 * moment it would be lost. */
void recap_ctl_lost_exec(struct ctl_op *op, json_t *exec, time_t now);

/* ---- runs fired by a Capsule's triggers (trigger.c) ----
 * Finds the causes of capsule's spec.triggers among its targets and
 * creates a run for each one the guardrails let through
 * (sched/trigger.h); re-queues the pass for when a cause comes due or a
 * cooldown ends. runs: the Capsule's runs, from the cache. */
int recap_ctl_triggers(struct ctl_op *op, json_t *capsule, json_t *runs, int64_t now,
		       struct recap_error **err);
/* The run informer shows name: it is no longer in flight. */
void recap_ctl_trigger_seen(struct recap_controller *ctl, const char *ns, const char *name);
int recap_ctl_triggers_new(struct recap_controller *ctl);
void recap_ctl_triggers_free(struct recap_controller *ctl);

/* ---- finished runs deleted after their time to live (ttl.c) ----
 * A finished run past spec.ttlSecondsAfterFinished (or the controller's
 * default) is deleted; one not yet past it re-queues the pass for then. */
void recap_ctl_run_expire(struct ctl_op *op, json_t *run, time_t now);

/* ---- executions created but not yet in the cache (expect.c) ----
 * The informer shows a created execution a moment after the create
 * answered (longer when the API server is busy); until then a pass must
 * not create it again. An expectation lasts until the execution is seen
 * or CTL_EXPECT_TTL_MS passed. */
#define CTL_EXPECT_TTL_MS 30000
int recap_ctl_expect_new(struct recap_controller *ctl);
void recap_ctl_expect_free(struct recap_controller *ctl);
void recap_ctl_expect_created(struct recap_controller *ctl, const char *ns, const char *name);
bool recap_ctl_expected(struct recap_controller *ctl, const char *ns, const char *name);
void recap_ctl_expect_seen(struct recap_controller *ctl, const char *ns, const char *name);
void recap_ctl_expect_sweep(struct recap_controller *ctl);
/* A create the API server refused with a 4xx answer (other than
 * AlreadyExists): nothing was created, so the target, recorded as
 * dispatched, may be sent again. Forgotten on a restart: the target then
 * counts as lost (failed), never as run twice. */
void recap_ctl_expect_refused(struct recap_controller *ctl, const char *ns, const char *name);
/* A create answered without success (http_status 0: no answer). A 4xx
 * other than 409 stored nothing: refused (returns true). A 5xx or no
 * answer (a timeout, a connection reset) may come after the server stored
 * it: expected as created, so it counts in flight until the informer shows
 * it or the expectation lapses (then lost), never sent twice and never
 * left out of maxConcurrent. */
bool recap_ctl_expect_failed_create(struct recap_controller *ctl, const char *ns, const char *name,
				    long http_status);
/* What became of a recorded execution the cache does not show (the run
 * planner's recap_dispatch_fn; ctx is a struct ctl_unseen). */
struct ctl_unseen {
	struct recap_controller *ctl;
	const char *ns;
};
enum recap_dispatch_state recap_ctl_unseen(const char *execution, void *ctx);

/* ---- cache reads (cache.c) ---- */
/* All objects of an informer's store whose index `index` holds value, as
 * a JSON array (index NULL: every object). */
json_t *recap_ctl_list(struct recap_controller *ctl, enum ctl_informer inf, const char *index,
		       const char *value);
struct recap_controller_targets;
struct recap_controller_execs;
/* The targets of a Capsule spec in ns (explicit pod names, the selector or
 * every role's selector) and those execs keep, read from the pod cache one
 * pod at a time (targets.h). */
int recap_ctl_resolve_targets(struct recap_controller *ctl, const char *ns, json_t *spec, json_t *names,
			      const struct recap_controller_execs *execs,
			      struct recap_controller_targets *ret, struct recap_error **err);
/* The labels of namespace ns (borrowed from *holder, which the caller drops). */
json_t *recap_ctl_namespace_labels(struct recap_controller *ctl, const char *ns, json_t **holder);
/* Emits an event about obj (best effort). */
void recap_ctl_event(struct recap_controller *ctl, json_t *obj, const char *kind, const char *type,
		     const char *reason, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* ---- reconcilers ---- */
int recap_ctl_reconcile_capsule(struct recap_controller *ctl, struct ctl_op *op, struct recap_error **err);
int recap_ctl_reconcile_policy(struct recap_controller *ctl, struct ctl_op *op, struct recap_error **err);
/* Writes pol's status: the counts, Ready (False, KeysUnavailable, when
 * signatures carries a message) and signatures (stolen; NULL: none). */
void recap_ctl_policy_status(struct ctl_op *op, json_t *pol, size_t governed, size_t refused,
			     json_t *signatures);
/* Reads the keys pol's publicKeyRefs name, when it has any (policykeys.c),
 * then writes its status with them. < 0 only when out of memory. */
int recap_ctl_policy_keys(struct ctl_op *op, json_t *pol, size_t governed, size_t refused);
int recap_ctl_reconcile_run(struct recap_controller *ctl, struct ctl_op *op, struct recap_error **err);

/* ---- relay certificates (certs.c, certs_plan.c) ----
 * The CA that recap-apiserver and caplet trust and the leaves it signs,
 * kept in Secrets of certs_ns (docs/security.md "Relay certificates"),
 * and the APIService's caBundle. */
#define CTL_CERTS_CA_SECRET "recap-ca"
#define CTL_CERTS_APISERVER_SECRET "recap-apiserver-tls"
#define CTL_CERTS_RELAY_CLIENT_SECRET "recap-relay-client-tls"
#define CTL_CERTS_CAPLET_SECRET "recap-caplet-tls"
#define CTL_CERTS_APISERVICE "v1alpha1.subresources.recap.dev"
#define CTL_CERTS_TLS_TYPE "kubernetes.io/tls"
#define CTL_CERTS_LEAVES 3
struct ctl_certs;
int recap_ctl_certs_new(struct recap_controller *ctl, struct recap_error **err);
/* Rounds start (at once, then every opts.cert_check_s); idempotent. */
void recap_ctl_certs_start(struct recap_controller *ctl);
void recap_ctl_certs_stop(struct recap_controller *ctl);
void recap_ctl_certs_free(struct recap_controller *ctl);
/* From the Secret recap-ca as read (NULL: none): the CA to sign with, the
 * trust bundle (PEM: the CA, then the previous one until it expires), the
 * Secret to write (NULL: none; it keeps secret's resourceVersion) and why
 * a new CA was made (NULL: kept). */
int recap_ctl_certs_plan_ca(json_t *secret, const char *ns, int64_t now, int64_t validity_s,
			    struct recap_certs_pair *ca, char **bundle, json_t **ret_write,
			    const char **ret_why, struct recap_error **err);
/* From a leaf's Secret as read (NULL: none): the Secret to write (NULL:
 * none) and, for a new leaf, why and its notAfter. */
int recap_ctl_certs_plan_leaf(json_t *secret, const char *ns, const char *name,
			      const struct recap_certs_leaf_spec *spec, const struct recap_certs_pair *ca,
			      const char *bundle, int64_t now, json_t **ret_write, const char **ret_why,
			      int64_t *ret_not_after, struct recap_error **err);
char *recap_ctl_certs_base64(const char *s);

/* ---- wiring (informers.c, serve.c) ---- */
int recap_ctl_informers_new(struct recap_controller *ctl, struct recap_error **err);
void recap_ctl_activate(struct recap_controller *ctl);
bool recap_ctl_synced(const struct recap_controller *ctl);
int recap_ctl_serve(struct recap_controller *ctl, struct recap_error **err);

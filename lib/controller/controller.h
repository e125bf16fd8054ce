/* recap-controller: the reconcilers of Capsule, CapsulePolicy and
 * CapsuleRun on one libuv loop.
 *
 * Informers keep Capsules, CapsulePolicies, CapsuleRuns, CapsuleExecutions,
 * Namespaces and Pods (projected to what targeting needs) in memory; one
 * work queue and one reconciler per kind turn the cached state into writes.
 * With leader election the informers run on every replica (a warm cache),
 * the reconcilers only on the leader. /metrics, /healthz and /readyz are
 * served by a small HTTP server on the same loop.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "base/error.h"
#include "base/log.h"
#include "kube/client.h"

struct recap_controller;

struct recap_controller_options {
	bool leader_elect;
	const char *lease_namespace;					/* default: the client's namespace */
	const char *lease_name;						/* default "recap-controller" */
	const char *identity;						/* default "<hostname>-<pid>" */
	uint64_t lease_duration_ms, renew_deadline_ms, retry_period_ms; /* 0: lib/kubecache defaults */
	const char *metrics_addr;					/* "host:port"; NULL or "" disables */
	const char *health_addr;
	/* Time an execution has beyond its timeoutSeconds to get started on
	 * its node (spec.deadline); 0: RECAP_EXEC_START_GRACE_S. */
	uint64_t exec_start_grace_s;
	/* Time after spec.deadline at which an execution that has not ended
	 * counts as lost with its node (NodeLost), and after which a deleted
	 * one's node agent finalizer is removed for it; 0: 120 s. */
	uint64_t exec_lost_after_s;
	/* Finished runs without spec.ttlSecondsAfterFinished are deleted this
	 * long after they finished; unset (run_ttl_s_set false): 7 days; set to
	 * 0: kept. */
	uint64_t run_ttl_s;
	bool run_ttl_s_set;
	/* Relay certificates (docs/security.md "Relay certificates"): the
	 * Secrets' namespace (default: lease_namespace's default, the
	 * client's namespace), the aggregated API's Service name (default
	 * "recap-apiserver"), the CA's and the leaves' validity (0: 3 years,
	 * 30 days) and the seconds between checks (0: never checked). */
	const char *certs_namespace;
	const char *apiserver_service;
	uint64_t ca_validity_s, cert_validity_s, cert_check_s;
	/* Registries the signature checks at admission talk plain HTTP to
	 * (NULL-terminated, or NULL), and a PEM CA bundle trusted for the
	 * others' TLS (NULL: the system's). */
	const char *const *insecure_registries;
	const char *registry_ca_file;
	const char *registry_config; /* containerd-style hosts.toml directory (oci/hosts.h); NULL */
	/* The namespace of the ConfigMaps and Secrets CapsulePolicies'
	 * publicKeyRefs name (default: the client's namespace), and the
	 * seconds a read of them is reused (0: 60). */
	const char *signing_keys_namespace;
	uint64_t signing_keys_check_s;
	/* Runs fired by Capsules' triggers that are not finished, at once, in
	 * one namespace (a CapsulePolicy may set less); 0: 20. */
	uint64_t max_triggered_per_ns;
	/* Called (from the loop) when the controller must stop: leadership
	 * lost. The process is expected to exit. */
	void (*fatal)(struct recap_controller *ctl, const char *why, void *userdata);
	/* Log hook for errors the controller retries (cmd/ logs them). */
	void (*log)(struct recap_controller *ctl, enum recap_log_level level, const char *msg,
		    void *userdata);
	void *userdata;
};

int recap_controller_new(struct recap_kube_client *c, const struct recap_controller_options *opts,
			 struct recap_controller **ret, struct recap_error **err);
/* Starts the HTTP endpoints, the informers and the election. */
int recap_controller_start(struct recap_controller *ctl, struct recap_error **err);
bool recap_controller_ready(const struct recap_controller *ctl);

typedef void (*recap_controller_done_fn)(struct recap_controller *ctl, void *userdata);
/* Graceful stop: no new work, reconciles in flight finish, events are
 * flushed, the Lease is released; then done runs from the loop. */
void recap_controller_stop(struct recap_controller *ctl, recap_controller_done_fn done, void *userdata);
/* After stop's done. Memory is released once the loop ran the close
 * callbacks. Accepts NULL. */
void recap_controller_free(struct recap_controller *ctl);

/* caplet: the node agent. It watches the CapsuleExecutions of its node,
 * re-checks policy, pulls images, runs each execution with the `capsule`
 * executor and reports status; see docs/caplet.md. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/log.h"
#include "kube/client.h"

#define RECAP_CAPLET_INSECURE_MAX 16

struct recap_caplet_options {
	const char *node;				     /* required */
	const char *root;				     /* node store, default /var/lib/recap */
	const char *capsule_bin;			     /* executor, default "capsule" on PATH */
	const char *cgroup_parent;			     /* NULL: the executor's default */
	const char *cri_endpoint;			     /* the node's CRI socket (a path) */
	const char *insecure[RECAP_CAPLET_INSECURE_MAX + 1]; /* plain-HTTP registries */
	/* the node's registry configuration (containerd's config_path,
	 * DIR/<registry>/hosts.toml: mirrors, trust), passed to pulls; NULL */
	const char *registry_config;
	/* HOST:PORT where recap-apiserver reaches this node's relay; written
	 * into each execution's status.relayEndpoint. NULL: no relay. */
	const char *relay_endpoint;
	int64_t artifacts_quota; /* bytes of out/<id>/ and logs/<id> on the node; 0: 1Gi */
	/* Log sink for what the agent decides (cmd/ logs; the library does not). */
	void (*log)(enum recap_log_level level, const char *msg, void *userdata);
	void *log_data;
};

struct recap_caplet;

/* Sweeps leftovers of a previous instance (blocking, before the loop runs),
 * then starts the informers on the client's loop. */
int recap_caplet_start(struct recap_kube_client *client, const struct recap_caplet_options *opts,
		       struct recap_caplet **ret, struct recap_error **err);
/* Graceful stop: takes no new executions, cancels running ones (they are
 * killed and escaped, their status written); done_cb runs when nothing is
 * left in flight. */
void recap_caplet_stop(struct recap_caplet *c, void (*done_cb)(void *), void *data);
void recap_caplet_free(struct recap_caplet *c);
/* Prometheus text exposition. */
int recap_caplet_metrics(struct recap_caplet *c, struct recap_buf *out);
/* Informers synced and the startup recovery done. */
int recap_caplet_ready(struct recap_caplet *c);

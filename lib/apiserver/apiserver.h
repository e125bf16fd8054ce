/* recap-apiserver: the aggregated API server of subresources.recap.dev
 * (docs/streaming.md). It serves discovery and the subresources of
 * CapsuleRun (log, artifacts) to the Kubernetes API server's front proxy
 * only, authorizes each user with a SubjectAccessReview, and relays the
 * stream from caplet on the execution's node over mutual TLS. One thread per
 * connection, blocking I/O, a bounded number of connections. */
#pragma once

#include "base/error.h"
#include "kube/config.h"

struct recap_apiserver;

struct recap_apiserver_options {
	const char *address;		  /* HOST:PORT (port 0 picks one) */
	const char *cert_file, *key_file; /* serving */
	const char *relay_cert_file, *relay_key_file, *relay_ca_file;
	const char *relay_server_name; /* the name caplet's certificate carries */
	int max_connections;	       /* default 256 */
	int sar_cache_seconds;	       /* default 10 (allowed), denials a third of it */
	int write_timeout_s;	       /* a client that reads nothing this long is dropped (60) */
	void (*log)(int level, const char *msg, void *userdata); /* thread-safe */
	void *log_data;
};

/* Reads the front proxy's configuration (kube-system/
 * extension-apiserver-authentication), loads the certificates, listens. */
int recap_apiserver_start(const struct recap_kube_config *cfg, const struct recap_apiserver_options *o,
			  struct recap_apiserver **ret, struct recap_error **err);
int recap_apiserver_port(const struct recap_apiserver *s);
/* Re-reads certificates that changed and the front proxy's configuration;
 * call it periodically (the binary does every 30 s). */
int recap_apiserver_refresh(struct recap_apiserver *s, struct recap_error **err);
void recap_apiserver_stop(struct recap_apiserver *s);

/* A registry client for one repository (OCI distribution API), blocking. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "oci/hosts.h"
#include "oci/http.h"
#include "oci/ref.h"

struct recap_oci_registry_opts {
	const char *const *insecure; /* hosts ("127.0.0.1:5000") served over plain http; NULL-terminated */
	const char *auth_file;	     /* docker-style config.json; NULL: the default location */
	/* a config.json document in memory instead of auth_file (copied) */
	const char *auth_doc;
	size_t auth_doc_len;
	const char *ca_file; /* extra trust: PEM CA bundle for TLS; NULL: the system's */
	/* The node's registry configuration, containerd's config_path
	 * (hosts.h): mirrors tried first, the server's URL and trust; NULL:
	 * none. */
	const char *hosts_dir;
	int max_attempts;	/* per request, for connection errors, 5xx and 429; default 3 */
	long connect_timeout_s; /* default 10 */
	long stall_timeout_s;	/* default 30 */
	/* CLOCK_MONOTONIC ms by which every request must be done (the whole
	 * pull's deadline, set by recap_oci_pull); 0: none. deadline_s is its
	 * length, for the error. */
	uint64_t deadline_ms;
	long deadline_s;
};

/* What the client holds for one endpoint (hosts.h) while it talks to it. */
struct recap_oci_registry_conn {
	char *authorization; /* current "Bearer ..." or "Basic ..." */
	void *curl;	     /* one easy handle: connections are reused across requests */
};

struct recap_oci_registry {
	char *host;	/* where the registry answers ("registry-1.docker.io"), for messages */
	char *registry; /* as the reference names it ("docker.io"): a mirror's ?ns= */
	char *repository;
	char *auth_file;
	char *auth_doc; /* opts->auth_doc, NUL-terminated; NULL: none */
	size_t auth_doc_len;
	struct recap_oci_hosts hosts; /* mirrors, then the server */
	struct recap_oci_registry_conn conn[RECAP_OCI_HOSTS_MAX + 1];
	bool sent_credentials; /* credentials went to an endpoint or its token endpoint */
	int max_attempts;
	long connect_timeout_s, stall_timeout_s;
	uint64_t deadline_ms;
	long deadline_s;
};

int recap_oci_registry_new(const struct recap_oci_ref *ref, const struct recap_oci_registry_opts *opts,
			   struct recap_oci_registry **ret, struct recap_error **err);
void recap_oci_registry_free(struct recap_oci_registry *r);

/* Starts the body again before a retry. */
typedef int (*recap_oci_registry_reset)(void *userdata, struct recap_error **err);

/* GET <root>/<repo>/<kind>/<reference> with auth and retries, from the
 * first endpoint that has it: a tag is resolved by the endpoints with the
 * resolve capability, a digest pulled from those with pull; a failure
 * (unreachable, an error status, a 404) moves on to the next. Succeeds
 * only on HTTP 200; the last endpoint's failure is the error: 404 is
 * -ENOENT, 401/403 -EACCES. */
int recap_oci_registry_get(struct recap_oci_registry *r, const char *kind, const char *reference,
			   const char *accept, uint64_t max, recap_oci_http_sink sink,
			   recap_oci_registry_reset reset, void *userdata, struct recap_oci_http_resp *resp,
			   struct recap_error **err);

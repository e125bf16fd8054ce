/* What request.c and watch.c share with client.c. Internal. */
#pragma once

#include <stdbool.h>

#include "kube/client.h"
#include "kube/config.h"
#include "kube/bucket.h"
#include "kube/clock.h"
#include "kube/token.h"
#include "kubehttp/http.h"

struct recap_kube_req;
struct recap_kube_watch;

struct recap_kube_client {
	uv_loop_t *loop;
	struct recap_kube_http *http;
	char *server;
	char *namespace;
	char *ca, *cert, *key; /* PEM, owned */
	size_t ca_len, cert_len, key_len;
	bool insecure;
	char *tls_server_name, *proxy_url; /* NULL when not set */
	/* impersonation headers ("Impersonate-User: x", ...), NULL-terminated */
	char **impersonation;
	struct recap_kube_token token;
	/* the exec plugin's answer whose client certificate the transport has
	 * (recap_kube_client_credential) */
	unsigned cert_generation;
	struct recap_kube_client_options opts;
	char *user_agent;
	bool limited;
	struct recap_kube_bucket bucket;
	struct recap_kube_clock clock; /* the API server's, from Date */
	struct recap_kube_req *reqs;   /* in flight */
	/* transfers running (opts.max_in_flight), and the requests waiting
	 * for one of them to end, oldest first */
	unsigned in_flight;
	struct recap_kube_req *waiting, *waiting_tail;
	struct recap_kube_watch *watches; /* started, not stopped */
	unsigned open_handles;		  /* timers of requests/watches not closed yet */
	bool closing;
	/* > 0 while a user callback runs inside a transport callback (watch
	 * events): the transport must not be re-entered then, so a close waits
	 * for the loop. */
	unsigned in_http_callback;
	uv_timer_t deferred_close;
};

/* An as-user-extra key as it goes into Impersonate-Extra-<key>: bytes
 * that are not HTTP token characters, and '%', percent-encoded (as
 * client-go). NULL when out of memory. */
char *recap_kube_extra_header_key(const char *key);
/* The bearer token to send (*token NULL when none) and its generation,
 * after running the exec plugin when its credential is missing, expiring
 * or refused; a client certificate it gave is the transport's from then
 * on. < 0 with *err when there is no credential to send. */
int recap_kube_client_credential(struct recap_kube_client *c, const char **token, unsigned *generation,
				 struct recap_error **err);
/* An attempt made with credential `generation` ended without an answer:
 * true when the transport says the TLS connection it opened failed in or
 * right after the handshake (r->tls_refused) while the exec plugin's client
 * certificate was in use: the certificate is renewed for the next attempt
 * (once per generation, as after a 401). */
bool recap_kube_client_tls_refused(struct recap_kube_client *c, const struct recap_kube_http_result *r,
				   unsigned generation);

/* Accept, User-Agent, Content-Type (when given), impersonation and
 * Authorization. */
struct recap_kube_headers {
	char *h[4 + 2 + RECAP_KUBE_AS_GROUPS_MAX + RECAP_KUBE_AS_EXTRA_MAX];
	size_t n;
	unsigned token_generation; /* of the credential sent (recap_kube_token_refused) */
};
int recap_kube_client_headers(struct recap_kube_client *c, const char *content_type,
			      struct recap_kube_headers *hd, struct recap_error **err);
/* The impersonation headers, NULL-terminated (borrowed). */
static inline const char *const *recap_kube_client_impersonation(const struct recap_kube_client *c)
{
	return (const char *const *)c->impersonation;
}
/* Wipes the token too. */
void recap_kube_headers_free(struct recap_kube_headers *hd);

/* Called by requests/watches when a handle they own is closed, so the
 * client can go once everything is closed. */
void recap_kube_client_handle_closed(struct recap_kube_client *c);

/* Cancels every request (callbacks get CANCELLED) / stops every watch. */
void recap_kube_requests_cancel_all(struct recap_kube_client *c);
void recap_kube_watches_stop_all(struct recap_kube_client *c);

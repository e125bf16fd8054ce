/* OpenSSL for recap-apiserver: the serving context (its certificate, and
 * the front proxy's CA to verify client certificates with), rebuilt when a
 * file or the CA changes; and the relay client context (the certificate
 * caplet wants, the CA that signs caplet's). */
#pragma once

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "base/error.h"

struct apiserver_tls_files {
	const char *cert, *key, *ca; /* ca: NULL for the serving context */
	struct timespec mtimes[3];
};

/* The last TLS session of a relay (its endpoint and node), resumed by its
 * next stream: the relay's ticket spares it a full handshake. */
#define APISERVER_RELAY_SESSIONS 64
struct apiserver_relay_session {
	char key[320];
	SSL_SESSION *session;
	uint64_t used; /* the least recently used is replaced */
};

struct apiserver_tls {
	pthread_mutex_t mu;
	SSL_CTX *server; /* under mu; readers take a reference */
	SSL_CTX *relay;	 /* under mu */
	/* under mu; dropped with the relay context they were made with */
	struct apiserver_relay_session sessions[APISERVER_RELAY_SESSIONS];
	uint64_t session_clock;
	char *frontproxy_ca; /* the PEM the server context trusts */
	struct apiserver_tls_files serving, relay_files;
};

int apiserver_tls_init(struct apiserver_tls *t, struct recap_error **err);
void apiserver_tls_free(struct apiserver_tls *t);
/* Rebuilds what changed; the old contexts stay when the new do not load
 * (the error says why). */
int apiserver_tls_refresh(struct apiserver_tls *t, const char *frontproxy_ca, struct recap_error **err);
/* A reference to the current context (SSL_CTX_free when done); NULL before one loaded. */
SSL_CTX *apiserver_tls_server(struct apiserver_tls *t);
SSL_CTX *apiserver_tls_relay(struct apiserver_tls *t);
/* The session kept for key, for SSL_set_session (SSL_SESSION_free when
 * done), or NULL. */
SSL_SESSION *apiserver_tls_relay_session(struct apiserver_tls *t, const char *key);
/* Keeps a reference to s as key's session. */
void apiserver_tls_relay_session_keep(struct apiserver_tls *t, const char *key, SSL_SESSION *s);
/* The last OpenSSL error, for messages. */
const char *apiserver_tls_error(char *buf, size_t len);

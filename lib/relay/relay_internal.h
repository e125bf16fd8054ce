/* Internals shared by the relay's files: one struct recap_relay, one
 * struct relay_conn per stream, each in its own thread. */
#pragma once

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ticket.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "relay/relay.h"

#define RELAY_HEAD_MAX 8192
/* A session ticket resumes a client's session for this long: an abbreviated
 * handshake, no public-key operation, where a full one takes about 7 ms of
 * mbedTLS's P-256 on a small node. Its keys are the relay's own, made at
 * start and rotated by mbedTLS every lifetime; the ticket carries the
 * client's certificate, which every stream checks again (check_peer). */
#define RELAY_TICKET_LIFETIME_S 300
#define RELAY_FILE_MAX (1 << 20)
/* A TLS record carries 16 KiB of plaintext: an HTTP chunk's data with its
 * size line (4 hex digits and CRLF) and closing CRLF fits one. */
#define RELAY_RECORD_MAX 16384
#define RELAY_CHUNK_DATA (RELAY_RECORD_MAX - 8)

/* The PEM of the relay's credentials, shared read-only by the streams that
 * started while they were current. */
struct relay_creds {
	char *cert, *key, *ca;
	size_t cert_len, key_len, ca_len;
	int refs; /* under recap_relay.mu */
};

struct recap_relay {
	struct recap_relay_options o;
	char *strings[7]; /* the options' own copies */
	int listen_fd, stop_fd, port;
	pthread_t acceptor;
	atomic_int streams;
	atomic_bool stopping;
	pthread_mutex_t mu;
	pthread_cond_t idle;
	struct relay_creds *creds;
	struct timespec mtimes[3];
	bool creds_failed; /* logged once until they load again */
	/* session tickets (mbedTLS locks the ticket context itself); false:
	 * none are issued and every handshake is a full one */
	bool tickets;
	mbedtls_ssl_ticket_context ticket;
	mbedtls_entropy_context ticket_entropy;
	mbedtls_ctr_drbg_context ticket_drbg; /* used under the ticket's lock */
};

struct relay_conn {
	struct recap_relay *r;
	struct relay_creds *creds;
	int fd;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_x509_crt ca, cert;
	mbedtls_pk_context key;
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	mbedtls_net_context net;
	char head[RELAY_HEAD_MAX + 1];
	size_t head_len;
	char method[8], path[512], query[1024], node[256];
	bool began; /* the 200 and its headers went out */
};

void relay_log(struct recap_relay *r, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* relay_tls.c */
/* Re-reads the files when one changed; keeps the old ones when they do not load. */
void relay_creds_refresh(struct recap_relay *r);
struct relay_creds *relay_creds_get(struct recap_relay *r);
void relay_creds_put(struct recap_relay *r, struct relay_creds *c);
void relay_creds_free(struct relay_creds *c);
/* Handshake and the client's identity; < 0 with *err. */
/* The relay's session tickets (at start); an error ends the start. */
int relay_tls_tickets_setup(struct recap_relay *r, struct recap_error **err);
int relay_tls_accept(struct relay_conn *c, struct recap_error **err);
void relay_tls_close(struct relay_conn *c);
/* Whole writes; < 0 when the client is gone or read nothing for the write timeout. */
int relay_tls_write(struct relay_conn *c, const void *p, size_t n);
ssize_t relay_tls_read(struct relay_conn *c, void *p, size_t n);

/* relay_http.c */

int relay_read_head(struct relay_conn *c, struct recap_error **err);

void relay_status(struct relay_conn *c, int code, const char *reason, const char *message);
int relay_begin(struct relay_conn *c, const char *content_type);
int relay_chunk(struct relay_conn *c, const void *p, size_t n);
int relay_end(struct relay_conn *c);

/* relay_log.c */
void relay_serve_log(struct relay_conn *c, const char *run_id);
void relay_serve_artifacts(struct relay_conn *c, const char *run_id);
/* relay_attach.c: the WebSocket of an interactive session, to the executor's session socket */
void relay_serve_attach(struct relay_conn *c, const char *run_id);

/* TLS client sessions on mbedTLS for the lean transport: one configuration
 * per client (trust, client certificate, random source), one session per
 * connection on a non-blocking socket. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/error.h"
#include "kubehttp/http.h"

struct recap_tls_config;
struct recap_tls_session;

/* The PEM in `tls` is parsed here: errors name what is wrong. */
int recap_tls_config_new(const struct recap_kube_http_tls *tls, struct recap_tls_config **ret,
			 struct recap_error **err);
/* Drops the owner's reference: a session made from it keeps it until the
 * session is freed (so a client certificate can be replaced while
 * connections made with the old one finish). */
void recap_tls_config_free(struct recap_tls_config *c);

/* `host` is what the server certificate must name: a DNS name (also sent
 * as SNI) or an IP literal (checked against the IP addresses it names). */
int recap_tls_session_new(struct recap_tls_config *c, int fd, const char *host,
			  struct recap_tls_session **ret, struct recap_error **err);
void recap_tls_session_free(struct recap_tls_session *s);
/* Whether the session was made from configuration c. */
bool recap_tls_session_of(const struct recap_tls_session *s, const struct recap_tls_config *c);

/* Results of the calls below besides >= 0: */
#define RECAP_TLS_WANT_READ (-1000)
#define RECAP_TLS_WANT_WRITE (-1001)
#define RECAP_TLS_CLOSED (-1002) /* the peer ended the session (close_notify or EOF) */
#define RECAP_TLS_ERROR (-1003)	 /* *err says what */

/* 0 when the handshake is complete and the peer verified. */
int recap_tls_handshake(struct recap_tls_session *s, struct recap_error **err);
ssize_t recap_tls_read(struct recap_tls_session *s, void *buf, size_t len, struct recap_error **err);
ssize_t recap_tls_write(struct recap_tls_session *s, const void *buf, size_t len, struct recap_error **err);
/* Bytes decrypted but not yet read (no readiness event will announce them). */
size_t recap_tls_pending(struct recap_tls_session *s);

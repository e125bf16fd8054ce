/* Internals shared by recap-apiserver's files. */
#pragma once

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "api/names.h"
#include "apiserver/apiserver.h"
#include "apiserver/broker.h"
#include "apiserver/frontproxy.h"
#include "apiserver/sar.h"
#include "apiserver/tls.h"

#define HEAD_MAX 8192
#define GROUP RECAP_SUBRESOURCES_GROUP
#define VERSION RECAP_SUBRESOURCES_VERSION

struct recap_apiserver {
	struct recap_apiserver_options o;
	struct apiserver_broker *broker;
	struct apiserver_tls tls;
	struct apiserver_sar sar;
	pthread_mutex_t fp_mu;
	struct apiserver_frontproxy fp; /* under fp_mu */
	int listen_fd, stop_fd, port;
	pthread_t acceptor;
	bool accepting;
	atomic_int conns;
	atomic_bool stopping;
	pthread_mutex_t mu;
	pthread_cond_t idle;
};

struct apiserver_conn {
	struct recap_apiserver *s;
	int fd;
	SSL *ssl;
	char head[HEAD_MAX + 1];
	size_t head_len;
	char method[8], path[2048], query[2048];
	bool proxy;	   /* a client certificate of an allowed front proxy */
	char why[256];	   /* when not: what the certificate was */
	bool began;	   /* a response went out */
	bool watch_warned; /* a watch that broke off was logged (once a connection) */
};

void apiserver_log(struct recap_apiserver *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* conn.c: HTTP/1.1 over the connection */
int apiserver_read_head(struct apiserver_conn *c, struct recap_error **err);
int apiserver_write(struct apiserver_conn *c, const void *p, size_t n);
void apiserver_respond_json(struct apiserver_conn *c, int code, json_t *body);
/* A Status object, as the API server's own failures are. */
void apiserver_status(struct apiserver_conn *c, int code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void apiserver_respond_text(struct apiserver_conn *c, int code, const char *text);
/* The request's body (Content-Length, at most max bytes) into *ret (NUL
 * ended, free it): -EFBIG over max (what the client sends of it is read and
 * dropped first, up to 16 MiB), -ENOSYS chunked, -EINVAL a bad length,
 * -EPIPE cut short. */
int apiserver_read_body(struct apiserver_conn *c, size_t max, char **ret, size_t *ret_len,
			struct recap_error **err);

/* request.c: what every subresource checks and reads; each answers the
 * client itself when it fails */
bool apiserver_dns_name(const char *s, size_t max);
bool apiserver_authorize(struct apiserver_conn *c, const struct apiserver_user *u,
			 const struct apiserver_sar_attrs *a);
/* GET path into *ret: 0, -ENOENT (not answered: the caller names what is
 * missing), or another error answered with a 500. */
int apiserver_get(struct apiserver_conn *c, const char *path, json_t **ret);

/* discovery.c */
bool apiserver_discovery(struct apiserver_conn *c);

/* pullcreds.c: capsuleexecutions/NAME/pullcredentials, for the node agent
 * of the execution's node */
void apiserver_pull_credentials(struct apiserver_conn *c, const struct apiserver_user *u, const char *ns,
				const char *name);

/* alerts.c: Alertmanager's webhook, each alert an Event about its pod;
 * ns: the namespace of the path (posted to namespaces/NS/alerts) or NULL */
void apiserver_alerts(struct apiserver_conn *c, const struct apiserver_user *u, const char *ns);

/* stream.c */
void apiserver_subresource(struct apiserver_conn *c, const struct apiserver_user *u, const char *ns,
			   const char *name, const char *sub);

/* relay.c: the stream from caplet */
struct apiserver_relay_target {
	const char *endpoint; /* HOST:PORT */
	const char *node;
	const char *path;    /* with query */
	const char *headers; /* more header lines ("Name: value\r\n"...), or NULL */
};
void apiserver_relay(struct apiserver_conn *c, const struct apiserver_relay_target *t);

/* recap-apiserver's listener, its connections (one thread each) and what a
 * request must be to be served. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "apiserver/internal.h"

#define CONN_STACK (512 * 1024)
#define HEAD_TIMEOUT_S 30
#define FRONTPROXY_CM "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication"

void apiserver_log(struct recap_apiserver *s, int level, const char *fmt, ...)
{
	if (!s->o.log)
		return;
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->o.log(level, msg, s->o.log_data);
}

/* The front proxy's certificate: verified against the requestheader CA in
 * the handshake (a client certificate is optional there: probes have none);
 * here its name must be an allowed one. */
static void identify(struct apiserver_conn *c)
{
	X509 *peer = SSL_get1_peer_certificate(c->ssl);
	if (!peer)
		return;
	long v = SSL_get_verify_result(c->ssl);
	if (v != X509_V_OK) {
		snprintf(c->why, sizeof(c->why), "the client certificate is not the front proxy's: %s",
			 X509_verify_cert_error_string(v));
		X509_free(peer);
		return;
	}
	char cn[256] = "";
	X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof(cn));
	X509_free(peer);
	pthread_mutex_lock(&c->s->fp_mu);
	c->proxy = apiserver_frontproxy_allows(&c->s->fp, cn);
	pthread_mutex_unlock(&c->s->fp_mu);
	if (!c->proxy)
		snprintf(c->why, sizeof(c->why),
			 "the client certificate's name \"%s\" is not an allowed front proxy", cn);
}

static void health(struct apiserver_conn *c)
{
	apiserver_respond_text(c, 200, "ok\n");
}

static void route(struct apiserver_conn *c)
{
	if (!strcmp(c->path, "/healthz") || !strcmp(c->path, "/livez") || !strcmp(c->path, "/readyz"))
		return health(c);
	struct apiserver_user u = {0};
	struct recap_error *err = NULL;
	int r = -EACCES;
	if (c->proxy) {
		pthread_mutex_lock(&c->s->fp_mu);
		r = apiserver_frontproxy_user(&c->s->fp, c->head, &u, &err);
		pthread_mutex_unlock(&c->s->fp_mu);
	}
	if (r < 0) {
		apiserver_status(
		    c, 401, "Unauthorized",
		    "recap-apiserver serves only what the Kubernetes API server's front proxy forwards: %s",
		    c->proxy  ? recap_error_message(err)
		    : *c->why ? c->why
			      : "no front-proxy client certificate");
		recap_error_free(err);
		return;
	}
	char ns[64], name[254], sub[32];
	int end = 0;
	if (strcmp(c->method, "GET") == 0 && apiserver_discovery(c)) {
	} else if (strcmp(c->path, "/apis/" GROUP "/" VERSION "/" RECAP_RESOURCE_ALERTS) == 0) {
		apiserver_alerts(c, &u, NULL);
	} else if ((end = 0,
		    sscanf(c->path,
			   "/apis/" GROUP "/" VERSION "/namespaces/%63[^/]/" RECAP_RESOURCE_ALERTS "%n", ns,
			   &end) == 1) &&
		   end > 0 && !c->path[end]) {
		apiserver_alerts(c, &u, ns);
	} else if (sscanf(c->path,
			  "/apis/" GROUP "/" VERSION "/namespaces/%63[^/]/capsuleruns/%253[^/]/%31[^/]%n", ns,
			  name, sub, &end) == 3 &&
		   !c->path[end]) {
		apiserver_subresource(c, &u, ns, name, sub);
	} else if ((end = 0, sscanf(c->path,
				    "/apis/" GROUP "/" VERSION
				    "/namespaces/%63[^/]/capsuleexecutions/%253[^/]/pullcredentials%n",
				    ns, name, &end) == 2) &&
		   end > 0 && !c->path[end]) {
		apiserver_pull_credentials(c, &u, ns, name);
	} else {
		apiserver_status(c, 404, "NotFound", "the server could not find the requested resource");
	}
	apiserver_user_free(&u);
}

static void *serve(void *arg)
{
	struct apiserver_conn *c = arg;
	struct recap_apiserver *s = c->s;
	struct recap_error *err = NULL;
	struct timeval rcv = {.tv_sec = HEAD_TIMEOUT_S}, snd = {.tv_sec = s->o.write_timeout_s};
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof(rcv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof(snd));
	int one = 1; /* answers and stream records go out whole, without a Nagle delay */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	SSL_CTX *ctx = apiserver_tls_server(&s->tls);
	c->ssl = ctx ? SSL_new(ctx) : NULL;
	SSL_CTX_free(ctx);
	if (c->ssl && SSL_set_fd(c->ssl, c->fd) == 1 && SSL_accept(c->ssl) == 1) {
		identify(c);
		if (apiserver_read_head(c, &err) < 0)
			apiserver_log(s, 2, "a request was not read: %s", recap_error_message(err));
		else
			route(c);
		SSL_shutdown(c->ssl);
	}
	recap_error_free(err);
	SSL_free(c->ssl);
	ERR_clear_error();
	close(c->fd);
	free(c);
	pthread_mutex_lock(&s->mu);
	if (atomic_fetch_sub(&s->conns, 1) == 1)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static void spawn(struct recap_apiserver *s, int fd)
{
	struct apiserver_conn *c = calloc(1, sizeof(*c));
	if (!c || atomic_load(&s->conns) >= s->o.max_connections) {
		if (c)
			apiserver_log(s, 1, "a connection was closed: %d are open, the limit",
				      s->o.max_connections);
		free(c);
		close(fd);
		return;
	}
	c->s = s;
	c->fd = fd;
	atomic_fetch_add(&s->conns, 1);
	pthread_attr_t a;
	pthread_t t;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, CONN_STACK);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, serve, c) != 0) {
		free(c);
		close(fd);
		atomic_fetch_sub(&s->conns, 1);
	}
	pthread_attr_destroy(&a);
}

static void *accept_loop(void *arg)
{
	struct recap_apiserver *s = arg;
	while (!atomic_load(&s->stopping)) {
		struct pollfd p[2] = {{.fd = s->listen_fd, .events = POLLIN},
				      {.fd = s->stop_fd, .events = POLLIN}};
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		int fd = (p[0].revents & POLLIN) ? accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC) : -1;
		if (fd >= 0)
			spawn(s, fd);
	}
	return NULL;
}

static int listen_on(struct recap_apiserver *s, struct recap_error **err)
{
	char host[256] = "", port[16];
	const char *a = s->o.address, *colon = strrchr(a, ':');
	if (!colon || (size_t)(colon - a) >= sizeof(host) || strlen(colon + 1) >= sizeof(port))
		return recap_error_set(err, EINVAL, "address '%s' is not HOST:PORT", a);
	memcpy(host, a, (size_t)(colon - a));
	strcpy(port, colon + 1);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai;
	if (getaddrinfo(*host ? host : NULL, port, &hints, &ai) != 0)
		return recap_error_set(err, EINVAL, "address '%s' does not resolve", a);
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 256) < 0) {
		int e = errno;
		freeaddrinfo(ai);
		if (fd >= 0)
			close(fd);
		return recap_error_set_errno(err, e, "cannot listen on %s", a);
	}
	freeaddrinfo(ai);
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	s->port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
						 : ((struct sockaddr_in *)&sa)->sin_port);
	s->listen_fd = fd;
	return 0;
}

int recap_apiserver_refresh(struct recap_apiserver *s, struct recap_error **err)
{
	struct apiserver_call call = {.method = "GET", .path = FRONTPROXY_CM};
	struct apiserver_frontproxy fp;
	int r = apiserver_broker_call(s->broker, &call, err);
	if (r >= 0)
		r = apiserver_frontproxy_parse(call.object, &fp, err);
	json_decref(call.object);
	if (r < 0)
		return r;
	r = apiserver_tls_refresh(&s->tls, fp.ca, err);
	pthread_mutex_lock(&s->fp_mu);
	apiserver_frontproxy_free(&s->fp);
	s->fp = fp;
	pthread_mutex_unlock(&s->fp_mu);
	return r;
}

static void set_defaults(struct recap_apiserver *s, const struct recap_apiserver_options *o)
{
	s->o = *o;
	if (s->o.max_connections <= 0)
		s->o.max_connections = 256;
	if (s->o.write_timeout_s <= 0)
		s->o.write_timeout_s = 60;
	if (!s->o.relay_server_name)
		s->o.relay_server_name = "caplet.recap-system.svc";
	s->tls.serving = (struct apiserver_tls_files){.cert = o->cert_file, .key = o->key_file};
	s->tls.relay_files = (struct apiserver_tls_files){
	    .cert = o->relay_cert_file, .key = o->relay_key_file, .ca = o->relay_ca_file};
}

int recap_apiserver_start(const struct recap_kube_config *cfg, const struct recap_apiserver_options *o,
			  struct recap_apiserver **ret, struct recap_error **err)
{
	struct recap_apiserver *s = calloc(1, sizeof(*s));
	if (!s)
		return recap_error_set(err, ENOMEM, "out of memory");
	s->listen_fd = s->stop_fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->fp_mu, NULL);
	pthread_cond_init(&s->idle, NULL);
	apiserver_tls_init(&s->tls, NULL);
	set_defaults(s, o);
	int r = apiserver_broker_start(cfg, &s->broker, err);
	if (r >= 0) {
		apiserver_sar_init(&s->sar, s->broker, o->sar_cache_seconds);
		r = recap_apiserver_refresh(s, err);
	}
	if (r >= 0 && (s->stop_fd = eventfd(0, EFD_CLOEXEC)) < 0)
		r = recap_error_set_errno(err, errno, "eventfd");
	if (r >= 0)
		r = listen_on(s, err);
	if (r >= 0 && pthread_create(&s->acceptor, NULL, accept_loop, s) != 0)
		r = recap_error_set(err, EAGAIN, "cannot start the listener's thread");
	s->accepting = r >= 0;
	if (r < 0) {
		recap_apiserver_stop(s);
		return r;
	}
	*ret = s;
	return 0;
}

int recap_apiserver_port(const struct recap_apiserver *s)
{
	return s->port;
}

void recap_apiserver_stop(struct recap_apiserver *s)
{
	if (!s)
		return;
	atomic_store(&s->stopping, true);
	if (s->accepting) {
		uint64_t one = 1;
		(void)!write(s->stop_fd, &one, sizeof(one));
		pthread_join(s->acceptor, NULL);
	}
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&s->mu);
	while (atomic_load(&s->conns) > 0)
		if (pthread_cond_timedwait(&s->idle, &s->mu, &until) == ETIMEDOUT)
			break;
	bool busy = atomic_load(&s->conns) > 0;
	pthread_mutex_unlock(&s->mu);
	if (busy)
		return; /* a thread still uses it; the process is exiting */
	apiserver_broker_stop(s->broker);
	if (s->broker)
		apiserver_sar_free(&s->sar);
	apiserver_tls_free(&s->tls);
	apiserver_frontproxy_free(&s->fp);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->fp_mu);
	pthread_cond_destroy(&s->idle);
	free(s);
}

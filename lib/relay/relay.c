/* The relay's listener and its streams: one accepting thread, one thread per
 * stream, at most max_streams of them. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/runid.h"
#include "relay/relay_internal.h"

#define STREAM_STACK (256 * 1024)
#define HEAD_TIMEOUT_S 10

void relay_log(struct recap_relay *r, int level, const char *fmt, ...)
{
	if (!r->o.log)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->o.log(level, msg, r->o.log_data);
}

static bool run_id_ok(const char *id)
{
	size_t n = strlen(id);
	return n > 3 && n < RECAP_API_RUN_ID_MAX && strncmp(id, "ce-", 3) == 0 &&
	       strspn(id + 3, "0123456789abcdef") == n - 3;
}

static void route(struct relay_conn *c)
{
	char id[RECAP_API_RUN_ID_MAX + 1], what[16], m[384];
	int end = 0;
	if (strcmp(c->method, "GET") != 0) {
		relay_status(c, 405, "MethodNotAllowed", "the relay serves GET only");
		return;
	}
	if (strcmp(c->node, c->r->o.node) != 0) {
		snprintf(m, sizeof(m), "this relay serves node %s, not %s", c->r->o.node,
			 *c->node ? c->node : "(no X-Recap-Node)");
		relay_status(c, 404, "NotFound", m);
		return;
	}
	if (sscanf(c->path, "/v1/runs/%40[^/]/%15[a-z]%n", id, what, &end) != 2 || c->path[end] ||
	    !run_id_ok(id)) {
		relay_status(c, 404, "NotFound",
			     "no such path: the relay serves /v1/runs/<id>/log, /artifacts and /attach");
		return;
	}
	if (strcmp(what, "log") == 0)
		relay_serve_log(c, id);
	else if (strcmp(what, "artifacts") == 0 && c->r->o.artifacts)
		relay_serve_artifacts(c, id);
	else if (strcmp(what, "attach") == 0)
		relay_serve_attach(c, id);
	else
		relay_status(c, 404, "NotFound",
			     "no such path: the relay serves /v1/runs/<id>/log, /artifacts and /attach");
}

/* Timeouts for a blocking socket; no Nagle delay: every write is a whole
 * TLS record (a chunk of a log the user waits for). */
static void set_timeouts(int fd, int rcv_s, int snd_s)
{
	struct timeval rcv = {.tv_sec = rcv_s}, snd = {.tv_sec = snd_s};
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof(rcv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof(snd));
}

static void *serve(void *arg)
{
	struct relay_conn *c = arg;
	struct recap_relay *r = c->r;
	struct recap_error *err = NULL;
	set_timeouts(c->fd, HEAD_TIMEOUT_S, r->o.write_timeout_s);
	if (relay_tls_accept(c, &err) < 0 || relay_read_head(c, &err) < 0) {
		relay_log(r, 1, "relay: a connection was refused: %s", recap_error_message(err));
		recap_error_free(err);
	} else {
		route(c);
	}
	relay_tls_close(c);
	close(c->fd);
	relay_creds_put(r, c->creds);
	free(c);
	pthread_mutex_lock(&r->mu);
	if (atomic_fetch_sub(&r->streams, 1) == 1)
		pthread_cond_broadcast(&r->idle);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

static void spawn(struct recap_relay *r, int fd)
{
	relay_creds_refresh(r);
	struct relay_conn *c = calloc(1, sizeof(*c));
	if (!c || atomic_load(&r->streams) >= r->o.max_streams || !(c->creds = relay_creds_get(r))) {
		if (c && !c->creds && atomic_load(&r->streams) < r->o.max_streams)
			relay_log(r, 1, "relay: a connection was closed: no credentials loaded");
		else if (c)
			relay_log(r, 1, "relay: a connection was closed: %d streams are open, the limit",
				  r->o.max_streams);
		free(c);
		close(fd);
		return;
	}
	c->r = r;
	c->fd = fd;
	atomic_fetch_add(&r->streams, 1);
	pthread_attr_t a;
	pthread_t t;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, STREAM_STACK);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, serve, c) != 0) {
		relay_creds_put(r, c->creds);
		free(c);
		close(fd);
		atomic_fetch_sub(&r->streams, 1);
	}
	pthread_attr_destroy(&a);
}

static void *accept_loop(void *arg)
{
	struct recap_relay *r = arg;
	while (!atomic_load(&r->stopping)) {
		struct pollfd p[2] = {{.fd = r->listen_fd, .events = POLLIN},
				      {.fd = r->stop_fd, .events = POLLIN}};
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		int fd = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			spawn(r, fd);
	}
	return NULL;
}

static int listen_on(const char *address, int *ret_fd, int *ret_port, struct recap_error **err)
{
	char host[256] = "", port[16];
	const char *colon = strrchr(address, ':');
	if (!colon || (size_t)(colon - address) >= sizeof(host) || strlen(colon + 1) >= sizeof(port))
		return recap_error_set(err, EINVAL, "relay address '%s' is not HOST:PORT", address);
	memcpy(host, address, (size_t)(colon - address));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	strcpy(port, colon + 1);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE},
			*ai;
	int g = getaddrinfo(*host ? host : NULL, port, &hints, &ai);
	if (g != 0)
		return recap_error_set(err, EINVAL, "relay address '%s': %s", address, gai_strerror(g));
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
		int e = errno;
		freeaddrinfo(ai);
		if (fd >= 0)
			close(fd);
		return recap_error_set_errno(err, e, "cannot listen on %s", address);
	}
	freeaddrinfo(ai);
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	*ret_port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
						   : ((struct sockaddr_in *)&sa)->sin_port);
	*ret_fd = fd;
	return 0;
}

static int copy_options(struct recap_relay *r, const struct recap_relay_options *o)
{
	r->o = *o;
	const char **fields[] = {&r->o.address,	    &r->o.cert_file, &r->o.key_file, &r->o.ca_file,
				 &r->o.client_name, &r->o.root,	     &r->o.node};
	if (!r->o.client_name)
		r->o.client_name = "recap-apiserver";
	for (size_t i = 0; i < 7; i++) {
		if (!*fields[i] || !(r->strings[i] = strdup(*fields[i])))
			return -1;
		*fields[i] = r->strings[i];
	}
	if (r->o.max_streams <= 0)
		r->o.max_streams = 128;
	if (r->o.write_timeout_s <= 0)
		r->o.write_timeout_s = 60;
	return 0;
}

static void relay_free(struct recap_relay *r)
{
	if (r->listen_fd >= 0)
		close(r->listen_fd);
	if (r->stop_fd >= 0)
		close(r->stop_fd);
	relay_creds_free(r->creds);
	mbedtls_ssl_ticket_free(&r->ticket);
	mbedtls_ctr_drbg_free(&r->ticket_drbg);
	mbedtls_entropy_free(&r->ticket_entropy);
	for (size_t i = 0; i < 7; i++)
		free(r->strings[i]);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->idle);
	free(r);
}

int recap_relay_start(const struct recap_relay_options *o, struct recap_relay **ret, struct recap_error **err)
{
	struct recap_relay *r = calloc(1, sizeof(*r));
	if (!r)
		return recap_error_set(err, ENOMEM, "out of memory");
	r->listen_fd = r->stop_fd = -1;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->idle, NULL);
	mbedtls_ssl_ticket_init(&r->ticket);
	mbedtls_entropy_init(&r->ticket_entropy);
	mbedtls_ctr_drbg_init(&r->ticket_drbg);
	int ret_code = 0;
	if (copy_options(r, o) < 0)
		ret_code = recap_error_set(
		    err, EINVAL, "the relay needs an address, certificate, key, CA, store and node");
	else if ((r->stop_fd = eventfd(0, EFD_CLOEXEC)) < 0)
		ret_code = recap_error_set_errno(err, errno, "eventfd");
	else
		ret_code = listen_on(r->o.address, &r->listen_fd, &r->port, err);
	if (ret_code >= 0)
		ret_code = relay_tls_tickets_setup(r, err);
	if (ret_code >= 0) {
		relay_creds_refresh(r); /* a missing file is logged, not fatal: it may come later */
		if (pthread_create(&r->acceptor, NULL, accept_loop, r) != 0)
			ret_code = recap_error_set(err, EAGAIN, "cannot start the relay's thread");
	}
	if (ret_code < 0) {
		relay_free(r);
		return ret_code;
	}
	*ret = r;
	return 0;
}

int recap_relay_port(const struct recap_relay *r)
{
	return r->port;
}

int recap_relay_streams(const struct recap_relay *r)
{
	return atomic_load(&((struct recap_relay *)r)->streams);
}

void recap_relay_stop(struct recap_relay *r)
{
	if (!r)
		return;
	atomic_store(&r->stopping, true);
	uint64_t one = 1;
	(void)!write(r->stop_fd, &one, sizeof(one));
	pthread_join(r->acceptor, NULL);
	/* a follower notices within a second; a stalled writer within its timeout */
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += r->o.write_timeout_s + 2;
	pthread_mutex_lock(&r->mu);
	while (atomic_load(&r->streams) > 0)
		if (pthread_cond_timedwait(&r->idle, &r->mu, &until) == ETIMEDOUT)
			break;
	int left = atomic_load(&r->streams);
	pthread_mutex_unlock(&r->mu);
	if (left == 0)
		relay_free(r); /* else the threads still use it: the process is exiting anyway */
}

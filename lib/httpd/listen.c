/* Binding the listener: address parsing and the chosen port. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "httpd/httpd_internal.h"

static int parse_address(const char *address, struct sockaddr_storage *ss, struct recap_error **err)
{
	char host[256];
	const char *colon = strrchr(address, ':');
	if (!colon || (size_t)(colon - address) >= sizeof(host))
		return recap_error_set(err, EINVAL, "listen address '%s': want HOST:PORT", address);
	memcpy(host, address, (size_t)(colon - address));
	host[colon - address] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end || port < 0 || port > 65535)
		return recap_error_set(err, EINVAL, "listen address '%s': bad port", address);
	size_t hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		if (uv_ip6_addr(host + 1, (int)port, (struct sockaddr_in6 *)ss) == 0)
			return 0;
	} else if (uv_ip4_addr(hl ? host : "0.0.0.0", (int)port, (struct sockaddr_in *)ss) == 0) {
		return 0;
	}
	return recap_error_set(err, EINVAL, "listen address '%s': not an IP address", address);
}

static void on_listener_closed(uv_handle_t *h)
{
	free(h->data);
}

int recap_httpd_start(uv_loop_t *loop, const char *address, recap_httpd_handler handler, void *userdata,
		      struct recap_httpd **ret, struct recap_error **err)
{
	struct sockaddr_storage ss = {0};
	int r = parse_address(address, &ss, err);
	if (r < 0)
		return r;
	struct recap_httpd *s = calloc(1, sizeof(*s));
	if (!s)
		return recap_error_set(err, ENOMEM, "out of memory");
	s->handler = handler;
	s->userdata = userdata;
	s->listener.data = s;
	uv_tcp_init(loop, &s->listener);
	r = uv_tcp_bind(&s->listener, (struct sockaddr *)&ss, 0);
	if (r >= 0)
		r = uv_listen((uv_stream_t *)&s->listener, 64, recap_httpd_on_connection);
	if (r < 0) {
		uv_close((uv_handle_t *)&s->listener, on_listener_closed);
		return recap_error_set(err, -r, "listen on %s: %s", address, uv_strerror(r));
	}
	struct sockaddr_storage bound;
	int len = sizeof(bound);
	uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &len);
	s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
						    : ((struct sockaddr_in *)&bound)->sin_port);
	*ret = s;
	return 0;
}

int recap_httpd_port(const struct recap_httpd *h)
{
	return h->port;
}

void recap_httpd_stop(struct recap_httpd *s)
{
	if (!s)
		return;
	while (s->conns)
		recap_httpd_conn_close(s->conns);
	uv_close((uv_handle_t *)&s->listener, on_listener_closed);
}

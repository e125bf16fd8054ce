/* A connection to the API server whose bytes are the caller's: see raw.h. */
#include "kube/raw.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cleanup.h"
#include "kube/client_internal.h"

#define DEFAULT_TIMEOUT_MS 30000

struct recap_kube_raw {
	struct recap_kube_http_raw *http;
};

static bool has_newline(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

static int head_check(const char *server, const char *method, const char *path, const char *user_agent,
		      const char *token, const char *const *headers, size_t n, struct recap_error **err)
{
	if (has_newline(server) || has_newline(method) || has_newline(path) || strchr(path, ' ') ||
	    path[0] != '/' || (user_agent && has_newline(user_agent)) || (token && has_newline(token)))
		return recap_error_set(err, EINVAL, "%s %s: not a valid request line or header", method,
				       path);
	for (size_t i = 0; i < n; i++)
		if (has_newline(headers[i]) || !strchr(headers[i], ':'))
			return recap_error_set(err, EINVAL, "request header \"%s\": not \"Name: value\"",
					       headers[i]);
	return 0;
}

int recap_kube_raw_head(const char *server, const char *method, const char *path, const char *user_agent,
			const char *token, const char *const *headers, size_t n, char **ret,
			struct recap_error **err)
{
	const char *auth = strstr(server, "://");
	auth = auth ? auth + 3 : server;
	size_t auth_len = strcspn(auth, "/");
	const char *prefix = auth + auth_len; /* "" or "/prefix" */
	int r = head_check(server, method, path, user_agent, token, headers, n, err);
	if (r < 0)
		return r;
	size_t plen = strlen(prefix);
	while (plen && prefix[plen - 1] == '/')
		plen--;
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);
	if (!f)
		return recap_error_set(err, ENOMEM, "out of memory");
	fprintf(f, "%s %.*s%s HTTP/1.1\r\nHost: %.*s\r\n", method, (int)plen, prefix, path, (int)auth_len,
		auth);
	if (user_agent)
		fprintf(f, "User-Agent: %s\r\n", user_agent);
	if (token)
		fprintf(f, "Authorization: Bearer %s\r\n", token);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\r\n", headers[i]);
	fputs("\r\n", f);
	if (fclose(f) != 0 || !out) {
		free(out);
		return recap_error_set(err, ENOMEM, "out of memory");
	}
	*ret = out;
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int recap_kube_raw_send_all(struct recap_kube_raw *r, const void *p, size_t n, uint64_t timeout_ms,
			    struct recap_error **err)
{
	const char *b = p;
	uint64_t deadline = timeout_ms ? now_ms() + timeout_ms : 0;
	while (n) {
		long k = recap_kube_raw_send(r, b, n, err);
		if (k > 0) {
			b += k;
			n -= (size_t)k;
			continue;
		}
		if (k != -EAGAIN)
			return k < 0 ? (int)k : recap_error_set(err, EPIPE, "sending: connection closed");
		int wait = -1;
		if (deadline) {
			uint64_t now = now_ms();
			if (now >= deadline)
				return recap_error_set(err, ETIMEDOUT, "sending: timed out");
			wait = (int)(deadline - now);
		}
		struct pollfd pfd = {.fd = recap_kube_raw_fd(r), .events = POLLOUT};
		if (poll(&pfd, 1, wait) < 0 && errno != EINTR)
			return recap_error_set_errno(err, errno, "poll");
	}
	return 0;
}

int recap_kube_raw_open(struct recap_kube_client *c, const char *method, const char *path,
			const char *const *headers, size_t n, uint64_t timeout_ms,
			struct recap_kube_raw **ret, struct recap_error **err)
{
	if (!timeout_ms)
		timeout_ms = DEFAULT_TIMEOUT_MS;
	_cleanup_free_ char *url = NULL;
	char *head = NULL;
	if (asprintf(&url, "%s%s", c->server, path) < 0) {
		url = NULL;
		return recap_error_set(err, ENOMEM, "out of memory");
	}
	const char *token = NULL;
	const char *all[64];
	size_t k = 0;
	for (size_t i = 0; i < n && k < 64; i++)
		all[k++] = headers[i];
	for (const char *const *i = recap_kube_client_impersonation(c); i && *i && k < 64; i++)
		all[k++] = *i;
	int r = k == 64 ? recap_error_set(err, E2BIG, "too many headers") : 0;
	if (r >= 0)
		r = recap_kube_client_credential(c, &token, NULL, err);
	if (r >= 0)
		r = recap_kube_raw_head(c->server, method, path, c->user_agent, token, all, k, &head, err);
	if (r < 0)
		return r;
	struct recap_kube_raw *raw = calloc(1, sizeof(*raw));
	if (!raw)
		r = recap_error_set(err, ENOMEM, "out of memory");
	if (r >= 0)
		r = recap_kube_http_raw_connect(c->http, url, timeout_ms, &raw->http, err);
	if (r >= 0)
		r = recap_kube_raw_send_all(raw, head, strlen(head), timeout_ms, err);
	explicit_bzero(head, strlen(head)); /* the token */
	free(head);
	if (r < 0) {
		recap_kube_raw_close(raw);
		return recap_error_wrap(err, r, "%s %s%s", method, c->server, path);
	}
	*ret = raw;
	return 0;
}

int recap_kube_raw_fd(struct recap_kube_raw *r)
{
	return recap_kube_http_raw_fd(r->http);
}

long recap_kube_raw_send(struct recap_kube_raw *r, const void *p, size_t n, struct recap_error **err)
{
	return recap_kube_http_raw_send(r->http, p, n, err);
}

long recap_kube_raw_recv(struct recap_kube_raw *r, void *p, size_t n, struct recap_error **err)
{
	return recap_kube_http_raw_recv(r->http, p, n, err);
}

void recap_kube_raw_close(struct recap_kube_raw *r)
{
	if (!r)
		return;
	recap_kube_http_raw_close(r->http);
	free(r);
}

#include "cri/grpc.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "base/cleanup.h"

#define GRPC_MESSAGE_KEEP 512

struct reply_state {
	struct recap_buf *body;
	int status; /* -1: no grpc-status seen */
	char message[GRPC_MESSAGE_KEEP];
	bool overflow;
};

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
	struct reply_state *s = user;
	if (recap_buf_append(s->body, data, size * n) < 0) {
		s->overflow = true;
		return 0; /* aborts the transfer */
	}
	return size * n;
}

static bool header_is(const char *line, size_t len, const char *name, const char **ret_value, size_t *ret_len)
{
	size_t nl = strlen(name);
	if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return false;
	const char *v = line + nl + 1, *end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	*ret_value = v;
	*ret_len = (size_t)(end - v);
	return true;
}

/* Headers and, with HTTP/2, trailers: grpc-status may come in either. */
static size_t on_header(char *line, size_t size, size_t n, void *user)
{
	struct reply_state *s = user;
	const char *v;
	size_t len;
	if (header_is(line, size * n, "grpc-status", &v, &len)) {
		s->status = 0;
		for (size_t i = 0; i < len && i < 4; i++)
			s->status = v[i] >= '0' && v[i] <= '9' ? s->status * 10 + (v[i] - '0') : 9999;
		if (len == 0 || len > 3)
			s->status = 9999;
	} else if (header_is(line, size * n, "grpc-message", &v, &len)) {
		if (len >= sizeof(s->message))
			len = sizeof(s->message) - 1;
		memcpy(s->message, v, len);
		s->message[len] = '\0';
	}
	return size * n;
}

int recap_grpc_unframe(const void *body, size_t len, const void **ret_msg, size_t *ret_len,
		       struct recap_error **err)
{
	const uint8_t *p = body;
	if (len < 5)
		return recap_error_set(err, EBADMSG, "gRPC reply of %zu bytes has no message", len);
	if (p[0] != 0)
		return recap_error_set(err, EBADMSG, "gRPC reply is compressed (flag %u), none was offered",
				       p[0]);
	uint32_t n = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
	if (n > RECAP_GRPC_MESSAGE_MAX || n != len - 5)
		return recap_error_set(err, EBADMSG,
				       "gRPC reply frame says %u bytes, the body holds %zu after its prefix",
				       n, len - 5);
	*ret_msg = p + 5;
	*ret_len = n;
	return 0;
}

static int curl_errno(CURLcode c)
{
	switch (c) {
	case CURLE_OPERATION_TIMEDOUT:
		return ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return ECONNREFUSED;
	case CURLE_OUT_OF_MEMORY:
		return ENOMEM;
	default:
		return EIO;
	}
}

static struct curl_slist *request_headers(long timeout_ms)
{
	char timeout[48];
	snprintf(timeout, sizeof(timeout), "grpc-timeout: %ldm", timeout_ms);
	struct curl_slist *h = NULL, *t;
	const char *lines[] = {"content-type: application/grpc", "te: trailers", timeout, "Expect:"};
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		if (!(t = curl_slist_append(h, lines[i]))) {
			curl_slist_free_all(h);
			return NULL;
		}
		h = t;
	}
	return h;
}

static CURLcode perform(const struct recap_grpc_call *call, const struct recap_buf *framed,
			struct reply_state *s, long *ret_http)
{
	char url[256];
	snprintf(url, sizeof(url), "http://localhost%s", call->method);
	CURL *h = curl_easy_init();
	struct curl_slist *headers = request_headers(call->timeout_ms);
	CURLcode c = h && headers ? CURLE_OK : CURLE_OUT_OF_MEMORY;
	if (c == CURLE_OK) {
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, call->socket_path);
		curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, framed->data);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)framed->len);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, call->timeout_ms);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, s);
		c = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, ret_http);
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	return c;
}

static int frame(const void *request, size_t len, struct recap_buf *out)
{
	uint8_t prefix[5] = {0, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			     (uint8_t)len};
	int r = recap_buf_append(out, prefix, sizeof(prefix));
	return r < 0 ? r : recap_buf_append(out, request, len);
}

int recap_grpc_unary(const struct recap_grpc_call *call, const void *request, size_t request_len,
		     struct recap_buf *reply, int *ret_status, struct recap_error **err)
{
	if (strlen(call->socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path) ||
	    strlen(call->method) > 200)
		return recap_error_set(err, ENAMETOOLONG, "CRI socket path '%s' is too long",
				       call->socket_path);
	struct recap_buf framed = RECAP_BUF_INIT(5 + RECAP_GRPC_MESSAGE_MAX);
	struct recap_buf body = RECAP_BUF_INIT(5 + RECAP_GRPC_MESSAGE_MAX);
	struct reply_state s = {.body = &body, .status = -1};
	long http = 0;
	int r = frame(request, request_len, &framed);
	CURLcode c = r < 0 ? CURLE_OUT_OF_MEMORY : perform(call, &framed, &s, &http);
	recap_buf_free(&framed);
	const void *msg;
	size_t len;
	if (s.overflow)
		r = recap_error_set(err, EBADMSG, "%s on %s: the reply is larger than %u bytes", call->method,
				    call->socket_path, RECAP_GRPC_MESSAGE_MAX);
	else if (c != CURLE_OK)
		r = recap_error_set(err, curl_errno(c), "%s on %s: %s", call->method, call->socket_path,
				    curl_easy_strerror(c));
	else if (s.status > 0)
		r = recap_error_set(err, EREMOTEIO, "%s on %s: gRPC status %d: %s", call->method,
				    call->socket_path, s.status, s.message[0] ? s.message : "(no message)");
	else if (http != 200 || s.status < 0)
		r = recap_error_set(err, EBADMSG, "%s on %s: HTTP status %ld without a gRPC status",
				    call->method, call->socket_path, http);
	else if ((r = recap_grpc_unframe(body.data, body.len, &msg, &len, err)) < 0)
		r = recap_error_wrap(err, r, "%s on %s", call->method, call->socket_path);
	else if ((r = recap_buf_append(reply, msg, len)) < 0)
		r = recap_error_set(err, EBADMSG, "%s on %s: reply of %zu bytes too large", call->method,
				    call->socket_path, len);
	if (ret_status && s.status > 0)
		*ret_status = s.status;
	recap_buf_free(&body);
	return r < 0 ? r : 0;
}

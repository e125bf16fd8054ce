#include "oci/http.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/cleanup.h"

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct recap_oci_http_resp *resp = ud;
	size_t n = size * nmemb;
	const struct recap_oci_http_req *req = resp->req;
	if (n > req->max_body - resp->body_len) {
		resp->too_big = 1;
		return CURL_WRITEFUNC_ERROR;
	}
	resp->body_len += n;
	/* Error bodies (4xx/5xx) are not content: they never reach the sink. */
	if (resp->status >= 200 && resp->status < 300 && req->sink) {
		int r = req->sink(req->userdata, data, n, &resp->sink_err);
		if (r < 0) {
			resp->sink_rc = r;
			return CURL_WRITEFUNC_ERROR;
		}
	}
	return n;
}

static void copy_value(struct recap_oci_http_resp *resp, char *dst, size_t dstsz, const char *v, size_t n)
{
	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	if (n >= dstsz) {
		resp->header_too_long = 1;
		n = 0;
	}
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct recap_oci_http_resp *resp = ud;
	size_t n = size * nmemb;
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* A new response (after a redirect): forget the previous headers. */
		resp->content_type[0] = resp->www_authenticate[0] = resp->docker_digest[0] = '\0';
		const char *sp = memchr(data, ' ', n);
		resp->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		return n;
	}
	static const struct {
		const char *name;
		size_t off, size;
	} keep[] = {
	    {"content-type:", offsetof(struct recap_oci_http_resp, content_type), 256},
	    {"www-authenticate:", offsetof(struct recap_oci_http_resp, www_authenticate),
	     RECAP_OCI_HTTP_HEADER_MAX},
	    {"docker-content-digest:", offsetof(struct recap_oci_http_resp, docker_digest), 128},
	};
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++) {
		size_t k = strlen(keep[i].name);
		if (n > k && strncasecmp(data, keep[i].name, k) == 0)
			copy_value(resp, (char *)resp + keep[i].off, keep[i].size, data + k, n - k);
	}
	return n;
}

static int set_options(CURL *h, const struct recap_oci_http_req *req, struct recap_oci_http_resp *resp)
{
	const char *protos = req->allow_http ? "http,https" : "https";
	CURLcode c = CURLE_OK;
	c |= curl_easy_setopt(h, CURLOPT_URL, req->url);
	c |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, protos);
	c |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, protos);
	c |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	c |= curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	c |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, req->skip_verify ? 0L : 1L);
	c |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, req->skip_verify ? 0L : 2L);
	if (req->ca_file)
		c |= curl_easy_setopt(h, CURLOPT_CAINFO, req->ca_file);
	c |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	c |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT,
			      req->connect_timeout_s ? req->connect_timeout_s : 10L);
	c |= curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, RECAP_OCI_HTTP_MIN_SPEED);
	c |= curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, req->stall_timeout_s ? req->stall_timeout_s : 30L);
	if (req->total_timeout_ms)
		c |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->total_timeout_ms);
	else
		c |= curl_easy_setopt(h, CURLOPT_TIMEOUT, req->total_timeout_s);
	c |= curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, NULL);
	c |= curl_easy_setopt(h, CURLOPT_USERAGENT, "recap/0.1");
	c |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	c |= curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
	c |= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	c |= curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
	c |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, resp->errbuf);
	c |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, resp->headers);
	return c == CURLE_OK ? 0 : -EINVAL;
}

int recap_oci_http_setup(CURL *h, const struct recap_oci_http_req *req, struct recap_oci_http_resp *resp,
			 struct recap_error **err)
{
	memset(resp, 0, sizeof(*resp));
	resp->req = req;
	char line[RECAP_OCI_HTTP_HEADER_MAX + 32];
	if (req->authorization) {
		if (snprintf(line, sizeof(line), "Authorization: %s", req->authorization) >=
		    (int)sizeof(line))
			return recap_error_set(err, E2BIG, "authorization header too long");
		resp->headers = curl_slist_append(resp->headers, line);
	}
	if (req->accept) {
		snprintf(line, sizeof(line), "Accept: %s", req->accept);
		resp->headers = curl_slist_append(resp->headers, line);
	}
	if (set_options(h, req, resp) < 0)
		return recap_error_set(err, EINVAL, "cannot configure the HTTP request for %s", req->url);
	return 0;
}

int recap_oci_http_finish(CURL *h, CURLcode rc, struct recap_oci_http_resp *resp, struct recap_error **err)
{
	const struct recap_oci_http_req *req = resp->req;
	if (resp->sink_rc < 0) {
		int r = resp->sink_rc;
		if (resp->sink_err) {
			*err = resp->sink_err;
			resp->sink_err = NULL;
			return r;
		}
		return recap_error_set(err, -r, "GET %s: receiving the body failed", req->url);
	}
	if (resp->too_big)
		return recap_error_set(err, EFBIG, "GET %s: response larger than the limit of %llu bytes",
				       req->url, (unsigned long long)req->max_body);
	if (resp->header_too_long)
		return recap_error_set(err, E2BIG, "GET %s: a response header is over %d bytes", req->url,
				       RECAP_OCI_HTTP_HEADER_MAX);
	if (rc == CURLE_OK)
		return 0;
	int code = rc == CURLE_OPERATION_TIMEDOUT	  ? ETIMEDOUT
		   : rc == CURLE_COULDNT_CONNECT	  ? ECONNREFUSED
		   : rc == CURLE_UNSUPPORTED_PROTOCOL	  ? EPROTONOSUPPORT
		   : rc == CURLE_PEER_FAILED_VERIFICATION ? EPERM
							  : EIO;
	return recap_error_set(err, code, "GET %s: %s", req->url,
			       resp->errbuf[0] ? resp->errbuf : curl_easy_strerror(rc));
}

void recap_oci_http_resp_release(struct recap_oci_http_resp *resp)
{
	curl_slist_free_all(resp->headers);
	resp->headers = NULL;
	recap_error_free(resp->sink_err);
	resp->sink_err = NULL;
}

int recap_oci_http_perform(CURL *h, const struct recap_oci_http_req *req, struct recap_oci_http_resp *resp,
			   struct recap_error **err)
{
	/* Reset keeps the connection cache: later requests reuse the connection. */
	curl_easy_reset(h);
	int r = recap_oci_http_setup(h, req, resp, err);
	if (r >= 0)
		r = recap_oci_http_finish(h, curl_easy_perform(h), resp, err);
	recap_oci_http_resp_release(resp);
	return r;
}

int recap_oci_http_get(const struct recap_oci_http_req *req, struct recap_oci_http_resp *resp,
		       struct recap_error **err)
{
	CURL *h = curl_easy_init();
	if (!h)
		return -ENOMEM;
	int r = recap_oci_http_perform(h, req, resp, err);
	curl_easy_cleanup(h);
	return r;
}

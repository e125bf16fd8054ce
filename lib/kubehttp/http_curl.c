/* kubehttp/http.h on libcurl: one easy handle per exchange on the multi handle
 * of kubehttp/transport.h; HTTP/2 where the server offers it. */
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "kubehttp/http.h"
#include "kubehttp/transport.h"

#define CONNECT_TIMEOUT_MS 10000L

struct recap_kube_http {
	struct recap_kube_transport *transport;
	struct recap_kube_http_tls tls;
};

struct recap_kube_http_xfer {
	struct recap_kube_xfer xfer;
	struct recap_kube_http *h;
	CURL *easy;
	struct curl_slist *headers;
	struct curl_slist *connect_to; /* tls-server-name: the name's host and port to the URL's */
	char *body;
	long status;
	int (*on_head)(long status, void *userdata);
	int (*on_data)(const char *data, size_t len, void *userdata);
	void (*on_done)(const struct recap_kube_http_result *r, void *userdata);
	void *userdata;
	bool aborted;
	char errbuf[CURL_ERROR_SIZE];
};

int recap_kube_http_new(uv_loop_t *loop, const struct recap_kube_http_tls *tls, struct recap_kube_http **ret,
			struct recap_error **err)
{
	struct recap_kube_http *h = calloc(1, sizeof(*h));
	if (!h)
		return recap_error_set(err, ENOMEM, "out of memory");
	h->tls = *tls;
	int r = recap_kube_transport_new(loop, &h->transport, err);
	if (r < 0) {
		free(h);
		return r;
	}
	*ret = h;
	return 0;
}

/* libcurl matches a connection to a transfer by its TLS configuration, the
 * client certificate included: exchanges from now on open a connection
 * with the new certificate, the old connections finish what they carry. */
int recap_kube_http_set_client_cert(struct recap_kube_http *h, const char *cert, size_t cert_len,
				    const char *key, size_t key_len, struct recap_error **err)
{
	(void)err;
	h->tls.cert = cert;
	h->tls.cert_len = cert_len;
	h->tls.key = key;
	h->tls.key_len = key_len;
	return 0;
}

void recap_kube_http_close(struct recap_kube_http *h)
{
	if (!h)
		return;
	recap_kube_transport_close(h->transport);
	free(h);
}

static void xfer_free(struct recap_kube_http_xfer *x)
{
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	curl_slist_free_all(x->connect_to);
	free(x->body);
	free(x);
}

void recap_kube_http_resume(struct recap_kube_http *h, struct recap_kube_http_xfer *x)
{
	(void)h;
	if (x)
		curl_easy_pause(x->easy, CURLPAUSE_CONT);
}

void recap_kube_http_cancel(struct recap_kube_http *h, struct recap_kube_http_xfer *x)
{
	if (!x)
		return;
	if (h->transport)
		recap_kube_transport_remove(h->transport, x->easy);
	xfer_free(x);
}

static int http_version(CURL *easy)
{
	long v = 0;
	if (curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &v) != CURLE_OK)
		return 0;
	switch (v) {
	case CURL_HTTP_VERSION_1_0:
		return 10;
	case CURL_HTTP_VERSION_1_1:
		return 11;
	case CURL_HTTP_VERSION_2_0:
		return 20;
	case CURL_HTTP_VERSION_3:
		return 30;
	default:
		return 0;
	}
}

static enum recap_kube_http_result_code classify(const struct recap_kube_http_xfer *x, CURLcode result)
{
	switch (result) {
	case CURLE_OK:
		return RECAP_KUBE_HTTP_OK;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return RECAP_KUBE_HTTP_UNREACHED;
	case CURLE_FILESIZE_EXCEEDED:
		return RECAP_KUBE_HTTP_TOO_LARGE;
	default:
		return x->aborted ? RECAP_KUBE_HTTP_ABORTED : RECAP_KUBE_HTTP_FAILED;
	}
}

static void done(struct recap_kube_xfer *xfer, CURLcode result)
{
	struct recap_kube_http_xfer *x = container_of(xfer, struct recap_kube_http_xfer, xfer);
	struct recap_kube_http_result r = {.code = classify(x, result),
					   .http_version = http_version(x->easy)};
	/* kube-apiserver ends an HTTP/2 connection (GOAWAY) after a 401, and
	 * libcurl 7.88 may then drop the Status body it announced: the answer
	 * is still the 401 (or other error status) it received */
	if (result == CURLE_PARTIAL_FILE && x->status >= 400 && r.http_version == 20 && !x->aborted) {
		result = CURLE_OK;
		r.code = RECAP_KUBE_HTTP_OK;
	}
	long connects = 0;
	if (result != CURLE_OK && !x->status &&
	    curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects > 0)
		r.tls_refused = result == CURLE_SSL_CONNECT_ERROR || result == CURLE_SSL_CERTPROBLEM ||
				result == CURLE_SEND_ERROR || result == CURLE_RECV_ERROR ||
				result == CURLE_GOT_NOTHING;
	if (result == CURLE_OK) {
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r.status);
		struct curl_header *ra = NULL;
		if (curl_easy_header(x->easy, "Retry-After", 0, CURLH_HEADER, -1, &ra) == CURLHE_OK && ra)
			r.retry_after_ms = recap_kube_http_retry_after_ms(ra->value);
		struct curl_header *date = NULL;
		if (curl_easy_header(x->easy, "Date", 0, CURLH_HEADER, -1, &date) == CURLHE_OK && date)
			r.server_date = recap_kube_http_date(date->value);
		r.message = "";
	} else {
		r.message = x->errbuf[0] ? x->errbuf : curl_easy_strerror(result);
	}
	x->on_done(&r, x->userdata);
	xfer_free(x);
}

static size_t write_cb(char *data, size_t size, size_t n, void *userdata)
{
	struct recap_kube_http_xfer *x = userdata;
	int r = x->on_data(data, size * n, x->userdata);
	if (r == RECAP_KUBE_HTTP_PAUSE)
		return CURL_WRITEFUNC_PAUSE;
	if (r < 0) {
		x->aborted = true;
		return 0;
	}
	return size * n;
}

static size_t header_cb(char *data, size_t size, size_t n, void *userdata)
{
	struct recap_kube_http_xfer *x = userdata;
	size_t len = size * n;
	if (strncmp(data, "HTTP/", 5) == 0) {
		x->status = 0; /* a new response (after 100 Continue, say) */
		return len;
	}
	if (len > 2 || x->status)
		return len;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	if (x->status >= 200 && x->on_head && x->on_head(x->status, x->userdata) < 0) {
		x->aborted = true;
		return 0;
	}
	return len;
}

static CURLcode set_tls(const struct recap_kube_http_tls *t, CURL *easy)
{
	CURLcode rc = CURLE_OK;
	if (t->ca) {
		struct curl_blob ca = {.data = (void *)t->ca, .len = t->ca_len, .flags = CURL_BLOB_NOCOPY};
		rc = curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &ca);
	}
	if (rc == CURLE_OK && t->cert) {
		/* copied: a client certificate from an exec plugin is replaced
		 * while exchanges made with the old one still run */
		struct curl_blob cert = {
		    .data = (void *)t->cert, .len = t->cert_len, .flags = CURL_BLOB_COPY};
		struct curl_blob key = {.data = (void *)t->key, .len = t->key_len, .flags = CURL_BLOB_COPY};
		rc = curl_easy_setopt(easy, CURLOPT_SSLCERT_BLOB, &cert);
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(easy, CURLOPT_SSLKEY_BLOB, &key);
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (rc == CURLE_OK && t->insecure) {
		rc = curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	return rc;
}

/* The proxy, and tls-server-name: the URL's host becomes the name (so
 * libcurl verifies the certificate for it and sends it in SNI) while the
 * connection still goes to the URL's host (CURLOPT_CONNECT_TO). */
static CURLcode set_route(const struct recap_kube_http_tls *t, CURL *easy, const char *url,
			  struct curl_slist **connect_to)
{
	CURLcode rc = t->proxy ? curl_easy_setopt(easy, CURLOPT_PROXY, t->proxy) : CURLE_OK;
	if (rc != CURLE_OK || !t->server_name)
		return rc;
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *named = NULL, *map = NULL;
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_HOST, t->server_name, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &named, 0) != CURLUE_OK ||
	    asprintf(&map, "%s:%s:%s:%s", t->server_name, port, host, port) < 0) {
		map = NULL;
		rc = CURLE_URL_MALFORMAT;
	}
	struct curl_slist *l = map ? curl_slist_append(NULL, map) : NULL;
	if (rc == CURLE_OK && !l)
		rc = CURLE_OUT_OF_MEMORY;
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_CONNECT_TO, l);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_URL, named);
	if (rc == CURLE_OK)
		*connect_to = l;
	else
		curl_slist_free_all(l);
	free(map);
	curl_free(host);
	curl_free(port);
	curl_free(named);
	curl_url_cleanup(u);
	return rc;
}

static CURLcode set_common(struct recap_kube_http_xfer *x, const struct recap_kube_http_request *req)
{
	CURL *easy = x->easy;
	CURLcode rc = curl_easy_setopt(easy, CURLOPT_URL, req->url);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	/* Wait for a multiplexed HTTP/2 connection rather than open another. */
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, x->errbuf);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
	if (rc == CURLE_OK && req->max_body)
		rc = curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max_body);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_cb);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_WRITEDATA, x);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, header_cb);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_HEADERDATA, x);
	return rc;
}

static CURLcode set_request(struct recap_kube_http_xfer *x, const struct recap_kube_http_request *req)
{
	CURLcode rc = CURLE_OK;
	for (size_t i = 0; i < req->n_headers && rc == CURLE_OK; i++) {
		struct curl_slist *n = curl_slist_append(x->headers, req->headers[i]);
		if (!n)
			return CURLE_OUT_OF_MEMORY;
		x->headers = n;
	}
	/* No "Expect: 100-continue" round trip before a body. */
	struct curl_slist *n = curl_slist_append(x->headers, "Expect:");
	if (!n)
		return CURLE_OUT_OF_MEMORY;
	x->headers = n;
	rc = curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
	if (rc == CURLE_OK && strcmp(req->method, "GET") == 0)
		rc = curl_easy_setopt(x->easy, CURLOPT_HTTPGET, 1L);
	else if (rc == CURLE_OK)
		rc = curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, req->method);
	if (rc == CURLE_OK && req->body) {
		rc = curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body);
	}
	return rc;
}

int recap_kube_http_start(struct recap_kube_http *h, const struct recap_kube_http_request *req,
			  struct recap_kube_http_xfer **ret, struct recap_error **err)
{
	struct recap_kube_http_xfer *x = calloc(1, sizeof(*x));
	if (!x || !(x->easy = curl_easy_init()) || (req->body && !(x->body = malloc(req->body_len + 1)))) {
		if (x)
			xfer_free(x);
		return recap_error_set(err, ENOMEM, "out of memory");
	}
	if (req->body)
		memcpy(x->body, req->body, req->body_len);
	x->h = h;
	x->xfer.done = done;
	x->on_head = req->on_head;
	x->on_data = req->on_data;
	x->on_done = req->on_done;
	x->userdata = req->userdata;
	CURLcode rc = set_common(x, req);
	if (rc == CURLE_OK)
		rc = set_tls(&h->tls, x->easy);
	if (rc == CURLE_OK)
		rc = set_route(&h->tls, x->easy, req->url, &x->connect_to);
	if (rc == CURLE_OK)
		rc = set_request(x, req);
	if (rc != CURLE_OK) {
		xfer_free(x);
		return recap_error_set(err, rc == CURLE_OUT_OF_MEMORY ? ENOMEM : EINVAL,
				       "%s %s: cannot set up the transfer (libcurl too old?)", req->method,
				       req->url);
	}
	int r = recap_kube_transport_add(h->transport, x->easy, &x->xfer, err);
	if (r < 0) {
		xfer_free(x);
		return r;
	}
	*ret = x;
	return 0;
}

/* ---- a raw connection: libcurl connects and does TLS (CURLOPT_CONNECT_ONLY),
 * the bytes are the caller's ---- */

struct recap_kube_http_raw {
	CURL *easy;
	struct curl_slist *connect_to;
	curl_socket_t fd;
	char errbuf[CURL_ERROR_SIZE];
};

static CURLcode set_raw(struct recap_kube_http_raw *r, const char *url, uint64_t timeout_ms)
{
	CURL *easy = r->easy;
	CURLcode rc = curl_easy_setopt(easy, CURLOPT_URL, url);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_CONNECT_ONLY, 1L);
	/* ALPN offers http/1.1 alone: an upgrade is an HTTP/1.1 exchange. */
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	/* Through a proxy, a tunnel: the bytes must reach the server unchanged. */
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_HTTPPROXYTUNNEL, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
				      timeout_ms ? (long)timeout_ms : CONNECT_TIMEOUT_MS);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, r->errbuf);
	return rc;
}

void recap_kube_http_raw_close(struct recap_kube_http_raw *r)
{
	if (!r)
		return;
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->connect_to);
	free(r);
}

int recap_kube_http_raw_connect(struct recap_kube_http *h, const char *url, uint64_t timeout_ms,
				struct recap_kube_http_raw **ret, struct recap_error **err)
{
	struct recap_kube_http_raw *r = calloc(1, sizeof(*r));
	if (!r || !(r->easy = curl_easy_init())) {
		free(r);
		return recap_error_set(err, ENOMEM, "out of memory");
	}
	CURLcode rc = set_raw(r, url, timeout_ms);
	if (rc == CURLE_OK)
		rc = set_tls(&h->tls, r->easy);
	if (rc == CURLE_OK)
		rc = set_route(&h->tls, r->easy, url, &r->connect_to);
	if (rc != CURLE_OK) {
		recap_kube_http_raw_close(r);
		return recap_error_set(err, EINVAL, "%s: cannot set up the connection (libcurl too old?)",
				       url);
	}
	rc = curl_easy_perform(r->easy);
	if (rc == CURLE_OK)
		rc = curl_easy_getinfo(r->easy, CURLINFO_ACTIVESOCKET, &r->fd);
	if (rc != CURLE_OK || r->fd == CURL_SOCKET_BAD) {
		int e = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ? ECONNREFUSED : EIO;
		recap_error_set(err, e, "%s: %s", url, r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
		recap_kube_http_raw_close(r);
		return -e;
	}
	*ret = r;
	return 0;
}

int recap_kube_http_raw_fd(struct recap_kube_http_raw *r)
{
	return (int)r->fd;
}

long recap_kube_http_raw_send(struct recap_kube_http_raw *r, const void *p, size_t n,
			      struct recap_error **err)
{
	size_t sent = 0;
	CURLcode rc = curl_easy_send(r->easy, p, n, &sent);
	if (rc == CURLE_AGAIN)
		return -EAGAIN;
	if (rc != CURLE_OK)
		return recap_error_set(err, EPIPE, "sending: %s", curl_easy_strerror(rc));
	return (long)sent;
}

long recap_kube_http_raw_recv(struct recap_kube_http_raw *r, void *p, size_t n, struct recap_error **err)
{
	size_t got = 0;
	CURLcode rc = curl_easy_recv(r->easy, p, n, &got);
	if (rc == CURLE_AGAIN)
		return -EAGAIN;
	if (rc != CURLE_OK)
		return recap_error_set(err, ECONNRESET, "receiving: %s", curl_easy_strerror(rc));
	return (long)got;
}

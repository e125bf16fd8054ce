/* Settings every transfer to the API server shares. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "kube/client_internal.h"

#define CONNECT_TIMEOUT_MS 10000L

static int set_tls(struct recap_kube_client *c, CURL *easy)
{
	CURLcode rc = CURLE_OK;
	if (c->ca) {
		struct curl_blob ca = {.data = c->ca, .len = c->ca_len, .flags = CURL_BLOB_NOCOPY};
		rc = curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &ca);
	}
	if (rc == CURLE_OK && c->cert) {
		struct curl_blob cert = {.data = c->cert, .len = c->cert_len, .flags = CURL_BLOB_NOCOPY};
		struct curl_blob key = {.data = c->key, .len = c->key_len, .flags = CURL_BLOB_NOCOPY};
		rc = curl_easy_setopt(easy, CURLOPT_SSLCERT_BLOB, &cert);
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(easy, CURLOPT_SSLKEY_BLOB, &key);
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (rc == CURLE_OK && c->insecure) {
		rc = curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	return rc == CURLE_OK ? 0 : -EINVAL;
}

static int set_common(struct recap_kube_client *c, CURL *easy, const char *url, char *errbuf)
{
	CURLcode rc = curl_easy_setopt(easy, CURLOPT_URL, url);
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
		rc = curl_easy_setopt(easy, CURLOPT_USERAGENT, c->user_agent);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
	return rc == CURLE_OK ? 0 : -EINVAL;
}

static int add_header(struct curl_slist **headers, const char *h)
{
	struct curl_slist *n = curl_slist_append(*headers, h);
	if (!n)
		return -ENOMEM;
	*headers = n;
	return 0;
}

int recap_kube_client_setup_easy(struct recap_kube_client *c, CURL *easy, const char *path,
				 struct curl_slist **headers, char *errbuf, struct recap_error **err)
{
	_cleanup_free_ char *url = NULL;
	if (asprintf(&url, "%s%s", c->server, path) < 0)
		return recap_error_set(err, ENOMEM, "out of memory");
	errbuf[0] = '\0';
	if (set_common(c, easy, url, errbuf) < 0 || set_tls(c, easy) < 0)
		return recap_error_set(err, EINVAL, "%s: cannot set up the transfer (libcurl too old?)", url);
	int r = add_header(headers, "Accept: application/json");
	if (r >= 0)
		r = add_header(headers, "Expect:");
	const char *token = recap_kube_token_get(&c->token);
	if (r >= 0 && token) {
		_cleanup_free_ char *auth = NULL;
		if (asprintf(&auth, "Authorization: Bearer %s", token) < 0)
			return recap_error_set(err, ENOMEM, "out of memory");
		r = add_header(headers, auth);
		explicit_bzero(auth, strlen(auth));
	}
	if (r < 0)
		return recap_error_set(err, -r, "out of memory");
	return 0;
}

/* A Retry-After longer than this is capped: the caller's deadline matters more. */
#define RETRY_AFTER_MAX_MS 60000ull

uint64_t recap_kube_retry_after_ms(CURL *easy)
{
	struct curl_header *h = NULL;
	if (curl_easy_header(easy, "Retry-After", 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h)
		return 0;
	char *end = NULL;
	unsigned long long s = strtoull(h->value, &end, 10);
	if (end == h->value || *end != '\0') /* an HTTP date: use our own backoff */
		return 0;
	return s > RETRY_AFTER_MAX_MS / 1000 ? RETRY_AFTER_MAX_MS : s * 1000;
}

/* Bearer tokens from a registry's token endpoint (the "realm"). */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "oci/auth.h"
#include "oci/http.h"

static int to_buf(void *ud, const void *data, size_t n, struct recap_error **err)
{
	if (recap_buf_append(ud, data, n) < 0)
		return recap_error_set(err, EFBIG, "token response over %d bytes", RECAP_OCI_TOKEN_MAX);
	return 0;
}

static char *token_url(const struct recap_oci_challenge *c, const char *default_scope)
{
	CURL *h = curl_easy_init();
	if (!h)
		return NULL;
	const char *scope = c->scope[0] ? c->scope : default_scope;
	char *svc = curl_easy_escape(h, c->service, 0);
	char *scp = curl_easy_escape(h, scope ? scope : "", 0);
	char *url = NULL;
	if (svc && scp &&
	    asprintf(&url, "%s%sservice=%s&scope=%s", c->realm, strchr(c->realm, '?') ? "&" : "?", svc, scp) <
		0)
		url = NULL;
	curl_free(svc);
	curl_free(scp);
	curl_easy_cleanup(h);
	return url;
}

static int parse_token(const struct recap_oci_challenge *c, const struct recap_buf *body, char **ret,
		       struct recap_error **err)
{
	_cleanup_json_ json_t *j = NULL;
	int r = recap_json_parse(body->data ? body->data : "", body->len, RECAP_OCI_TOKEN_MAX, &j, err);
	if (r < 0)
		return recap_error_wrap(err, -r, "token endpoint %s", c->realm);
	const char *tok = json_string_value(json_object_get(j, "token"));
	if (!tok)
		tok = json_string_value(json_object_get(j, "access_token"));
	if (!tok || !*tok || strlen(tok) > RECAP_OCI_HTTP_HEADER_MAX || strpbrk(tok, "\r\n"))
		return recap_error_set(err, EPROTO, "token endpoint %s returned no usable token", c->realm);
	return asprintf(ret, "Bearer %s", tok) < 0 ? -ENOMEM : 0;
}

int recap_oci_auth_fetch_token(const struct recap_oci_challenge *c, const char *default_scope,
			       const char *basic, int allow_http, const char *ca_file, char **ret,
			       struct recap_error **err)
{
	_cleanup_free_ char *url = token_url(c, default_scope);
	if (!url)
		return -ENOMEM;
	struct recap_buf body = RECAP_BUF_INIT(RECAP_OCI_TOKEN_MAX);
	struct recap_oci_http_req req = {
	    .url = url,
	    .authorization = basic,
	    .allow_http = allow_http,
	    .ca_file = ca_file,
	    .total_timeout_s = 60,
	    .max_body = RECAP_OCI_TOKEN_MAX,
	    .sink = to_buf,
	    .userdata = &body,
	};
	struct recap_oci_http_resp resp;
	int r = recap_oci_http_get(&req, &resp, err);
	if (r >= 0 && resp.status != 200)
		r = recap_error_set(err, resp.status == 401 || resp.status == 403 ? EACCES : EPROTO,
				    "token endpoint %s answered HTTP %ld%s", c->realm, resp.status,
				    basic ? "" : " (no credentials for this registry)");
	if (r >= 0)
		r = parse_token(c, &body, ret, err);
	recap_buf_free(&body);
	return r;
}

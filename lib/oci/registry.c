#include "oci/registry.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/timeutil.h"
#include "oci/auth.h"

static int is_insecure(const char *host, const char *const *list)
{
	for (; list && *list; list++)
		if (strcmp(*list, host) == 0)
			return 1;
	return 0;
}

int recap_oci_registry_new(const struct recap_oci_ref *ref, const struct recap_oci_registry_opts *opts,
			   struct recap_oci_registry **ret, struct recap_error **err)
{
	if (ref->kind != RECAP_OCI_REF_REGISTRY)
		return recap_error_set(err, EINVAL, "'%s' is not a registry reference", ref->canonical);
	struct recap_oci_registry *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	const char *host = recap_oci_ref_api_host(ref);
	bool plain_http = is_insecure(ref->registry, opts->insecure) || is_insecure(host, opts->insecure);
	r->max_attempts = opts->max_attempts > 0 ? opts->max_attempts : 3;
	r->connect_timeout_s = opts->connect_timeout_s;
	r->stall_timeout_s = opts->stall_timeout_s;
	r->deadline_ms = opts->deadline_ms;
	r->deadline_s = opts->deadline_s;
	r->host = strdup(host);
	r->registry = strdup(ref->registry);
	r->repository = strdup(ref->repository);
	r->auth_file = opts->auth_file ? strdup(opts->auth_file) : NULL;
	if (opts->auth_doc && (r->auth_doc = malloc(opts->auth_doc_len + 1))) {
		memcpy(r->auth_doc, opts->auth_doc, opts->auth_doc_len);
		r->auth_doc[opts->auth_doc_len] = '\0';
		r->auth_doc_len = opts->auth_doc_len;
	}
	if (!r->host || !r->registry || !r->repository || (opts->auth_file && !r->auth_file) ||
	    (opts->auth_doc && !r->auth_doc)) {
		recap_oci_registry_free(r);
		return -ENOMEM;
	}
	int rc = recap_oci_hosts_load(opts->hosts_dir, ref->registry, host, plain_http, opts->ca_file,
				      &r->hosts, err);
	if (rc < 0) {
		recap_oci_registry_free(r);
		return rc;
	}
	*ret = r;
	return 0;
}

void recap_oci_registry_free(struct recap_oci_registry *r)
{
	if (!r)
		return;
	free(r->host);
	free(r->registry);
	free(r->repository);
	free(r->auth_file);
	if (r->auth_doc)
		explicit_bzero(r->auth_doc, r->auth_doc_len);
	free(r->auth_doc);
	for (size_t i = 0; i < r->hosts.n; i++) {
		free(r->conn[i].authorization);
		if (r->conn[i].curl)
			curl_easy_cleanup(r->conn[i].curl);
	}
	recap_oci_hosts_clear(&r->hosts);
	free(r);
}

/* Answers a 401 of endpoint i: Basic from the credentials for its host, or
 * a Bearer token (with those credentials when there are some). */
static int authenticate(struct recap_oci_registry *r, size_t i, const char *header, struct recap_error **err)
{
	const struct recap_oci_endpoint *ep = &r->hosts.ep[i];
	struct recap_oci_registry_conn *cn = &r->conn[i];
	if (!header[0])
		return recap_error_set(err, EACCES, "registry %s answered 401 without a challenge", ep->host);
	struct recap_oci_challenge c;
	int rc = recap_oci_auth_parse_challenge(header, &c, err);
	if (rc < 0)
		return rc;
	_cleanup_free_ char *basic = NULL;
	rc = r->auth_doc ? recap_oci_auth_lookup_doc(r->auth_doc, r->auth_doc_len, ep->host, &basic, err)
			 : recap_oci_auth_lookup(r->auth_file, ep->host, &basic, err);
	if (rc < 0)
		return rc;
	if (basic)
		r->sent_credentials = true;
	free(cn->authorization);
	cn->authorization = NULL;
	if (strcasecmp(c.scheme, "Basic") == 0) {
		if (!basic)
			return recap_error_set(
			    err, EACCES, "registry %s requires credentials and %s none for it", ep->host,
			    r->auth_doc ? "the credentials given have" : "the auth file has");
		cn->authorization = steal_ptr(basic);
		return 0;
	}
	_cleanup_free_ char *scope = NULL;
	if (asprintf(&scope, "repository:%s:pull", r->repository) < 0)
		return -ENOMEM;
	return recap_oci_auth_fetch_token(&c, scope, basic, ep->plain_http, ep->ca_file, &cn->authorization,
					  err);
}

static int retryable(int rc, long status)
{
	if (rc < 0)
		return rc == -ECONNREFUSED || rc == -ETIMEDOUT || rc == -EIO;
	return status >= 500 || status == 429;
}

static void backoff(int attempt)
{
	struct timespec ts = {.tv_nsec = (200L << attempt) * 1000000L};
	while (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	nanosleep(&ts, NULL);
}

static int status_error(struct recap_oci_registry *r, const char *url, long status, struct recap_error **err)
{
	if (status == 404)
		return recap_error_set(err, ENOENT, "%s: HTTP 404", url);
	if (status == 401 || status == 403)
		return recap_error_set(err, EACCES, "%s: access denied (HTTP %ld)", url, status);
	return recap_error_set(err, EPROTO, "%s: unexpected HTTP %ld", url, status);
}

static bool past_deadline(const struct recap_oci_registry *r)
{
	return r->deadline_ms && recap_now_mono_ms() >= r->deadline_ms;
}

static int deadline_error(const struct recap_oci_registry *r, const char *url, struct recap_error **err)
{
	return recap_error_set(err, ETIMEDOUT, "GET %s: the pull's deadline of %ld s (--pull-timeout) passed",
			       url, r->deadline_s);
}

/* hosts.toml settings of the endpoint's own: a client certificate, headers,
 * a connection timeout. */
static bool has_own_settings(const struct recap_oci_endpoint *ep)
{
	return ep->client_cert || ep->n_headers || ep->dial_timeout_ms;
}

/* Whether a and b have one origin: scheme, host and port. */
static bool same_origin(const char *a, const char *b)
{
	static const CURLUPart parts[] = {CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT};
	CURLU *ua = curl_url(), *ub = curl_url();
	bool same =
	    ua && ub && !curl_url_set(ua, CURLUPART_URL, a, 0) && !curl_url_set(ub, CURLUPART_URL, b, 0);
	for (size_t i = 0; same && i < ARRAY_SIZE(parts); i++) {
		char *pa = NULL, *pb = NULL;
		unsigned flags = parts[i] == CURLUPART_PORT ? CURLU_DEFAULT_PORT : 0;
		same = !curl_url_get(ua, parts[i], &pa, flags) && !curl_url_get(ub, parts[i], &pb, flags) &&
		       !strcasecmp(pa, pb);
		curl_free(pa);
		curl_free(pb);
	}
	curl_url_cleanup(ua);
	curl_url_cleanup(ub);
	return same;
}

static int add_header(struct curl_slist **list, const char *name, const char *value)
{
	_cleanup_free_ char *line = NULL;
	/* "Name;" is how libcurl sends a header with no value */
	int n = value[0] ? asprintf(&line, "%s: %s", name, value) : asprintf(&line, "%s;", name);
	struct curl_slist *l = n < 0 ? NULL : curl_slist_append(*list, line);
	if (!l)
		return -ENOMEM;
	*list = l;
	return 0;
}

/* A request's headers: RECap's, and to the endpoint's own origin
 * (own) its credentials and its hosts.toml headers. */
static int request_headers(const struct recap_oci_endpoint *ep, const struct recap_oci_http_req *req,
			   bool own, struct curl_slist **ret)
{
	int r = 0;
	if (own && req->authorization)
		r = add_header(ret, "Authorization", req->authorization);
	if (r == 0 && req->accept)
		r = add_header(ret, "Accept", req->accept);
	for (size_t i = 0; own && r == 0 && i < ep->n_headers; i++)
		r = add_header(ret, ep->header[i].name, ep->header[i].value);
	return r;
}

static int own_options(CURL *h, const struct recap_oci_endpoint *ep, bool own, struct curl_slist *headers)
{
	CURLcode c = curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); /* get_own() follows */
	c |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	if (own && ep->client_cert) {
		c |= curl_easy_setopt(h, CURLOPT_SSLCERT, ep->client_cert);
		c |= curl_easy_setopt(h, CURLOPT_SSLKEY, ep->client_key);
	}
	if (own && ep->dial_timeout_ms)
		c |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ep->dial_timeout_ms);
	return c == CURLE_OK ? 0 : -EINVAL;
}

/* One request of get_own(): to the endpoint's origin (own) with its
 * settings, elsewhere without. */
static int get_hop(CURL *h, const struct recap_oci_endpoint *ep, const struct recap_oci_http_req *req,
		   bool own, struct recap_oci_http_resp *resp, struct recap_error **err)
{
	struct recap_oci_http_req bare = *req;
	bare.authorization = bare.accept = NULL; /* in headers */
	struct curl_slist *headers = NULL;
	int r = request_headers(ep, req, own, &headers);
	curl_easy_reset(h); /* keeps the connection cache */
	if (r == 0)
		r = recap_oci_http_setup(h, &bare, resp, err);
	if (r >= 0 && own_options(h, ep, own, headers) < 0)
		r = recap_error_set(err, EINVAL, "cannot configure the HTTP request for %s", req->url);
	if (r >= 0)
		r = recap_oci_http_finish(h, curl_easy_perform(h), resp, err);
	recap_oci_http_resp_release(resp);
	curl_slist_free_all(headers);
	return r == -ENOMEM ? recap_error_set(err, ENOMEM, "out of memory") : r;
}

#define REDIRECTS_MAX 5 /* as libcurl follows them otherwise (http.c) */

/* A request to an endpoint with settings of its own. Its redirects are
 * followed here, not by libcurl, which would send the headers to any
 * host: a hop to another origin (blob storage) goes without the endpoint's
 * headers, client certificate and timeout, and without the Authorization
 * header, as libcurl drops it. */
static int get_own(const struct recap_oci_registry *rg, CURL *h, const struct recap_oci_endpoint *ep,
		   const struct recap_oci_http_req *req, struct recap_oci_http_resp *resp,
		   struct recap_error **err)
{
	struct recap_oci_http_req next = *req;
	_cleanup_free_ char *location = NULL;
	for (int hops = 0;; hops++) {
		if (hops > 0 && rg->deadline_ms) /* what is left of it, as for one transfer */
			next.total_timeout_ms =
			    past_deadline(rg) ? 1 : (long)(rg->deadline_ms - recap_now_mono_ms());
		int r = get_hop(h, ep, &next, same_origin(ep->root, next.url), resp, err);
		long st = resp->status;
		char *to = NULL;
		if (r < 0 || !(st == 301 || st == 302 || st == 303 || st == 307 || st == 308) ||
		    curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &to) != CURLE_OK || !to)
			return r; /* a redirect without a Location is the caller's unexpected status */
		if (hops >= REDIRECTS_MAX)
			return recap_error_set(err, EIO, "GET %s: more than %d redirects", req->url,
					       REDIRECTS_MAX);
		free(location);
		if (!(location = strdup(to)))
			return recap_error_set(err, ENOMEM, "out of memory");
		next.url = location;
	}
}

static int get_once(struct recap_oci_registry *r, size_t i, const char *url, const char *accept, uint64_t max,
		    recap_oci_http_sink sink, void *userdata, struct recap_oci_http_resp *resp,
		    struct recap_error **err)
{
	const struct recap_oci_endpoint *ep = &r->hosts.ep[i];
	struct recap_oci_registry_conn *cn = &r->conn[i];
	memset(resp, 0, sizeof(*resp));
	if (past_deadline(r))
		return deadline_error(r, url, err);
	struct recap_oci_http_req req = {
	    .url = url,
	    .authorization = cn->authorization,
	    .accept = accept,
	    .allow_http = ep->plain_http,
	    .ca_file = ep->ca_file,
	    .skip_verify = ep->skip_verify,
	    .connect_timeout_s = r->connect_timeout_s,
	    .stall_timeout_s = r->stall_timeout_s,
	    .total_timeout_ms = r->deadline_ms ? (long)(r->deadline_ms - recap_now_mono_ms()) : 0,
	    .max_body = max,
	    .sink = sink,
	    .userdata = userdata,
	};
	if (req.total_timeout_ms <= 0 && r->deadline_ms)
		req.total_timeout_ms = 1;
	if (!cn->curl && !(cn->curl = curl_easy_init()))
		return -ENOMEM;
	struct recap_error *e = NULL;
	int rc = has_own_settings(ep) ? get_own(r, cn->curl, ep, &req, resp, &e)
				      : recap_oci_http_perform(cn->curl, &req, resp, &e);
	if (rc == -ETIMEDOUT && past_deadline(r)) { /* curl's timeout was the deadline's rest */
		recap_error_free(e);
		return deadline_error(r, url, err);
	}
	if (rc < 0 && err && !*err)
		*err = e;
	else
		recap_error_free(e);
	return rc;
}

/* One endpoint: the request with its authentication and retries. */
static int get_from(struct recap_oci_registry *r, size_t i, const char *url, const char *accept, uint64_t max,
		    recap_oci_http_sink sink, recap_oci_registry_reset reset, void *userdata,
		    struct recap_oci_http_resp *resp, struct recap_error **err)
{
	int authed = 0;
	for (int attempt = 0;; attempt++) {
		_cleanup_error_ struct recap_error *e = NULL;
		if (attempt > 0 && reset) {
			int rr = reset(userdata, err);
			if (rr < 0)
				return rr;
		}
		int rc = get_once(r, i, url, accept, max, sink, userdata, resp, &e);
		if (rc >= 0 && resp->status == 401 && !authed) {
			authed = 1;
			rc = authenticate(r, i, resp->www_authenticate, err);
			if (rc < 0)
				return recap_error_wrap(err, -rc, "authenticating to %s",
							r->hosts.ep[i].host);
			attempt--;
			continue;
		}
		if (retryable(rc, resp->status) && attempt + 1 < r->max_attempts && !past_deadline(r)) {
			backoff(attempt);
			continue;
		}
		if (rc < 0) {
			if (err && !*err)
				*err = steal_ptr(e);
			return attempt > 0 ? recap_error_wrap(err, -rc, "after %d attempts", attempt + 1)
					   : rc;
		}
		if (resp->status != 200) {
			rc = status_error(r, url, resp->status, err);
			return attempt > 0 ? recap_error_wrap(err, -rc, "after %d attempts", attempt + 1)
					   : rc;
		}
		return 0;
	}
}

int recap_oci_registry_get(struct recap_oci_registry *r, const char *kind, const char *reference,
			   const char *accept, uint64_t max, recap_oci_http_sink sink,
			   recap_oci_registry_reset reset, void *userdata, struct recap_oci_http_resp *resp,
			   struct recap_error **err)
{
	int need = strcmp(kind, "manifests") == 0 && !strchr(reference, ':') ? RECAP_OCI_CAP_RESOLVE
									     : RECAP_OCI_CAP_PULL;
	int rc = -ENOENT;
	bool tried = false;
	for (size_t i = 0; i < r->hosts.n; i++) {
		const struct recap_oci_endpoint *ep = &r->hosts.ep[i];
		if (!(ep->caps & need) || past_deadline(r))
			continue;
		_cleanup_free_ char *url = NULL;
		char *ns = ep->mirror ? curl_easy_escape(NULL, r->registry, 0) : NULL;
		int n = asprintf(&url, "%s/%s/%s/%s%s%s", ep->root, r->repository, kind, reference,
				 ns ? "?ns=" : "", ns ? ns : "");
		curl_free(ns);
		if (n < 0)
			return -ENOMEM;
		if (tried && reset && (rc = reset(userdata, err)) < 0)
			return rc;
		if (tried && err && *err) { /* the last endpoint's error is the one told */
			recap_error_free(*err);
			*err = NULL;
		}
		tried = true;
		rc = get_from(r, i, url, accept, max, sink, reset, userdata, resp, err);
		if (rc >= 0)
			return rc;
	}
	if (!tried)
		return recap_error_set(err, ENOENT, "no endpoint of %s may %s %s (hosts.toml capabilities)",
				       r->host, need == RECAP_OCI_CAP_RESOLVE ? "resolve" : "pull",
				       reference);
	return rc;
}

/* The client: configuration, shared transfer settings, lifetime. */
#include "kube/client_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/timeutil.h"

#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_MAX_RESPONSE (64u << 20)
#define DEFAULT_RETRIES 5
#define DEFAULT_RETRY_BASE_MS 200
#define DEFAULT_RETRY_MAX_MS 10000
#define DEFAULT_QPS 50.0
#define DEFAULT_BURST 100

static char *memdup0(const char *p, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, p, n);
		d[n] = '\0';
	}
	return d;
}

static void apply_defaults(struct recap_kube_client_options *o)
{
	if (!o->timeout_ms)
		o->timeout_ms = DEFAULT_TIMEOUT_MS;
	if (!o->max_response_bytes)
		o->max_response_bytes = DEFAULT_MAX_RESPONSE;
	if (o->max_retries == 0)
		o->max_retries = DEFAULT_RETRIES;
	else if (o->max_retries < 0)
		o->max_retries = 0;
	if (!o->retry_base_ms)
		o->retry_base_ms = DEFAULT_RETRY_BASE_MS;
	if (!o->retry_max_ms)
		o->retry_max_ms = DEFAULT_RETRY_MAX_MS;
	if (o->qps == 0) {
		o->qps = DEFAULT_QPS;
		o->burst = o->burst ? o->burst : DEFAULT_BURST;
	}
	if (!o->burst)
		o->burst = 1;
}

/* client-go's headerKeyEscape: bytes outside RFC 7230's token characters,
 * and '%', as %XX (the API server unescapes the key). */
static bool token_char(unsigned char b)
{
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
	       (b && strchr("!#$&'*+-.^_`|~", b));
}

char *recap_kube_extra_header_key(const char *key)
{
	char *out = malloc(3 * strlen(key) + 1), *o = out;
	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		if (token_char(*p))
			*o++ = (char)*p;
		else
			o += sprintf(o, "%%%02X", *p);
	*o = '\0';
	return out;
}

/* Impersonate-User, -Uid, one Impersonate-Group per group and one
 * Impersonate-Extra-<key> per value. */
static int impersonation(struct recap_kube_client *c, const struct recap_kube_config *cfg,
			 struct recap_error **err)
{
	size_t groups = 0, extras = 0;
	while (cfg->as_groups && cfg->as_groups[groups])
		groups++;
	while (cfg->as_extra && cfg->as_extra[2 * extras])
		extras++;
	if (!cfg->as_user && extras)
		return recap_error_set(err, EINVAL,
				       "%s: as-user-extra needs as (a user to act as): the API server "
				       "refuses extras without a user",
				       cfg->source ? cfg->source : "config");
	if (!cfg->as_user)
		return 0;
	if (extras > RECAP_KUBE_AS_EXTRA_MAX || groups > RECAP_KUBE_AS_GROUPS_MAX)
		return recap_error_set(err, E2BIG, "more than %d impersonation groups or %d extras",
				       RECAP_KUBE_AS_GROUPS_MAX, RECAP_KUBE_AS_EXTRA_MAX);
	if (!(c->impersonation = calloc(groups + extras + 3, sizeof(char *))))
		return recap_error_set(err, ENOMEM, "out of memory");
	size_t n = 0;
	if (asprintf(&c->impersonation[n++], "Impersonate-User: %s", cfg->as_user) < 0)
		goto oom;
	if (cfg->as_uid && asprintf(&c->impersonation[n++], "Impersonate-Uid: %s", cfg->as_uid) < 0)
		goto oom;
	for (size_t i = 0; i < groups; i++)
		if (asprintf(&c->impersonation[n++], "Impersonate-Group: %s", cfg->as_groups[i]) < 0)
			goto oom;
	for (size_t i = 0; i < extras; i++) {
		_cleanup_free_ char *key = recap_kube_extra_header_key(cfg->as_extra[2 * i]);
		if (!key || asprintf(&c->impersonation[n++], "Impersonate-Extra-%s: %s", key,
				     cfg->as_extra[2 * i + 1]) < 0)
			goto oom;
	}
	return 0;
oom:
	c->impersonation[--n] = NULL;
	return recap_error_set(err, ENOMEM, "out of memory");
}

static int copy_config(struct recap_kube_client *c, const struct recap_kube_config *cfg,
		       struct recap_error **err)
{
	c->server = strdup(cfg->server);
	c->namespace = strdup(cfg->namespace ? cfg->namespace : "default");
	if (!c->server || !c->namespace)
		return recap_error_set(err, ENOMEM, "out of memory");
	if (cfg->ca_data && !(c->ca = memdup0(cfg->ca_data, cfg->ca_len)))
		return recap_error_set(err, ENOMEM, "out of memory");
	if (cfg->cert_data && !(c->cert = memdup0(cfg->cert_data, cfg->cert_len)))
		return recap_error_set(err, ENOMEM, "out of memory");
	if (cfg->key_data && !(c->key = memdup0(cfg->key_data, cfg->key_len)))
		return recap_error_set(err, ENOMEM, "out of memory");
	c->ca_len = cfg->ca_len;
	c->cert_len = cfg->cert_len;
	c->key_len = cfg->key_len;
	c->insecure = cfg->insecure;
	if ((cfg->tls_server_name && !(c->tls_server_name = strdup(cfg->tls_server_name))) ||
	    (cfg->proxy_url && !(c->proxy_url = strdup(cfg->proxy_url))))
		return recap_error_set(err, ENOMEM, "out of memory");
	return impersonation(c, cfg, err);
}

static void client_free(struct recap_kube_client *c)
{
	free(c->server);
	free(c->namespace);
	free(c->ca);
	free(c->cert);
	if (c->key) {
		explicit_bzero(c->key, c->key_len);
		free(c->key);
	}
	free(c->user_agent);
	free(c->tls_server_name);
	free(c->proxy_url);
	for (char **i = c->impersonation; i && *i; i++)
		free(*i);
	free(c->impersonation);
	recap_kube_token_free(&c->token);
	free(c);
}

static bool same_pem(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && (!alen || memcmp(a, b, alen) == 0);
}

/* The plugin's client certificate to the transport when it changed: the
 * plugin runs at the first request, not at the client's creation, and
 * again as its certificate expires or is refused. */
static int exec_certificate(struct recap_kube_client *c, struct recap_error **err)
{
	const struct recap_kube_exec_cred *cred = &c->token.cred;
	if (same_pem(cred->cert, cred->cert_len, c->cert, c->cert_len) &&
	    same_pem(cred->key, cred->key_len, c->key, c->key_len))
		return 0;
	char *cert = cred->cert ? memdup0(cred->cert, cred->cert_len) : NULL;
	char *key = cred->key ? memdup0(cred->key, cred->key_len) : NULL;
	if ((cred->cert && !cert) || (cred->key && !key)) {
		free(cert);
		free(key);
		return recap_error_set(err, ENOMEM, "out of memory");
	}
	int r = recap_kube_http_set_client_cert(c->http, cert, cred->cert_len, key, cred->key_len, err);
	if (r < 0) {
		free(cert);
		if (key)
			explicit_bzero(key, cred->key_len);
		free(key);
		return recap_error_wrap(err, r, "exec plugin %s: its client certificate",
					c->token.exec->command);
	}
	free(c->cert);
	if (c->key) {
		explicit_bzero(c->key, c->key_len);
		free(c->key);
	}
	c->cert = cert;
	c->key = key;
	c->cert_len = cred->cert_len;
	c->key_len = cred->key_len;
	return 0;
}

int recap_kube_client_credential(struct recap_kube_client *c, const char **token, unsigned *generation,
				 struct recap_error **err)
{
	unsigned gen = 0;
	int r = recap_kube_token_current(&c->token, token, &gen, err);
	if (r >= 0 && c->token.exec && gen != c->cert_generation) {
		if ((r = exec_certificate(c, err)) < 0) {
			*token = NULL;
			c->token.refused = true; /* not usable: run the plugin again next time */
			return r;
		}
		c->cert_generation = gen;
	}
	if (generation)
		*generation = gen;
	return r;
}

bool recap_kube_client_tls_refused(struct recap_kube_client *c, const struct recap_kube_http_result *r,
				   unsigned generation)
{
	/* The transport says a connection it opened failed in or right after
	 * the handshake (a TLS 1.3 server refuses a certificate after the
	 * client's Finished: an alert or a reset at the first read or write).
	 * Never our refusal of the server's certificate, a verification error.
	 * At most once per credential, and the attempt is only retried as any
	 * failed connection is. */
	bool ours = r->message &&
		    (strstr(r->message, "certificate problem") || strstr(r->message, "server certificate") ||
		     strstr(r->message, "does not name the server"));
	if (!c->token.exec || !c->cert || r->code != RECAP_KUBE_HTTP_FAILED || r->status || !r->tls_refused ||
	    ours || generation != c->token.generation)
		return false;
	return recap_kube_token_refused(&c->token, generation);
}

static int client_init(struct recap_kube_client *c, const struct recap_kube_config *cfg,
		       const struct recap_kube_client_options *opts, struct recap_error **err)
{
	if (opts)
		c->opts = *opts;
	apply_defaults(&c->opts);
	int r = copy_config(c, cfg, err);
	if (r < 0)
		return r;
	if (!(c->user_agent = strdup(c->opts.user_agent ? c->opts.user_agent : "recap")))
		return recap_error_set(err, ENOMEM, "out of memory");
	c->opts.user_agent = c->user_agent;
	r = recap_kube_token_init(&c->token, cfg->token, cfg->token_file, cfg->cert_data ? NULL : cfg->exec,
				  err);
	if (r < 0)
		return recap_error_wrap(err, r, "%s: bearer token", cfg->source ? cfg->source : "config");
	if (c->opts.qps > 0) {
		r = recap_kube_bucket_init(&c->bucket, c->opts.qps, c->opts.burst, NULL, NULL, err);
		if (r < 0)
			return r;
		c->limited = true;
	}
	struct recap_kube_http_tls tls = {.ca = c->ca,
					  .cert = c->cert,
					  .key = c->key,
					  .ca_len = c->ca_len,
					  .cert_len = c->cert_len,
					  .key_len = c->key_len,
					  .insecure = c->insecure,
					  .server_name = c->tls_server_name,
					  .proxy = c->proxy_url};
	r = recap_kube_http_new(c->loop, &tls, &c->http, err);
	if (r < 0)
		return recap_error_wrap(err, r, "%s", c->server);
	uv_timer_init(c->loop, &c->deferred_close); /* cannot fail on a live loop */
	c->deferred_close.data = c;
	c->open_handles++;
	return 0;
}

int recap_kube_client_new(uv_loop_t *loop, const struct recap_kube_config *cfg,
			  const struct recap_kube_client_options *opts, struct recap_kube_client **ret,
			  struct recap_error **err)
{
	if (!cfg || !cfg->server)
		return recap_error_set(err, EINVAL, "kube client: configuration without a server");
	struct recap_kube_client *c = calloc(1, sizeof(*c));
	if (!c)
		return recap_error_set(err, ENOMEM, "out of memory");
	c->loop = loop;
	int r = client_init(c, cfg, opts, err);
	if (r < 0) {
		client_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

void recap_kube_client_handle_closed(struct recap_kube_client *c)
{
	c->open_handles--;
	if (c->closing && c->open_handles == 0)
		client_free(c);
}

static void deferred_closed(uv_handle_t *h)
{
	recap_kube_client_handle_closed(h->data);
}

static void close_now(struct recap_kube_client *c)
{
	uv_close((uv_handle_t *)&c->deferred_close, deferred_closed);
	recap_kube_requests_cancel_all(c);
	recap_kube_watches_stop_all(c);
	recap_kube_http_close(c->http);
	c->http = NULL;
	c->open_handles++; /* held until here so nothing frees c early */
	recap_kube_client_handle_closed(c);
}

static void close_fired(uv_timer_t *h)
{
	close_now(h->data);
}

void recap_kube_client_close(struct recap_kube_client *c)
{
	if (!c || c->closing)
		return;
	c->closing = true;
	if (c->in_http_callback)
		uv_timer_start(&c->deferred_close, close_fired, 0, 0);
	else
		close_now(c);
}

uv_loop_t *recap_kube_client_loop(struct recap_kube_client *c)
{
	return c->loop;
}

const char *recap_kube_client_namespace(struct recap_kube_client *c)
{
	return c->namespace;
}

int64_t recap_kube_client_now(struct recap_kube_client *c)
{
	return recap_kube_clock_server_time(&c->clock, recap_now_wall_ms() / 1000);
}

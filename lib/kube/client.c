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

/* Impersonate-User, -Uid and one Impersonate-Group per group. */
static int impersonation(struct recap_kube_client *c, const struct recap_kube_config *cfg)
{
	size_t groups = 0;
	while (cfg->as_groups && cfg->as_groups[groups])
		groups++;
	if (!cfg->as_user)
		return 0;
	if (!(c->impersonation = calloc(groups + 3, sizeof(char *))))
		return -ENOMEM;
	size_t n = 0;
	if (asprintf(&c->impersonation[n++], "Impersonate-User: %s", cfg->as_user) < 0)
		return c->impersonation[--n] = NULL, -ENOMEM;
	if (cfg->as_uid && asprintf(&c->impersonation[n++], "Impersonate-Uid: %s", cfg->as_uid) < 0)
		return c->impersonation[--n] = NULL, -ENOMEM;
	for (size_t i = 0; i < groups; i++)
		if (asprintf(&c->impersonation[n++], "Impersonate-Group: %s", cfg->as_groups[i]) < 0)
			return c->impersonation[--n] = NULL, -ENOMEM;
	return 0;
}

static int copy_config(struct recap_kube_client *c, const struct recap_kube_config *cfg)
{
	c->server = strdup(cfg->server);
	c->namespace = strdup(cfg->namespace ? cfg->namespace : "default");
	if (!c->server || !c->namespace)
		return -ENOMEM;
	if (cfg->ca_data && !(c->ca = memdup0(cfg->ca_data, cfg->ca_len)))
		return -ENOMEM;
	if (cfg->cert_data && !(c->cert = memdup0(cfg->cert_data, cfg->cert_len)))
		return -ENOMEM;
	if (cfg->key_data && !(c->key = memdup0(cfg->key_data, cfg->key_len)))
		return -ENOMEM;
	c->ca_len = cfg->ca_len;
	c->cert_len = cfg->cert_len;
	c->key_len = cfg->key_len;
	c->insecure = cfg->insecure;
	if ((cfg->tls_server_name && !(c->tls_server_name = strdup(cfg->tls_server_name))) ||
	    (cfg->proxy_url && !(c->proxy_url = strdup(cfg->proxy_url))))
		return -ENOMEM;
	return impersonation(c, cfg);
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

/* An exec plugin runs before the first connection: a client certificate
 * it gives is the connection's for the client's life (a token is renewed
 * as it expires). */
static int exec_certificate(struct recap_kube_client *c, struct recap_error **err)
{
	const char *token;
	int r = recap_kube_token_current(&c->token, &token, NULL, err);
	if (r < 0 || !c->token.cred.cert)
		return r;
	if (!(c->cert = memdup0(c->token.cred.cert, c->token.cred.cert_len)) ||
	    !(c->key = memdup0(c->token.cred.key, c->token.cred.key_len)))
		return recap_error_set(err, ENOMEM, "out of memory");
	c->cert_len = c->token.cred.cert_len;
	c->key_len = c->token.cred.key_len;
	return 0;
}

static int client_init(struct recap_kube_client *c, const struct recap_kube_config *cfg,
		       const struct recap_kube_client_options *opts, struct recap_error **err)
{
	if (opts)
		c->opts = *opts;
	apply_defaults(&c->opts);
	if (copy_config(c, cfg) < 0 ||
	    !(c->user_agent = strdup(c->opts.user_agent ? c->opts.user_agent : "recap")))
		return recap_error_set(err, ENOMEM, "out of memory");
	c->opts.user_agent = c->user_agent;
	int r = recap_kube_token_init(&c->token, cfg->token, cfg->token_file,
				      cfg->cert_data ? NULL : cfg->exec, err);
	if (r < 0)
		return recap_error_wrap(err, r, "%s: bearer token", cfg->source ? cfg->source : "config");
	if (c->token.exec && (r = exec_certificate(c, err)) < 0)
		return r;
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

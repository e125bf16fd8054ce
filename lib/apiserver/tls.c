#include "apiserver/tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

const char *apiserver_tls_error(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();
	if (!e)
		snprintf(buf, len, "unknown TLS error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

static bool files_changed(struct apiserver_tls_files *f)
{
	const char *paths[] = {f->cert, f->key, f->ca};
	bool any = false;
	for (int i = 0; i < 3; i++) {
		struct stat st;
		if (!paths[i] || stat(paths[i], &st) < 0)
			continue;
		if (st.st_mtim.tv_sec != f->mtimes[i].tv_sec || st.st_mtim.tv_nsec != f->mtimes[i].tv_nsec) {
			f->mtimes[i] = st.st_mtim;
			any = true;
		}
	}
	return any;
}

/* Trust exactly the PEM's certificates. */
static int trust_pem(SSL_CTX *ctx, const char *pem, struct recap_error **err)
{
	char ebuf[256];
	X509_STORE *store = X509_STORE_new();
	BIO *bio = BIO_new_mem_buf(pem, -1);
	int n = 0;
	X509 *x;
	while (bio && store && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		n += X509_STORE_add_cert(store, x) == 1;
		X509_free(x);
	}
	ERR_clear_error(); /* the end of the PEM */
	BIO_free(bio);
	if (!store || n == 0) {
		X509_STORE_free(store);
		return recap_error_set(err, EINVAL, "the client CA holds no certificate (%s)",
				       apiserver_tls_error(ebuf, sizeof(ebuf)));
	}
	SSL_CTX_set_cert_store(ctx, store);
	return 0;
}

/* The handshake goes on with any client certificate: whether it is the
 * front proxy's is judged per request (SSL_get_verify_result), so that a
 * wrong one gets a 401 Status that says why instead of a failed handshake. */
static int judge_later(int ok, X509_STORE_CTX *ctx)
{
	return 1;
}

static SSL_CTX *build(bool server, const struct apiserver_tls_files *f, const char *ca_pem,
		      struct recap_error **err)
{
	char ebuf[256];
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, f->cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, f->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		recap_error_set(err, EINVAL, "%s and %s: %s", f->cert, f->key,
				apiserver_tls_error(ebuf, sizeof(ebuf)));
		SSL_CTX_free(ctx);
		return NULL;
	}
	int r = 0;
	if (server && ca_pem) {
		/* a client certificate is asked for, not required: probes come without */
		r = trust_pem(ctx, ca_pem, err);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, judge_later);
		X509_VERIFY_PARAM_set_purpose(SSL_CTX_get0_param(ctx), X509_PURPOSE_SSL_CLIENT);
	} else if (!server) {
		if (SSL_CTX_load_verify_locations(ctx, f->ca, NULL) != 1)
			r = recap_error_set(err, EINVAL, "%s: %s", f->ca,
					    apiserver_tls_error(ebuf, sizeof(ebuf)));
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		X509_VERIFY_PARAM_set_purpose(SSL_CTX_get0_param(ctx), X509_PURPOSE_SSL_SERVER);
	}
	if (r < 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* read what the socket holds, not a record's header and body apart:
	 * every reader of these sessions polls with SSL_has_pending */
	SSL_CTX_set_read_ahead(ctx, 1);
	return ctx;
}

int apiserver_tls_init(struct apiserver_tls *t, struct recap_error **err)
{
	pthread_mutex_init(&t->mu, NULL);
	return 0;
}

static void sessions_drop(struct apiserver_tls *t)
{
	for (size_t i = 0; i < APISERVER_RELAY_SESSIONS; i++) {
		SSL_SESSION_free(t->sessions[i].session);
		t->sessions[i] = (struct apiserver_relay_session){0};
	}
}

void apiserver_tls_free(struct apiserver_tls *t)
{
	sessions_drop(t);
	SSL_CTX_free(t->server);
	SSL_CTX_free(t->relay);
	free(t->frontproxy_ca);
	pthread_mutex_destroy(&t->mu);
}

static void swap(struct apiserver_tls *t, SSL_CTX **slot, SSL_CTX *ctx)
{
	pthread_mutex_lock(&t->mu);
	SSL_CTX *old = *slot;
	*slot = ctx;
	if (slot == &t->relay) /* made with the old certificate */
		sessions_drop(t);
	pthread_mutex_unlock(&t->mu);
	SSL_CTX_free(old);
}

SSL_SESSION *apiserver_tls_relay_session(struct apiserver_tls *t, const char *key)
{
	SSL_SESSION *s = NULL;
	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; i < APISERVER_RELAY_SESSIONS && !s; i++) {
		struct apiserver_relay_session *e = &t->sessions[i];
		if (e->session && strcmp(e->key, key) == 0 && SSL_SESSION_up_ref(e->session) == 1) {
			s = e->session;
			e->used = ++t->session_clock;
		}
	}
	pthread_mutex_unlock(&t->mu);
	return s;
}

void apiserver_tls_relay_session_keep(struct apiserver_tls *t, const char *key, SSL_SESSION *s)
{
	if (!s || strlen(key) >= sizeof(t->sessions[0].key) || SSL_SESSION_up_ref(s) != 1)
		return;
	pthread_mutex_lock(&t->mu);
	struct apiserver_relay_session *slot = &t->sessions[0];
	for (size_t i = 0; i < APISERVER_RELAY_SESSIONS; i++) {
		struct apiserver_relay_session *e = &t->sessions[i];
		if (e->session && strcmp(e->key, key) == 0) {
			slot = e;
			break;
		}
		if (!e->session || e->used < slot->used)
			slot = e;
		if (!e->session)
			break;
	}
	SSL_SESSION *old = slot->session;
	snprintf(slot->key, sizeof(slot->key), "%s", key);
	slot->session = s;
	slot->used = ++t->session_clock;
	pthread_mutex_unlock(&t->mu);
	SSL_SESSION_free(old);
}

int apiserver_tls_refresh(struct apiserver_tls *t, const char *frontproxy_ca, struct recap_error **err)
{
	bool ca_changed =
	    frontproxy_ca && (!t->frontproxy_ca || strcmp(frontproxy_ca, t->frontproxy_ca) != 0);
	int r = 0;
	if (files_changed(&t->serving) || ca_changed || !t->server) {
		SSL_CTX *ctx =
		    t->frontproxy_ca || frontproxy_ca
			? build(true, &t->serving, frontproxy_ca ? frontproxy_ca : t->frontproxy_ca, err)
			: NULL;
		if (ctx) {
			swap(t, &t->server, ctx);
			if (ca_changed) {
				free(t->frontproxy_ca);
				t->frontproxy_ca = strdup(frontproxy_ca);
			}
		} else {
			memset(t->serving.mtimes, 0, sizeof(t->serving.mtimes)); /* again next time */
			r = -EINVAL;
		}
	}
	if (files_changed(&t->relay_files) || !t->relay) {
		SSL_CTX *ctx = build(false, &t->relay_files, NULL, r < 0 ? NULL : err);
		if (ctx)
			swap(t, &t->relay, ctx);
		else {
			memset(t->relay_files.mtimes, 0, sizeof(t->relay_files.mtimes));
			r = -EINVAL;
		}
	}
	return r;
}

static SSL_CTX *ref(struct apiserver_tls *t, SSL_CTX **slot)
{
	pthread_mutex_lock(&t->mu);
	SSL_CTX *c = *slot;
	if (c)
		SSL_CTX_up_ref(c);
	pthread_mutex_unlock(&t->mu);
	return c;
}

SSL_CTX *apiserver_tls_server(struct apiserver_tls *t)
{
	return ref(t, &t->server);
}

SSL_CTX *apiserver_tls_relay(struct apiserver_tls *t)
{
	return ref(t, &t->relay);
}

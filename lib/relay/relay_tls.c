/* mbedTLS for the relay: the credentials, re-read when their files change,
 * and one server session per stream. Each stream parses its own copy of the
 * certificates and key: mbedTLS objects are not shared between threads. */
#include <errno.h>
#include <fcntl.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/fileio.h"
#include "relay/relay_internal.h"

void relay_creds_free(struct relay_creds *c)
{
	if (!c)
		return;
	if (c->key)
		explicit_bzero(c->key, c->key_len);
	free(c->cert);
	free(c->key);
	free(c->ca);
	free(c);
}

static int read_pem(const char *path, char **ret, size_t *len, struct recap_error **err)
{
	char *data = NULL;
	size_t n = 0;
	int r = recap_read_file(path, RELAY_FILE_MAX, &data, &n, err);
	if (r < 0)
		return r;
	if (!strstr(data, "-----BEGIN ")) {
		free(data);
		return recap_error_set(err, EINVAL, "%s holds no PEM block", path);
	}
	*len = n;
	*ret = data;
	return 0;
}

static bool changed(struct recap_relay *r)
{
	const char *files[] = {r->o.cert_file, r->o.key_file, r->o.ca_file};
	bool any = !r->creds;
	for (int i = 0; i < 3; i++) {
		struct stat st;
		if (stat(files[i], &st) < 0)
			continue;
		if (st.st_mtim.tv_sec != r->mtimes[i].tv_sec || st.st_mtim.tv_nsec != r->mtimes[i].tv_nsec) {
			r->mtimes[i] = st.st_mtim;
			any = true;
		}
	}
	return any;
}

void relay_creds_refresh(struct recap_relay *r)
{
	if (!changed(r))
		return;
	struct relay_creds *c = calloc(1, sizeof(*c));
	struct recap_error *err = NULL;
	int ret = c ? 0 : recap_error_set(&err, ENOMEM, "out of memory");
	if (ret >= 0)
		ret = read_pem(r->o.cert_file, &c->cert, &c->cert_len, &err);
	if (ret >= 0)
		ret = read_pem(r->o.key_file, &c->key, &c->key_len, &err);
	if (ret >= 0)
		ret = read_pem(r->o.ca_file, &c->ca, &c->ca_len, &err);
	if (ret < 0) {
		relay_creds_free(c);
		if (!r->creds_failed)
			relay_log(r, 1, "relay credentials not loaded: %s", recap_error_message(err));
		r->creds_failed = true;
		memset(r->mtimes, 0, sizeof(r->mtimes)); /* try again at the next stream */
		recap_error_free(err);
		return;
	}
	c->refs = 1;
	pthread_mutex_lock(&r->mu);
	struct relay_creds *old = r->creds;
	r->creds = c;
	bool drop = old && --old->refs == 0;
	pthread_mutex_unlock(&r->mu);
	if (drop)
		relay_creds_free(old);
	if (r->creds_failed || old)
		relay_log(r, 2, "relay credentials loaded from %s", r->o.cert_file);
	r->creds_failed = false;
}

struct relay_creds *relay_creds_get(struct recap_relay *r)
{
	pthread_mutex_lock(&r->mu);
	struct relay_creds *c = r->creds;
	if (c)
		c->refs++;
	pthread_mutex_unlock(&r->mu);
	return c;
}

void relay_creds_put(struct recap_relay *r, struct relay_creds *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&r->mu);
	bool drop = --c->refs == 0;
	pthread_mutex_unlock(&r->mu);
	if (drop)
		relay_creds_free(c);
}

static int tls_error(struct recap_error **err, int r, const char *what)
{
	char msg[160];
	mbedtls_strerror(r, msg, sizeof(msg));
	return recap_error_set(err, EPROTO, "TLS: %s: %s", what, msg);
}

int relay_tls_tickets_setup(struct recap_relay *r, struct recap_error **err)
{
	int ret = mbedtls_ctr_drbg_seed(&r->ticket_drbg, mbedtls_entropy_func, &r->ticket_entropy, NULL, 0);
	if (ret == 0)
		ret = mbedtls_ssl_ticket_setup(&r->ticket, mbedtls_ctr_drbg_random, &r->ticket_drbg,
					       MBEDTLS_CIPHER_AES_256_GCM, RELAY_TICKET_LIFETIME_S);
	if (ret != 0)
		return tls_error(err, ret, "session tickets");
	r->tickets = true;
	return 0;
}

static int setup(struct relay_conn *c, struct recap_error **err)
{
	struct relay_creds *k = c->creds;
	int r = mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->entropy, NULL, 0);
	if (r != 0)
		return tls_error(err, r, "random source");
	/* mbedTLS wants the PEM's terminating NUL counted */
	if ((r = mbedtls_x509_crt_parse(&c->cert, (const unsigned char *)k->cert, k->cert_len + 1)) != 0)
		return tls_error(err, r, c->r->o.cert_file);
	if ((r = mbedtls_pk_parse_key(&c->key, (const unsigned char *)k->key, k->key_len + 1, NULL, 0)) != 0)
		return tls_error(err, r, c->r->o.key_file);
	if ((r = mbedtls_x509_crt_parse(&c->ca, (const unsigned char *)k->ca, k->ca_len + 1)) != 0)
		return tls_error(err, r, c->r->o.ca_file);
	if ((r = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
					     MBEDTLS_SSL_PRESET_DEFAULT)) != 0)
		return tls_error(err, r, "configuration");
	mbedtls_ssl_conf_min_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &c->drbg);
	mbedtls_ssl_conf_ca_chain(&c->conf, &c->ca, NULL);
	mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	if (c->r->tickets)
		mbedtls_ssl_conf_session_tickets_cb(&c->conf, mbedtls_ssl_ticket_write,
						    mbedtls_ssl_ticket_parse, &c->r->ticket);
	if ((r = mbedtls_ssl_conf_own_cert(&c->conf, &c->cert, &c->key)) != 0)
		return tls_error(err, r, "certificate and key");
	if ((r = mbedtls_ssl_setup(&c->ssl, &c->conf)) != 0)
		return tls_error(err, r, "session");
	c->net.fd = c->fd;
	mbedtls_ssl_set_bio(&c->ssl, &c->net, mbedtls_net_send, mbedtls_net_recv, NULL);
	return 0;
}

static bool common_name_is(const mbedtls_x509_crt *crt, const char *want)
{
	for (const mbedtls_x509_name *n = &crt->subject; n; n = n->next)
		if (n->oid.p && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0)
			return n->val.len == strlen(want) && memcmp(n->val.p, want, n->val.len) == 0;
	return false;
}

/* The chain was verified in the handshake (VERIFY_REQUIRED); who it is is ours. */
static int check_peer(struct relay_conn *c, struct recap_error **err)
{
	const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&c->ssl);
	if (!peer)
		return recap_error_set(err, EACCES, "the client presented no certificate");
	if (mbedtls_x509_crt_check_extended_key_usage(peer, MBEDTLS_OID_CLIENT_AUTH,
						      MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)) != 0)
		return recap_error_set(err, EACCES,
				       "the client certificate is not for client authentication");
	if (!common_name_is(peer, c->r->o.client_name))
		return recap_error_set(err, EACCES, "the client certificate does not name %s",
				       c->r->o.client_name);
	return 0;
}

int relay_tls_accept(struct relay_conn *c, struct recap_error **err)
{
	mbedtls_entropy_init(&c->entropy);
	mbedtls_ctr_drbg_init(&c->drbg);
	mbedtls_x509_crt_init(&c->ca);
	mbedtls_x509_crt_init(&c->cert);
	mbedtls_pk_init(&c->key);
	mbedtls_ssl_config_init(&c->conf);
	mbedtls_ssl_init(&c->ssl);
	int r = setup(c, err);
	if (r < 0)
		return r;
	while ((r = mbedtls_ssl_handshake(&c->ssl)) != 0) {
		if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
			return recap_error_set(err, ETIMEDOUT, "TLS handshake timed out");
		if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
			char why[256];
			mbedtls_x509_crt_verify_info(why, sizeof(why), "",
						     mbedtls_ssl_get_verify_result(&c->ssl));
			why[strcspn(why, "\n")] = '\0';
			return recap_error_set(err, EACCES, "the client certificate was refused: %s", why);
		}
		if (r == MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE)
			return recap_error_set(err, EACCES,
					       "the client certificate was refused: it is not for client "
					       "authentication, or it does not parse");
		return tls_error(err, r, "handshake");
	}
	return check_peer(c, err);
}

void relay_tls_close(struct relay_conn *c)
{
	(void)mbedtls_ssl_close_notify(&c->ssl);
	mbedtls_ssl_free(&c->ssl);
	mbedtls_ssl_config_free(&c->conf);
	mbedtls_pk_free(&c->key);
	mbedtls_x509_crt_free(&c->cert);
	mbedtls_x509_crt_free(&c->ca);
	mbedtls_ctr_drbg_free(&c->drbg);
	mbedtls_entropy_free(&c->entropy);
}

/* The socket blocks with timeouts (SO_SNDTIMEO, SO_RCVTIMEO): WANT_* here
 * means one passed, as does a failed send with EAGAIN (-ETIMEDOUT: the
 * client took nothing for write_timeout_s); -EPIPE when it went away. */
int relay_tls_write(struct relay_conn *c, const void *p, size_t n)
{
	const unsigned char *b = p;
	while (n > 0) {
		errno = 0;
		int w = mbedtls_ssl_write(&c->ssl, b, n);
		if (w == MBEDTLS_ERR_SSL_WANT_WRITE ||
		    (w == MBEDTLS_ERR_NET_SEND_FAILED && (errno == EAGAIN || errno == EWOULDBLOCK)))
			return -ETIMEDOUT;
		if (w <= 0)
			return -EPIPE;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t relay_tls_read(struct relay_conn *c, void *p, size_t n)
{
	int r = mbedtls_ssl_read(&c->ssl, p, n);
	if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || r == 0)
		return 0;
	return r < 0 ? -EIO : r;
}

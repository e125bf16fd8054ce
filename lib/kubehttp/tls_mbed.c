/* mbedTLS glue. mbedTLS 2.28 checks DNS names only, so a certificate for an
 * IP-literal server (the in-cluster service address, a test cluster on
 * 127.0.0.1) is checked here against its iPAddress subjectAltNames. */
#include "kubehttp/tls_mbed.h"

#include <arpa/inet.h>
#include <errno.h>
#include <mbedtls/asn1.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct recap_tls_config {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_x509_crt ca, cert;
	mbedtls_pk_context key;
	mbedtls_ssl_config conf;
	bool insecure;
	unsigned refs; /* the owner's and one per session */
};

struct recap_tls_session {
	mbedtls_ssl_context ssl;
	mbedtls_net_context net;
	struct recap_tls_config *config; /* a reference */
	unsigned char ip[16];
	size_t ip_len; /* 0: the host is a DNS name */
	bool verify;
};

static int tls_error(struct recap_error **err, int r, const char *what)
{
	char msg[160];
	mbedtls_strerror(r, msg, sizeof(msg));
	recap_error_set(err, EPROTO, "TLS: %s: %s", what, msg);
	return RECAP_TLS_ERROR;
}

void recap_tls_config_free(struct recap_tls_config *c)
{
	if (!c || --c->refs)
		return;
	mbedtls_ssl_config_free(&c->conf);
	mbedtls_pk_free(&c->key);
	mbedtls_x509_crt_free(&c->cert);
	mbedtls_x509_crt_free(&c->ca);
	mbedtls_ctr_drbg_free(&c->drbg);
	mbedtls_entropy_free(&c->entropy);
	free(c);
}

/* mbedTLS wants the PEM's terminating NUL counted. */
static size_t pem_len(size_t len)
{
	return len + 1;
}

static int load_credentials(struct recap_tls_config *c, const struct recap_kube_http_tls *t,
			    struct recap_error **err)
{
	int r;
	if (t->ca &&
	    (r = mbedtls_x509_crt_parse(&c->ca, (const unsigned char *)t->ca, pem_len(t->ca_len))) != 0)
		return tls_error(err, r, "certificate authority");
	if (t->ca)
		mbedtls_ssl_conf_ca_chain(&c->conf, &c->ca, NULL);
	if (!t->cert)
		return 0;
	if ((r = mbedtls_x509_crt_parse(&c->cert, (const unsigned char *)t->cert, pem_len(t->cert_len))) != 0)
		return tls_error(err, r, "client certificate");
	if (!t->key)
		return recap_error_set(err, EINVAL, "TLS: a client certificate without a key");
	if ((r = mbedtls_pk_parse_key(&c->key, (const unsigned char *)t->key, pem_len(t->key_len), NULL,
				      0)) != 0)
		return tls_error(err, r, "client key");
	if ((r = mbedtls_ssl_conf_own_cert(&c->conf, &c->cert, &c->key)) != 0)
		return tls_error(err, r, "client certificate and key");
	return 0;
}

int recap_tls_config_new(const struct recap_kube_http_tls *t, struct recap_tls_config **ret,
			 struct recap_error **err)
{
	struct recap_tls_config *c = calloc(1, sizeof(*c));
	if (!c)
		return recap_error_set(err, ENOMEM, "out of memory");
	mbedtls_entropy_init(&c->entropy);
	mbedtls_ctr_drbg_init(&c->drbg);
	mbedtls_x509_crt_init(&c->ca);
	mbedtls_x509_crt_init(&c->cert);
	mbedtls_pk_init(&c->key);
	mbedtls_ssl_config_init(&c->conf);
	c->refs = 1;
	int r = mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->entropy, NULL, 0);
	if (r != 0)
		r = tls_error(err, r, "random source");
	else if ((r = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT,
						  MBEDTLS_SSL_TRANSPORT_STREAM,
						  MBEDTLS_SSL_PRESET_DEFAULT)) != 0)
		r = tls_error(err, r, "configuration");
	if (r == 0) {
		c->insecure = t->insecure;
		mbedtls_ssl_conf_authmode(&c->conf, t->insecure ? MBEDTLS_SSL_VERIFY_NONE
								: MBEDTLS_SSL_VERIFY_REQUIRED);
		mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &c->drbg);
		r = load_credentials(c, t, err);
	}
	if (r != 0) {
		recap_tls_config_free(c);
		return r == RECAP_TLS_ERROR ? -EPROTO : r;
	}
	*ret = c;
	return 0;
}

/* mbedtls_net_send with MSG_NOSIGNAL: a server that closed the connection
 * (a handshake it refused) is an error, never a SIGPIPE to the process. */
static int net_send(void *ctx, const unsigned char *buf, size_t len)
{
	ssize_t n = send(((mbedtls_net_context *)ctx)->fd, buf, len, MSG_NOSIGNAL);
	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	if (errno == EPIPE || errno == ECONNRESET)
		return MBEDTLS_ERR_NET_CONN_RESET;
	return MBEDTLS_ERR_NET_SEND_FAILED;
}

bool recap_tls_session_of(const struct recap_tls_session *s, const struct recap_tls_config *c)
{
	return s->config == c;
}

int recap_tls_session_new(struct recap_tls_config *c, int fd, const char *host,
			  struct recap_tls_session **ret, struct recap_error **err)
{
	struct recap_tls_session *s = calloc(1, sizeof(*s));
	if (!s)
		return recap_error_set(err, ENOMEM, "out of memory");
	mbedtls_ssl_init(&s->ssl);
	s->config = c;
	c->refs++;
	s->net.fd = fd;
	s->verify = !c->insecure;
	if (inet_pton(AF_INET, host, s->ip) == 1)
		s->ip_len = 4;
	else if (inet_pton(AF_INET6, host, s->ip) == 1)
		s->ip_len = 16;
	int r = mbedtls_ssl_setup(&s->ssl, &c->conf);
	/* No SNI for an address (RFC 6066); its check is ours, after the handshake. */
	if (r == 0 && !s->ip_len)
		r = mbedtls_ssl_set_hostname(&s->ssl, host);
	if (r != 0) {
		recap_tls_session_free(s);
		tls_error(err, r, "session");
		return -EPROTO;
	}
	mbedtls_ssl_set_bio(&s->ssl, &s->net, net_send, mbedtls_net_recv, NULL);
	*ret = s;
	return 0;
}

void recap_tls_session_free(struct recap_tls_session *s)
{
	if (!s)
		return;
	mbedtls_ssl_free(&s->ssl);
	recap_tls_config_free(s->config);
	free(s);
}

/* Whether the certificate's subjectAltName lists the IP address. */
static bool names_ip(const mbedtls_x509_crt *crt, const unsigned char *ip, size_t ip_len)
{
	unsigned char *p = crt->v3_ext.p, *end = p + crt->v3_ext.len;
	size_t len;
	if (!p || mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
		return false;
	end = p + len;
	while (p < end) {
		unsigned char *ext_end;
		mbedtls_x509_buf oid;
		int critical = 0;
		if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) !=
		    0)
			return false;
		ext_end = p + len;
		if (mbedtls_asn1_get_tag(&p, ext_end, &oid.len, MBEDTLS_ASN1_OID) != 0)
			return false;
		oid.p = p;
		p += oid.len;
		mbedtls_asn1_get_bool(&p, ext_end, &critical);
		if (mbedtls_asn1_get_tag(&p, ext_end, &len, MBEDTLS_ASN1_OCTET_STRING) != 0)
			return false;
		if (MBEDTLS_OID_CMP(MBEDTLS_OID_SUBJECT_ALT_NAME, &oid) == 0) {
			unsigned char *q = p, *qend = p + len;
			size_t n;
			if (mbedtls_asn1_get_tag(&q, qend, &n,
						 MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
				return false;
			while (q < qend) {
				unsigned char tag = *q++;
				if (mbedtls_asn1_get_len(&q, qend, &n) != 0)
					return false;
				if (tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) && n == ip_len &&
				    memcmp(q, ip, n) == 0)
					return true;
				q += n;
			}
		}
		p = ext_end;
	}
	return false;
}

int recap_tls_handshake(struct recap_tls_session *s, struct recap_error **err)
{
	int r = mbedtls_ssl_handshake(&s->ssl);
	if (r == MBEDTLS_ERR_SSL_WANT_READ)
		return RECAP_TLS_WANT_READ;
	if (r == MBEDTLS_ERR_SSL_WANT_WRITE)
		return RECAP_TLS_WANT_WRITE;
	if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
		char why[256];
		mbedtls_x509_crt_verify_info(why, sizeof(why), "", mbedtls_ssl_get_verify_result(&s->ssl));
		why[strcspn(why, "\n")] = '\0';
		recap_error_set(err, EPROTO, "TLS: server certificate verification failed: %s", why);
		return RECAP_TLS_ERROR;
	}
	if (r != 0)
		return tls_error(err, r, "handshake");
	const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&s->ssl);
	if (s->verify && s->ip_len && (!peer || !names_ip(peer, s->ip, s->ip_len))) {
		recap_error_set(err, EPROTO,
				"TLS: the server certificate does not name the server's address");
		return RECAP_TLS_ERROR;
	}
	return 0;
}

static ssize_t io_result(int r, const char *what, struct recap_error **err)
{
	if (r >= 0)
		return r;
	if (r == MBEDTLS_ERR_SSL_WANT_READ)
		return RECAP_TLS_WANT_READ;
	if (r == MBEDTLS_ERR_SSL_WANT_WRITE)
		return RECAP_TLS_WANT_WRITE;
	if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || r == MBEDTLS_ERR_NET_CONN_RESET)
		return RECAP_TLS_CLOSED;
	return tls_error(err, r, what);
}

ssize_t recap_tls_read(struct recap_tls_session *s, void *buf, size_t len, struct recap_error **err)
{
	int r = mbedtls_ssl_read(&s->ssl, buf, len);
	return r == 0 ? RECAP_TLS_CLOSED : io_result(r, "read", err);
}

ssize_t recap_tls_write(struct recap_tls_session *s, const void *buf, size_t len, struct recap_error **err)
{
	return io_result(mbedtls_ssl_write(&s->ssl, buf, len), "write", err);
}

size_t recap_tls_pending(struct recap_tls_session *s)
{
	return mbedtls_ssl_get_bytes_avail(&s->ssl);
}

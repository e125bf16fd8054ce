#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"

/* Kept for the life of the connection. */
static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static mbedtls_x509_crt ca, cert;
static mbedtls_pk_context key;
static mbedtls_ssl_config conf;
static mbedtls_ssl_context ssl;
static mbedtls_net_context net;

static int fail(const char *what, int r)
{
	char msg[200];
	mbedtls_strerror(r, msg, sizeof(msg));
	fprintf(stderr, "mbedtls: %s: %s\n", what, msg);
	return -1;
}

static int setup(const struct probe_args *a)
{
	int r;
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	mbedtls_x509_crt_init(&ca);
	mbedtls_x509_crt_init(&cert);
	mbedtls_pk_init(&key);
	mbedtls_ssl_config_init(&conf);
	mbedtls_ssl_init(&ssl);
	if ((r = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0)) != 0)
		return fail("seed", r);
	if ((r = mbedtls_x509_crt_parse_file(&ca, a->ca)) != 0)
		return fail(a->ca, r);
	if ((r = mbedtls_x509_crt_parse_file(&cert, a->cert)) != 0)
		return fail(a->cert, r);
	if ((r = mbedtls_pk_parse_keyfile(&key, a->key, NULL)) != 0)
		return fail(a->key, r);
	if ((r = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
					     MBEDTLS_SSL_PRESET_DEFAULT)) != 0)
		return fail("config", r);
	mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
	mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
	if ((r = mbedtls_ssl_conf_own_cert(&conf, &cert, &key)) != 0)
		return fail("client certificate", r);
	if ((r = mbedtls_ssl_setup(&ssl, &conf)) != 0 ||
	    (r = mbedtls_ssl_set_hostname(&ssl, "localhost")) != 0)
		return fail("setup", r);
	return 0;
}

int probe_tls_get(int fd, const struct probe_args *a, const char *req, char *line, size_t size)
{
	if (setup(a) < 0)
		return -1;
	net.fd = fd;
	mbedtls_ssl_set_bio(&ssl, &net, mbedtls_net_send, mbedtls_net_recv, NULL);
	int r = mbedtls_ssl_handshake(&ssl);
	if (r != 0)
		return fail("handshake", r);
	if ((r = mbedtls_ssl_write(&ssl, (const unsigned char *)req, strlen(req))) <= 0)
		return fail("write", r);
	unsigned char buf[4096];
	if ((r = mbedtls_ssl_read(&ssl, buf, sizeof(buf) - 1)) <= 0)
		return fail("read", r);
	buf[r] = '\0';
	buf[strcspn((char *)buf, "\r\n")] = '\0';
	snprintf(line, size, "%s", (char *)buf);
	return 0;
}

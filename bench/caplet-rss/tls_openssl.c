#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"

static int fail(const char *what)
{
	fprintf(stderr, "openssl: %s\n", what);
	ERR_print_errors_fp(stderr);
	return -1;
}

int probe_tls_get(int fd, const struct probe_args *a, const char *req, char *line, size_t size)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return fail("SSL_CTX_new");
	if (SSL_CTX_load_verify_locations(ctx, a->ca, NULL) != 1)
		return fail(a->ca);
	if (SSL_CTX_use_certificate_file(ctx, a->cert, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, a->key, SSL_FILETYPE_PEM) != 1)
		return fail("client certificate or key");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL *ssl = SSL_new(ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_set1_host(ssl, "localhost") != 1)
		return fail("SSL_new");
	if (SSL_connect(ssl) != 1)
		return fail("handshake");
	if (SSL_write(ssl, req, (int)strlen(req)) <= 0)
		return fail("write");
	char buf[4096];
	int n = SSL_read(ssl, buf, sizeof(buf) - 1);
	if (n <= 0)
		return fail("read");
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	snprintf(line, size, "%s", buf);
	return 0; /* ctx and ssl stay: the connection is held open */
}

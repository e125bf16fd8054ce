/* A minimal API-server client for memory measurement: connect to
 * 127.0.0.1:PORT, TLS with the cluster CA and a client certificate, one
 * GET, then hold the connection idle (as a watch would) until stdin closes,
 * so a script can read /proc/PID/smaps. One file per TLS library. */
#pragma once

#include <stddef.h>

struct probe_args {
	int port;
	const char *ca, *cert, *key; /* PEM files */
};

/* Implemented per TLS library: handshake on fd (verifying the server
 * against ca and the name localhost: mbedTLS 2 matches no IP
 * addresses), send req, read the answer's first
 * line into line. Returns 0 or prints why and returns -1. */
int probe_tls_get(int fd, const struct probe_args *a, const char *req, char *line, size_t size);

/* The node's relay: caplet serves a run's output and artifacts to
 * recap-apiserver, and to nothing else, over mutual TLS (docs/streaming.md).
 *
 *   GET /v1/runs/<run-id>/log?follow=true&sinceBytes=N&limitBytes=N
 *   GET /v1/runs/<run-id>/artifacts?path=P
 *   X-Recap-Node: <node>           (must name this node)
 *
 * The client must present a certificate the CA file trusts, for TLS client
 * authentication, whose common name is the configured one. Answers: 200 with
 * a chunked body that ends with its last chunk only when the stream is whole
 * (a relay cut short ends without it); or a Kubernetes Status object.
 *
 * One thread per stream, blocking I/O: a client that stops reading holds
 * only its own thread, and the run never waits for a reader (its output is
 * a file). The number of streams is bounded; credentials are re-read from
 * their files when they change. */
#pragma once

#include <stdint.h>

#include "base/error.h"

struct recap_relay;

/* Streams a tar of out/<run-id>/[path] through write(); returns an HTTP
 * status and fills *err when it cannot start (nothing written yet) or < 0
 * when the stream broke. Optional. */
typedef int (*recap_relay_write_fn)(const void *p, size_t n, void *stream);
typedef int (*recap_relay_artifacts_fn)(const char *root, const char *run_id, const char *path,
					recap_relay_write_fn write, void *stream, int (*begin)(void *stream),
					struct recap_error **err, void *userdata);

struct recap_relay_options {
	const char *address;	 /* HOST:PORT, port 0 picks one */
	const char *cert_file;	 /* this relay's certificate (PEM) */
	const char *key_file;	 /* its key */
	const char *ca_file;	 /* the CAs that sign client certificates */
	const char *client_name; /* the client's common name (default recap-apiserver) */
	const char *root;	 /* the node store: logs/<id>, out/<id>/ */
	const char *node;	 /* this node's name */
	int max_streams;	 /* default 128 */
	int write_timeout_s;	 /* a client that reads nothing this long is dropped (default 60) */
	recap_relay_artifacts_fn artifacts;
	void *artifacts_data;
	/* called from the relay's threads; must be thread-safe */
	void (*log)(int level, const char *msg, void *userdata);
	void *log_data;
};

int recap_relay_start(const struct recap_relay_options *o, struct recap_relay **ret,
		      struct recap_error **err);
int recap_relay_port(const struct recap_relay *r);
/* Streams in flight. */
int recap_relay_streams(const struct recap_relay *r);
/* Stops accepting, ends every stream (they notice within a second), waits
 * for them and frees. Accepts NULL. */
void recap_relay_stop(struct recap_relay *r);

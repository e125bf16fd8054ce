/* Where a registry is reached: the node's registry configuration as
 * containerd keeps it (config_path, e.g. /etc/containerd/certs.d), so pulls
 * by RECap and by the kubelet go to the same mirrors with the same trust.
 *
 *   <dir>/<registry>/hosts.toml     registry as a reference names it
 *                                   ("docker.io", "registry.local:5000")
 *   <dir>/_default/hosts.toml       for a registry without its own
 *
 *   server = "https://registry.local:5000"   # the upstream (default: the registry itself)
 *   ca = "/etc/certs/upstream.pem"           # the server's TLS trust (path or list)
 *   skip_verify = false
 *   [header]                                 # the server's request headers
 *     x-custom = "value"
 *   [host."https://mirror.local:5000"]       # tried first, in file order
 *     capabilities = ["pull", "resolve"]     # resolve: tags; pull: by digest
 *     ca = "mirror-ca.pem"                   # relative to the file's directory
 *     skip_verify = false
 *     override_path = false                  # true: the URL's path is the API root
 *     client = [["cert.pem", "key.pem"]]     # TLS client certificate and key
 *     dial_timeout = "5s"                    # the connection's timeout
 *     [host."https://mirror.local:5000".header]
 *       x-mirror-token = ["a", "b"]          # one header line per value
 *
 * Every key applies to its own endpoint: the top level's to the server, a
 * [host] table's to that mirror. As containerd reads them:
 *   client        "both.pem" (one file holding certificate and key),
 *                 ["both.pem"], or [["cert.pem", "key.pem"]]; paths relative
 *                 to the file's directory. libcurl presents one certificate,
 *                 so more than one is an error.
 *   header        name = "value" or name = ["v1", "v2"]; sent to the
 *                 endpoint's own origin (scheme, host, port) only, never to
 *                 a redirect's other host or to a token server, and the same
 *                 for the client certificate. At most RECAP_OCI_HOSTS_HEADERS_MAX
 *                 values, each of at most RECAP_OCI_HOSTS_HEADER_MAX bytes
 *                 with its name; a name that is not an HTTP token, and
 *                 Authorization, Proxy-Authorization, Host, Accept and the
 *                 framing headers (Content-Length, Transfer-Encoding,
 *                 Connection, Upgrade), which RECap or libcurl sets, are
 *                 errors.
 *   dial_timeout  a Go duration ("500ms", "5s", "1m30s"; ns, us, ms, s, m,
 *                 h, fractions): the connection's timeout (TCP and TLS) for
 *                 the endpoint, at most 1h; "0s": the caller's default.
 *
 * Not read: `capabilities` "push" (nothing is pushed); keys containerd does
 * not know either (ignored, as containerd ignores them); containerd's
 * fallback without a hosts.toml to Docker-style *.crt, *.cert and *.key
 * files in the directory; its `host_port_` directory names. A file is TOML;
 * this reads the subset hosts.toml files use (tables, dotted and quoted keys,
 * strings, booleans, arrays of strings and of string pairs, comments;
 * hosts_toml.c), and a document outside it, or a value a key does not take,
 * is an error naming its line. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

#define RECAP_OCI_HOSTS_MAX 8		     /* [host] tables per file */
#define RECAP_OCI_HOSTS_FILE_MAX (64 * 1024) /* bytes of one hosts.toml */
#define RECAP_OCI_HOSTS_HEADERS_MAX 16	     /* header values (lines) per endpoint */
#define RECAP_OCI_HOSTS_HEADER_MAX 1024	     /* bytes of a header's name and value */
#define RECAP_OCI_HOSTS_DIAL_TIMEOUT_MAX_MS (3600L * 1000)

enum { RECAP_OCI_CAP_PULL = 1, RECAP_OCI_CAP_RESOLVE = 2 };

struct recap_oci_header {
	char *name, *value; /* value may be "" */
};

struct recap_oci_endpoint {
	char *root;	      /* API root URL: "https://mirror.local:5000/v2" */
	char *host;	      /* "mirror.local:5000": whose credentials it gets */
	int caps;	      /* RECAP_OCI_CAP_* */
	bool plain_http;      /* an http:// URL */
	bool skip_verify;     /* TLS without verification */
	bool mirror;	      /* a [host], not the server: requests name the registry (?ns=) */
	char *ca_file;	      /* PEM bundle; NULL: the system's */
	char *client_cert;    /* PEM TLS client certificate; NULL: none */
	char *client_key;     /* its PEM private key (client_cert's own file when one holds both) */
	long dial_timeout_ms; /* 0: the caller's connect timeout */
	struct recap_oci_header header[RECAP_OCI_HOSTS_HEADERS_MAX]; /* for its origin only */
	size_t n_headers;
};

struct recap_oci_hosts {
	struct recap_oci_endpoint ep[RECAP_OCI_HOSTS_MAX + 1]; /* mirrors, then the server */
	size_t n;
};

/* The endpoints of registry: with dir (may be NULL: none), its hosts.toml
 * or _default's; the server last. api_host is where the registry answers
 * when no file says otherwise (docker.io: registry-1.docker.io);
 * plain_http and ca_file are the caller's defaults for it (the
 * --insecure-registry and --ca-file options). */
int recap_oci_hosts_load(const char *dir, const char *registry, const char *api_host, bool plain_http,
			 const char *ca_file, struct recap_oci_hosts *ret, struct recap_error **err);
/* The same from a document; file and base_dir name it in errors and
 * resolve relative ca and client paths. */
int recap_oci_hosts_parse(const char *doc, size_t len, const char *file, const char *base_dir,
			  const char *api_host, bool plain_http, const char *ca_file,
			  struct recap_oci_hosts *ret, struct recap_error **err);
void recap_oci_hosts_clear(struct recap_oci_hosts *h);

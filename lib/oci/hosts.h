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
 *   [host."https://mirror.local:5000"]       # tried first, in file order
 *     capabilities = ["pull", "resolve"]     # resolve: tags; pull: by digest
 *     ca = "mirror-ca.pem"                   # relative to the file's directory
 *     skip_verify = false
 *     override_path = false                  # true: the URL's path is the API root
 *
 * What is read: the keys above. Ignored, as containerd-only or not needed
 * to pull: `[host."...".header]` tables, `client` certificates, `dial_timeout`,
 * `capabilities` "push". A file is TOML; this reads the subset hosts.toml
 * files use (tables, dotted and quoted keys, strings, booleans, arrays of
 * strings, comments), and a document outside it is an error naming its
 * line. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

#define RECAP_OCI_HOSTS_MAX 8		     /* [host] tables per file */
#define RECAP_OCI_HOSTS_FILE_MAX (64 * 1024) /* bytes of one hosts.toml */

enum { RECAP_OCI_CAP_PULL = 1, RECAP_OCI_CAP_RESOLVE = 2 };

struct recap_oci_endpoint {
	char *root;	  /* API root URL: "https://mirror.local:5000/v2" */
	char *host;	  /* "mirror.local:5000": whose credentials it gets */
	int caps;	  /* RECAP_OCI_CAP_* */
	bool plain_http;  /* an http:// URL */
	bool skip_verify; /* TLS without verification */
	bool mirror;	  /* a [host], not the server: requests name the registry (?ns=) */
	char *ca_file;	  /* PEM bundle; NULL: the system's */
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
 * resolve relative ca paths. */
int recap_oci_hosts_parse(const char *doc, size_t len, const char *file, const char *base_dir,
			  const char *api_host, bool plain_http, const char *ca_file,
			  struct recap_oci_hosts *ret, struct recap_error **err);
void recap_oci_hosts_clear(struct recap_oci_hosts *h);

/* Registry authentication: WWW-Authenticate challenges, Bearer tokens from
 * the token endpoint, and basic credentials from a docker-style config.json
 * ({"auths": {"host": {"auth": base64("user:pass")}}}). */
#pragma once

#include <stddef.h>

#include "base/error.h"

#define RECAP_OCI_AUTH_FILE_MAX (1024 * 1024)
#define RECAP_OCI_TOKEN_MAX (1024 * 1024)

struct recap_oci_challenge {
	char scheme[16]; /* "Bearer" or "Basic" */
	char realm[2048];
	char service[512];
	char scope[1024];
};

int recap_oci_auth_parse_challenge(const char *header, struct recap_oci_challenge *ret,
				   struct recap_error **err);

/* Looks up the credentials for host in a config.json. path NULL: the
 * default ($REGISTRY_AUTH_FILE, $DOCKER_CONFIG/config.json,
 * ~/.docker/config.json), where a missing file means anonymous. *ret is
 * "Basic <base64>" or NULL when the file has none for host. */
int recap_oci_auth_lookup(const char *path, const char *host, char **ret, struct recap_error **err);
/* The same from a config.json document in memory (at most
 * RECAP_OCI_AUTH_FILE_MAX bytes); an error never quotes the document. */
int recap_oci_auth_lookup_doc(const char *doc, size_t len, const char *host, char **ret,
			      struct recap_error **err);

/* GETs a token from the challenge's realm; *ret is "Bearer <token>". */
int recap_oci_auth_fetch_token(const struct recap_oci_challenge *c, const char *default_scope,
			       const char *basic, int allow_http, const char *ca_file, char **ret,
			       struct recap_error **err);

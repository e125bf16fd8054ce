#include "oci/auth.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "oci/http.h"

/* key="quoted value" or key=token, comma separated. */
static const char *parse_param(const char *p, char *key, size_t keysz, char *val, size_t valsz)
{
	size_t k = 0, v = 0;
	while (*p == ' ' || *p == ',')
		p++;
	while (*p && *p != '=' && *p != ' ' && k + 1 < keysz)
		key[k++] = *p++;
	key[k] = '\0';
	if (*p != '=')
		return NULL;
	p++;
	int quoted = *p == '"';
	p += quoted;
	while (*p && (quoted ? *p != '"' : *p != ',')) {
		if (quoted && *p == '\\' && p[1])
			p++;
		if (v + 1 >= valsz)
			return NULL;
		val[v++] = *p++;
	}
	val[v] = '\0';
	if (quoted && *p != '"')
		return NULL;
	return p + quoted;
}

int recap_oci_auth_parse_challenge(const char *header, struct recap_oci_challenge *ret,
				   struct recap_error **err)
{
	struct recap_oci_challenge c = {0};
	const char *sp = strchr(header, ' ');
	size_t n = sp ? (size_t)(sp - header) : strlen(header);
	if (n == 0 || n >= sizeof(c.scheme))
		return recap_error_set(err, EPROTO, "unsupported authentication challenge '%.100s'", header);
	memcpy(c.scheme, header, n);
	const char *p = sp;
	while (p && *p) {
		char key[32], val[2048];
		p = parse_param(p, key, sizeof(key), val, sizeof(val));
		if (!p)
			return recap_error_set(err, EPROTO, "malformed authentication challenge '%.200s'",
					       header);
		char *dst = strcasecmp(key, "realm") == 0     ? c.realm
			    : strcasecmp(key, "service") == 0 ? c.service
			    : strcasecmp(key, "scope") == 0   ? c.scope
							      : NULL;
		size_t cap = dst == c.realm	? sizeof(c.realm)
			     : dst == c.service ? sizeof(c.service)
						: sizeof(c.scope);
		if (dst && snprintf(dst, cap, "%s", val) >= (int)cap)
			return recap_error_set(err, E2BIG, "authentication challenge parameter '%s' too long",
					       key);
		while (*p == ' ')
			p++;
	}
	if (strcasecmp(c.scheme, "Bearer") != 0 && strcasecmp(c.scheme, "Basic") != 0)
		return recap_error_set(err, EPROTO, "unsupported authentication scheme '%s'", c.scheme);
	if (strcasecmp(c.scheme, "Bearer") == 0 && !c.realm[0])
		return recap_error_set(err, EPROTO, "Bearer challenge without a realm");
	*ret = c;
	return 0;
}

static char *default_auth_file(void)
{
	const char *env = getenv("REGISTRY_AUTH_FILE");
	char *p = NULL;
	if (env && *env)
		return strdup(env);
	env = getenv("DOCKER_CONFIG");
	if (env && *env)
		return asprintf(&p, "%s/config.json", env) < 0 ? NULL : p;
	env = getenv("HOME");
	if (env && *env)
		return asprintf(&p, "%s/.docker/config.json", env) < 0 ? NULL : p;
	return NULL;
}

static json_t *find_entry(json_t *auths, const char *host)
{
	char key[600];
	static const struct {
		const char *prefix, *suffix;
	} forms[] = {{"", ""}, {"https://", ""}, {"http://", ""}, {"https://", "/v1/"}, {"https://", "/v2/"}};
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		snprintf(key, sizeof(key), "%s%s%s", forms[i].prefix, host, forms[i].suffix);
		json_t *e = json_object_get(auths, key);
		if (e)
			return e;
	}
	if (strcmp(host, "docker.io") == 0 || strcmp(host, "registry-1.docker.io") == 0)
		return json_object_get(auths, "https://index.docker.io/v1/");
	return NULL;
}

static int check_basic(const char *b64, const char *host, struct recap_error **err)
{
	size_t n = strlen(b64);
	if (n == 0 || n % 4 != 0 || n > 8192)
		return recap_error_set(err, EINVAL, "credentials for %s: 'auth' is not base64", host);
	_cleanup_free_ unsigned char *raw = malloc(n);
	if (!raw)
		return -ENOMEM;
	int len = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
	if (len < 0 || !memchr(raw, ':', len))
		return recap_error_set(err, EINVAL,
				       "credentials for %s: 'auth' is not base64 of user:password", host);
	return 0;
}

/* The credentials for host in a parsed config.json; what names the
 * document in an error is what. */
static int lookup_in(json_t *cfg, const char *what, const char *host, char **ret, struct recap_error **err)
{
	json_t *auths = json_object_get(cfg, "auths");
	json_t *e = json_is_object(auths) ? find_entry(auths, host) : NULL;
	const char *b64 = json_string_value(json_object_get(e, "auth"));
	if (!b64)
		return 0;
	int r = check_basic(b64, host, err);
	if (r < 0)
		return recap_error_wrap(err, -r, "%s", what);
	char *v = NULL;
	if (asprintf(&v, "Basic %s", b64) < 0)
		return -ENOMEM;
	*ret = v;
	return 0;
}

int recap_oci_auth_lookup_doc(const char *doc, size_t len, const char *host, char **ret,
			      struct recap_error **err)
{
	*ret = NULL;
	if (len > RECAP_OCI_AUTH_FILE_MAX)
		return recap_error_set(err, EFBIG, "the registry credentials are over %d bytes",
				       RECAP_OCI_AUTH_FILE_MAX);
	json_error_t je;
	_cleanup_json_ json_t *cfg = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(cfg))
		return recap_error_set(err, EINVAL,
				       "the registry credentials are not a JSON object (line %d, column %d)",
				       je.line, je.column);
	return lookup_in(cfg, "the registry credentials", host, ret, err);
}

int recap_oci_auth_lookup(const char *path, const char *host, char **ret, struct recap_error **err)
{
	_cleanup_free_ char *def = path ? NULL : default_auth_file();
	const char *file = path ? path : def;
	*ret = NULL;
	if (!file || (!path && access(file, F_OK) < 0))
		return 0;
	_cleanup_json_ json_t *cfg = NULL;
	int r = recap_json_load_file(file, RECAP_OCI_AUTH_FILE_MAX, &cfg, err);
	if (r < 0)
		return recap_error_wrap(err, -r, "auth file %s", file);
	_cleanup_free_ char *what = NULL;
	if (asprintf(&what, "auth file %s", file) < 0)
		return -ENOMEM;
	return lookup_in(cfg, what, host, ret, err);
}

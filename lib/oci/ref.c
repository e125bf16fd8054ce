#include "oci/ref.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "oci/digest.h"

static int is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static int check_component(const char *s, size_t n)
{
	if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return -EINVAL;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (is_lower_alnum(c))
			continue;
		if (c == '.' || c == '_') {
			size_t run = 1;
			while (i + run < n && s[i + run] == c)
				run++;
			if (run > (c == '_' ? 2u : 1u))
				return -EINVAL;
			i += run - 1;
		} else if (c != '-') {
			return -EINVAL;
		}
	}
	return 0;
}

int recap_oci_ref_check_repository(const char *repo, struct recap_error **err)
{
	size_t len = strlen(repo);
	if (len == 0)
		return recap_error_set(err, EINVAL, "empty repository name");
	if (len > RECAP_OCI_REPO_MAX)
		return recap_error_set(err, EINVAL, "repository name is %zu characters long (limit %d)", len,
				       RECAP_OCI_REPO_MAX);
	const char *p = repo;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (check_component(p, n) < 0)
			return recap_error_set(err, EINVAL,
					       "invalid repository '%s': component '%.*s' must be lowercase "
					       "letters and digits separated by '.', '_', '__' or '-'",
					       repo, (int)n, p);
		if (!slash)
			return 0;
		p = slash + 1;
	}
}

int recap_oci_ref_check_tag(const char *tag, struct recap_error **err)
{
	size_t len = strlen(tag);
	if (len == 0)
		return recap_error_set(err, EINVAL, "empty tag");
	if (len > RECAP_OCI_TAG_MAX)
		return recap_error_set(err, EINVAL, "tag is %zu characters long (limit %d)", len,
				       RECAP_OCI_TAG_MAX);
	for (size_t i = 0; i < len; i++) {
		char c = tag[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '_' || (i > 0 && (c == '.' || c == '-'));
		if (!ok)
			return recap_error_set(err, EINVAL,
					       "invalid tag '%s': character %zu ('%c') not allowed", tag, i,
					       c >= 0x20 && c < 0x7f ? c : '?');
	}
	return 0;
}

static int check_port(const char *p, const char *host, struct recap_error **err)
{
	size_t n = strlen(p);
	long port = 0;
	if (n == 0 || n > 5)
		return recap_error_set(err, EINVAL, "invalid port in registry '%s'", host);
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return recap_error_set(err, EINVAL, "invalid port in registry '%s'", host);
		port = port * 10 + (p[i] - '0');
	}
	if (port < 1 || port > 65535)
		return recap_error_set(err, EINVAL, "port out of range in registry '%s'", host);
	return 0;
}

int recap_oci_ref_check_host(const char *host, struct recap_error **err)
{
	const char *colon = strchr(host, ':');
	size_t n = colon ? (size_t)(colon - host) : strlen(host);
	if (n == 0 || n > RECAP_OCI_HOST_MAX)
		return recap_error_set(err, EINVAL, "invalid registry host '%.300s': length %zu (1..%d)",
				       host, n, RECAP_OCI_HOST_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = host[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 ((c == '.' || c == '-') && i > 0 && i + 1 < n);
		if (!ok)
			return recap_error_set(err, EINVAL,
					       "invalid registry host '%.300s': character %zu not allowed",
					       host, i);
	}
	return colon ? check_port(colon + 1, host, err) : 0;
}

void recap_oci_ref_free(struct recap_oci_ref *r)
{
	if (!r)
		return;
	free(r->registry);
	free(r->repository);
	free(r->layout_dir);
	free(r->tag);
	free(r->digest);
	free(r->canonical);
	free(r);
}

const char *recap_oci_ref_api_host(const struct recap_oci_ref *r)
{
	if (r->registry && strcmp(r->registry, "docker.io") == 0)
		return "registry-1.docker.io";
	return r->registry;
}

static int set_canonical(struct recap_oci_ref *r)
{
	free(r->canonical);
	r->canonical = NULL;
	const char *base = r->kind == RECAP_OCI_REF_LAYOUT ? r->layout_dir : r->registry;
	int n = asprintf(&r->canonical, "%s%s%s%s%s%s%s", r->kind == RECAP_OCI_REF_LAYOUT ? "oci:" : "", base,
			 r->repository ? "/" : "", r->repository ? r->repository : "", r->tag ? ":" : "",
			 r->tag ? r->tag : "", r->digest ? "@" : "");
	if (n < 0)
		return -ENOMEM;
	if (r->digest) {
		char *c = NULL;
		if (asprintf(&c, "%s%s", r->canonical, r->digest) < 0)
			return -ENOMEM;
		free(r->canonical);
		r->canonical = c;
	}
	return 0;
}

static int parse_layout(const char *s, struct recap_oci_ref *r, struct recap_error **err)
{
	const char *dir = s + 4;
	const char *colon = strrchr(dir, ':');
	if (colon && !strchr(colon, '/')) {
		if (recap_oci_ref_check_tag(colon + 1, err) < 0)
			return recap_error_wrap(err, EINVAL, "layout reference '%.200s'", s);
		r->tag = strdup(colon + 1);
		r->layout_dir = strndup(dir, colon - dir);
	} else {
		r->layout_dir = strdup(dir);
	}
	if (!r->layout_dir || (colon && !strchr(colon, '/') && !r->tag))
		return -ENOMEM;
	size_t n = strlen(r->layout_dir);
	if (n == 0)
		return recap_error_set(err, EINVAL, "layout reference '%s' names no directory", s);
	if (n > RECAP_OCI_LAYOUT_DIR_MAX)
		return recap_error_set(err, EINVAL, "layout directory is %zu characters long (limit %d)", n,
				       RECAP_OCI_LAYOUT_DIR_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)r->layout_dir[i] < 0x20 || r->layout_dir[i] == 0x7f)
			return recap_error_set(err, EINVAL, "layout directory contains a control character");
	r->kind = RECAP_OCI_REF_LAYOUT;
	return 0;
}

/* Splits "name[:tag]" (a ':' after the last '/' starts the tag). */
static int split_tag(char *name, struct recap_oci_ref *r, struct recap_error **err)
{
	char *slash = strrchr(name, '/');
	char *colon = strrchr(slash ? slash : name, ':');
	if (!colon)
		return 0;
	*colon = '\0';
	int ret = recap_oci_ref_check_tag(colon + 1, err);
	if (ret < 0)
		return ret;
	r->tag = strdup(colon + 1);
	return r->tag ? 0 : -ENOMEM;
}

static int split_registry(const char *name, struct recap_oci_ref *r, struct recap_error **err)
{
	const char *slash = strchr(name, '/');
	int has_host = slash && (memchr(name, '.', slash - name) || memchr(name, ':', slash - name) ||
				 (slash - name == 9 && strncmp(name, "localhost", 9) == 0));
	if (has_host) {
		r->registry = strndup(name, slash - name);
		if (!r->registry)
			return -ENOMEM;
		int ret = recap_oci_ref_check_host(r->registry, err);
		if (ret < 0)
			return ret;
		r->repository = strdup(slash + 1);
	} else {
		r->registry = strdup("docker.io");
		if (asprintf(&r->repository, "%s%s", slash ? "" : "library/", name) < 0)
			r->repository = NULL;
	}
	if (!r->registry || !r->repository)
		return -ENOMEM;
	if (strcmp(r->registry, "docker.io") == 0 && !strchr(r->repository, '/')) {
		char *full = NULL;
		if (asprintf(&full, "library/%s", r->repository) < 0)
			return -ENOMEM;
		free(r->repository);
		r->repository = full;
	}
	return recap_oci_ref_check_repository(r->repository, err);
}

static int parse_registry(const char *s, struct recap_oci_ref *r, struct recap_error **err)
{
	_cleanup_free_ char *name = strdup(s);
	if (!name)
		return -ENOMEM;
	char *at = strchr(name, '@');
	if (at) {
		*at = '\0';
		if (recap_oci_digest_validate(at + 1, err) < 0)
			return -EINVAL;
		r->digest = strdup(at + 1);
		if (!r->digest)
			return -ENOMEM;
	}
	int ret = split_tag(name, r, err);
	if (ret < 0)
		return ret;
	ret = split_registry(name, r, err);
	if (ret < 0)
		return ret;
	if (!r->tag && !r->digest && !(r->tag = strdup("latest")))
		return -ENOMEM;
	r->kind = RECAP_OCI_REF_REGISTRY;
	return 0;
}

int recap_oci_ref_absolute_layout(struct recap_oci_ref *r)
{
	if (r->kind != RECAP_OCI_REF_LAYOUT || r->layout_dir[0] == '/')
		return 0;
	char *abs = realpath(r->layout_dir, NULL);
	if (!abs)
		return 0;
	free(r->layout_dir);
	r->layout_dir = abs;
	return set_canonical(r);
}

int recap_oci_ref_parse(const char *s, struct recap_oci_ref **ret, struct recap_error **err)
{
	if (!s || !*s)
		return recap_error_set(err, EINVAL, "empty image reference");
	size_t len = strlen(s);
	size_t max = strncmp(s, "oci:", 4) == 0 ? RECAP_OCI_LAYOUT_DIR_MAX + 4 + 1 + RECAP_OCI_TAG_MAX
						: RECAP_OCI_REF_MAX;
	if (len > max)
		return recap_error_set(err, EINVAL, "image reference is %zu characters long (limit %zu)", len,
				       max);
	struct recap_oci_ref *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	int rc = strncmp(s, "oci:", 4) == 0 ? parse_layout(s, r, err) : parse_registry(s, r, err);
	if (rc >= 0)
		rc = set_canonical(r);
	if (rc < 0) {
		recap_oci_ref_free(r);
		if (s[0] >= 0x20 && s[0] < 0x7f && len < 300)
			return recap_error_wrap(err, -rc, "invalid image reference '%s'", s);
		return recap_error_wrap(err, -rc, "invalid image reference");
	}
	*ret = r;
	return 0;
}

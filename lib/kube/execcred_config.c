/* A kubeconfig user's `exec`: what kubectl accepts, checked with messages
 * that name the field. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "kube/execcred.h"
#include "base/base64.h"

#define EXEC_LIST_MAX 256

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void free_list(char **l)
{
	for (char **p = l; p && *p; p++)
		free(*p);
	free(l);
}

void recap_kube_exec_free(struct recap_kube_exec *e)
{
	if (!e)
		return;
	free(e->api_version);
	free(e->command);
	free_list(e->args);
	free_list(e->env);
	free(e->install_hint);
	free(e->cluster);
	free(e);
}

static char **dup_list(char *const *l)
{
	size_t n = 0;
	while (l && l[n])
		n++;
	char **out = calloc(n + 1, sizeof(*out));
	for (size_t i = 0; out && i < n; i++)
		if (!(out[i] = strdup(l[i]))) {
			free_list(out);
			return NULL;
		}
	return out;
}

struct recap_kube_exec *recap_kube_exec_dup(const struct recap_kube_exec *e)
{
	struct recap_kube_exec *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	*d = *e;
	d->api_version = strdup(e->api_version);
	d->command = strdup(e->command);
	d->args = dup_list(e->args);
	d->env = dup_list(e->env);
	d->install_hint = dup_or_null(e->install_hint);
	d->cluster = dup_or_null(e->cluster);
	if (!d->api_version || !d->command || !d->args || !d->env || (e->install_hint && !d->install_hint) ||
	    (e->cluster && !d->cluster)) {
		recap_kube_exec_free(d);
		return NULL;
	}
	return d;
}

static int str_field(json_t *o, const char *key, const char *where, bool required, const char **ret,
		     struct recap_error **err)
{
	json_t *v = json_object_get(o, key);
	*ret = NULL;
	if ((!v || json_is_null(v)) && !required)
		return 0;
	if (!json_is_string(v) || (required && !*json_string_value(v)))
		return recap_error_set(err, EINVAL, "%s.%s: %s", where, key, v ? "not a string" : "missing");
	*ret = json_string_value(v);
	return 0;
}

/* One entry of a list: made a string, or an error naming it. */
typedef int (*item_fn)(json_t *v, const char *where, size_t i, char **out, struct recap_error **err);

static int arg_item(json_t *v, const char *where, size_t i, char **out, struct recap_error **err)
{
	if (!json_is_string(v))
		return recap_error_set(err, EINVAL, "%s.args[%zu]: not a string", where, i);
	*out = strdup(json_string_value(v));
	return *out ? 0 : -ENOMEM;
}

static int env_item(json_t *v, const char *where, size_t i, char **out, struct recap_error **err)
{
	const char *name = recap_json_str(v, "name"), *value = recap_json_str(v, "value");
	if (!name || !*name || strchr(name, '=') || !value)
		return recap_error_set(err, EINVAL, "%s.env[%zu]: needs a name (without '=') and a value",
				       where, i);
	if (asprintf(out, "%s=%s", name, value) < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* exec.<key>: at most EXEC_LIST_MAX entries, a NULL-terminated array (set
 * in *ret even on error, for the caller to free). */
static int parse_list(json_t *exec, const char *key, const char *where, item_fn item, char ***ret,
		      struct recap_error **err)
{
	json_t *a = json_object_get(exec, key), *v;
	if (a && !json_is_null(a) && (!json_is_array(a) || json_array_size(a) > EXEC_LIST_MAX))
		return recap_error_set(err, EINVAL, "%s.%s: not a list of at most %d entries", where, key,
				       EXEC_LIST_MAX);
	char **out = calloc(json_array_size(a) + 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	*ret = out;
	size_t i;
	json_array_foreach (a, i, v) {
		int r = item(v, where, i, &out[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_mode(json_t *exec, const char *where, const char *version,
		      enum recap_kube_exec_interactive *ret, struct recap_error **err)
{
	const char *mode;
	int r = str_field(exec, "interactiveMode", where, false, &mode, err);
	if (r < 0)
		return r;
	if (!mode || !*mode) {
		/* v1 makes it say; v1beta1 defaulted to IfAvailable */
		if (strcmp(version, "client.authentication.k8s.io/v1") == 0)
			return recap_error_set(
			    err, EINVAL, "%s.interactiveMode: required for %s (Never, IfAvailable or Always)",
			    where, version);
		*ret = RECAP_KUBE_EXEC_IF_AVAILABLE;
	} else if (strcmp(mode, "Never") == 0) {
		*ret = RECAP_KUBE_EXEC_NEVER;
	} else if (strcmp(mode, "IfAvailable") == 0) {
		*ret = RECAP_KUBE_EXEC_IF_AVAILABLE;
	} else if (strcmp(mode, "Always") == 0) {
		*ret = RECAP_KUBE_EXEC_ALWAYS;
	} else {
		return recap_error_set(
		    err, EINVAL, "%s.interactiveMode: '%s' is not Never, IfAvailable or Always", where, mode);
	}
	return 0;
}

/* ExecCredential spec.cluster: the cluster's connection details, and the
 * config of its extension "client.authentication.k8s.io/exec". */
static int cluster_info(json_t *cluster, const char *ca_pem, size_t ca_len, char **ret)
{
	_cleanup_json_ json_t *c = json_object();
	if (!c)
		return -ENOMEM;
	static const char *const copied[] = {"server", "tls-server-name", "insecure-skip-tls-verify",
					     "proxy-url", "disable-compression"};
	for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++) {
		json_t *v = json_object_get(cluster, copied[i]);
		if (v && !json_is_null(v))
			json_object_set(c, copied[i], v);
	}
	if (ca_pem) {
		_cleanup_free_ char *b64 = recap_base64_encode(ca_pem, ca_len);
		if (!b64)
			return -ENOMEM;
		json_object_set_new(c, "certificate-authority-data", json_string(b64));
	}
	json_t *ext, *e;
	size_t i;
	if ((ext = json_object_get(cluster, "extensions")) && json_is_array(ext))
		json_array_foreach (ext, i, e)
			if (strcmp(recap_json_str(e, "name") ?: "", "client.authentication.k8s.io/exec") == 0)
				json_object_set(c, "config", json_object_get(e, "extension"));
	*ret = json_dumps(c, JSON_COMPACT);
	return *ret ? 0 : -ENOMEM;
}

static int resolve_command(const char *command, const char *base_dir, char **ret)
{
	/* as kubectl: a relative path with a slash is the kubeconfig's; a bare
	 * name is looked up in PATH when run */
	if (command[0] != '/' && strchr(command, '/') && base_dir)
		return asprintf(ret, "%s/%s", base_dir, command) < 0 ? -ENOMEM : 0;
	*ret = strdup(command);
	return *ret ? 0 : -ENOMEM;
}

int recap_kube_exec_parse(json_t *exec, const char *where, const char *base_dir, json_t *cluster,
			  const char *ca_pem, size_t ca_len, struct recap_kube_exec **ret,
			  struct recap_error **err)
{
	if (!json_is_object(exec))
		return recap_error_set(err, EINVAL, "%s: not a mapping", where);
	struct recap_kube_exec *e = calloc(1, sizeof(*e));
	if (!e)
		return recap_error_set(err, ENOMEM, "out of memory");
	const char *version, *command, *hint;
	int r = str_field(exec, "apiVersion", where, true, &version, err);
	if (r >= 0 && strcmp(version, "client.authentication.k8s.io/v1") != 0 &&
	    strcmp(version, "client.authentication.k8s.io/v1beta1") != 0)
		r = recap_error_set(err, EINVAL,
				    "%s.apiVersion: '%s' is not client.authentication.k8s.io/v1 or v1beta1",
				    where, version);
	if (r >= 0)
		r = str_field(exec, "command", where, true, &command, err);
	if (r >= 0)
		r = str_field(exec, "installHint", where, false, &hint, err);
	if (r >= 0)
		r = parse_list(exec, "args", where, arg_item, &e->args, err);
	if (r >= 0)
		r = parse_list(exec, "env", where, env_item, &e->env, err);
	if (r >= 0)
		r = parse_mode(exec, where, version, &e->interactive, err);
	json_t *provide = json_object_get(exec, "provideClusterInfo");
	if (r >= 0 && provide && !json_is_boolean(provide))
		r = recap_error_set(err, EINVAL, "%s.provideClusterInfo: not a boolean", where);
	if (r >= 0 &&
	    (!(e->api_version = strdup(version)) || resolve_command(command, base_dir, &e->command) < 0 ||
	     (hint && !(e->install_hint = strdup(hint))) ||
	     (json_is_true(provide) && cluster_info(cluster, ca_pem, ca_len, &e->cluster) < 0)))
		r = recap_error_set(err, ENOMEM, "out of memory");
	if (r < 0) {
		if (r == -ENOMEM && err && !*err)
			recap_error_set(err, ENOMEM, "out of memory");
		recap_kube_exec_free(e);
		return r;
	}
	*ret = e;
	return 0;
}

/* The parts of an image config the runtime uses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "oci/manifest.h"

#define CONFIG_LIST_MAX 4096
#define CONFIG_STR_MAX 65536

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static int parse_strv(json_t *j, const char *what, char ***ret, struct recap_error **err)
{
	*ret = NULL;
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_array(j))
		return recap_error_set(err, EBADMSG, "image config %s is not an array", what);
	size_t n = json_array_size(j);
	if (n > CONFIG_LIST_MAX)
		return recap_error_set(err, E2BIG, "image config %s has %zu entries (limit %d)", what, n,
				       CONFIG_LIST_MAX);
	char **v = calloc(n + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(j, i));
		if (!s || strlen(s) > CONFIG_STR_MAX) {
			strv_free(v);
			return recap_error_set(err, EBADMSG,
					       "image config %s[%zu] is not a string (max %d bytes)", what, i,
					       CONFIG_STR_MAX);
		}
		if (!(v[i] = strdup(s))) {
			strv_free(v);
			return -ENOMEM;
		}
	}
	*ret = v;
	return 0;
}

static int parse_str(json_t *j, const char *what, char **ret, struct recap_error **err)
{
	*ret = NULL;
	if (!j || json_is_null(j))
		return 0;
	const char *s = json_string_value(j);
	if (!s || strlen(s) > CONFIG_STR_MAX)
		return recap_error_set(err, EBADMSG, "image config %s is not a string", what);
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

int recap_oci_config_parse(const char *data, size_t len, struct recap_oci_config **ret,
			   struct recap_error **err)
{
	_cleanup_json_ json_t *j = NULL;
	int r = recap_json_parse(data, len, RECAP_OCI_CONFIG_MAX, &j, err);
	if (r < 0) {
		recap_error_wrap(err, EBADMSG, "malformed image config");
		return -EBADMSG;
	}
	if (!json_is_object(j))
		return recap_error_set(err, EBADMSG, "malformed image config: not an object");
	struct recap_oci_config *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	json_t *cfg = json_object_get(j, "config");
	r = parse_strv(json_object_get(cfg, "Env"), "Env", &c->env, err);
	if (r >= 0)
		r = parse_strv(json_object_get(cfg, "Entrypoint"), "Entrypoint", &c->entrypoint, err);
	if (r >= 0)
		r = parse_strv(json_object_get(cfg, "Cmd"), "Cmd", &c->cmd, err);
	if (r >= 0)
		r = parse_str(json_object_get(cfg, "WorkingDir"), "WorkingDir", &c->working_dir, err);
	if (r >= 0)
		r = parse_str(json_object_get(cfg, "User"), "User", &c->user, err);
	if (r >= 0) {
		snprintf(c->os, sizeof(c->os), "%s", recap_json_str(j, "os") ? recap_json_str(j, "os") : "");
		snprintf(c->arch, sizeof(c->arch), "%s",
			 recap_json_str(j, "architecture") ? recap_json_str(j, "architecture") : "");
		c->n_diff_ids = json_array_size(recap_json_path(j, "rootfs.diff_ids"));
	}
	if (r < 0) {
		recap_oci_config_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

void recap_oci_config_free(struct recap_oci_config *c)
{
	if (!c)
		return;
	strv_free(c->env);
	strv_free(c->entrypoint);
	strv_free(c->cmd);
	free(c->working_dir);
	free(c->user);
	free(c);
}

/* CapsuleExecution -> executor spec (docs/executor-spec.md). */
#include "caplet/spec.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/check.h"
#include "api/runid.h"
#include "api/types.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "base/quantity.h"
#include "base/timeutil.h"

int recap_caplet_run_id(const char *uid, char out[RECAP_CAPLET_RUN_ID_MAX], struct recap_error **err)
{
	return recap_api_run_id(uid, out, err);
}

int recap_caplet_deadline_left(json_t *exec, int64_t now, int64_t *ret, struct recap_error **err)
{
	const char *d = recap_api_exec_spec_deadline(exec);
	if (!d) {
		*ret = INT64_MAX;
		return 0;
	}
	time_t t;
	if (recap_time_parse(d, &t) < 0)
		return recap_error_set(err, EINVAL, "spec.deadline '%s' is not an RFC 3339 time", d);
	*ret = (int64_t)t - now;
	return 0;
}

/* key of the executor spec from q, the Capsule field at path (for messages) */
static int set_quantity(json_t *spec, const char *key, json_t *q, const char *path, struct recap_error **err)
{
	if (!q)
		return 0;
	if (json_is_string(q))
		return json_object_set(spec, key, q);
	if (json_is_integer(q) || json_is_real(q)) {
		char s[64];
		if (json_is_integer(q))
			snprintf(s, sizeof(s), "%" JSON_INTEGER_FORMAT, json_integer_value(q));
		else
			snprintf(s, sizeof(s), "%g", json_real_value(q));
		return json_object_set_new(spec, key, json_string(s));
	}
	return recap_error_set(err, EINVAL, "spec.capsule.%s is not a quantity", path);
}

static int security(json_t *spec, json_t *cap, const char *seccomp_dir, struct recap_error **err)
{
	int64_t uid = recap_api_profile_security_run_as_user(cap),
		gid = recap_api_profile_security_run_as_group(cap);
	if (uid < 0 || gid < 0 || uid > UINT32_MAX - 1 || gid > UINT32_MAX - 1)
		return recap_error_set(err, EINVAL,
				       "spec.capsule.security.runAsUser/runAsGroup out of range");
	if (uid || gid) {
		char user[48];
		snprintf(user, sizeof(user), "%lld:%lld", (long long)uid, (long long)gid);
		json_object_set_new(spec, "user", json_string(user));
	}
	json_t *add = recap_api_profile_security_capabilities_add(cap);
	if (add)
		json_object_set(spec, "capAdd", add);
	json_t *drop = recap_api_profile_security_capabilities_drop(cap);
	if (drop)
		json_object_set(spec, "capDrop", drop);
	enum recap_api_seccomp_profile_type type = recap_api_profile_security_seccomp_profile_type(cap);
	if (type == RECAP_API_SECCOMP_PROFILE_TYPE_RUNTIME_DEFAULT)
		return json_object_set_new(spec, "seccomp", json_string("default"));
	if (type == RECAP_API_SECCOMP_PROFILE_TYPE_UNCONFINED)
		return json_object_set_new(spec, "seccomp", json_string("unconfined"));
	const char *prof = recap_api_profile_security_seccomp_profile_localhost_profile(cap);
	if (type != RECAP_API_SECCOMP_PROFILE_TYPE_LOCALHOST || !prof || prof[0] == '/' || strstr(prof, ".."))
		return recap_error_set(err, EINVAL,
				       "spec.capsule.security.seccompProfile: bad type or profile");
	struct recap_buf b = RECAP_BUF_INIT(4096);
	int r = recap_buf_printf(&b, "%s/%s", seccomp_dir, prof);
	if (r >= 0)
		r = json_object_set_new(spec, "seccomp", json_string(b.data));
	recap_buf_free(&b);
	return r < 0 ? recap_error_set(err, ENAMETOOLONG, "seccomp profile path too long") : 0;
}

static int env_list(json_t *spec, json_t *cap, struct recap_error **err)
{
	json_t *env = recap_api_profile_env(cap);
	if (!env)
		return 0;
	json_t *out = json_array();
	size_t i;
	json_t *e;
	json_array_foreach (env, i, e) {
		const char *n = recap_api_env_name(e), *v = recap_api_env_value(e);
		struct recap_buf b = RECAP_BUF_INIT(1 << 20);
		if (!n || recap_buf_printf(&b, "%s=%s", n, v ? v : "") < 0) {
			recap_buf_free(&b);
			json_decref(out);
			return recap_error_set(err, EINVAL, "spec.capsule.env[%zu]: bad entry", i);
		}
		json_array_append_new(out, json_string(b.data));
		recap_buf_free(&b);
	}
	return json_object_set_new(spec, "env", out);
}

static int limits(json_t *spec, json_t *cap, struct recap_error **err)
{
	int r = set_quantity(spec, "cpus", recap_api_profile_resources_limits_cpu(cap),
			     RECAP_API_PROFILE_RESOURCES_LIMITS_CPU, err);
	if (r >= 0)
		r = set_quantity(spec, "memory", recap_api_profile_resources_limits_memory(cap),
				 RECAP_API_PROFILE_RESOURCES_LIMITS_MEMORY, err);
	if (r >= 0)
		r = set_quantity(spec, "outSize", recap_api_profile_output_out_size(cap),
				 RECAP_API_PROFILE_OUTPUT_OUT_SIZE, err);
	/* the whole output for `kubectl capsule logs` (the relay reads logs/<id>) */
	json_t *log = recap_api_profile_output_log_size(cap);
	if (r >= 0 && !log)
		r = json_object_set_new(spec, "logBytes", json_string(RECAP_CAPLET_LOG_SIZE_DEFAULT));
	else if (r >= 0)
		r = set_quantity(spec, "logBytes", log, RECAP_API_PROFILE_OUTPUT_LOG_SIZE, err);
	json_t *pids = recap_json_path(cap, RECAP_API_PROFILE_RESOURCES_LIMITS_PIDS);
	if (r >= 0 && pids)
		r = json_object_set(spec, "pids", pids);
	return r;
}

static int timing(json_t *spec, json_t *exec, int64_t now, struct recap_error **err)
{
	json_t *cap = recap_api_exec_spec_capsule(exec);
	int64_t timeout = recap_api_profile_timeout_seconds(cap), left;
	int r = recap_caplet_deadline_left(exec, now, &left, err);
	if (r < 0)
		return r;
	if (left < timeout)
		timeout = left < 1 ? 1 : left;
	json_object_set_new(spec, "timeoutSeconds", json_integer(timeout));
	json_object_set_new(spec, "tailBytes", json_integer(recap_api_profile_output_tail_bytes(cap)));
	/* an interactive session: a terminal, and the executor's session socket
	 * that the node's relay connects the attached user to */
	if (recap_api_profile_interactive(cap)) {
		json_object_set_new(spec, "tty", json_true());
		json_object_set_new(
		    spec, "session",
		    json_pack("{s:I, s:I}", "attachTimeoutSeconds",
			      (json_int_t)recap_api_profile_session_attach_timeout_seconds(cap),
			      "idleTimeoutSeconds",
			      (json_int_t)recap_api_profile_session_idle_timeout_seconds(cap)));
	}
	return 0;
}

static json_t *layers_json(const struct recap_caplet_image *img)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < img->n_layers; i++)
		json_array_append_new(a, json_string(img->layers[i]));
	return a;
}

int recap_caplet_spec_build(json_t *exec, const struct recap_caplet_image *img, const char *seccomp_dir,
			    int64_t now, json_t **ret, struct recap_error **err)
{
	char id[RECAP_CAPLET_RUN_ID_MAX];
	json_t *cap = recap_api_exec_spec_capsule(exec);
	int r = recap_api_check(RECAP_API_KIND_CAPSULE_EXECUTION, exec, err);
	if (r >= 0)
		r = recap_caplet_run_id(recap_api_meta_uid(exec), id, err);
	if (r < 0)
		return r;
	const char *target = recap_caplet_target_id(exec, err);
	if (!target)
		return -EINVAL;
	_cleanup_json_ json_t *spec =
	    json_pack("{s:s, s:s, s:s, s:o}", "id", id, "target", target, "image",
		      recap_api_profile_image(cap) ?: "", "layers", layers_json(img));
	if (!spec)
		return recap_error_set(err, ENOMEM, "out of memory");
	if (img->config)
		json_object_set(spec, "imageConfig", img->config);
	const char *copy[] = {RECAP_API_PROFILE_COMMAND, RECAP_API_PROFILE_JOIN,
			      RECAP_API_PROFILE_TARGET_FILESYSTEM};
	for (size_t i = 0; i < ARRAY_SIZE(copy); i++)
		if (json_object_get(cap, copy[i]))
			json_object_set(spec, copy[i], json_object_get(cap, copy[i]));
	r = env_list(spec, cap, err);
	if (r >= 0)
		r = security(spec, cap, seccomp_dir, err);
	if (r >= 0)
		r = limits(spec, cap, err);
	if (r >= 0)
		r = timing(spec, exec, now, err);
	if (r < 0)
		return r;
	*ret = steal_ptr(spec);
	return 0;
}

int recap_caplet_spec_out_size(json_t *spec, int64_t *ret)
{
	json_t *v = json_object_get(spec, "outSize");
	if (!v) {
		*ret = INT64_C(64) << 20; /* the executor's default */
		return 0;
	}
	struct recap_quantity q;
	int64_t n;
	if (!json_is_string(v) || recap_quantity_parse(json_string_value(v), &q, NULL) < 0 ||
	    recap_quantity_units(q, &n) < 0)
		return -EINVAL;
	*ret = n;
	return 0;
}

int recap_caplet_spec_set_out_size(json_t *spec, int64_t bytes)
{
	char s[32];
	snprintf(s, sizeof(s), "%lld", (long long)(bytes < (INT64_C(1) << 20) ? INT64_C(1) << 20 : bytes));
	return json_object_set_new(spec, "outSize", json_string(s));
}

/* The executor spec as one JSON document (docs/executor-spec.md). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "runtime/spec.h"

static int set_str(char **dst, json_t *doc, const char *key, struct recap_error **err)
{
	json_t *v = json_object_get(doc, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return recap_error_set(err, EINVAL, "spec: '%s' must be a string", key);
	free(*dst);
	*dst = strdup(json_string_value(v));
	return *dst ? 0 : -ENOMEM;
}

static int set_strv(struct recap_strv *dst, json_t *obj, const char *key, struct recap_error **err)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return recap_error_set(err, EINVAL, "spec: '%s' must be an array of strings", key);
	recap_strv_free(dst);
	size_t i;
	json_t *e;
	json_array_foreach (v, i, e) {
		if (!json_is_string(e))
			return recap_error_set(err, EINVAL, "spec: '%s[%zu]' must be a string", key, i);
		if (recap_strv_push(dst, json_string_value(e)) < 0)
			return recap_error_set(err, E2BIG, "spec: '%s' has too many entries", key);
	}
	return 0;
}

/* Numbers may be given as JSON numbers or as strings with units. */
static int quantity(json_t *doc, const char *key,
		    int (*parse)(const char *, int64_t *, struct recap_error **), int64_t *dst,
		    struct recap_error **err)
{
	json_t *v = json_object_get(doc, key);
	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*dst = json_integer_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		int r = parse(json_string_value(v), dst, err);
		return r < 0 ? recap_error_wrap(err, r, "spec: '%s'", key) : 0;
	}
	return recap_error_set(err, EINVAL, "spec: '%s' must be a non-negative number or a string", key);
}

static int pids_parse(const char *s, int64_t *ret, struct recap_error **err)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (end == s || *end || v < 0)
		return recap_error_set(err, EINVAL, "bad number '%s'", s);
	*ret = v;
	return 0;
}

static int cpus_parse(const char *s, int64_t *ret, struct recap_error **err)
{
	return recap_spec_parse_cpus(s, ret, err);
}

static int image_config(struct recap_run_spec *s, json_t *doc, struct recap_error **err)
{
	json_t *c = json_object_get(doc, "imageConfig");
	if (!c || json_is_null(c))
		return 0;
	if (!json_is_object(c))
		return recap_error_set(err, EINVAL, "spec: 'imageConfig' must be an object");
	int r = set_strv(&s->image_env, c, "Env", err);
	if (r >= 0)
		r = set_strv(&s->entrypoint, c, "Entrypoint", err);
	if (r >= 0)
		r = set_strv(&s->image_cmd, c, "Cmd", err);
	if (r >= 0)
		r = set_str(&s->workdir, c, "WorkingDir", err);
	return r;
}

static int strings(struct recap_run_spec *s, json_t *doc, struct recap_error **err)
{
	int r = 0;
	if (r >= 0)
		r = set_str(&s->id, doc, "id", err);
	if (r >= 0)
		r = set_str(&s->target, doc, "target", err);
	if (r >= 0)
		r = set_str(&s->image, doc, "image", err);
	if (r >= 0)
		r = set_strv(&s->layers, doc, "layers", err);
	if (r >= 0)
		r = set_strv(&s->command, doc, "command", err);
	if (r >= 0)
		r = set_strv(&s->env, doc, "env", err);
	if (r >= 0)
		r = image_config(s, doc, err);
	return r;
}

/* capAdd / capDrop: arrays of capability names ("ALL" only in capDrop). */
static int caps(json_t *doc, const char *key, bool allow_all, uint64_t *mask, struct recap_error **err)
{
	struct recap_strv l = {0};
	int r = set_strv(&l, doc, key, err);
	for (size_t i = 0; r >= 0 && i < l.n; i++) {
		if (strchr(l.v[i], ','))
			r = recap_error_set(err, EINVAL, "'%s' is not one capability name", l.v[i]);
		else
			r = recap_spec_parse_caps(l.v[i], allow_all, mask, err);
	}
	recap_strv_free(&l);
	return r < 0 ? recap_error_wrap(err, r, "spec: '%s'", key) : 0;
}

static int modes(struct recap_run_spec *s, json_t *doc, struct recap_error **err)
{
	json_t *v;
	if ((v = json_object_get(doc, "join"))) {
		struct recap_strv l = {0};
		int r = set_strv(&l, doc, "join", err);
		s->join = 0;
		for (size_t i = 0; r >= 0 && i < l.n; i++) {
			unsigned bits;
			r = recap_spec_parse_join(l.v[i], &bits, err);
			s->join |= r >= 0 ? bits : 0;
		}
		recap_strv_free(&l);
		if (r < 0)
			return recap_error_wrap(err, r, "spec: 'join'");
	}
	const char *fs = recap_json_str(doc, "targetFilesystem");
	if (fs && recap_spec_parse_target_fs(fs, &s->target_fs, err) < 0)
		return recap_error_wrap(err, -EINVAL, "spec");
	const char *sc = recap_json_str(doc, "seccomp");
	if (sc && recap_spec_parse_seccomp(s, sc, err) < 0)
		return recap_error_wrap(err, -EINVAL, "spec");
	int r = caps(doc, "capAdd", false, &s->cap_add, err);
	if (r >= 0)
		r = caps(doc, "capDrop", true, &s->cap_drop, err);
	if (r < 0)
		return r;
	if ((v = json_object_get(doc, "tty")) && json_is_boolean(v))
		s->tty = json_is_true(v);
	const char *user = recap_json_str(doc, "user");
	if (user && recap_spec_parse_user(user, &s->uid, &s->gid, err) < 0)
		return recap_error_wrap(err, -EINVAL, "spec");
	return 0;
}

static int limits(struct recap_run_spec *s, json_t *doc, struct recap_error **err)
{
	int r = quantity(doc, "memory", recap_spec_parse_bytes, &s->memory_bytes, err);
	if (r >= 0)
		r = quantity(doc, "pids", pids_parse, &s->pids, err);
	if (r >= 0)
		r = quantity(doc, "upperSize", recap_spec_parse_bytes, &s->upper_bytes, err);
	if (r >= 0)
		r = quantity(doc, "outSize", recap_spec_parse_bytes, &s->out_bytes, err);
	if (r >= 0)
		r = quantity(doc, "logBytes", recap_spec_parse_bytes, &s->log_bytes, err);
	if (r >= 0)
		r = quantity(doc, "cpuMillis", cpus_parse, &s->cpu_millis, err);
	json_t *v = json_object_get(doc, "cpus");
	if (r >= 0 && v && json_is_number(v)) {
		s->cpu_millis = (int64_t)(json_number_value(v) * 1000.0);
	} else if (r >= 0 && v && json_is_string(v)) {
		r = recap_spec_parse_cpus(json_string_value(v), &s->cpu_millis, err);
	}
	if (r >= 0 && (v = json_object_get(doc, "timeoutSeconds"))) {
		if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1e7)
			return recap_error_set(err, EINVAL, "spec: 'timeoutSeconds' must be 0..1e7");
		s->timeout_ms = (uint64_t)(json_number_value(v) * 1000.0);
	}
	int64_t tail = (int64_t)s->tail_bytes;
	if (r >= 0)
		r = quantity(doc, "tailBytes", recap_spec_parse_bytes, &tail, err);
	s->tail_bytes = (size_t)tail;
	return r;
}

/* targetPid: the container's init as the caller (caplet: the CRI) reports
 * it; only beside a container id, which its cgroup must name. */
static int target_pid(struct recap_run_spec *s, json_t *doc, struct recap_error **err)
{
	json_t *v = json_object_get(doc, "targetPid");
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 2 || json_integer_value(v) > INT_MAX)
		return recap_error_set(err, EINVAL, "spec: 'targetPid' must be a process id above 1");
	const char *t = s->target;
	if (!t || !*t || strspn(t, "0123456789") == strlen(t))
		return recap_error_set(err, EINVAL, "spec: 'targetPid' needs a container id in 'target'");
	s->target_pid = (pid_t)json_integer_value(v);
	return 0;
}

/* session: {"attachTimeoutSeconds": N, "idleTimeoutSeconds": M}, both
 * optional whole numbers (their ranges, and the tty it needs, are checked by
 * recap_spec_validate). */
static int session_seconds(json_t *obj, const char *key, int64_t *dst, struct recap_error **err)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return recap_error_set(err, EINVAL, "spec: 'session.%s' must be a whole number of seconds",
				       key);
	*dst = json_integer_value(v);
	return 0;
}

static int session(struct recap_run_spec *s, json_t *doc, struct recap_error **err)
{
	json_t *v = json_object_get(doc, "session");
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return recap_error_set(err, EINVAL, "spec: 'session' must be an object");
	const char *key;
	json_t *e;
	json_object_foreach (v, key, e) {
		if (strcmp(key, "attachTimeoutSeconds") != 0 && strcmp(key, "idleTimeoutSeconds") != 0)
			return recap_error_set(err, EINVAL,
					       "spec: unknown field 'session.%s' (attachTimeoutSeconds, "
					       "idleTimeoutSeconds)",
					       key);
	}
	s->session = true;
	int r = session_seconds(v, "attachTimeoutSeconds", &s->session_attach_s, err);
	return r < 0 ? r : session_seconds(v, "idleTimeoutSeconds", &s->session_idle_s, err);
}

int recap_spec_from_json(struct recap_run_spec *s, json_t *doc, struct recap_error **err)
{
	if (!json_is_object(doc))
		return recap_error_set(err, EINVAL, "spec: the document must be a JSON object");
	const char *known[] = {"id",	    "target",	   "image",
			       "layers",    "imageConfig", "command",
			       "env",	    "join",	   "targetFilesystem",
			       "seccomp",   "capAdd",	   "capDrop",
			       "tty",	    "memory",	   "pids",
			       "cpus",	    "cpuMillis",   "timeoutSeconds",
			       "tailBytes", "user",	   "upperSize",
			       "outSize",   "targetPid",   "logBytes",
			       "session"};
	const char *key;
	json_t *v;
	json_object_foreach (doc, key, v) {
		size_t i = 0;
		while (i < ARRAY_SIZE(known) && strcmp(known[i], key) != 0)
			i++;
		if (i == ARRAY_SIZE(known))
			return recap_error_set(err, EINVAL, "spec: unknown field '%s'", key);
	}
	int r = strings(s, doc, err);
	if (r >= 0)
		r = target_pid(s, doc, err);
	if (r >= 0)
		r = modes(s, doc, err);
	if (r >= 0)
		r = limits(s, doc, err);
	if (r >= 0)
		r = session(s, doc, err);
	/* the image's User when the spec does not say (numeric only) */
	const char *user = recap_json_at(doc, "imageConfig", "User", NULL)
			       ? json_string_value(recap_json_at(doc, "imageConfig", "User", NULL))
			       : NULL;
	if (r >= 0 && !json_object_get(doc, "user") && user && *user &&
	    recap_spec_parse_user(user, &s->uid, &s->gid, err) < 0)
		r = recap_error_wrap(err, -EINVAL, "spec: imageConfig.User (give \"user\")");
	return r;
}

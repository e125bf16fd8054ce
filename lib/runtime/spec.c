/* The executor spec: init and free, the parsers of its words (namespaces, target
 * filesystem, capabilities, seccomp) and the whole-spec validation. */
#include "runtime/spec.h"
#include "runtime/run_log.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>

#include "base/cleanup.h"

void recap_spec_init(struct recap_run_spec *s)
{
	*s = (struct recap_run_spec){
	    .join = RECAP_JOIN_DEFAULT,
	    .target_fs = RECAP_TARGET_FS_RO,
	    .seccomp = RECAP_SECCOMP_DEFAULT,
	    .grace_ms = 2000,
	    .tail_bytes = RECAP_TAIL_DEFAULT,
	    .upper_bytes = RECAP_UPPER_DEFAULT,
	    .out_bytes = RECAP_OUT_DEFAULT,
	    .uid = -1,
	    .gid = -1,
	    .session_attach_s = RECAP_SESSION_ATTACH_DEFAULT,
	    .session_idle_s = RECAP_SESSION_IDLE_DEFAULT,
	};
}

void recap_strv_free(struct recap_strv *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	*l = (struct recap_strv){0};
}

int recap_strv_push(struct recap_strv *l, const char *s)
{
	if (l->n >= RECAP_SPEC_MAX_ARGS)
		return -E2BIG;
	char **v = realloc(l->v, (l->n + 2) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->v = v;
	if (!(v[l->n] = strdup(s)))
		return -ENOMEM;
	v[++l->n] = NULL;
	return 0;
}

void recap_spec_free(struct recap_run_spec *s)
{
	free(s->id);
	free(s->target);
	free(s->image);
	free(s->workdir);
	free(s->seccomp_profile);
	recap_strv_free(&s->layers);
	recap_strv_free(&s->image_env);
	recap_strv_free(&s->entrypoint);
	recap_strv_free(&s->image_cmd);
	recap_strv_free(&s->env);
	recap_strv_free(&s->command);
}

static const struct {
	const char *name;
	unsigned bit;
} join_names[] = {
    {"net", RECAP_JOIN_NET}, {"pid", RECAP_JOIN_PID},	    {"ipc", RECAP_JOIN_IPC},
    {"uts", RECAP_JOIN_UTS}, {"cgroup", RECAP_JOIN_CGROUP},
};

static int join_one(const char *name, size_t len, unsigned *bits, struct recap_error **err)
{
	for (size_t i = 0; i < ARRAY_SIZE(join_names); i++) {
		if (strlen(join_names[i].name) == len && strncmp(join_names[i].name, name, len) == 0) {
			*bits |= join_names[i].bit;
			return 0;
		}
	}
	return recap_error_set(err, EINVAL, "unknown namespace '%.*s' (net, pid, ipc, uts, cgroup)", (int)len,
			       name);
}

int recap_spec_parse_join(const char *list, unsigned *ret, struct recap_error **err)
{
	unsigned bits = 0;
	const char *p = list;
	while (*p) {
		size_t len = strcspn(p, ",");
		if (len > 0 && join_one(p, len, &bits, err) < 0)
			return -EINVAL;
		p += len;
		if (*p == ',')
			p++;
	}
	*ret = bits;
	return 0;
}

int recap_spec_parse_target_fs(const char *s, enum recap_target_fs *ret, struct recap_error **err)
{
	if (strcasecmp(s, "none") == 0)
		*ret = RECAP_TARGET_FS_NONE;
	else if (strcasecmp(s, "ro") == 0 || strcasecmp(s, "ReadOnly") == 0)
		*ret = RECAP_TARGET_FS_RO;
	else if (strcasecmp(s, "rw") == 0 || strcasecmp(s, "ReadWrite") == 0)
		*ret = RECAP_TARGET_FS_RW;
	else
		return recap_error_set(err, EINVAL, "bad target filesystem mode '%s' (none, ro, rw)", s);
	return 0;
}

int recap_spec_parse_cap(const char *name, int *ret, struct recap_error **err)
{
	char buf[64];
	const char *n = strncasecmp(name, "CAP_", 4) == 0 ? name : NULL;
	if (!n) {
		if (snprintf(buf, sizeof(buf), "cap_%s", name) >= (int)sizeof(buf))
			return recap_error_set(err, EINVAL, "unknown capability '%.40s...'", name);
		n = buf;
	}
	char lower[64];
	size_t i = 0;
	for (; n[i] && i < sizeof(lower) - 1; i++)
		lower[i] = (char)tolower((unsigned char)n[i]);
	lower[i] = 0;
	cap_value_t v;
	if (cap_from_name(lower, &v) < 0 || v < 0 || v > 63 || !isalpha((unsigned char)lower[4]))
		return recap_error_set(err, EINVAL, "unknown capability '%s'", name);
	*ret = v;
	return 0;
}

int recap_spec_parse_caps(const char *list, bool allow_all, uint64_t *mask, struct recap_error **err)
{
	_cleanup_free_ char *copy = strdup(list);
	if (!copy)
		return recap_error_set(err, ENOMEM, "out of memory");
	char *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int cap;
		if (allow_all && strcasecmp(t, "ALL") == 0)
			*mask = RECAP_CAPS_ALL;
		else if (recap_spec_parse_cap(t, &cap, err) < 0)
			return -EINVAL;
		else
			*mask |= 1ull << cap;
	}
	return 0;
}

const char *recap_spec_cap_name(int cap)
{
	static char name[64];
	char *n = cap_to_name(cap);
	if (!n)
		return NULL;
	snprintf(name, sizeof(name), "%s", n);
	cap_free(n);
	for (char *p = name; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return name;
}

int recap_spec_parse_seccomp(struct recap_run_spec *s, const char *v, struct recap_error **err)
{
	free(s->seccomp_profile);
	s->seccomp_profile = NULL;
	if (strcasecmp(v, "default") == 0 || strcasecmp(v, "RuntimeDefault") == 0) {
		s->seccomp = RECAP_SECCOMP_DEFAULT;
	} else if (strcasecmp(v, "unconfined") == 0) {
		s->seccomp = RECAP_SECCOMP_UNCONFINED;
	} else if (*v) {
		s->seccomp = RECAP_SECCOMP_PROFILE;
		if (!(s->seccomp_profile = strdup(v)))
			return -ENOMEM;
	} else {
		return recap_error_set(err, EINVAL, "empty seccomp profile (default, unconfined or a file)");
	}
	return 0;
}

/* Whole-spec validation: every limit is checked before anything is created. */
static int check_id(const char *id, struct recap_error **err)
{
	size_t n = strlen(id);
	if (n == 0 || n > 64)
		return recap_error_set(err, EINVAL, "run id must be 1 to 64 characters");
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return recap_error_set(err, EINVAL, "run id '%s': only a-z, 0-9, '-' and '_' allowed",
					       id);
	}
	return 0;
}

static int check_layers(const struct recap_run_spec *s, struct recap_error **err)
{
	if (s->layers.n == 0)
		return recap_error_set(err, EINVAL, "no capsule layers (give an image or --rootfs-layers)");
	if (s->layers.n > RECAP_SPEC_MAX_LAYERS)
		return recap_error_set(err, E2BIG, "%zu layers exceed the limit of %d", s->layers.n,
				       RECAP_SPEC_MAX_LAYERS);
	for (size_t i = 0; i < s->layers.n; i++) {
		const char *l = s->layers.v[i];
		if (l[0] != '/')
			return recap_error_set(err, EINVAL, "layer '%s' is not an absolute path", l);
		/* overlayfs options use ',' and ':' as separators */
		if (strpbrk(l, ",:\\"))
			return recap_error_set(err, EINVAL, "layer path '%s' contains ',', ':' or '\\'", l);
	}
	return 0;
}

static int check_session(const struct recap_run_spec *s, struct recap_error **err)
{
	if (!s->session)
		return 0;
	if (!s->tty)
		return recap_error_set(
		    err, EINVAL, "'session' needs 'tty': true (a session's command runs on a terminal)");
	if (s->session_attach_s < 1 || s->session_attach_s > RECAP_SESSION_ATTACH_MAX)
		return recap_error_set(err, ERANGE,
				       "session.attachTimeoutSeconds %lld out of range (1 to %d)",
				       (long long)s->session_attach_s, RECAP_SESSION_ATTACH_MAX);
	if (s->session_idle_s < RECAP_SESSION_IDLE_MIN || s->session_idle_s > RECAP_SESSION_IDLE_MAX)
		return recap_error_set(err, ERANGE, "session.idleTimeoutSeconds %lld out of range (%d to %d)",
				       (long long)s->session_idle_s, RECAP_SESSION_IDLE_MIN,
				       RECAP_SESSION_IDLE_MAX);
	return 0;
}

int recap_spec_validate(const struct recap_run_spec *s, struct recap_error **err)
{
	if (!s->target || !*s->target)
		return recap_error_set(err, EINVAL, "no target (a container id or a pid)");
	if (s->id && check_id(s->id, err) < 0)
		return -EINVAL;
	int r = check_layers(s, err);
	if (r < 0)
		return r;
	if (s->command.n == 0 && s->entrypoint.n == 0 && s->image_cmd.n == 0)
		return recap_error_set(err, EINVAL, "no command to run (and the image has none)");
	for (size_t i = 0; i < s->env.n; i++)
		if (!strchr(s->env.v[i], '=') || s->env.v[i][0] == '=')
			return recap_error_set(err, EINVAL, "environment entry '%s' is not K=V", s->env.v[i]);
	if (s->tail_bytes > RECAP_TAIL_MAX)
		return recap_error_set(err, ERANGE, "tail bytes %zu exceed the limit of %u", s->tail_bytes,
				       RECAP_TAIL_MAX);
	if (s->memory_bytes != 0 && s->memory_bytes < (1 << 20))
		return recap_error_set(err, ERANGE, "memory limit %lld is below 1Mi",
				       (long long)s->memory_bytes);
	if (s->upper_bytes < RECAP_UPPER_MIN || s->upper_bytes > RECAP_UPPER_MAX)
		return recap_error_set(err, ERANGE, "upper size %lld out of range (1Mi to 1Ti)",
				       (long long)s->upper_bytes);
	if (s->out_bytes < RECAP_UPPER_MIN || s->out_bytes > RECAP_UPPER_MAX)
		return recap_error_set(err, ERANGE, "out size %lld out of range (1Mi to 1Ti)",
				       (long long)s->out_bytes);
	if (s->log_bytes < 0 || s->log_bytes > RECAP_RUN_LOG_MAX)
		return recap_error_set(err, ERANGE, "log size %lld out of range (0 to 1Gi)",
				       (long long)s->log_bytes);
	if (s->pids < 0 || s->pids > 4194304)
		return recap_error_set(err, ERANGE, "pids limit %lld out of range", (long long)s->pids);
	uint64_t both = s->cap_drop == RECAP_CAPS_ALL ? 0 : s->cap_add & s->cap_drop;
	if (both)
		return recap_error_set(err, EINVAL, "capability %s is both added and dropped",
				       recap_spec_cap_name(__builtin_ctzll(both)));
	if (s->seccomp == RECAP_SECCOMP_PROFILE && (!s->seccomp_profile || !*s->seccomp_profile))
		return recap_error_set(err, EINVAL, "seccomp profile file not given");
	return check_session(s, err);
}

#include "runtime/spec.h"

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

/* Whole-spec validation: every limit is checked before anything is created. */
#include <errno.h>
#include <string.h>

#include "runtime/spec.h"

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
	if (s->pids < 0 || s->pids > 4194304)
		return recap_error_set(err, ERANGE, "pids limit %lld out of range", (long long)s->pids);
	uint64_t both = s->cap_drop == RECAP_CAPS_ALL ? 0 : s->cap_add & s->cap_drop;
	if (both)
		return recap_error_set(err, EINVAL, "capability %s is both added and dropped",
				       recap_spec_cap_name(__builtin_ctzll(both)));
	if (s->seccomp == RECAP_SECCOMP_PROFILE && (!s->seccomp_profile || !*s->seccomp_profile))
		return recap_error_set(err, EINVAL, "seccomp profile file not given");
	return 0;
}

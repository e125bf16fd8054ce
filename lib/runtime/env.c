/* The command line and environment of a run: image config merged with the spec. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/launch.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Kubernetes semantics: a command replaces the image's Entrypoint and Cmd. */
int recap_launch_argv(const struct recap_run_spec *s, struct recap_strv *ret)
{
	struct recap_strv a = {0};
	int r = 0;
	if (s->command.n) {
		for (size_t i = 0; r >= 0 && i < s->command.n; i++)
			r = recap_strv_push(&a, s->command.v[i]);
	} else {
		for (size_t i = 0; r >= 0 && i < s->entrypoint.n; i++)
			r = recap_strv_push(&a, s->entrypoint.v[i]);
		for (size_t i = 0; r >= 0 && i < s->image_cmd.n; i++)
			r = recap_strv_push(&a, s->image_cmd.v[i]);
	}
	if (r < 0 || a.n == 0) {
		recap_strv_free(&a);
		return r < 0 ? r : -EINVAL;
	}
	*ret = a;
	return 0;
}

static int set(struct recap_strv *e, const char *kv)
{
	size_t klen = strcspn(kv, "=");
	for (size_t i = 0; i < e->n; i++) {
		if (strncmp(e->v[i], kv, klen) == 0 && e->v[i][klen] == '=') {
			char *d = strdup(kv);
			if (!d)
				return -ENOMEM;
			free(e->v[i]);
			e->v[i] = d;
			return 0;
		}
	}
	return recap_strv_push(e, kv);
}

static int has(const struct recap_strv *e, const char *key)
{
	size_t n = strlen(key);
	for (size_t i = 0; i < e->n; i++)
		if (strncmp(e->v[i], key, n) == 0 && e->v[i][n] == '=')
			return 1;
	return 0;
}

int recap_launch_env(const struct recap_run_spec *s, struct recap_strv *ret)
{
	struct recap_strv e = {0};
	int r = 0;
	for (size_t i = 0; r >= 0 && i < s->image_env.n; i++)
		if (strchr(s->image_env.v[i], '='))
			r = set(&e, s->image_env.v[i]);
	for (size_t i = 0; r >= 0 && i < s->env.n; i++)
		r = set(&e, s->env.v[i]);
	if (r >= 0 && !has(&e, "PATH"))
		r = recap_strv_push(&e, DEFAULT_PATH);
	if (r >= 0 && !has(&e, "HOME"))
		r = recap_strv_push(&e, "HOME=/root");
	if (r >= 0 && s->tty && !has(&e, "TERM")) {
		const char *t = getenv("TERM");
		char *kv = NULL;
		r = asprintf(&kv, "TERM=%s", t && *t && strlen(t) < 64 ? t : "xterm") < 0 ? -ENOMEM : 0;
		if (r >= 0)
			r = recap_strv_push(&e, kv);
		free(kv);
	}
	if (r < 0 || !e.v) {
		recap_strv_free(&e);
		return r < 0 ? r : -ENOMEM;
	}
	*ret = e;
	return 0;
}

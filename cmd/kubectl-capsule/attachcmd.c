/* The command `attach` hands over to: see attachcmd.h. */
#include "attachcmd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/types.h"
#include "base/json.h"

static const char *target_fs_flag(const char *mode)
{
	switch (recap_api_enum_index(recap_api_target_filesystem_names, RECAP_API_TARGET_FILESYSTEM_COUNT,
				     mode)) {
	case RECAP_API_TARGET_FILESYSTEM_NONE:
		return "none";
	case RECAP_API_TARGET_FILESYSTEM_READ_WRITE:
		return "rw";
	default:
		return "ro";
	}
}

struct argvb {
	char **v;
	size_t n, max;
	bool oom;
};

static void add(struct argvb *b, const char *s)
{
	if (b->n + 1 >= b->max) {
		size_t max = b->max ? b->max * 2 : 32;
		char **v = realloc(b->v, max * sizeof(char *));
		if (!v) {
			b->oom = true;
			return;
		}
		b->v = v;
		b->max = max;
	}
	char *copy = strdup(s);
	if (!copy)
		b->oom = true;
	else
		b->v[b->n++] = copy;
	b->v[b->n] = NULL;
}

static void add_opt(struct argvb *b, const char *flag, const char *value)
{
	if (!value)
		return;
	add(b, flag);
	add(b, value);
}

char **plugin_attach_argv(const struct attach_args *a, const char *caplet_pod, const char *container_id,
			  bool tty)
{
	struct argvb b = {0};
	add(&b, "kubectl");
	add_opt(&b, "--kubeconfig", a->g.kubeconfig);
	add_opt(&b, "--context", a->g.context);
	add(&b, "exec");
	add(&b, tty ? "-it" : "-i");
	add_opt(&b, "-n", a->caplet_ns);
	add(&b, caplet_pod);
	add_opt(&b, "-c", PLUGIN_CAPLET_CONTAINER);
	add(&b, "--");
	add(&b, "capsule");
	add(&b, "attach");
	add_opt(&b, "--target", container_id);
	add_opt(&b, "--image", a->image);
	add_opt(&b, "--join", a->join);
	add_opt(&b, "--target-fs", a->target_fs ? target_fs_flag(a->target_fs) : NULL);
	add_opt(&b, "--cap-add", a->caps);
	add_opt(&b, "--cap-drop", a->caps_drop);
	if (a->ncommand)
		add(&b, "--");
	for (int i = 0; i < a->ncommand; i++)
		add(&b, a->command[i]);
	if (b.oom) {
		plugin_argv_free(b.v);
		return NULL;
	}
	return b.v;
}

void plugin_argv_free(char **argv)
{
	for (char **p = argv; p && *p; p++)
		free(*p);
	free(argv);
}

void plugin_print_argv(FILE *f, char *const *argv)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=/.,:@+%";
	for (char *const *p = argv; *p; p++) {
		if (p != argv)
			fputc(' ', f);
		if (**p && strspn(*p, safe) == strlen(*p)) {
			fputs(*p, f);
			continue;
		}
		fputc('\'', f);
		for (const char *c = *p; *c; c++)
			if (*c == '\'')
				fputs("'\\''", f);
			else
				fputc(*c, f);
		fputc('\'', f);
	}
	fputc('\n', f);
}

static json_t *find_named(json_t *arr, const char *name)
{
	size_t i;
	json_t *x;
	json_array_foreach (arr, i, x) {
		const char *n = recap_json_str(x, "name");
		if (n && strcmp(n, name) == 0)
			return x;
	}
	return NULL;
}

int plugin_pod_container_id(json_t *pod, const char *container, char **ret, struct recap_error **err)
{
	const char *pod_name = recap_api_meta_name(pod) ?: "?";
	json_t *containers = recap_json_path(pod, "spec.containers");
	if (!container)
		container = recap_json_str(json_array_get(containers, 0), "name");
	if (!container || !find_named(containers, container))
		return recap_error_set(err, ENOENT, "pod %s has no container \"%s\"", pod_name,
				       container ?: "(none)");
	json_t *st = find_named(recap_json_path(pod, "status.containerStatuses"), container);
	const char *id = recap_json_str(st, "containerID");
	if (!id || !*id)
		return recap_error_set(err, EAGAIN,
				       "container %s of pod %s has no container ID yet (is it running?)",
				       container, pod_name);
	const char *sep = strstr(id, "://");
	char *copy = strdup(sep ? sep + 3 : id);
	if (!copy)
		return -ENOMEM;
	*ret = copy;
	return 0;
}

int plugin_pick_caplet(json_t *list, const char *node, const char *ns, const char **ret,
		       struct recap_error **err)
{
	json_t *items = json_object_get(list, "items"), *p;
	size_t i;
	const char *not_running = NULL, *phase = NULL;
	json_array_foreach (items, i, p) {
		const char *ph = recap_json_str(p, "status.phase");
		if (recap_json_path(p, RECAP_API_META_DELETION_TIMESTAMP))
			continue;
		if (ph && strcmp(ph, "Running") == 0) {
			*ret = recap_api_meta_name(p);
			return 0;
		}
		not_running = recap_api_meta_name(p);
		phase = ph;
	}
	if (not_running)
		return recap_error_set(err, EAGAIN, "caplet pod %s on node %s is %s, not Running",
				       not_running, node, phase ?: "Pending");
	return recap_error_set(
	    err, ENOENT,
	    "no caplet pod on node %s (no pod labelled %s in namespace %s; is RECap installed "
	    "there? --caplet-namespace names another namespace)",
	    node, PLUGIN_CAPLET_SELECTOR, ns);
}

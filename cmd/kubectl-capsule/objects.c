/* The objects kubectl-capsule creates: see objects.h. */
#include "objects.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "api/names.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "kubesel/selector.h"

const struct recap_kube_resource plugin_res_capsules = {RECAP_API_GROUP, RECAP_API_VERSION,
							RECAP_RESOURCE_CAPSULE, true};
const struct recap_kube_resource plugin_res_runs = {RECAP_API_GROUP, RECAP_API_VERSION,
						    RECAP_RESOURCE_CAPSULE_RUN, true};
const struct recap_kube_resource plugin_res_executions = {RECAP_API_GROUP, RECAP_API_VERSION,
							  RECAP_RESOURCE_CAPSULE_EXECUTION, true};
const struct recap_kube_resource plugin_res_pods = {"", "v1", "pods", true};

static const char *image_base(const char *image, size_t *len)
{
	const char *slash = strrchr(image, '/');
	const char *b = slash ? slash + 1 : image;
	size_t n = strcspn(b, ":@");
	*len = n;
	return b;
}

char *plugin_run_name(const char *base_source, const char *suffix)
{
	size_t n;
	const char *b = image_base(base_source, &n);
	size_t room = PLUGIN_NAME_MAX - 1 - strlen(suffix);
	char name[PLUGIN_NAME_MAX + 1];
	size_t o = 0;
	for (size_t i = 0; i < n && o < room; i++) {
		char c = b[i];
		if (c >= 'A' && c <= 'Z')
			c = c - 'A' + 'a';
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			c = '-';
		if (c == '-' && (o == 0 || name[o - 1] == '-'))
			continue;
		name[o++] = c;
	}
	while (o > 0 && name[o - 1] == '-')
		o--;
	if (o == 0)
		o = (size_t)snprintf(name, sizeof(name), "capsule");
	snprintf(name + o, sizeof(name) - o, "-%s", suffix);
	return strdup(name);
}

void plugin_random_suffix(char out[PLUGIN_SUFFIX_LEN + 1])
{
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789"; /* as Kubernetes: no vowels */
	unsigned char rnd[PLUGIN_SUFFIX_LEN];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		for (size_t i = 0; i < sizeof(rnd); i++)
			rnd[i] = (unsigned char)random();
	for (size_t i = 0; i < PLUGIN_SUFFIX_LEN; i++)
		out[i] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
	out[PLUGIN_SUFFIX_LEN] = '\0';
}

static json_t *values_json(const struct recap_kube_requirement *q)
{
	json_t *v = json_array();
	for (size_t i = 0; v && i < q->nvalues; i++)
		json_array_append_new(v, json_string(q->values[i]));
	return v;
}

static int add_requirement(json_t *labels, json_t *exprs, const struct recap_kube_requirement *q)
{
	static const char *const ops[] = {
	    [RECAP_KUBE_SEL_EQUALS] = "In",	[RECAP_KUBE_SEL_NOT_EQUALS] = "NotIn",
	    [RECAP_KUBE_SEL_IN] = "In",		[RECAP_KUBE_SEL_NOT_IN] = "NotIn",
	    [RECAP_KUBE_SEL_EXISTS] = "Exists", [RECAP_KUBE_SEL_NOT_EXISTS] = "DoesNotExist",
	};
	if (q->op == RECAP_KUBE_SEL_EQUALS && !json_object_get(labels, q->key))
		return json_object_set_new(labels, q->key, json_string(q->values[0]));
	json_t *e = json_pack("{s:s,s:s}", "key", q->key, "operator", ops[q->op]);
	if (e && q->nvalues)
		json_object_set_new(e, "values", values_json(q));
	return json_array_append_new(exprs, e);
}

int plugin_selector_json(const char *selector, json_t **ret, struct recap_error **err)
{
	struct recap_kube_selector *sel = NULL;
	int r = recap_kube_selector_parse(selector, &sel, err);
	if (r < 0)
		return recap_error_wrap(err, r, "-l '%s'", selector);
	_cleanup_json_ json_t *labels = json_object(), *exprs = json_array(), *out = json_object();
	for (size_t i = 0; r >= 0 && i < sel->n; i++)
		r = add_requirement(labels, exprs, &sel->reqs[i]);
	recap_kube_selector_free(sel);
	if (r < 0 || !out)
		return -ENOMEM;
	if (json_object_size(labels))
		json_object_set(out, "matchLabels", labels);
	if (json_array_size(exprs))
		json_object_set(out, "matchExpressions", exprs);
	*ret = steal_ptr(out);
	return 0;
}

static json_t *labels_json(const char *capsule)
{
	return json_pack("{s:s,s:s}", "app.kubernetes.io/managed-by", PLUGIN_MANAGED_BY, RECAP_LABEL_CAPSULE,
			 capsule);
}

json_t *plugin_run_object(const char *name, const char *capsule, json_t *pods)
{
	json_t *spec = json_pack("{s:{s:s}}", "capsuleRef", "name", capsule);
	if (spec && pods)
		json_object_set(spec, "targets", pods);
	return json_pack("{s:s,s:s,s:{s:s,s:o},s:o}", "apiVersion", RECAP_API_GROUP_VERSION, "kind",
			 RECAP_KIND_CAPSULE_RUN, "metadata", "name", name, "labels", labels_json(capsule),
			 "spec", spec);
}

static int targets_json(const struct run_args *a, const char *name, json_t **ret, struct recap_error **err)
{
	json_t *sel = NULL;
	if (a->selector) {
		int r = plugin_selector_json(a->selector, &sel, err);
		if (r < 0)
			return r;
	} else {
		sel = json_pack("{s:{s:s}}", "matchLabels", "recap.dev/adhoc-run", name);
	}
	json_t *t = json_pack("{s:o}", "selector", sel);
	if (t && a->container)
		json_object_set_new(t, "container", json_string(a->container));
	*ret = t;
	return t ? 0 : -ENOMEM;
}

static json_t *command_json(char **argv, int n)
{
	json_t *c = json_array();
	for (int i = 0; c && i < n; i++)
		json_array_append_new(c, json_string(argv[i]));
	return c;
}

static void set_optional(json_t *spec, const struct run_args *a)
{
	if (a->ncommand)
		json_object_set_new(spec, "command", command_json(a->command, a->ncommand));
	else if (a->interactive)
		json_object_set_new(spec, "command", json_pack("[s]", PLUGIN_ATTACH_SHELL));
	if (a->interactive) {
		json_object_set_new(spec, "interactive", json_true());
		json_object_set_new(spec, "session",
				    json_pack("{s:I,s:I}", "attachTimeoutSeconds",
					      (json_int_t)PLUGIN_ATTACH_WAIT_S, "idleTimeoutSeconds",
					      (json_int_t)a->idle_timeout_s));
	}
	if (a->env)
		json_object_set(spec, "env", a->env);
	if (a->pull_secrets)
		json_object_set(spec, "imagePullSecrets", a->pull_secrets);
	if (a->join)
		json_object_set(spec, "join", a->join);
	if (a->target_fs)
		json_object_set_new(spec, "targetFilesystem", json_string(a->target_fs));
	if (a->caps || a->caps_drop) {
		json_t *caps = json_object();
		if (caps && a->caps)
			json_object_set(caps, "add", a->caps);
		if (caps && a->caps_drop)
			json_object_set(caps, "drop", a->caps_drop);
		json_object_set_new(spec, "security", json_pack("{s:o*}", "capabilities", caps));
	}
	if (a->timeout_s)
		json_object_set_new(spec, "timeoutSeconds", json_integer(a->timeout_s));
	if (a->strategy) {
		json_t *s = json_pack("{s:s}", "type", a->strategy);
		if (s && a->max_concurrent)
			json_object_set_new(s, "maxConcurrent", json_integer(a->max_concurrent));
		json_object_set_new(spec, "strategy", s);
	}
}

int plugin_adhoc_capsule(const struct run_args *a, const char *name, const char *run_uid, json_t **ret,
			 struct recap_error **err)
{
	json_t *targets = NULL;
	int r = targets_json(a, name, &targets, err);
	if (r < 0)
		return r;
	json_t *spec = json_pack("{s:s,s:o}", "image", a->image, "targets", targets);
	if (!spec)
		return -ENOMEM;
	set_optional(spec, a);
	json_t *owner = json_pack("[{s:s,s:s,s:s,s:s}]", "apiVersion", RECAP_API_GROUP_VERSION, "kind",
				  RECAP_KIND_CAPSULE_RUN, "name", name, "uid", run_uid);
	json_t *labels =
	    json_pack("{s:s,s:s}", "app.kubernetes.io/managed-by", PLUGIN_MANAGED_BY, RECAP_LABEL_RUN, name);
	json_t *obj = json_pack("{s:s,s:s,s:{s:s,s:o,s:o},s:o}", "apiVersion", RECAP_API_GROUP_VERSION,
				"kind", RECAP_KIND_CAPSULE, "metadata", "name", name, "labels", labels,
				"ownerReferences", owner, "spec", spec);
	if (!obj)
		return -ENOMEM;
	*ret = obj;
	return 0;
}

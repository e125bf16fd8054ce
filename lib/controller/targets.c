#include <stdbool.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/types.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "controller/targets.h"
#include "kubesel/selector.h"
#include "kubecache/strmap.h"

const char *const recap_controller_pod_fields[RECAP_CONTROLLER_POD_FIELDS_LEN] = {
    RECAP_CONTROLLER_POD_FIELD_LIST};

const char *recap_controller_pod_container(json_t *pod, const char *container)
{
	json_t *cs = recap_json_path(pod, "spec.containers");
	size_t i;
	json_t *c;
	json_array_foreach (cs, i, c) {
		const char *name = recap_json_str(c, "name");
		if (name && (!container || strcmp(name, container) == 0))
			return name;
	}
	return NULL;
}

const char *recap_controller_container_id(json_t *pod, const char *container)
{
	json_t *cs = recap_json_path(pod, "status.containerStatuses");
	size_t i;
	json_t *c;
	json_array_foreach (cs, i, c) {
		const char *name = recap_json_str(c, "name");
		const char *id = recap_json_str(c, "containerID");
		if (name && id && *id && strcmp(name, container) == 0)
			return id;
	}
	return NULL;
}

/* "<pod>" and "<pod>\n<container>" (neither name can hold a newline):
 * a lookup per pod and per execution instead of a walk over the targets. */
static void seen_key(char *buf, size_t size, const char *pod, const char *container)
{
	snprintf(buf, size, "%s%s%s", pod, container ? "\n" : "", container ? container : "");
}

/* container NULL: any container of pod. */
static bool has_target(const struct recap_controller_targets *t, const char *pod, const char *container)
{
	char key[1024];
	seen_key(key, sizeof(key), pod, container);
	return recap_kube_strmap_contains(t->seen, key);
}

static int push(struct recap_controller_targets *t, const struct recap_target *x, struct recap_error **err)
{
	if (t->n >= RECAP_STRATEGY_TARGETS_MAX)
		return recap_error_set(err, E2BIG, "more than %d targets", RECAP_STRATEGY_TARGETS_MAX);
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct recap_target *v = realloc(t->v, cap * sizeof(*v));
		if (!v)
			return recap_error_set(err, ENOMEM, "out of memory for targets");
		t->v = v;
		t->cap = cap;
	}
	char pod[1024], pair[1024];
	seen_key(pod, sizeof(pod), x->pod, NULL);
	seen_key(pair, sizeof(pair), x->pod, x->container);
	if (recap_kube_strmap_put(t->seen, pod, NULL, NULL) < 0 ||
	    recap_kube_strmap_put(t->seen, pair, NULL, NULL) < 0)
		return recap_error_set(err, ENOMEM, "out of memory for targets");
	t->v[t->n++] = *x;
	return 0;
}

/* Copies x's strings (not its role, borrowed from the spec) into t's pool. */
static int push_copy(struct recap_controller_targets *t, struct recap_target x, struct recap_error **err)
{
	const char **s[] = {&x.pod, &x.ns, &x.uid, &x.node, &x.container, &x.container_id, &x.pod_ip};
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		const char *from = *s[i];
		if (from && !(*s[i] = recap_strpool_dup(&t->strings, from)))
			return recap_error_set(err, ENOMEM, "out of memory for targets");
	}
	return push(t, &x, err);
}

int recap_controller_targets_init(struct recap_controller_targets *t, struct recap_error **err)
{
	*t = (struct recap_controller_targets){.seen = recap_kube_strmap_new(0)};
	return t->seen ? 0 : recap_error_set(err, ENOMEM, "out of memory for targets");
}

int recap_controller_targets_add_pod(struct recap_controller_targets *t, json_t *pod, const char *container,
				     const char *role, struct recap_error **err)
{
	const char *phase = recap_json_str(pod, "status.phase");
	const char *name = recap_api_meta_name(pod);
	const char *node = recap_json_str(pod, "spec.nodeName");
	if (!name || !phase || strcmp(phase, "Running") != 0 || !node || !*node ||
	    recap_json_path(pod, RECAP_API_META_DELETION_TIMESTAMP))
		return 0;
	const char *cname = recap_controller_pod_container(pod, container);
	const char *cid = cname ? recap_controller_container_id(pod, cname) : NULL;
	if (!cid || has_target(t, name, NULL))
		return 0;
	struct recap_target x = {
	    .pod = name,
	    .ns = recap_api_meta_namespace(pod),
	    .uid = recap_api_meta_uid(pod),
	    .node = node,
	    .container = cname,
	    .container_id = cid,
	    .pod_ip = recap_json_str(pod, "status.podIP"),
	    .created = recap_controller_created_of(pod),
	    .role = role,
	};
	if (!x.uid)
		return 0;
	return push_copy(t, x, err);
}

static int add_selected(struct recap_controller_targets *t, json_t *selector, const char *container,
			const char *role, json_t *pods, struct recap_error **err)
{
	struct recap_kube_selector *sel = NULL;
	int r = recap_kube_selector_from_json(selector, &sel, err);
	if (r < 0)
		return recap_error_wrap(err, -r, "%s%sselector", role ? "role " : "targets.",
					role ? role : "");
	size_t i;
	json_t *pod;
	json_array_foreach (pods, i, pod) {
		if (recap_kube_selector_matches(sel, recap_api_meta_labels(pod)) &&
		    (r = recap_controller_targets_add_pod(t, pod, container, role, err)) < 0)
			break;
	}
	recap_kube_selector_free(sel);
	return r < 0 ? r : 0;
}

static json_t *pod_named(json_t *pods, const char *name)
{
	size_t i;
	json_t *pod;
	json_array_foreach (pods, i, pod) {
		const char *n = recap_api_meta_name(pod);
		if (n && strcmp(n, name) == 0)
			return pod;
	}
	return NULL;
}

static int add_named(struct recap_controller_targets *t, json_t *names, const char *container, json_t *pods,
		     struct recap_error **err)
{
	size_t i;
	json_t *n;
	json_array_foreach (names, i, n) {
		json_t *pod = json_is_string(n) ? pod_named(pods, json_string_value(n)) : NULL;
		int r = pod ? recap_controller_targets_add_pod(t, pod, container, NULL, err) : 0;
		if (r < 0)
			return r;
	}
	return 0;
}

int recap_controller_targets_add_execs(struct recap_controller_targets *t,
				       const struct recap_controller_execs *execs, struct recap_error **err)
{
	for (size_t i = 0; execs && i < execs->n; i++) {
		const struct recap_controller_exec *e = &execs->v[i];
		struct recap_target x = {
		    .pod = e->view.pod,
		    .ns = e->ns,
		    .uid = e->pod_uid,
		    .node = e->view.node,
		    .container = e->view.container,
		    .container_id = e->container_id,
		    .pod_ip = e->pod_ip,
		    .created = e->created,
		    .role = e->role,
		};
		if (!x.pod || !x.container || !x.node || has_target(t, x.pod, x.container))
			continue;
		/* the strings live in the executions' pool, which outlives t */
		int r = push(t, &x, err);
		if (r < 0)
			return r;
	}
	recap_kube_strmap_free(t->seen, NULL);
	t->seen = NULL;
	return 0;
}

const char *recap_controller_role_container(json_t *spec, json_t *role)
{
	const char *c = role ? recap_api_role_container(role) : NULL;
	return c ? c : recap_api_capsule_spec_targets_container(spec);
}

static int resolve_roles(struct recap_controller_targets *t, json_t *spec, json_t *pods,
			 struct recap_error **err)
{
	size_t i;
	json_t *role;
	json_array_foreach (recap_api_capsule_spec_roles(spec), i, role) {
		const char *name = recap_api_role_name(role);
		int r =
		    add_selected(t, recap_api_role_selector(role),
				 recap_controller_role_container(spec, role), name ? name : "", pods, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int recap_controller_targets_resolve(json_t *spec, json_t *names, json_t *pods,
				     const struct recap_controller_execs *execs,
				     struct recap_controller_targets *ret, struct recap_error **err)
{
	struct recap_controller_targets t;
	const char *container = recap_api_capsule_spec_targets_container(spec);
	int r = recap_controller_targets_init(&t, err);
	if (r < 0)
		return r;
	if (json_array_size(recap_api_capsule_spec_roles(spec)) > 0)
		r = resolve_roles(&t, spec, pods, err);
	else if (names)
		r = add_named(&t, names, container, pods, err);
	else
		r = add_selected(&t, recap_api_capsule_spec_targets_selector(spec), container, NULL, pods,
				 err);
	if (r >= 0)
		r = recap_controller_targets_add_execs(&t, execs, err);
	if (r < 0) {
		recap_controller_targets_clear(&t);
		return r;
	}
	*ret = t;
	return 0;
}

void recap_controller_targets_clear(struct recap_controller_targets *t)
{
	recap_kube_strmap_free(t->seen, NULL);
	free(t->v);
	recap_strpool_clear(&t->strings);
	*t = (struct recap_controller_targets){0};
}

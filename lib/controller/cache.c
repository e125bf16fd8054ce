/* Reading the informers' caches; events and log hooks. */
#include <stdbool.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/names.h"
#include "api/types.h"
#include "base/json.h"
#include "base/log.h"
#include "controller/ctl.h"
#include "controller/targets.h"
#include "kubesel/selector.h"

const struct recap_kube_resource recap_ctl_capsules = {RECAP_API_GROUP, RECAP_API_VERSION,
						       RECAP_RESOURCE_CAPSULE, true};
const struct recap_kube_resource recap_ctl_policies = {RECAP_API_GROUP, RECAP_API_VERSION,
						       RECAP_RESOURCE_CAPSULE_POLICY, false};
const struct recap_kube_resource recap_ctl_runs = {RECAP_API_GROUP, RECAP_API_VERSION,
						   RECAP_RESOURCE_CAPSULE_RUN, true};
const struct recap_kube_resource recap_ctl_execs = {RECAP_API_GROUP, RECAP_API_VERSION,
						    RECAP_RESOURCE_CAPSULE_EXECUTION, true};
const struct recap_kube_resource recap_ctl_pods = {"", "v1", "pods", true};
const struct recap_kube_resource recap_ctl_namespaces = {"", "v1", "namespaces", false};
const struct recap_kube_resource recap_ctl_pod_events = {"", "v1", "events", true};

void recap_ctl_log(struct recap_controller *ctl, enum recap_log_level level, const char *fmt, ...)
{
	if (!ctl->opts.log)
		return;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctl->opts.log(ctl, level, msg, ctl->opts.userdata);
}

static int append(const char *key, json_t *obj, void *userdata)
{
	return json_array_append(userdata, obj) < 0 ? -ENOMEM : 0;
}

json_t *recap_ctl_list(struct recap_controller *ctl, enum ctl_informer inf, const char *index,
		       const char *value)
{
	json_t *out = json_array();
	if (!out)
		return NULL;
	struct recap_kube_store *s = ctl_store(ctl, inf);
	int r = index ? recap_kube_store_by_index(s, index, value, append, out)
		      : recap_kube_store_foreach(s, append, out);
	if (r < 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* Each pod is parsed, added and dropped: a pass never holds every
 * candidate pod parsed at once. */
struct pod_add {
	const char *ns;
	struct recap_controller_targets *t;
	const char *container, *role;
	struct recap_error **err;
	int failed; /* add_pod's error, which stopped the visit */
};

static int add_visited(const char *key, json_t *pod, void *userdata)
{
	struct pod_add *a = userdata;
	const char *ns = recap_api_meta_namespace(pod);
	if (!ns || strcmp(ns, a->ns) != 0)
		return 0;
	int r = recap_controller_targets_add_pod(a->t, pod, a->container, a->role, a->err);
	if (r < 0)
		a->failed = r;
	return r < 0 ? 1 : 0; /* 1 stops the visit */
}

static int add_selected(struct recap_controller *ctl, struct pod_add *a, json_t *selector)
{
	struct recap_kube_selector *sel = NULL;
	int r = recap_kube_selector_from_json(selector, &sel, a->err);
	if (r < 0)
		return r;
	r = recap_kube_store_select(ctl_store(ctl, INF_POD), sel, add_visited, a);
	recap_kube_selector_free(sel);
	if (r == 1)
		return a->failed;
	return r < 0 ? recap_error_set(a->err, -r, "selecting pods") : 0;
}

static int add_named(struct recap_controller *ctl, struct pod_add *a, json_t *names)
{
	size_t i;
	json_t *n;
	json_array_foreach (names, i, n) {
		char key[600];
		snprintf(key, sizeof(key), "%s/%s", a->ns, json_string_value(n) ? json_string_value(n) : "");
		json_t *pod = recap_kube_store_get(ctl_store(ctl, INF_POD), key);
		int r = pod ? add_visited(key, pod, a) : 0;
		json_decref(pod);
		if (r)
			return a->failed;
	}
	return 0;
}

int recap_ctl_resolve_targets(struct recap_controller *ctl, const char *ns, json_t *spec, json_t *names,
			      const struct recap_controller_execs *execs,
			      struct recap_controller_targets *ret, struct recap_error **err)
{
	struct recap_controller_targets t;
	struct pod_add a = {.ns = ns, .t = &t, .err = err};
	int r = recap_controller_targets_init(&t, err);
	if (r < 0)
		return r;
	json_t *roles = recap_api_capsule_spec_roles(spec);
	if (json_array_size(roles) > 0) {
		size_t i;
		json_t *role;
		json_array_foreach (roles, i, role) {
			a.container = recap_controller_role_container(spec, role);
			a.role = recap_api_role_name(role) ? recap_api_role_name(role) : "";
			if ((r = add_selected(ctl, &a, recap_api_role_selector(role))) < 0)
				break;
		}
	} else {
		a.container = recap_controller_role_container(spec, NULL);
		r = names ? add_named(ctl, &a, names)
			  : add_selected(ctl, &a, recap_api_capsule_spec_targets_selector(spec));
	}
	if (r >= 0)
		r = recap_controller_targets_add_execs(&t, execs, err);
	if (r < 0) {
		recap_controller_targets_clear(&t);
		return r;
	}
	*ret = t;
	return 0;
}

json_t *recap_ctl_namespace_labels(struct recap_controller *ctl, const char *ns, json_t **holder)
{
	*holder = recap_kube_store_get(ctl_store(ctl, INF_NS), ns);
	return recap_api_meta_labels(*holder);
}

void recap_ctl_event(struct recap_controller *ctl, json_t *obj, const char *kind, const char *type,
		     const char *reason, const char *fmt, ...)
{
	if (!ctl->events)
		return;
	char note[RECAP_KUBE_EVENT_NOTE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(note, sizeof(note), fmt, ap);
	va_end(ap);
	struct recap_kube_event_ref ref = {
	    .api_version = RECAP_API_GROUP_VERSION,
	    .kind = kind,
	    .ns = recap_api_meta_namespace(obj),
	    .name = recap_api_meta_name(obj),
	    .uid = recap_api_meta_uid(obj),
	};
	struct recap_error *err = NULL;
	if (recap_kube_events_emit(ctl->events, &ref, type, reason, "Reconcile", &err, "%s", note) < 0 &&
	    err) {
		recap_ctl_log(ctl, RECAP_LOG_WARN, "event %s: %s", reason, recap_error_message(err));
		recap_error_free(err);
	}
}

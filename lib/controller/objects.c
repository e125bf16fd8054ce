#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api/names.h"
#include "api/profile.h"
#include "api/types.h"
#include "base/json.h"
#include "controller/objects.h"
#include "controller/status.h"

static json_t *role_of(json_t *spec, const char *role)
{
	size_t i;
	json_t *r;
	json_array_foreach (recap_api_capsule_spec_roles(spec), i, r) {
		const char *n = recap_api_role_name(r);
		if (role && n && strcmp(n, role) == 0)
			return r;
	}
	return NULL;
}

json_t *recap_controller_exec_profile(json_t *capsule_spec, const char *role, json_t *extra_env)
{
	json_t *p = json_object();
	/* every field of a profile (the schema's), from the Capsule's spec */
	for (size_t i = 0; p && i < RECAP_API_PROFILE_N_FIELDS; i++) {
		json_t *v = json_object_get(capsule_spec, recap_api_profile_fields[i]);
		if (v)
			json_object_set_new(p, recap_api_profile_fields[i], json_deep_copy(v));
	}
	json_t *r = role_of(capsule_spec, role);
	if (p && r && recap_api_role_command(r))
		json_object_set_new(p, RECAP_API_PROFILE_COMMAND, json_deep_copy(recap_api_role_command(r)));
	if (p && json_array_size(extra_env) > 0) {
		json_t *env = recap_api_profile_env(p);
		if (!env) {
			env = json_array();
			json_object_set_new(p, RECAP_API_PROFILE_ENV, env);
		}
		json_array_extend(env, extra_env);
	}
	/* stored without the defaults its readers take from the getters */
	if (p && recap_api_profile_elide_defaults(p) < 0) {
		json_decref(p);
		return NULL;
	}
	return p;
}

static void label(json_t *labels, const char *key, const char *value)
{
	if (value && *value && strlen(value) <= 63)
		json_object_set_new(labels, key, json_string(value));
}

static json_t *owner_ref(json_t *owner, const char *kind)
{
	return json_pack("[{s:s, s:s, s:s, s:s, s:b, s:b}]", "apiVersion", RECAP_API_GROUP_VERSION, "kind",
			 kind, "name", recap_api_meta_name(owner), "uid", recap_api_meta_uid(owner),
			 "controller", 1, "blockOwnerDeletion", 1);
}

static json_t *target_of(const struct recap_target *t)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "pod", t->pod, "podUID", t->uid, "container",
			      t->container, "containerID", t->container_id);
	if (o && t->pod_ip && *t->pod_ip)
		json_object_set_new(o, "podIP", json_string(t->pod_ip));
	return o;
}

json_t *recap_controller_exec_build(json_t *run, json_t *capsule_spec, const struct recap_target *t,
				    const struct recap_plan_item *item)
{
	const char *run_name = recap_api_meta_name(run);
	const char *capsule = recap_api_run_spec_capsule_ref_name(run);
	if (!run_name || !recap_api_meta_uid(run) || !t->uid || !t->container_id)
		return NULL;
	json_t *labels = json_object();
	label(labels, RECAP_LABEL_RUN, run_name);
	label(labels, RECAP_LABEL_NODE, t->node);
	label(labels, RECAP_LABEL_CAPSULE, capsule);
	label(labels, RECAP_LABEL_ROLE, t->role);
	json_t *spec = json_pack("{s:{s:s}, s:s, s:o, s:o}", "runRef", "name", run_name, "node", t->node,
				 "target", target_of(t), "capsule",
				 recap_controller_exec_profile(capsule_spec, t->role, item->env));
	if (spec && t->role)
		json_object_set_new(spec, "role", json_string(t->role));
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:o, s:o}, s:o}", "apiVersion", RECAP_API_GROUP_VERSION,
			 "kind", RECAP_KIND_CAPSULE_EXECUTION, "metadata", "name", item->name, "namespace",
			 recap_api_meta_namespace(run), "labels", labels, "ownerReferences",
			 owner_ref(run, RECAP_KIND_CAPSULE_RUN), "spec", spec);
}

int recap_controller_exec_set_deadline(json_t *exec, time_t now, int64_t grace_s)
{
	json_t *spec = recap_api_exec_spec(exec);
	int64_t timeout = recap_api_profile_timeout_seconds(recap_api_exec_spec_capsule(exec));
	if (!spec || timeout < 1)
		return -EINVAL;
	char when[32];
	recap_controller_time(now + (time_t)timeout + (time_t)grace_s, when);
	return json_object_set_new(spec, "deadline", json_string(when));
}

json_t *recap_controller_periodic_run_build(json_t *capsule, const char *name, int64_t scheduled)
{
	char when[32];
	recap_controller_time((time_t)scheduled, when);
	json_t *labels = json_object();
	label(labels, RECAP_LABEL_CAPSULE, recap_api_meta_name(capsule));
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:o, s:o}, s:{s:{s:s}, s:s, s:s}}", "apiVersion",
			 RECAP_API_GROUP_VERSION, "kind", RECAP_KIND_CAPSULE_RUN, "metadata", "name", name,
			 "namespace", recap_api_meta_namespace(capsule), "labels", labels, "ownerReferences",
			 owner_ref(capsule, RECAP_KIND_CAPSULE), "spec", "capsuleRef", "name",
			 recap_api_meta_name(capsule), "trigger",
			 recap_api_trigger_names[RECAP_API_TRIGGER_PERIODIC], "scheduledTime", when);
}

json_t *recap_controller_triggered_run_build(json_t *capsule, const struct recap_controller_cause *c)
{
	char when[32];
	recap_controller_time((time_t)c->time, when);
	json_t *labels = json_object();
	label(labels, RECAP_LABEL_CAPSULE, recap_api_meta_name(capsule));
	json_t *cause = json_pack("{s:s, s:s, s:s, s:s}", "pod", c->pod, "podUID", c->pod_uid, "time", when,
				  "reason", c->reason);
	if (cause && c->message && *c->message)
		json_object_set_new(cause, "message", json_string(c->message));
	if (cause && c->event)
		json_object_set_new(cause, "event", json_string(c->event));
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:o, s:o}, s:{s:{s:s}, s:[s], s:s, s:o}}", "apiVersion",
			 RECAP_API_GROUP_VERSION, "kind", RECAP_KIND_CAPSULE_RUN, "metadata", "name",
			 c->run_name, "namespace", recap_api_meta_namespace(capsule), "labels", labels,
			 "ownerReferences", owner_ref(capsule, RECAP_KIND_CAPSULE), "spec", "capsuleRef",
			 "name", recap_api_meta_name(capsule), "targets", c->pod, "trigger",
			 recap_api_trigger_names[c->trigger], "cause", cause);
}

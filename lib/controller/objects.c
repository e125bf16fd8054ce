#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api/names.h"
#include "base/json.h"
#include "controller/objects.h"
#include "controller/status.h"

static const char *const profile_fields[] = {
    "image",	 "command",	   "env",    "join", "targetFilesystem", "security",
    "resources", "timeoutSeconds", "output",
};

static json_t *role_of(json_t *spec, const char *role)
{
	size_t i;
	json_t *r;
	json_array_foreach (json_object_get(spec, "roles"), i, r) {
		const char *n = recap_json_str(r, "name");
		if (role && n && strcmp(n, role) == 0)
			return r;
	}
	return NULL;
}

json_t *recap_controller_exec_profile(json_t *capsule_spec, const char *role, json_t *extra_env)
{
	json_t *p = json_object();
	for (size_t i = 0; p && i < sizeof(profile_fields) / sizeof(profile_fields[0]); i++) {
		json_t *v = json_object_get(capsule_spec, profile_fields[i]);
		if (v)
			json_object_set_new(p, profile_fields[i], json_deep_copy(v));
	}
	json_t *r = role_of(capsule_spec, role);
	if (p && r && json_object_get(r, "command"))
		json_object_set_new(p, "command", json_deep_copy(json_object_get(r, "command")));
	if (p && json_array_size(extra_env) > 0) {
		json_t *env = json_object_get(p, "env");
		if (!env) {
			env = json_array();
			json_object_set_new(p, "env", env);
		}
		json_array_extend(env, extra_env);
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
			 kind, "name", recap_json_str(owner, "metadata.name"), "uid",
			 recap_json_str(owner, "metadata.uid"), "controller", 1, "blockOwnerDeletion", 1);
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
	const char *run_name = recap_json_str(run, "metadata.name");
	const char *capsule = recap_json_str(run, "spec.capsuleRef.name");
	if (!run_name || !recap_json_str(run, "metadata.uid") || !t->uid || !t->container_id)
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
			 recap_json_str(run, "metadata.namespace"), "labels", labels, "ownerReferences",
			 owner_ref(run, RECAP_KIND_CAPSULE_RUN), "spec", spec);
}

int recap_controller_exec_set_deadline(json_t *exec, time_t now, int64_t grace_s)
{
	json_t *spec = json_object_get(exec, "spec");
	int64_t timeout = recap_json_int(spec, "capsule.timeoutSeconds", RECAP_EXEC_DEFAULT_TIMEOUT_S);
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
	label(labels, RECAP_LABEL_CAPSULE, recap_json_str(capsule, "metadata.name"));
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:o, s:o}, s:{s:{s:s}, s:s, s:s}}", "apiVersion",
			 RECAP_API_GROUP_VERSION, "kind", RECAP_KIND_CAPSULE_RUN, "metadata", "name", name,
			 "namespace", recap_json_str(capsule, "metadata.namespace"), "labels", labels,
			 "ownerReferences", owner_ref(capsule, RECAP_KIND_CAPSULE), "spec", "capsuleRef",
			 "name", recap_json_str(capsule, "metadata.name"), "trigger", "Periodic",
			 "scheduledTime", when);
}

/* Discovery, as the aggregation layer and kubectl read it: the group list,
 * the group, and the version's resources (the subresources of CapsuleRun,
 * the pull credentials of a CapsuleExecution, and alerts, which are only
 * created: Alertmanager's webhook, posted in a namespace or cluster-wide). */
#include <string.h>

#include "apiserver/internal.h"

static json_t *version(void)
{
	return json_pack("{s:s, s:s}", "groupVersion", GROUP "/" VERSION, "version", VERSION);
}

static json_t *group(void)
{
	return json_pack("{s:s, s:s, s:s, s:[o], s:o}", "kind", "APIGroup", "apiVersion", "v1", "name", GROUP,
			 "versions", version(), "preferredVersion", version());
}

static json_t *sub(const char *name, const char *kind, const char *verbs, bool namespaced)
{
	json_t *v = json_array();
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", verbs);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		json_array_append_new(v, json_string(t));
	return json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", name, "singularName", "", "namespaced",
			 namespaced, "kind", kind, "verbs", v);
}

static json_t *resources(void)
{
	return json_pack("{s:s, s:s, s:s, s:[o, o, o, o]}", "kind", "APIResourceList", "apiVersion", "v1",
			 "groupVersion", GROUP "/" VERSION, "resources",
			 sub("capsuleruns/log", "CapsuleRun", "get", true),
			 sub("capsuleruns/artifacts", "CapsuleRun", "get", true),
			 sub("capsuleexecutions/pullcredentials", "PullCredentials", "get", true),
			 sub(RECAP_RESOURCE_ALERTS, "Alert", "create", true));
}

bool apiserver_discovery(struct apiserver_conn *c)
{
	json_t *doc = NULL;
	if (strcmp(c->path, "/apis") == 0 || strcmp(c->path, "/apis/") == 0) {
		json_t *g = group();
		json_object_del(g, "kind");
		json_object_del(g, "apiVersion");
		doc = json_pack("{s:s, s:s, s:[o]}", "kind", "APIGroupList", "apiVersion", "v1", "groups", g);
	} else if (strcmp(c->path, "/apis/" GROUP) == 0) {
		doc = group();
	} else if (strcmp(c->path, "/apis/" GROUP "/" VERSION) == 0) {
		doc = resources();
	} else {
		return false;
	}
	apiserver_respond_json(c, 200, doc);
	json_decref(doc);
	return true;
}

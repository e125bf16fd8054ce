/* capsuleexecutions/NAME/pullcredentials: the registry credentials of an
 * execution's image, from the Secrets its Capsule names
 * (spec.capsule.imagePullSecrets), for the node agent of the execution's
 * node only. The caller needs RBAC get on the subresource (caplet's role
 * has it) and a service-account token bound to the execution's node (the
 * API server then says so in the extra authentication.kubernetes.io/
 * node-name); the execution must not have ended. So a node's agent gets
 * the credentials of what its node runs now, never another node's, and
 * caplet needs no right on Secrets at all. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/names.h"
#include "api/types.h"
#include "base/json.h"
#include "base/base64.h"
#include "apiserver/internal.h"

#define NODE_NAME_EXTRA "authentication.kubernetes.io/node-name"
#define CREDENTIALS_MAX (1024 * 1024) /* decoded, all Secrets together */
#define REGISTRIES_MAX 64
#define REGISTRY_KEY_MAX 512

static bool bound_to(const struct apiserver_user *u, const char *node)
{
	json_t *nodes = json_object_get(u->extra, NODE_NAME_EXTRA), *n;
	size_t i;
	json_array_foreach (nodes, i, n)
		if (node && json_is_string(n) && strcmp(json_string_value(n), node) == 0)
			return true;
	return false;
}

static bool ended(json_t *e)
{
	const char *ph = recap_json_str(e, RECAP_API_EXEC_STATUS_PHASE);
	return ph && (strcmp(ph, RECAP_PHASE_SUCCEEDED) == 0 || strcmp(ph, RECAP_PHASE_FAILED) == 0);
}

/* One registry's entry as config.json's "auth" (base64 of user:password),
 * from "auth" or from "username" and "password"; NULL when neither. */
static json_t *basic_entry(json_t *entry)
{
	const char *auth = json_string_value(json_object_get(entry, "auth"));
	if (auth && *auth)
		return json_pack("{s:s}", "auth", auth);
	const char *user = json_string_value(json_object_get(entry, "username"));
	const char *pass = json_string_value(json_object_get(entry, "password"));
	if (!user || !pass || !*user)
		return NULL;
	char *plain = NULL, *b64 = NULL;
	json_t *out = NULL;
	if (asprintf(&plain, "%s:%s", user, pass) >= 0 && (b64 = recap_base64_encode(plain, strlen(plain))))
		out = json_pack("{s:s}", "auth", b64);
	if (plain)
		explicit_bzero(plain, strlen(plain));
	free(plain);
	free(b64);
	return out;
}

/* The registries of one Secret's document, added to auths where not there
 * yet (the first Secret naming a registry wins). A message in why when the
 * Secret is not what it should be. */
static int add_secret(json_t *auths, json_t *secret, const char *name, size_t *total, char *why,
		      size_t why_len)
{
	const char *type = recap_json_str(secret, "type") ?: "";
	const char *key = strcmp(type, "kubernetes.io/dockerconfigjson") == 0 ? ".dockerconfigjson"
			  : strcmp(type, "kubernetes.io/dockercfg") == 0      ? ".dockercfg"
									      : NULL;
	if (!key) {
		snprintf(
		    why, why_len,
		    "secret \"%s\" is of type \"%s\": pull credentials are kubernetes.io/dockerconfigjson or "
		    "kubernetes.io/dockercfg",
		    name, type);
		return -EINVAL;
	}
	const char *b64 = json_string_value(json_object_get(json_object_get(secret, "data"), key));
	char *doc = NULL;
	size_t len = 0;
	if (!b64 || recap_base64_decode(b64, strlen(b64), &doc, &len) < 0) {
		snprintf(why, why_len, "secret \"%s\" has no base64 data \"%s\"", name, key);
		return -EINVAL;
	}
	*total += len;
	json_error_t je;
	json_t *cfg = *total <= CREDENTIALS_MAX ? json_loadb(doc, len, JSON_REJECT_DUPLICATES, &je) : NULL;
	explicit_bzero(doc, len);
	free(doc);
	json_t *regs = strcmp(key, ".dockercfg") == 0 ? cfg : json_object_get(cfg, "auths");
	int r = 0;
	if (*total > CREDENTIALS_MAX) {
		snprintf(why, why_len, "the pull secrets hold more than %d bytes", CREDENTIALS_MAX);
		r = -EFBIG;
	} else if (!json_is_object(regs)) {
		snprintf(why, why_len, "secret \"%s\": \"%s\" is not %s", name, key,
			 strcmp(key, ".dockercfg") == 0 ? "a JSON object" : "a JSON object with \"auths\"");
		r = -EINVAL;
	}
	const char *host;
	json_t *entry;
	size_t usable = 0;
	json_object_foreach (r == 0 ? regs : NULL, host, entry) {
		json_t *basic = basic_entry(entry);
		if (!basic)
			continue;
		usable++;
		if (strlen(host) > REGISTRY_KEY_MAX || json_object_size(auths) >= REGISTRIES_MAX) {
			snprintf(why, why_len,
				 "secret \"%s\": more than %d registries, or a name over %d bytes", name,
				 REGISTRIES_MAX, REGISTRY_KEY_MAX);
			json_decref(basic);
			r = -E2BIG;
			break;
		}
		if (json_object_get(auths, host))
			json_decref(basic);
		else
			json_object_set_new(auths, host, basic);
	}
	if (r == 0 && usable == 0) {
		snprintf(
		    why, why_len,
		    "secret \"%s\" names no registry with usable credentials (\"auth\", or \"username\" and "
		    "\"password\")",
		    name);
		r = -EINVAL;
	}
	json_decref(cfg);
	return r;
}

/* The Secrets' registries merged; answers the client itself on failure. */
static json_t *collect(struct apiserver_conn *c, const char *ns, json_t *refs)
{
	json_t *auths = json_object(), *ref;
	size_t i, total = 0;
	char why[512];
	json_array_foreach (refs, i, ref) {
		const char *name = recap_json_str(ref, "name") ?: "";
		char path[512];
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/secrets/%s", ns, name);
		struct apiserver_call call = {.method = "GET", .path = path};
		struct recap_error *err = NULL;
		int r = apiserver_dns_name(name, 253) ? apiserver_broker_call(c->s->broker, &call, &err)
						      : -EINVAL;
		if (r == -EINVAL)
			apiserver_status(c, 422, "Invalid", "spec.capsule.imagePullSecrets names \"%.253s\"",
					 name);
		else if (r < 0 && call.code == RECAP_KUBE_ERR_NOT_FOUND)
			apiserver_status(
			    c, 404, "NotFound",
			    "secret \"%s\" (spec.capsule.imagePullSecrets) not found in namespace \"%s\"",
			    name, ns);
		else if (r < 0)
			apiserver_status(c, 500, "InternalError",
					 "reading secret \"%s\" in namespace \"%s\": %s", name, ns,
					 recap_error_message(err));
		else if ((r = add_secret(auths, call.object, name, &total, why, sizeof(why))) < 0)
			apiserver_status(c, 422, "Invalid", "%s (namespace \"%s\")", why, ns);
		recap_error_free(err);
		json_decref(call.object);
		if (r < 0) {
			json_decref(auths);
			return NULL;
		}
	}
	return auths;
}

void apiserver_pull_credentials(struct apiserver_conn *c, const struct apiserver_user *u, const char *ns,
				const char *name)
{
	if (strcmp(c->method, "GET") != 0) {
		apiserver_status(c, 405, "MethodNotAllowed", "pullcredentials is read with GET");
		return;
	}
	if (!apiserver_dns_name(ns, 63) || !apiserver_dns_name(name, 253)) {
		apiserver_status(c, 400, "BadRequest", "\"%s/%s\" is not a namespace and a name", ns, name);
		return;
	}
	struct apiserver_sar_attrs a = {.verb = "get",
					.ns = ns,
					.resource = RECAP_RESOURCE_CAPSULE_EXECUTION,
					.subresource = "pullcredentials",
					.name = name};
	if (!apiserver_authorize(c, u, &a))
		return;
	char path[512];
	json_t *e = NULL;
	snprintf(path, sizeof(path), "/apis/%s/namespaces/%s/%s/%s", RECAP_API_GROUP_VERSION, ns,
		 RECAP_RESOURCE_CAPSULE_EXECUTION, name);
	int r = apiserver_get(c, path, &e);
	const char *node = recap_json_str(e, RECAP_API_EXEC_SPEC_NODE);
	json_t *refs = recap_api_profile_image_pull_secrets(recap_api_exec_spec_capsule(e));
	json_t *auths = NULL;
	if (r == -ENOENT)
		apiserver_status(c, 404, "NotFound", "%s.%s \"%s\" not found",
				 RECAP_RESOURCE_CAPSULE_EXECUTION, RECAP_API_GROUP, name);
	else if (r < 0)
		; /* answered */
	else if (!bound_to(u, node))
		apiserver_status(
		    c, 403, "Forbidden",
		    "the pull credentials of %s \"%s\" are for the node agent of node \"%s\" only: "
		    "User \"%s\" holds no token bound to that node",
		    RECAP_RESOURCE_CAPSULE_EXECUTION, name, node ?: "", u->name);
	else if (ended(e))
		apiserver_status(
		    c, 409, "Conflict", "%s \"%s\" has ended (%s): its image is not pulled any more",
		    RECAP_RESOURCE_CAPSULE_EXECUTION, name, recap_json_str(e, RECAP_API_EXEC_STATUS_PHASE));
	else if (json_array_size(refs) == 0)
		apiserver_status(c, 404, "NotFound", "the Capsule of %s \"%s\" names no imagePullSecrets",
				 RECAP_RESOURCE_CAPSULE_EXECUTION, name);
	else if ((auths = collect(c, ns, refs))) {
		apiserver_log(c->s, 2, "pull credentials of %s/%s (%zu secret(s)) given to node %s", ns, name,
			      json_array_size(refs), node);
		json_t *doc =
		    json_pack("{s:s, s:s, s:{s:s, s:s}, s:o}", "kind", "PullCredentials", "apiVersion",
			      GROUP "/" VERSION, "metadata", "namespace", ns, "name", name, "auths", auths);
		apiserver_respond_json(c, 200, doc);
		json_decref(doc);
	}
	json_decref(e);
}

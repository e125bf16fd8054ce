/* The subresources of a CapsuleRun: authorize the user, find the
 * execution of the asked target, wait for it to start when following, then
 * relay from its node. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api/names.h"
#include "api/runid.h"
#include "api/types.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "apiserver/internal.h"
#include "base/httphead.h"

#define START_WAIT_S 600
#define EXEC_WAIT_S 60
/* Waiting for what is coming (the controller's execution of a run just
 * made, the node agent's attach of it) is a watch from the version last
 * read, WAIT_WATCH_MS at a time so that a client gone or a stop is noticed.
 * When a watch breaks off (refused, cut), the wait polls instead: soon at
 * first, then every WAIT_STEP_MAX_MS. */
#define WAIT_WATCH_MS 1000
#define WAIT_STEP_FIRST_MS 25
#define WAIT_STEP_MAX_MS 500

static const struct recap_kube_resource executions_res = {RECAP_API_GROUP, RECAP_API_VERSION,
							  RECAP_RESOURCE_CAPSULE_EXECUTION, true};

static bool client_gone(struct apiserver_conn *c);

/* Until an execution of ns that selector matches changes after version rv:
 * *changed is the execution as it is then (NULL: none came, or it was
 * deleted; read again). False when waiting has lasted limit_s. */
static bool wait_change(struct apiserver_conn *c, const char *ns, const char *selector, const char *rv,
			unsigned *waited_ms, unsigned limit_s, json_t **changed)
{
	*changed = NULL;
	if (*waited_ms >= limit_s * 1000u)
		return false;
	uint64_t t0 = recap_now_mono_ms();
	struct apiserver_wait w = {.res = &executions_res,
				   .ns = ns,
				   .field_selector = selector,
				   .resource_version = rv,
				   .timeout_ms = WAIT_WATCH_MS};
	struct recap_error *err = NULL;
	int r = rv && *rv ? apiserver_broker_wait(c->s->broker, &w, &err) : -EINVAL;
	if (r < 0 || (!w.object && !w.timed_out)) {
		unsigned step = *waited_ms < WAIT_STEP_FIRST_MS ? WAIT_STEP_FIRST_MS : *waited_ms;
		usleep((step > WAIT_STEP_MAX_MS ? WAIT_STEP_MAX_MS : step) * 1000u);
	}
	if (r < 0)
		apiserver_log(c->s, 1, "a watch of executions failed, polling instead: %s",
			      err ? recap_error_message(err) : "no version to watch from");
	else if (!w.object && !w.timed_out && !c->watch_warned) {
		/* once a connection: a watch refused for good (recap-apiserver's
		 * RBAC) would otherwise poll silently */
		c->watch_warned = true;
		apiserver_log(c->s, 1, "a watch of executions broke off, reading again instead: %s",
			      w.why[0] ? w.why : "nothing said why");
	}
	recap_error_free(err);
	uint64_t took = recap_now_mono_ms() - t0;
	*waited_ms += took > 0 ? (unsigned)took : 1;
	if (w.object && !w.deleted)
		*changed = w.object;
	else
		json_decref(w.object);
	return true;
}

static bool authorized(struct apiserver_conn *c, const struct apiserver_user *u, const char *ns,
		       const char *name, const char *sub)
{
	/* a session writes to a process: create, as pods/exec and pods/attach */
	struct apiserver_sar_attrs a = {
	    .verb = strcmp(sub, "attach") == 0 || strcmp(c->method, "GET") != 0 ? "create" : "get",
	    .ns = ns,
	    .resource = "capsuleruns",
	    .subresource = sub,
	    .name = name};
	return apiserver_authorize(c, u, &a);
}

static bool owned_by(json_t *e, const char *uid)
{
	json_t *refs = json_object_get(json_object_get(e, "metadata"), "ownerReferences"), *ref;
	size_t i;
	json_array_foreach (refs, i, ref)
		if (uid && strcmp(recap_json_str(ref, "uid") ?: "", uid) == 0)
			return true;
	return false;
}

/* The run's executions (its own, by owner), the one for target if given. */
/* The run's executions (its own, by owner), those for target if given;
 * *ret_n how many, the first in *ret. */
static int list_execs(struct apiserver_conn *c, const char *ns, const char *name, const char *target,
		      json_t **ret, size_t *ret_n, char *names, size_t names_len, bool *ret_ended, char *rv,
		      size_t rv_len)
{
	char path[1024];
	json_t *run = NULL, *list = NULL, *e;
	snprintf(path, sizeof(path), "/apis/%s/namespaces/%s/capsuleruns/%s", RECAP_API_GROUP_VERSION, ns,
		 name);
	int r = apiserver_get(c, path, &run);
	if (r == -ENOENT)
		apiserver_status(c, 404, "NotFound", "capsuleruns.recap.dev \"%s\" not found", name);
	snprintf(path, sizeof(path),
		 "/apis/%s/namespaces/%s/capsuleexecutions?fieldSelector=spec.runRef.name%%3D%s",
		 RECAP_API_GROUP_VERSION, ns, name);
	if (r >= 0 && apiserver_get(c, path, &list) >= 0) {
		enum recap_api_run_phase ph = recap_api_run_status_phase(run);
		*ret_ended = ph != RECAP_API_RUN_PHASE_PENDING && ph != RECAP_API_RUN_PHASE_RUNNING &&
			     ph != RECAP_API_RUN_PHASE_COUNT;
		size_t i;
		*ret_n = 0;
		names[0] = '\0';
		snprintf(rv, rv_len, "%s", recap_json_str(list, "metadata.resourceVersion") ?: "");
		json_array_foreach (json_object_get(list, "items"), i, e) {
			const char *pod = recap_json_str(e, "spec.target.pod");
			if (!owned_by(e, recap_api_meta_uid(run)) ||
			    (target && strcmp(pod ?: "", target) != 0))
				continue;
			if ((*ret_n)++ < 5)
				snprintf(names + strlen(names), names_len - strlen(names), "%s%s",
					 *ret_n > 1 ? ", " : "", pod);
			if (!*ret)
				*ret = json_incref(e);
		}
	} else {
		r = -EIO;
	}
	json_decref(run);
	json_decref(list);
	return r;
}

/* The one execution asked for. wait: a follower or a session, which may ask
 * as soon as it made the run: the controller's execution may come a moment
 * later, so look again for a while. */
static json_t *find_exec(struct apiserver_conn *c, const char *ns, const char *name, const char *target,
			 bool wait)
{
	json_t *found = NULL;
	size_t n = 0;
	char names[256];
	char rv[64], selector[320];
	snprintf(selector, sizeof(selector), "spec.runRef.name=%s", name);
	bool ended = false;
	unsigned waited = 0;
	for (;;) {
		if (list_execs(c, ns, name, target, &found, &n, names, sizeof(names), &ended, rv,
			       sizeof(rv)) < 0)
			return NULL;
		/* a run that ended without one (refused, cancelled) will not get one */
		json_t *changed = NULL;
		if (n > 0 || ended || !wait || atomic_load(&c->s->stopping) ||
		    !wait_change(c, ns, selector, rv, &waited, EXEC_WAIT_S, &changed))
			break;
		json_decref(changed); /* listed again with the run */
		if (client_gone(c))
			return NULL;
	}
	if (n == 0)
		apiserver_status(c, 404, "NotFound", "capsulerun \"%s\" has no execution%s%s%s", name,
				 target ? " for pod \"" : " yet", target ? target : "", target ? "\"" : "");
	else if (n > 1)
		apiserver_status(c, 400, "BadRequest",
				 "capsulerun \"%s\" has %zu targets: name one with target=POD (%s%s)", name,
				 n, names, n > 5 ? ", ..." : "");
	if (n != 1) {
		json_decref(found);
		found = NULL;
	}
	return found;
}

static bool final(json_t *e)
{
	enum recap_api_exec_phase p = recap_api_exec_status_phase(e);
	return p == RECAP_API_EXEC_PHASE_SUCCEEDED || p == RECAP_API_EXEC_PHASE_FAILED;
}

static bool client_gone(struct apiserver_conn *c)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN | POLLRDHUP};
	return poll(&p, 1, 0) > 0;
}

/* Until the node agent attached the execution (its relay is known), it
 * ended, the client left, or START_WAIT_S; a request that does not follow
 * does not wait. */
static json_t *wait_started(struct apiserver_conn *c, json_t *e, bool follow)
{
	char path[1024];
	snprintf(path, sizeof(path), "/apis/%s/namespaces/%s/capsuleexecutions/%s", RECAP_API_GROUP_VERSION,
		 recap_api_meta_namespace(e), recap_api_meta_name(e));
	char selector[320];
	snprintf(selector, sizeof(selector), "metadata.name=%s", recap_api_meta_name(e));
	unsigned waited = 0;
	while (!recap_json_str(e, "status.relayEndpoint") && !final(e)) {
		json_t *now = NULL;
		if (!follow || !wait_change(c, recap_api_meta_namespace(e), selector,
					    recap_json_str(e, "metadata.resourceVersion"), &waited,
					    START_WAIT_S, &now)) {
			apiserver_status(c, 400, "BadRequest",
					 "the execution for pod \"%s\" has not started (phase %s)",
					 recap_json_str(e, "spec.target.pod"),
					 recap_json_str(e, "status.phase") ?: "Pending");
			json_decref(e);
			return NULL;
		}
		if (client_gone(c) || atomic_load(&c->s->stopping) ||
		    (!now && apiserver_get(c, path, &now) < 0)) {
			json_decref(e);
			json_decref(now);
			return NULL;
		}
		json_decref(e);
		e = now;
	}
	return e;
}

static int relay_path(struct apiserver_conn *c, json_t *e, const char *sub, char *out, size_t len)
{
	char id[RECAP_API_RUN_ID_MAX];
	if (recap_api_run_id(recap_api_meta_uid(e), id, NULL) < 0)
		return -1;
	int n = snprintf(out, len, "/v1/runs/%s/%s?", id, sub);
	const char *keys[] = {"follow", "sinceBytes", "limitBytes", "path"};
	for (size_t i = 0; i < 4; i++) {
		char v[1024];
		int q = recap_http_query(c->query, keys[i], v, sizeof(v));
		if (q < 0)
			return -2;
		if (q == 0)
			continue;
		n += snprintf(out + n, len - (size_t)n, "%s=", keys[i]);
		for (const char *p = v; *p && (size_t)n + 4 < len; p++)
			n += snprintf(
			    out + n, len - (size_t)n,
			    strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~", *p)
				? "%c"
				: "%%%02X",
			    (unsigned char)*p);
		n += snprintf(out + n, len - (size_t)n, "&");
	}
	return (size_t)n < len ? 0 : -2;
}

/* The WebSocket headers the relay needs to answer the user's handshake. */
static int upgrade_headers(struct apiserver_conn *c, char *out, size_t len)
{
	static const char *const names[] = {"Sec-WebSocket-Key", "Sec-WebSocket-Version",
					    "Sec-WebSocket-Protocol"};
	char v[1024], up[32];
	if (recap_http_header(c->head, "Upgrade", up, sizeof(up)) != 1 || strcasecmp(up, "websocket") != 0)
		return -1;
	int n = snprintf(out, len, "Connection: Upgrade\r\nUpgrade: websocket\r\n");
	for (size_t i = 0; i < 3; i++) {
		if (recap_http_header(c->head, names[i], v, sizeof(v)) != 1 || strpbrk(v, "\r\n"))
			return -1;
		n += snprintf(out + n, len - (size_t)n, "%s: %s\r\n", names[i], v);
	}
	return (size_t)n < len ? 0 : -1;
}

static bool known(struct apiserver_conn *c, const char *sub)
{
	if (strcmp(sub, "log") != 0 && strcmp(sub, "artifacts") != 0 && strcmp(sub, "attach") != 0) {
		apiserver_status(c, 404, "NotFound",
				 "capsuleruns has no subresource \"%s\" (log, artifacts, attach)", sub);
		return false;
	}
	if (strcmp(c->method, "GET") != 0) {
		apiserver_status(c, 405, "MethodNotAllowed", "capsuleruns/%s is read with GET%s", sub,
				 strcmp(sub, "attach") == 0 ? " (a WebSocket upgrade)" : "");
		return false;
	}
	return true;
}

void apiserver_subresource(struct apiserver_conn *c, const struct apiserver_user *u, const char *ns,
			   const char *name, const char *sub)
{
	char target[254] = "", fv[8] = "", ws[2048] = "";
	bool attach = strcmp(sub, "attach") == 0;
	if (!known(c, sub))
		return;
	if (!apiserver_dns_name(ns, 63) || !apiserver_dns_name(name, 253)) {
		apiserver_status(c, 400, "BadRequest", "\"%s/%s\" is not a namespace and a name", ns, name);
		return;
	}
	if (attach && upgrade_headers(c, ws, sizeof(ws)) < 0) {
		apiserver_status(
		    c, 400, "BadRequest",
		    "attach is a WebSocket: Upgrade: websocket, Sec-WebSocket-Key, -Version and -Protocol "
		    "(v5.channel.k8s.io)");
		return;
	}
	if (!authorized(c, u, ns, name, sub))
		return;
	int t = recap_http_query(c->query, "target", target, sizeof(target));
	if (t > 0 && !*target)
		t = 0;
	if (t < 0 || (t > 0 && !apiserver_dns_name(target, 253))) {
		apiserver_status(c, 400, "BadRequest", "target must be a pod's name");
		return;
	}
	bool follow = attach || (recap_http_query(c->query, "follow", fv, sizeof(fv)) > 0 &&
				 (!*fv || !strcmp(fv, "true") || !strcmp(fv, "1")));
	json_t *e = find_exec(c, ns, name, t > 0 ? target : NULL, follow);
	if (!e || !(e = wait_started(c, e, follow && strcmp(sub, "artifacts") != 0)))
		return;
	char path[4096];
	const char *endpoint = recap_json_str(e, "status.relayEndpoint");
	int r = relay_path(c, e, sub, path, sizeof(path));
	if (r == -2)
		apiserver_status(c, 400, "BadRequest", "a query parameter is malformed or too long");
	else if (!endpoint)
		apiserver_status(
		    c, 404, "NotFound",
		    "the execution for pod \"%s\" ended (%s) without a node relay: its output tails are in "
		    "its status",
		    recap_json_str(e, "spec.target.pod"), recap_json_str(e, "status.reason") ?: "no reason");
	else if (attach && !recap_api_profile_interactive(recap_api_exec_spec_capsule(e)))
		apiserver_status(
		    c, 400, "BadRequest",
		    "capsulerun \"%s\" is not interactive: kubectl capsule logs -f follows its output", name);
	else if (attach && final(e))
		apiserver_status(c, 409, "Conflict", "the session of pod \"%s\" has ended (%s)",
				 recap_json_str(e, "spec.target.pod"),
				 recap_json_str(e, "status.reason") ?: "no reason");
	else if (r < 0)
		apiserver_status(c, 500, "InternalError", "the execution has no valid uid");
	else
		apiserver_relay(c, &(struct apiserver_relay_target){.endpoint = endpoint,
								    .node = recap_json_str(e, "spec.node"),
								    .path = path,
								    .headers = attach ? ws : NULL});
	json_decref(e);
}

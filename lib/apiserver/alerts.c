/* POST alerts: Alertmanager's webhook receiver. Each alert that fires and
 * names a pod (labels namespace and pod) is recorded as a core Event about
 * that pod, reported by RECAP_ALERTS_COMPONENT, when the caller may create
 * alerts.subresources.recap.dev in the pod's namespace; the Capsules'
 * alert triggers match those Events (docs/triggers.md).
 *
 * Two paths: kube-apiserver lets a request to the cluster-wide path
 * (.../alerts) through only for a caller who may create alerts in every
 * namespace; one to .../namespaces/NS/alerts for a caller who may in NS (a
 * Role), and each alert is then checked in its own namespace here. The path's
 * namespace only gets the request past the gate: it does not restrict the
 * alerts (those of other namespaces are checked as any).
 *
 * The Event's name comes from the alert's fingerprint and start, so
 * Alertmanager's repeats of one alert meet AlreadyExists and record nothing
 * new. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/types.h"
#include "apiserver/alertpayload.h"
#include "apiserver/internal.h"
#include "base/json.h"
#include "base/timeutil.h"

#define INSTANCE_MAX 128

struct tally {
	size_t recorded, duplicate, ignored, forbidden, to_record;
	json_t *refused;
};

static void refuse(struct tally *t, const struct apiserver_alert *a, const char *why)
{
	json_array_append_new(t->refused, json_pack("{s:s, s:s}", "alert", a->label, "why", why));
}

static json_t *event(const struct apiserver_alert *a, const char *pod_uid)
{
	char when[32], instance[INSTANCE_MAX + 1] = "recap-apiserver";
	recap_time_format(a->starts_at, when, sizeof(when));
	/* in a pod, the host name is the pod's name */
	if (gethostname(instance, sizeof(instance)) < 0 || !*instance)
		snprintf(instance, sizeof(instance), "recap-apiserver");
	instance[INSTANCE_MAX] = '\0';
	return json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s}, s:s, s:s, s:s, s:{s:s}, s:s, "
			 "s:s, s:s, s:s, s:i}",
			 "apiVersion", "v1", "kind", "Event", "metadata", "name", a->event, "namespace",
			 a->ns, "involvedObject", "apiVersion", "v1", "kind", "Pod", "namespace", a->ns,
			 "name", a->pod, "uid", pod_uid, "reason", a->name, "message", a->message, "type",
			 "Warning", "source", "component", RECAP_ALERTS_COMPONENT, "reportingComponent",
			 RECAP_ALERTS_COMPONENT, "reportingInstance", instance, "firstTimestamp", when,
			 "lastTimestamp", when, "count", 1);
}

/* The pod's uid into uid: 1; 0 when there is no such pod (refused); < 0 an
 * error (refused). */
static int pod_uid(struct apiserver_conn *c, struct tally *t, const struct apiserver_alert *a, char *uid,
		   size_t uid_len)
{
	char path[512], why[512];
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", a->ns, a->pod);
	struct apiserver_call call = {.method = "GET", .path = path};
	struct recap_error *err = NULL;
	int r = apiserver_broker_call(c->s->broker, &call, &err);
	const char *u = recap_json_str(call.object, RECAP_API_META_UID);
	if (r < 0 && call.code == RECAP_KUBE_ERR_NOT_FOUND)
		snprintf(why, sizeof(why), "pod \"%s\" not found in namespace \"%s\"", a->pod, a->ns);
	else if (r < 0)
		snprintf(why, sizeof(why), "reading pod \"%s\": %s", a->pod, recap_error_message(err));
	else
		snprintf(uid, uid_len, "%s", u ? u : "");
	if (r < 0)
		refuse(t, a, why);
	recap_error_free(err);
	json_decref(call.object);
	return r < 0 && call.code == RECAP_KUBE_ERR_NOT_FOUND ? 0 : r < 0 ? r : 1;
}

static void record(struct apiserver_conn *c, struct tally *t, const struct apiserver_user *u,
		   const struct apiserver_alert *a)
{
	struct apiserver_sar_attrs attrs = {.verb = "create", .ns = a->ns, .resource = RECAP_RESOURCE_ALERTS};
	char *reason = NULL, why[512], uid[64];
	struct recap_error *err = NULL;
	int r = apiserver_sar_check(&c->s->sar, u, &attrs, &reason, &err);
	if (r < 0)
		snprintf(why, sizeof(why), "the authorization check failed: %s", recap_error_message(err));
	else if (r == 0)
		snprintf(why, sizeof(why),
			 "User \"%s\" cannot create resource \"%s\" in API group \"%s\" in the namespace "
			 "\"%s\"%s%s",
			 u->name, RECAP_RESOURCE_ALERTS, GROUP, a->ns, reason ? ": " : "",
			 reason ? reason : "");
	free(reason);
	recap_error_free(err);
	err = NULL;
	t->forbidden += r == 0;
	if (r <= 0) {
		refuse(t, a, why);
		return;
	}
	if (pod_uid(c, t, a, uid, sizeof(uid)) <= 0)
		return;
	json_t *ev = event(a, uid);
	char path[256];
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/events", a->ns);
	struct apiserver_call call = {.method = "POST", .path = path, .body = ev};
	r = ev ? apiserver_broker_call(c->s->broker, &call, &err)
	       : recap_error_set(&err, ENOMEM, "out of memory");
	if (r == 0)
		t->recorded++;
	else if (call.code == RECAP_KUBE_ERR_ALREADY_EXISTS)
		t->duplicate++;
	else {
		snprintf(why, sizeof(why), "recording the Event: %s", recap_error_message(err));
		refuse(t, a, why);
	}
	recap_error_free(err);
	json_decref(call.object);
	json_decref(ev);
}

static void answer(struct apiserver_conn *c, const struct apiserver_user *u, struct tally *t)
{
	apiserver_log(c->s, 2,
		      "alerts from %s: %zu recorded, %zu already recorded, %zu ignored, %zu refused (%zu "
		      "forbidden)",
		      u->name, t->recorded, t->duplicate, t->ignored, json_array_size(t->refused),
		      t->forbidden);
	if (t->forbidden > 0 && t->forbidden == t->to_record) {
		apiserver_status(c, 403, "Forbidden",
				 "User \"%s\" cannot create resource \"%s\" in API group \"%s\" in the "
				 "namespace(s) of any alert (%zu alert(s) refused)",
				 u->name, RECAP_RESOURCE_ALERTS, GROUP, t->forbidden);
		return;
	}
	json_t *doc =
	    json_pack("{s:I, s:I, s:I, s:O}", "recorded", (json_int_t)t->recorded, "duplicate",
		      (json_int_t)t->duplicate, "ignored", (json_int_t)t->ignored, "refused", t->refused);
	apiserver_respond_json(c, 200, doc);
	json_decref(doc);
}

void apiserver_alerts(struct apiserver_conn *c, const struct apiserver_user *u, const char *ns)
{
	if (strcmp(c->method, "POST") != 0) {
		apiserver_status(c, 405, "MethodNotAllowed",
				 "alerts are posted (POST): Alertmanager's webhook payload, version 4");
		return;
	}
	if (ns && !apiserver_dns_name(ns, 63)) {
		apiserver_status(c, 400, "BadRequest", "\"%s\" is not a namespace", ns);
		return;
	}
	char *body = NULL;
	size_t len = 0;
	struct recap_error *err = NULL;
	struct apiserver_alerts alerts = {0};
	int r = apiserver_read_body(c, APISERVER_ALERTS_BODY_MAX, &body, &len, &err);
	if (r == 0)
		r = apiserver_alerts_parse(body, len, &alerts, &err);
	free(body);
	if (r == -EFBIG)
		apiserver_status(c, 413, "RequestEntityTooLarge", "%s", recap_error_message(err));
	else if (r == -ENOSYS)
		apiserver_status(c, 411, "LengthRequired", "%s", recap_error_message(err));
	else if (r == -ENOMEM)
		apiserver_status(c, 500, "InternalError", "%s", recap_error_message(err));
	else if (r < 0)
		apiserver_status(c, 400, "BadRequest", "%s", recap_error_message(err));
	recap_error_free(err);
	if (r < 0)
		return;
	struct tally t = {.refused = json_array()};
	for (size_t i = 0; t.refused && i < alerts.n; i++) {
		const struct apiserver_alert *a = &alerts.v[i];
		if (a->verdict == APISERVER_ALERT_IGNORE)
			t.ignored++;
		else if (a->verdict == APISERVER_ALERT_REFUSE)
			refuse(&t, a, a->why);
		else {
			t.to_record++;
			record(c, &t, u, a);
		}
	}
	answer(c, u, &t);
	json_decref(t.refused);
	apiserver_alerts_clear(&alerts);
}

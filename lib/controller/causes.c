#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/names.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "controller/causes.h"
#include "controller/status.h"
#include "kubecache/informer.h"
#include "sched/trigger.h"

#define CONDITIONS "status.conditions"
#define CONDITION_SINCE "conditionSince"

const char *const recap_controller_pod_projection[RECAP_CONTROLLER_POD_PROJECTION_LEN] = {
    RECAP_CONTROLLER_POD_FIELD_LIST,
    "status.conditions[].type",
    "status.conditions[].status",
    "status.conditions[].lastTransitionTime",
};

const char *const recap_controller_event_fields[RECAP_CONTROLLER_EVENT_FIELDS_LEN] = {
    RECAP_API_META_NAME,
    RECAP_API_META_NAMESPACE,
    RECAP_API_META_UID,
    RECAP_API_META_RESOURCE_VERSION,
    RECAP_API_META_CREATION_TIMESTAMP,
    "involvedObject.kind",
    "involvedObject.name",
    "involvedObject.uid",
    "reason",
    "type",
    "message",
    "lastTimestamp",
    "eventTime",
    "series.lastObservedTime",
    "reportingComponent",
    "source.component",
};

static int64_t seconds_at(json_t *obj, const char *path)
{
	const char *s = recap_json_str(obj, path);
	time_t t;
	if (!s || !*s || recap_time_parse(s, &t) < 0)
		return INT64_MIN;
	return (int64_t)t;
}

json_t *recap_controller_pod_project(json_t *obj, void *projection)
{
	json_t *p = recap_kube_informer_project(obj, projection);
	json_t *status = json_object_get(p, "status");
	json_t *conds = json_object_get(status, "conditions");
	if (!conds)
		return p;
	json_t *since = json_array();
	size_t i;
	json_t *c;
	json_array_foreach (conds, i, c) {
		const char *type = recap_json_str(c, "type"), *st = recap_json_str(c, "status");
		int64_t t = seconds_at(c, "lastTransitionTime");
		if (!since || !type || !st || strpbrk(type, "=@") || strchr(st, '@'))
			continue;
		char buf[400];
		snprintf(buf, sizeof(buf), "%s=%s@%lld", type, st, (long long)(t == INT64_MIN ? 0 : t));
		json_array_append_new(since, json_string(buf));
	}
	json_object_del(status, "conditions");
	if (since)
		json_object_set_new(status, CONDITION_SINCE, since);
	return p;
}

/* Whether pod has condition type with status; *since its transition time. */
static bool condition_holds(json_t *pod, const char *type, const char *status, int64_t *since)
{
	json_t *v = recap_json_path(pod, "status." CONDITION_SINCE);
	size_t tl = strlen(type), sl = strlen(status), i;
	json_t *e;
	json_array_foreach (v, i, e) {
		const char *s = json_string_value(e);
		if (s && strncmp(s, type, tl) == 0 && s[tl] == '=' && strncmp(s + tl + 1, status, sl) == 0 &&
		    s[tl + 1 + sl] == '@') {
			*since = strtoll(s + tl + sl + 2, NULL, 10);
			return true;
		}
	}
	return false;
}

/* A copy of s cut to at most max bytes, at a UTF-8 character boundary. */
static char *cut(const char *s, size_t max)
{
	size_t n = strlen(s ? s : "");
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	return strndup(s ? s : "", n);
}

static int add(struct recap_controller_causes *out, json_t *capsule, const struct recap_target *t,
	       enum recap_api_trigger trigger, int64_t when, const char *key, const char *reason,
	       const char *message, const char *event, struct recap_error **err)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 8;
		void *v = realloc(out->v, cap * sizeof(*out->v));
		if (!v)
			return recap_error_set(err, ENOMEM, "out of memory");
		out->v = v;
		out->cap = cap;
	}
	struct recap_controller_cause *c = &out->v[out->n];
	*c = (struct recap_controller_cause){
	    .trigger = trigger, .pod = t->pod, .pod_uid = t->uid, .time = when};
	c->reason = cut(reason, 330);
	c->message = cut(message, RECAP_CAUSE_MESSAGE_MAX);
	c->event = event ? strdup(event) : NULL;
	if (!c->reason || !c->message || (event && !c->event)) {
		free(c->reason);
		free(c->message);
		free(c->event);
		return recap_error_set(err, ENOMEM, "out of memory");
	}
	if (recap_trigger_run_name(c->run_name, recap_api_meta_name(capsule), recap_api_meta_uid(capsule),
				   t->uid, key) < 0) {
		free(c->reason);
		free(c->message);
		free(c->event);
		return recap_error_set(err, EINVAL, "Capsule %s: no name or uid",
				       recap_api_meta_name(capsule));
	}
	out->n++;
	return 0;
}

static int pod_condition(struct recap_controller_causes *out, json_t *capsule, json_t *trig,
			 const struct recap_target *t, json_t *pod, int64_t now, struct recap_error **err)
{
	const char *type = recap_api_trigger_item_pod_condition_type(trig);
	enum recap_api_pod_condition_status st = recap_api_trigger_item_pod_condition_status(trig);
	int64_t hold = recap_api_trigger_item_pod_condition_for_seconds(trig), since;
	if (!type || st == RECAP_API_POD_CONDITION_STATUS_COUNT)
		return 0;
	const char *status = recap_api_pod_condition_status_names[st];
	if (!condition_holds(pod, type, status, &since))
		return 0;
	int64_t due = since + hold;
	if (due > now) {
		if (due < out->next)
			out->next = due;
		return 0;
	}
	char key[400], reason[340], when[32], msg[512];
	snprintf(key, sizeof(key), "condition/%s=%s@%lld", type, status, (long long)since);
	snprintf(reason, sizeof(reason), "%s=%s", type, status);
	recap_controller_time((time_t)since, when);
	snprintf(msg, sizeof(msg), "condition %s has been %s since %s (forSeconds %lld)", type, status, when,
		 (long long)hold);
	return add(out, capsule, t, RECAP_API_TRIGGER_POD_CONDITION, due, key, reason, msg, NULL, err);
}

static int pod_created(struct recap_controller_causes *out, json_t *capsule, const struct recap_target *t,
		       json_t *pod, struct recap_error **err)
{
	int64_t created = seconds_at(pod, RECAP_API_META_CREATION_TIMESTAMP);
	int64_t cap_created = seconds_at(capsule, RECAP_API_META_CREATION_TIMESTAMP);
	if (created == INT64_MIN || cap_created == INT64_MIN || created < cap_created)
		return 0;
	char when[32], msg[64];
	recap_controller_time((time_t)created, when);
	snprintf(msg, sizeof(msg), "pod created at %s", when);
	return add(out, capsule, t, RECAP_API_TRIGGER_POD_CREATED, created, "created", "Created", msg, NULL,
		   err);
}

/* When an Event last happened: lastTimestamp, series.lastObservedTime,
 * eventTime, then its creation. */
static int64_t event_time(json_t *ev)
{
	static const char *const paths[] = {"lastTimestamp", "series.lastObservedTime", "eventTime",
					    RECAP_API_META_CREATION_TIMESTAMP};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		int64_t t = seconds_at(ev, paths[i]);
		if (t != INT64_MIN)
			return t;
	}
	return INT64_MIN;
}

static bool listed(json_t *set, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach (set, i, v) {
		if (s && json_string_value(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	}
	return false;
}

/* Whether recap-apiserver's alerts receiver recorded ev (either field:
 * the core Event's reportingComponent, or its older source.component). */
static bool from_alerts(json_t *ev)
{
	const char *rc = recap_json_str(ev, "reportingComponent");
	const char *sc = recap_json_str(ev, "source.component");
	return (rc && strcmp(rc, RECAP_ALERTS_COMPONENT) == 0) ||
	       (sc && strcmp(sc, RECAP_ALERTS_COMPONENT) == 0);
}

/* Whether ev is about pod t with one of reasons and from the alerts
 * receiver (alert) or not (a podEvent); *when its time. */
static bool event_matches(json_t *ev, const struct recap_target *t, json_t *reasons, bool alert,
			  int64_t *when)
{
	const char *kind = recap_json_str(ev, "involvedObject.kind");
	const char *name = recap_json_str(ev, "involvedObject.name");
	const char *uid = recap_json_str(ev, "involvedObject.uid");
	*when = event_time(ev);
	if (!kind || strcmp(kind, "Pod") != 0 || !name || strcmp(name, t->pod) != 0 ||
	    !recap_api_meta_uid(ev) || *when == INT64_MIN || !listed(reasons, recap_json_str(ev, "reason")))
		return false;
	/* an Event about an earlier pod of the same name is not this pod's */
	if (uid && *uid && strcmp(uid, t->uid) != 0)
		return false;
	return from_alerts(ev) == alert;
}

static int alerts(struct recap_controller_causes *out, json_t *capsule, json_t *trig,
		  const struct recap_target *t, json_t *events, struct recap_error **err)
{
	json_t *names = recap_api_trigger_item_alert_alert_names(trig);
	size_t i;
	json_t *ev;
	json_array_foreach (events, i, ev) {
		int64_t when;
		if (!event_matches(ev, t, names, true, &when))
			continue;
		/* the receiver names each alert's Event by its fingerprint and
		 * start: Alertmanager's repeats are the same Event, one cause */
		char key[400];
		snprintf(key, sizeof(key), "alert/%s", recap_api_meta_uid(ev));
		int r = add(out, capsule, t, RECAP_API_TRIGGER_ALERT, when, key, recap_json_str(ev, "reason"),
			    recap_json_str(ev, "message"), recap_api_meta_name(ev), err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int pod_events(struct recap_controller_causes *out, json_t *capsule, json_t *trig,
		      const struct recap_target *t, json_t *events, struct recap_error **err)
{
	json_t *reasons = recap_api_trigger_item_pod_event_reasons(trig);
	enum recap_api_pod_event_type type = recap_api_trigger_item_pod_event_type(trig);
	size_t i;
	json_t *ev;
	json_array_foreach (events, i, ev) {
		const char *reason = recap_json_str(ev, "reason");
		const char *etype = recap_json_str(ev, "type");
		const char *ev_uid = recap_api_meta_uid(ev);
		int64_t when;
		/* an alert is a cause of its own kind, not a podEvent */
		if (!event_matches(ev, t, reasons, false, &when))
			continue;
		if (type != RECAP_API_POD_EVENT_TYPE_COUNT &&
		    (!etype || strcmp(etype, recap_api_pod_event_type_names[type]) != 0))
			continue;
		char key[400];
		snprintf(key, sizeof(key), "event/%s@%lld", ev_uid, (long long)when);
		int r = add(out, capsule, t, RECAP_API_TRIGGER_POD_EVENT, when, key, reason,
			    recap_json_str(ev, "message"), recap_api_meta_name(ev), err);
		if (r < 0)
			return r;
	}
	return 0;
}

int recap_controller_causes_add_target(json_t *capsule, const struct recap_target *tg, json_t *pod,
				       json_t *events, int64_t now, struct recap_controller_causes *ret,
				       struct recap_error **err)
{
	if (!pod || !tg->uid)
		return 0;
	json_t *triggers = recap_api_capsule_spec_triggers(recap_api_capsule_spec(capsule));
	json_t *trig;
	size_t j;
	int r = 0;
	json_array_foreach (triggers, j, trig) {
		if (recap_api_trigger_item_pod_condition(trig))
			r = pod_condition(ret, capsule, trig, tg, pod, now, err);
		else if (recap_api_trigger_item_pod_created(trig))
			r = pod_created(ret, capsule, tg, pod, err);
		else if (recap_api_trigger_item_pod_event(trig))
			r = pod_events(ret, capsule, trig, tg, events, err);
		else if (recap_api_trigger_item_alert(trig))
			r = alerts(ret, capsule, trig, tg, events, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int recap_controller_causes_find(json_t *capsule, const struct recap_controller_targets *t, json_t *pods,
				 json_t *events, int64_t now, struct recap_controller_causes *ret,
				 struct recap_error **err)
{
	*ret = (struct recap_controller_causes){.next = INT64_MAX};
	/* pods by name: the targets are few next to the lookups */
	json_t *by_name = json_object();
	size_t i;
	json_t *p;
	json_array_foreach (pods, i, p) {
		const char *n = recap_api_meta_name(p);
		if (by_name && n)
			json_object_set(by_name, n, p);
	}
	if (!by_name)
		return recap_error_set(err, ENOMEM, "out of memory");
	int r = 0;
	for (size_t k = 0; r >= 0 && k < t->n; k++)
		r = recap_controller_causes_add_target(
		    capsule, &t->v[k], json_object_get(by_name, t->v[k].pod), events, now, ret, err);
	json_decref(by_name);
	if (r < 0)
		recap_controller_causes_clear(ret);
	return r;
}

void recap_controller_causes_clear(struct recap_controller_causes *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].reason);
		free(c->v[i].message);
		free(c->v[i].event);
	}
	free(c->v);
	*c = (struct recap_controller_causes){.next = INT64_MAX};
}

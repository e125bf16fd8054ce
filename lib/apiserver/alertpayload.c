#include "apiserver/alertpayload.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/sha256.h"
#include "base/timeutil.h"

#define EVENT_NAME_MAX 253
#define EVENT_SUFFIX ".alert-"
#define HASH_HEX 10

static bool dns_name(const char *s, size_t max)
{
	size_t n = strlen(s);
	return n > 0 && n <= max && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-.") == n && s[0] != '-' &&
	       s[0] != '.' && s[n - 1] != '-' && s[n - 1] != '.';
}

/* An Event reason as the rest of Kubernetes writes them: CamelCase letters
 * and digits. */
static bool reason_like(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= APISERVER_ALERT_NAME_MAX &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == n &&
	       ((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z'));
}

/* A copy of s cut to at most max bytes, at a UTF-8 character boundary. */
static char *cut(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	return strndup(s, n);
}

/* <pod>.alert-<10 hex of sha256(fingerprint NUL startsAt)>: Alertmanager's
 * repeats of one alert meet the same name. A long pod name is cut so the
 * name stays a DNS subdomain. */
static void event_name(char out[254], const char *pod, const char *fingerprint, const char *starts_at)
{
	struct recap_sha256 h;
	uint8_t sum[RECAP_SHA256_LEN];
	recap_sha256_init(&h);
	recap_sha256_update(&h, fingerprint, strlen(fingerprint) + 1);
	recap_sha256_update(&h, starts_at, strlen(starts_at));
	recap_sha256_final(&h, sum);
	size_t room = EVENT_NAME_MAX - strlen(EVENT_SUFFIX) - HASH_HEX, n = strlen(pod);
	if (n > room)
		n = room;
	while (n > 1 && (pod[n - 1] == '-' || pod[n - 1] == '.'))
		n--;
	int w = snprintf(out, 254, "%.*s" EVENT_SUFFIX, (int)n, pod);
	for (int i = 0; i < HASH_HEX / 2; i++)
		w += snprintf(out + w, 254 - (size_t)w, "%02x", sum[i]);
}

static const char *label(json_t *labels, const char *k)
{
	return json_string_value(json_object_get(labels, k));
}

/* What is wrong with a firing alert that names a pod, or NULL. */
static const char *unusable(const char *ns, const char *pod, const char *name, const char *starts, char *why,
			    size_t why_len)
{
	time_t t;
	if (!dns_name(ns, 63) || !dns_name(pod, 253))
		snprintf(why, why_len, "the labels namespace and pod are not a namespace and a pod name");
	else if (!name || !reason_like(name))
		snprintf(why, why_len,
			 "the alertname \"%.100s\" cannot be an Event reason: letters and digits, a letter "
			 "first, at most %d",
			 name ? name : "", APISERVER_ALERT_NAME_MAX);
	else if (!starts || recap_time_parse(starts, &t) < 0)
		snprintf(why, why_len, "startsAt \"%.64s\" is not a time", starts ? starts : "");
	else
		return NULL;
	return why;
}

/* The fingerprint Alertmanager sends, or the labels themselves. */
static char *fingerprint_of(json_t *alert, json_t *labels)
{
	const char *fp = recap_json_str(alert, "fingerprint");
	if (fp && *fp)
		return strdup(fp);
	return json_dumps(labels, JSON_COMPACT | JSON_SORT_KEYS);
}

static int read_alert(json_t *alert, size_t i, struct apiserver_alert *a)
{
	json_t *labels = json_object_get(alert, "labels");
	const char *ns = label(labels, "namespace"), *pod = label(labels, "pod");
	const char *name = label(labels, "alertname"), *status = recap_json_str(alert, "status");
	const char *starts = recap_json_str(alert, "startsAt");
	snprintf(a->label, sizeof(a->label), "alerts[%zu] %.64s %.63s/%.60s", i,
		 name ? name : "(no alertname)", ns ? ns : "", pod ? pod : "");
	a->verdict = APISERVER_ALERT_IGNORE;
	if (!status || strcmp(status, "firing") != 0 || !ns || !pod)
		return 0;
	a->verdict = APISERVER_ALERT_REFUSE;
	if (unusable(ns, pod, name, starts, a->why, sizeof(a->why)))
		return 0;
	json_t *ann = json_object_get(alert, "annotations");
	const char *msg = label(ann, "summary");
	if (!msg || !*msg)
		msg = label(ann, "description");
	char fallback[160];
	snprintf(fallback, sizeof(fallback), "alert %s is firing", name);
	char *fp = fingerprint_of(alert, labels);
	a->message = cut(msg && *msg ? msg : fallback, APISERVER_ALERT_MESSAGE_MAX);
	if (!fp || !a->message) {
		free(fp);
		return -ENOMEM;
	}
	event_name(a->event, pod, fp, starts);
	free(fp);
	recap_time_parse(starts, &a->starts_at);
	a->verdict = APISERVER_ALERT_RECORD;
	a->ns = ns;
	a->pod = pod;
	a->name = name;
	return 0;
}

int apiserver_alerts_parse(const char *body, size_t len, struct apiserver_alerts *ret,
			   struct recap_error **err)
{
	*ret = (struct apiserver_alerts){0};
	if (len > APISERVER_ALERTS_BODY_MAX)
		return recap_error_set(err, EFBIG, "the payload holds %zu bytes: at most %d are read", len,
				       APISERVER_ALERTS_BODY_MAX);
	json_error_t je;
	json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!doc)
		return recap_error_set(err, EINVAL, "the payload is not JSON: %s (line %d)", je.text,
				       je.line);
	const char *version = recap_json_str(doc, "version");
	json_t *alerts = json_object_get(doc, "alerts");
	int r = 0;
	if (!json_is_object(doc) || !version || strcmp(version, "4") != 0)
		r = recap_error_set(
		    err, EINVAL,
		    "the payload is not Alertmanager's webhook payload version \"4\" (version "
		    "\"%.16s\")",
		    version ? version : "");
	else if (!json_is_array(alerts))
		r = recap_error_set(err, EINVAL, "the payload has no \"alerts\" array");
	else if (json_array_size(alerts) > APISERVER_ALERTS_MAX)
		r = recap_error_set(err, E2BIG,
				    "the payload holds %zu alerts: at most %d in one notification",
				    json_array_size(alerts), APISERVER_ALERTS_MAX);
	else if (!(ret->v = calloc(json_array_size(alerts) + 1, sizeof(*ret->v))))
		r = recap_error_set(err, ENOMEM, "out of memory");
	ret->doc = doc;
	size_t i;
	json_t *alert;
	json_array_foreach (r == 0 ? alerts : NULL, i, alert) {
		if (read_alert(alert, i, &ret->v[i]) < 0) {
			r = recap_error_set(err, ENOMEM, "out of memory");
			break;
		}
		ret->n = i + 1;
	}
	if (r < 0)
		apiserver_alerts_clear(ret);
	return r;
}

void apiserver_alerts_clear(struct apiserver_alerts *a)
{
	for (size_t i = 0; a->v && i < a->n; i++)
		free(a->v[i].message);
	free(a->v);
	json_decref(a->doc);
	*a = (struct apiserver_alerts){0};
}

#include "apiserver/sar.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/names.h"
#include "base/json.h"

#define SAR_MAX 4096
#define GROUP RECAP_SUBRESOURCES_GROUP

struct sar_entry {
	char *key;
	bool allowed;
	char *reason;
	time_t until;
	struct sar_entry *next;
};

void apiserver_sar_init(struct apiserver_sar *s, struct apiserver_broker *b, int ttl_s)
{
	*s = (struct apiserver_sar){.broker = b, .ttl_s = ttl_s > 0 ? ttl_s : 10};
	pthread_mutex_init(&s->mu, NULL);
}

static void entry_free(struct sar_entry *e)
{
	free(e->key);
	free(e->reason);
	free(e);
}

void apiserver_sar_free(struct apiserver_sar *s)
{
	while (s->entries) {
		struct sar_entry *n = s->entries->next;
		entry_free(s->entries);
		s->entries = n;
	}
	pthread_mutex_destroy(&s->mu);
}

static char *key_of(const struct apiserver_user *u, const struct apiserver_sar_attrs *a)
{
	json_t *k = json_pack("[s, O, O, s, s, s, s, s]", u->name, u->groups, u->extra, a->verb, a->ns,
			      a->resource, a->subresource ? a->subresource : "", a->name ? a->name : "");
	char *s = k ? json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(k);
	return s;
}

/* 1/0 from the cache, -1 when not there (expired ones are dropped). */
static int lookup(struct apiserver_sar *s, const char *key, char **reason)
{
	time_t now = time(NULL);
	int r = -1;
	pthread_mutex_lock(&s->mu);
	for (struct sar_entry **p = &s->entries; *p;) {
		struct sar_entry *e = *p;
		if (e->until <= now) {
			*p = e->next;
			entry_free(e);
			s->n--;
			continue;
		}
		if (r < 0 && strcmp(e->key, key) == 0) {
			r = e->allowed;
			*reason = e->reason ? strdup(e->reason) : NULL;
		}
		p = &e->next;
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

static void store(struct apiserver_sar *s, char *key, bool allowed, const char *reason)
{
	struct sar_entry *e = calloc(1, sizeof(*e));
	if (!e) {
		free(key);
		return;
	}
	e->key = key;
	e->allowed = allowed;
	e->reason = reason ? strdup(reason) : NULL;
	e->until = time(NULL) + (allowed ? s->ttl_s : (s->ttl_s + 2) / 3);
	pthread_mutex_lock(&s->mu);
	e->next = s->entries;
	s->entries = e;
	if (++s->n > SAR_MAX) { /* drop the oldest */
		struct sar_entry **p = &s->entries;
		while ((*p)->next)
			p = &(*p)->next;
		entry_free(*p);
		*p = NULL;
		s->n--;
	}
	pthread_mutex_unlock(&s->mu);
}

static json_t *review(const struct apiserver_user *u, const struct apiserver_sar_attrs *a)
{
	json_t *attrs = json_pack("{s:s, s:s, s:s, s:s, s:s}", "verb", a->verb, "namespace", a->ns, "group",
				  GROUP, "resource", a->resource, "name", a->name ? a->name : "");
	if (attrs && a->subresource)
		json_object_set_new(attrs, "subresource", json_string(a->subresource));
	return json_pack("{s:s, s:s, s:{s:s, s:O, s:O, s:o}}", "apiVersion", "authorization.k8s.io/v1",
			 "kind", "SubjectAccessReview", "spec", "user", u->name, "groups", u->groups, "extra",
			 u->extra, "resourceAttributes", attrs);
}

int apiserver_sar_check(struct apiserver_sar *s, const struct apiserver_user *u,
			const struct apiserver_sar_attrs *a, char **reason, struct recap_error **err)
{
	*reason = NULL;
	char *key = key_of(u, a);
	if (!key)
		return recap_error_set(err, ENOMEM, "out of memory");
	int cached = lookup(s, key, reason);
	if (cached >= 0) {
		free(key);
		return cached;
	}
	json_t *body = review(u, a);
	struct apiserver_call call = {
	    .method = "POST", .path = "/apis/authorization.k8s.io/v1/subjectaccessreviews", .body = body};
	int r = body ? apiserver_broker_call(s->broker, &call, err)
		     : recap_error_set(err, ENOMEM, "out of memory");
	json_decref(body);
	if (r < 0) {
		free(key);
		return r;
	}
	bool allowed = recap_json_bool(call.object, "status.allowed", 0) == 1;
	const char *why = recap_json_str(call.object, "status.reason");
	*reason = why && *why ? strdup(why) : NULL;
	store(s, key, allowed, why);
	json_decref(call.object);
	return allowed;
}

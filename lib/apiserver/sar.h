/* Delegated authorization: a SubjectAccessReview per (user, verb,
 * namespace, resource/subresource, name), answers cached briefly (allowed
 * for ttl seconds, denied for a third of it), at most 4096 of them. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "apiserver/broker.h"
#include "apiserver/frontproxy.h"

struct apiserver_sar_attrs {
	const char *verb, *ns, *resource, *subresource, *name;
};

struct sar_entry;

struct apiserver_sar {
	struct apiserver_broker *broker;
	int ttl_s;
	pthread_mutex_t mu;
	struct sar_entry *entries; /* under mu, most recent first */
	int n;
};

void apiserver_sar_init(struct apiserver_sar *s, struct apiserver_broker *b, int ttl_s);
void apiserver_sar_free(struct apiserver_sar *s);
/* 1 allowed, 0 denied (*reason says why when the authorizer gave one), < 0
 * the review failed (*err). */
int apiserver_sar_check(struct apiserver_sar *s, const struct apiserver_user *u,
			const struct apiserver_sar_attrs *a, char **reason, struct recap_error **err);

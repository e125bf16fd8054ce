/* Alertmanager's webhook payload (version "4") as recap-apiserver's alerts
 * receiver reads it: each alert that fires and names a pod becomes the
 * Event it records about that pod. Pure; unit-tested. */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "base/error.h"

#define APISERVER_ALERTS_BODY_MAX (1024 * 1024)
#define APISERVER_ALERTS_MAX 1000
/* An Event's message: the alert's summary or description cut to this. */
#define APISERVER_ALERT_MESSAGE_MAX 1024
#define APISERVER_ALERT_NAME_MAX 128

enum apiserver_alert_verdict {
	APISERVER_ALERT_RECORD, /* firing, names a pod: record it */
	APISERVER_ALERT_IGNORE, /* resolved, or names no pod */
	APISERVER_ALERT_REFUSE, /* names a pod but cannot be an Event (why) */
};

struct apiserver_alert {
	enum apiserver_alert_verdict verdict;
	char label[192]; /* which alert, for the answer: "alerts[I] NAME NS/POD" */
	char why[256];	 /* REFUSE: what is wrong */
	/* RECORD: borrowed from the payload */
	const char *ns, *pod, *name;
	char *message;	  /* owned: summary or description, cut */
	time_t starts_at; /* whole seconds */
	char event[254];  /* the Event's name: <pod>.alert-<10 hex> */
};

struct apiserver_alerts {
	json_t *doc;
	struct apiserver_alert *v;
	size_t n;
};

/* Parses body (len bytes). -EFBIG when over APISERVER_ALERTS_BODY_MAX,
 * -E2BIG when more than APISERVER_ALERTS_MAX alerts, -EINVAL when it is not
 * the payload (not JSON, another version, no alerts array); *err says why.
 * Each alert gets a verdict. Clear *ret after. */
int apiserver_alerts_parse(const char *body, size_t len, struct apiserver_alerts *ret,
			   struct recap_error **err);
void apiserver_alerts_clear(struct apiserver_alerts *a);

/* Watch: a long-running GET ?watch=1 that reconnects by itself.
 *
 * The watch tracks the resourceVersion of the last event (bookmarks
 * included) and resumes from it after a server timeout (timeoutSeconds is
 * randomized in 5-10 minutes) or a lost connection, with backoff 0.8 s
 * doubling to 30 s. When the server says the resourceVersion is too old (410
 * Gone) or newer than it has seen (504 with the cause ResourceVersionTooLarge:
 * say, an API server whose watch cache lags behind etcd, or one restored from
 * an older backup), as HTTP status or as an ERROR event, retrying the same
 * version cannot help: the watch stops and reports RECAP_KUBE_WATCH_GONE. The
 * caller must list afresh without a resourceVersion (a consistent read, never
 * the version that failed) and start a new watch from the list's version.
 */
#pragma once

#include <stdbool.h>

#include "kube/client.h"
#include "kube/watch_decode.h"

struct recap_kube_watch;

enum recap_kube_watch_note {
	RECAP_KUBE_WATCH_EVENT,	    /* ev is set */
	RECAP_KUBE_WATCH_CONNECTED, /* the stream is open (after a (re)connect) */
	RECAP_KUBE_WATCH_RETRYING,  /* err says why; reconnecting after backoff */
	RECAP_KUBE_WATCH_GONE,	    /* 410 or too large: relist; the watch has stopped */
};

struct recap_kube_watch_options {
	const char *label_selector;
	const char *field_selector;
	const char *resource_version; /* start after this version; NULL: from now */
	bool allow_bookmarks;
	size_t max_line_bytes; /* default RECAP_KUBE_WATCH_LINE_DEFAULT_MAX */
	/* Server-side timeout range in seconds (default 300..600); a test may
	 * shorten it. */
	unsigned timeout_min_s, timeout_max_s;
	/* Reconnect backoff (default 800 ms .. 30 s). */
	uint64_t backoff_min_ms, backoff_max_ms;
};

/* ev is NULL unless note is RECAP_KUBE_WATCH_EVENT; err only for RETRYING
 * and GONE. Both are borrowed for the duration of the call. The callback
 * may call recap_kube_watch_stop(). */
typedef void (*recap_kube_watch_cb)(struct recap_kube_watch *w, enum recap_kube_watch_note note,
				    const struct recap_kube_watch_event *ev, const struct recap_error *err,
				    void *userdata);

int recap_kube_watch_start(struct recap_kube_client *c, const struct recap_kube_resource *res, const char *ns,
			   const struct recap_kube_watch_options *opts, recap_kube_watch_cb cb,
			   void *userdata, struct recap_kube_watch **ret, struct recap_error **err);
/* No callback runs after this; memory is released from the loop. */
void recap_kube_watch_stop(struct recap_kube_watch *w);
/* Last resourceVersion seen (events and bookmarks), or NULL. */
const char *recap_kube_watch_resource_version(const struct recap_kube_watch *w);

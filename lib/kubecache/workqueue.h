/* The work queue every reconciler uses, driven by a libuv loop.
 *
 * Keys are strings ("namespace/name"). A key is queued at most once: adding
 * a key that is already queued does nothing, and adding a key while it is
 * being processed marks it to be queued again when recap_kube_workqueue_done()
 * is called for it, so one key is never processed twice at once.
 *
 * The queue hands keys to the process callback from the loop (never from
 * inside an add), at most `workers` at a time. Processing may finish later
 * (after an HTTP round trip): the callback or anything after it must call
 * recap_kube_workqueue_done(key) exactly once. Call forget(key) after a
 * success and add_rate_limited(key) after a failure, as client-go does.
 *
 * Delayed adds share one uv_timer armed for the earliest deadline. The
 * number of keys the queue tracks (queued, waiting or processing) is
 * limited; an add past it fails with -ENOBUFS and a message naming the
 * queue and the limit.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/error.h"
#include "kubecache/ratelimit.h"

struct recap_kube_workqueue;

/* key stays valid until done(key) is called for it. */
typedef void (*recap_kube_workqueue_process_fn)(struct recap_kube_workqueue *q, const char *key,
						void *userdata);
typedef void (*recap_kube_workqueue_drained_fn)(struct recap_kube_workqueue *q, void *userdata);

#define RECAP_KUBE_WORKQUEUE_MAX_LEN_DEFAULT 65536

struct recap_kube_workqueue_options {
	const char *name; /* for error messages; default "workqueue" */
	size_t max_len;	  /* keys tracked at once; 0: the default above */
	unsigned workers; /* keys processing at once; 0: 1 */
	/* Used by add_rate_limited; owned by the queue, also on failure.
	 * NULL: recap_kube_ratelimiter_new_default(max_len). */
	struct recap_kube_ratelimiter *limiter;
};

int recap_kube_workqueue_new(uv_loop_t *loop, const struct recap_kube_workqueue_options *opts,
			     recap_kube_workqueue_process_fn process, void *userdata,
			     struct recap_kube_workqueue **ret, struct recap_error **err);

/* -ESHUTDOWN after shutdown, -ENOBUFS at the length limit, -EINVAL for an
 * empty key. */
int recap_kube_workqueue_add(struct recap_kube_workqueue *q, const char *key, struct recap_error **err);
/* Adds key once delay_ns has passed; an earlier pending deadline for the
 * same key wins. A delay of 0 is a plain add. */
int recap_kube_workqueue_add_after(struct recap_kube_workqueue *q, const char *key, uint64_t delay_ns,
				   struct recap_error **err);
/* Adds key after the delay its rate limiter gives (backoff and bucket). */
int recap_kube_workqueue_add_rate_limited(struct recap_kube_workqueue *q, const char *key,
					  struct recap_error **err);
/* Ends processing of key; re-queues it if it was added meanwhile. Unknown
 * or not-processing keys are ignored. */
void recap_kube_workqueue_done(struct recap_kube_workqueue *q, const char *key);
/* Resets key's backoff. */
void recap_kube_workqueue_forget(struct recap_kube_workqueue *q, const char *key);
/* Rate-limited adds of key since its last forget. */
unsigned recap_kube_workqueue_requeues(struct recap_kube_workqueue *q, const char *key);

/* Keys waiting to be handed out (not counting delayed or processing ones). */
size_t recap_kube_workqueue_len(const struct recap_kube_workqueue *q);
/* Keys the queue tracks: queued, delayed or processing. */
size_t recap_kube_workqueue_tracked(const struct recap_kube_workqueue *q);
size_t recap_kube_workqueue_processing(const struct recap_kube_workqueue *q);

/* Stops accepting adds and drops delayed keys. With drain, keys already
 * queued are still handed out; without, they are dropped. Once nothing is
 * queued or processing, drained is called (from the loop, once). */
void recap_kube_workqueue_shutdown(struct recap_kube_workqueue *q, bool drain,
				   recap_kube_workqueue_drained_fn drained);
bool recap_kube_workqueue_shutting_down(const struct recap_kube_workqueue *q);

/* Closes the queue's handles; memory is released once the loop has run the
 * close callbacks. Call it when nothing is processing (after drained), since
 * keys handed out become invalid. Accepts NULL. */
void recap_kube_workqueue_free(struct recap_kube_workqueue *q);

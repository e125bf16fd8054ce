/* Rate limiting for work queues, after client-go's workqueue rate limiters.
 *
 * Rate limiters answer "how long must this key wait before its next
 * attempt": a token bucket (kube/bucket.h, shared by all keys), per-key
 * exponential backoff (5 ms doubling to 1000 s by default, reset by forget)
 * and the maximum of several. All durations are nanoseconds; the clock is
 * injectable so tests need not sleep.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "kube/bucket.h"

struct recap_kube_ratelimiter;

/* Returns how long key must wait before its next attempt, counting the
 * attempt as a failure for per-key limiters. Fails with -ENOBUFS when a
 * per-key limiter already tracks its maximum number of keys. */
int recap_kube_ratelimiter_when(struct recap_kube_ratelimiter *rl, const char *key, uint64_t *ret_delay_ns,
				struct recap_error **err);
/* Stops tracking key: its next failure starts from the base delay again. */
void recap_kube_ratelimiter_forget(struct recap_kube_ratelimiter *rl, const char *key);
/* Failures recorded for key since the last forget. */
unsigned recap_kube_ratelimiter_requeues(struct recap_kube_ratelimiter *rl, const char *key);
void recap_kube_ratelimiter_free(struct recap_kube_ratelimiter *rl);

/* One bucket shared by every key; keys are not tracked. */
int recap_kube_ratelimiter_new_bucket(double qps, unsigned burst, recap_kube_clock_fn clock, void *clock_data,
				      struct recap_kube_ratelimiter **ret, struct recap_error **err);
/* base_ns * 2^failures, capped at max_ns; at most max_keys keys tracked at
 * once (0: unlimited). Needs 0 < base_ns <= max_ns. */
int recap_kube_ratelimiter_new_backoff(uint64_t base_ns, uint64_t max_ns, size_t max_keys,
				       struct recap_kube_ratelimiter **ret, struct recap_error **err);
/* The longest delay of its parts; forget and requeues go to all parts.
 * Takes ownership of the n parts, also on failure. */
int recap_kube_ratelimiter_new_max(struct recap_kube_ratelimiter **parts, size_t n,
				   struct recap_kube_ratelimiter **ret, struct recap_error **err);

#define RECAP_KUBE_BACKOFF_BASE_NS (5 * RECAP_KUBE_NS_PER_MS)
#define RECAP_KUBE_BACKOFF_MAX_NS (1000 * RECAP_KUBE_NS_PER_SEC)
#define RECAP_KUBE_QUEUE_QPS 10.0
#define RECAP_KUBE_QUEUE_BURST 100

/* What work queues use by default: max(backoff 5 ms..1000 s over at most
 * max_keys keys, bucket 10 qps / burst 100). */
int recap_kube_ratelimiter_new_default(size_t max_keys, recap_kube_clock_fn clock, void *clock_data,
				       struct recap_kube_ratelimiter **ret, struct recap_error **err);

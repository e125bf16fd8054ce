/* Rate limiting for API clients and work queues, after client-go's
 * flowcontrol and workqueue rate limiters.
 *
 * A token bucket admits `qps` operations per second on average and up to
 * `burst` at once. Rate limiters answer "how long must this key wait before
 * its next attempt": the bucket (shared by all keys), per-key exponential
 * backoff (5 ms doubling to 1000 s by default, reset by forget) and the
 * maximum of several. All durations are nanoseconds; the clock is
 * injectable so tests need not sleep.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* Monotonic nanoseconds. NULL stands for recap_now_mono_ns(). */
typedef uint64_t (*recap_kube_clock_fn)(void *data);

#define RECAP_KUBE_NS_PER_SEC 1000000000ull
#define RECAP_KUBE_NS_PER_MS 1000000ull

struct recap_kube_bucket {
	double qps;
	double burst;
	double tokens; /* may go negative: reservations made ahead of time */
	uint64_t last_ns;
	recap_kube_clock_fn clock;
	void *clock_data;
};

/* qps must be finite and > 0, burst >= 1; the bucket starts full. */
int recap_kube_bucket_init(struct recap_kube_bucket *b, double qps, unsigned burst, recap_kube_clock_fn clock,
			   void *clock_data, struct recap_error **err);
/* Takes one token, possibly ahead of time, and returns how long the caller
 * must wait before acting (0: act now). Never fails; successive calls are
 * spaced 1/qps apart once the burst is used up. */
uint64_t recap_kube_bucket_reserve(struct recap_kube_bucket *b);
/* Takes a token only if one is available now. */
bool recap_kube_bucket_try_take(struct recap_kube_bucket *b);
/* How long until a token is available, without taking one. */
uint64_t recap_kube_bucket_wait_ns(struct recap_kube_bucket *b);
/* Tokens available now (negative while reservations are outstanding). */
double recap_kube_bucket_tokens(struct recap_kube_bucket *b);

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

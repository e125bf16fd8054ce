/* A token bucket, after client-go's flowcontrol: it admits `qps` operations
 * per second on average and up to `burst` at once. The API client spaces its
 * requests with one; work queues build their rate limiters on it
 * (kubecache/ratelimit.h). Durations are nanoseconds; the clock is
 * injectable so tests need not sleep.
 */
#pragma once

#include <stdbool.h>
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

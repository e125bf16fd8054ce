#include "kubecache/ratelimit.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "base/cleanup.h"
#include "base/timeutil.h"
#include "kubecache/strmap.h"

struct ratelimiter_ops {
	int (*when)(struct recap_kube_ratelimiter *rl, const char *key, uint64_t *ret_delay_ns,
		    struct recap_error **err);
	void (*forget)(struct recap_kube_ratelimiter *rl, const char *key);
	unsigned (*requeues)(struct recap_kube_ratelimiter *rl, const char *key);
	void (*destroy)(struct recap_kube_ratelimiter *rl);
};

struct recap_kube_ratelimiter {
	const struct ratelimiter_ops *ops;
};

/* ---- generic ---- */

int recap_kube_ratelimiter_when(struct recap_kube_ratelimiter *rl, const char *key, uint64_t *ret_delay_ns,
				struct recap_error **err)
{
	return rl->ops->when(rl, key, ret_delay_ns, err);
}

void recap_kube_ratelimiter_forget(struct recap_kube_ratelimiter *rl, const char *key)
{
	rl->ops->forget(rl, key);
}

unsigned recap_kube_ratelimiter_requeues(struct recap_kube_ratelimiter *rl, const char *key)
{
	return rl->ops->requeues(rl, key);
}

void recap_kube_ratelimiter_free(struct recap_kube_ratelimiter *rl)
{
	if (rl)
		rl->ops->destroy(rl);
}

/* ---- bucket limiter ---- */

struct bucket_limiter {
	struct recap_kube_ratelimiter base;
	struct recap_kube_bucket bucket;
};

static int bucket_when(struct recap_kube_ratelimiter *rl, const char *key, uint64_t *ret_delay_ns,
		       struct recap_error **err)
{
	struct bucket_limiter *l = container_of(rl, struct bucket_limiter, base);
	*ret_delay_ns = recap_kube_bucket_reserve(&l->bucket);
	return 0;
}

static void bucket_forget(struct recap_kube_ratelimiter *rl, const char *key)
{
}

static unsigned bucket_requeues(struct recap_kube_ratelimiter *rl, const char *key)
{
	return 0;
}

static void bucket_destroy(struct recap_kube_ratelimiter *rl)
{
	free(container_of(rl, struct bucket_limiter, base));
}

static const struct ratelimiter_ops bucket_ops = {
    .when = bucket_when,
    .forget = bucket_forget,
    .requeues = bucket_requeues,
    .destroy = bucket_destroy,
};

int recap_kube_ratelimiter_new_bucket(double qps, unsigned burst, recap_kube_clock_fn clock, void *clock_data,
				      struct recap_kube_ratelimiter **ret, struct recap_error **err)
{
	struct bucket_limiter *l = calloc(1, sizeof(*l));
	if (!l)
		return recap_error_set(err, ENOMEM, "rate limit: out of memory");
	int r = recap_kube_bucket_init(&l->bucket, qps, burst, clock, clock_data, err);
	if (r < 0) {
		free(l);
		return r;
	}
	l->base.ops = &bucket_ops;
	*ret = &l->base;
	return 0;
}

/* ---- per-key exponential backoff ---- */

struct backoff_limiter {
	struct recap_kube_ratelimiter base;
	uint64_t base_ns;
	uint64_t max_ns;
	struct recap_kube_strmap *failures; /* key -> count, stored in the pointer */
};

static uint64_t backoff_delay(const struct backoff_limiter *l, uintptr_t exp)
{
	uint64_t d = l->base_ns;
	for (uintptr_t i = 0; i < exp && d < l->max_ns; i++)
		d = d > UINT64_MAX / 2 ? UINT64_MAX : d * 2;
	return d < l->max_ns ? d : l->max_ns;
}

static int backoff_when(struct recap_kube_ratelimiter *rl, const char *key, uint64_t *ret_delay_ns,
			struct recap_error **err)
{
	struct backoff_limiter *l = container_of(rl, struct backoff_limiter, base);
	uintptr_t exp = (uintptr_t)recap_kube_strmap_get(l->failures, key);
	uintptr_t next = exp < UINT32_MAX ? exp + 1 : exp;
	int r = recap_kube_strmap_put(l->failures, key, (void *)next, NULL);
	if (r == -ENOBUFS)
		return recap_error_set(err, ENOBUFS,
				       "rate limit: already backing off %zu keys, cannot add '%s'",
				       recap_kube_strmap_max(l->failures), key);
	if (r < 0)
		return recap_error_set(err, -r, "rate limit: out of memory tracking '%s'", key);
	*ret_delay_ns = backoff_delay(l, exp);
	return 0;
}

static void backoff_forget(struct recap_kube_ratelimiter *rl, const char *key)
{
	struct backoff_limiter *l = container_of(rl, struct backoff_limiter, base);
	recap_kube_strmap_remove(l->failures, key, NULL);
}

static unsigned backoff_requeues(struct recap_kube_ratelimiter *rl, const char *key)
{
	struct backoff_limiter *l = container_of(rl, struct backoff_limiter, base);
	return (unsigned)(uintptr_t)recap_kube_strmap_get(l->failures, key);
}

static void backoff_destroy(struct recap_kube_ratelimiter *rl)
{
	struct backoff_limiter *l = container_of(rl, struct backoff_limiter, base);
	recap_kube_strmap_free(l->failures, NULL);
	free(l);
}

static const struct ratelimiter_ops backoff_ops = {
    .when = backoff_when,
    .forget = backoff_forget,
    .requeues = backoff_requeues,
    .destroy = backoff_destroy,
};

int recap_kube_ratelimiter_new_backoff(uint64_t base_ns, uint64_t max_ns, size_t max_keys,
				       struct recap_kube_ratelimiter **ret, struct recap_error **err)
{
	if (base_ns == 0 || base_ns > max_ns)
		return recap_error_set(err, EINVAL,
				       "rate limit: backoff needs 0 < base <= max, got base %" PRIu64
				       " ns, max %" PRIu64 " ns",
				       base_ns, max_ns);
	struct backoff_limiter *l = calloc(1, sizeof(*l));
	if (l)
		l->failures = recap_kube_strmap_new(max_keys);
	if (!l || !l->failures) {
		free(l);
		return recap_error_set(err, ENOMEM, "rate limit: out of memory");
	}
	l->base.ops = &backoff_ops;
	l->base_ns = base_ns;
	l->max_ns = max_ns;
	*ret = &l->base;
	return 0;
}

/* ---- max of several ---- */

struct max_limiter {
	struct recap_kube_ratelimiter base;
	size_t n;
	struct recap_kube_ratelimiter *parts[];
};

static int max_when(struct recap_kube_ratelimiter *rl, const char *key, uint64_t *ret_delay_ns,
		    struct recap_error **err)
{
	struct max_limiter *l = container_of(rl, struct max_limiter, base);
	uint64_t longest = 0;
	for (size_t i = 0; i < l->n; i++) {
		uint64_t d = 0;
		int r = recap_kube_ratelimiter_when(l->parts[i], key, &d, err);
		if (r < 0)
			return r;
		if (d > longest)
			longest = d;
	}
	*ret_delay_ns = longest;
	return 0;
}

static void max_forget(struct recap_kube_ratelimiter *rl, const char *key)
{
	struct max_limiter *l = container_of(rl, struct max_limiter, base);
	for (size_t i = 0; i < l->n; i++)
		recap_kube_ratelimiter_forget(l->parts[i], key);
}

static unsigned max_requeues(struct recap_kube_ratelimiter *rl, const char *key)
{
	struct max_limiter *l = container_of(rl, struct max_limiter, base);
	unsigned most = 0;
	for (size_t i = 0; i < l->n; i++) {
		unsigned q = recap_kube_ratelimiter_requeues(l->parts[i], key);
		if (q > most)
			most = q;
	}
	return most;
}

static void max_destroy(struct recap_kube_ratelimiter *rl)
{
	struct max_limiter *l = container_of(rl, struct max_limiter, base);
	for (size_t i = 0; i < l->n; i++)
		recap_kube_ratelimiter_free(l->parts[i]);
	free(l);
}

static const struct ratelimiter_ops max_ops = {
    .when = max_when,
    .forget = max_forget,
    .requeues = max_requeues,
    .destroy = max_destroy,
};

static void free_parts(struct recap_kube_ratelimiter **parts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		recap_kube_ratelimiter_free(parts[i]);
}

int recap_kube_ratelimiter_new_max(struct recap_kube_ratelimiter **parts, size_t n,
				   struct recap_kube_ratelimiter **ret, struct recap_error **err)
{
	for (size_t i = 0; i < n; i++)
		if (!parts[i]) {
			free_parts(parts, n);
			return recap_error_set(err, EINVAL,
					       "rate limit: part %zu of a max limiter is missing", i);
		}
	if (n == 0)
		return recap_error_set(err, EINVAL, "rate limit: a max limiter needs at least one part");
	struct max_limiter *l = calloc(1, sizeof(*l) + n * sizeof(l->parts[0]));
	if (!l) {
		free_parts(parts, n);
		return recap_error_set(err, ENOMEM, "rate limit: out of memory");
	}
	l->base.ops = &max_ops;
	l->n = n;
	for (size_t i = 0; i < n; i++)
		l->parts[i] = parts[i];
	*ret = &l->base;
	return 0;
}

int recap_kube_ratelimiter_new_default(size_t max_keys, recap_kube_clock_fn clock, void *clock_data,
				       struct recap_kube_ratelimiter **ret, struct recap_error **err)
{
	struct recap_kube_ratelimiter *parts[2] = {NULL, NULL};
	int r = recap_kube_ratelimiter_new_backoff(RECAP_KUBE_BACKOFF_BASE_NS, RECAP_KUBE_BACKOFF_MAX_NS,
						   max_keys, &parts[0], err);
	if (r < 0)
		return r;
	r = recap_kube_ratelimiter_new_bucket(RECAP_KUBE_QUEUE_QPS, RECAP_KUBE_QUEUE_BURST, clock, clock_data,
					      &parts[1], err);
	if (r < 0) {
		recap_kube_ratelimiter_free(parts[0]);
		return r;
	}
	return recap_kube_ratelimiter_new_max(parts, 2, ret, err);
}

#include "kube/bucket.h"

#include <errno.h>
#include <math.h>

#include "base/timeutil.h"

static uint64_t bucket_now(const struct recap_kube_bucket *b)
{
	return b->clock ? b->clock(b->clock_data) : recap_now_mono_ns();
}

int recap_kube_bucket_init(struct recap_kube_bucket *b, double qps, unsigned burst, recap_kube_clock_fn clock,
			   void *clock_data, struct recap_error **err)
{
	if (!isfinite(qps) || qps <= 0)
		return recap_error_set(err, EINVAL, "rate limit: qps must be a positive number, got %g", qps);
	if (burst < 1)
		return recap_error_set(err, EINVAL, "rate limit: burst must be at least 1, got %u", burst);
	*b = (struct recap_kube_bucket){
	    .qps = qps,
	    .burst = burst,
	    .tokens = burst,
	    .clock = clock,
	    .clock_data = clock_data,
	};
	b->last_ns = bucket_now(b);
	return 0;
}

static void bucket_refill(struct recap_kube_bucket *b)
{
	uint64_t now = bucket_now(b);
	if (now <= b->last_ns)
		return;
	double add = (double)(now - b->last_ns) * b->qps / (double)RECAP_KUBE_NS_PER_SEC;
	double tokens = b->tokens + add;
	b->tokens = tokens < b->burst ? tokens : b->burst;
	b->last_ns = now;
}

static uint64_t deficit_ns(const struct recap_kube_bucket *b, double needed)
{
	if (needed <= 0)
		return 0;
	double ns = needed / b->qps * (double)RECAP_KUBE_NS_PER_SEC;
	uint64_t whole = (uint64_t)ns;
	return (double)whole < ns ? whole + 1 : whole; /* rounded up */
}

uint64_t recap_kube_bucket_reserve(struct recap_kube_bucket *b)
{
	bucket_refill(b);
	b->tokens -= 1;
	return deficit_ns(b, -b->tokens);
}

bool recap_kube_bucket_try_take(struct recap_kube_bucket *b)
{
	bucket_refill(b);
	if (b->tokens < 1)
		return false;
	b->tokens -= 1;
	return true;
}

uint64_t recap_kube_bucket_wait_ns(struct recap_kube_bucket *b)
{
	bucket_refill(b);
	return deficit_ns(b, 1 - b->tokens);
}

double recap_kube_bucket_tokens(struct recap_kube_bucket *b)
{
	bucket_refill(b);
	return b->tokens;
}

#include "kube/clock.h"

#define STEP_MS 2000
#define RESOLUTION_MS 1000
#define LOWS_TO_STEP 3

void recap_kube_clock_sample(struct recap_kube_clock *k, int64_t server_date_s, int64_t local_ms)
{
	if (server_date_s <= 0)
		return;
	/* Date is the server's second, truncated: its middle is the best guess. */
	int64_t sample = server_date_s * 1000 + 500 - local_ms;
	int64_t diff = sample - k->offset_ms;
	if (k->known && diff < -STEP_MS) {
		/* late, or our clock was set forward: wait for agreement */
		if (k->lows == 0 || sample - k->low_ms > STEP_MS || sample - k->low_ms < -STEP_MS) {
			k->low_ms = sample;
			k->lows = 1;
			return;
		}
		if (++k->lows < LOWS_TO_STEP)
			return;
	}
	k->lows = 0;
	if (!k->known || diff > STEP_MS || diff < -STEP_MS)
		k->offset_ms = sample;
	else
		k->offset_ms += diff / 8;
	k->known = true;
}

int64_t recap_kube_clock_server_time(const struct recap_kube_clock *k, int64_t local_s)
{
	if (!k->known || (k->offset_ms < RESOLUTION_MS && k->offset_ms > -RESOLUTION_MS))
		return local_s;
	/* rounded to the nearest second */
	int64_t off = k->offset_ms >= 0 ? (k->offset_ms + 500) / 1000 : -((-k->offset_ms + 500) / 1000);
	return local_s + off;
}

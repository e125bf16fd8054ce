/* The API server's clock, as its answers' Date headers show it. Times that
 * the controller writes and a node agent reads (an execution's
 * spec.deadline) are judged on this one clock, so a node or a controller
 * whose own clock is off does not end an execution early or start it late.
 *
 * Date has a resolution of one second and arrives a round trip late, so an
 * offset under a second is not measurable: it reads as none. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct recap_kube_clock {
	bool known;
	int64_t offset_ms; /* the server's clock minus ours */
	int64_t low_ms;	   /* the first of the samples in a row well below offset_ms */
	unsigned lows;	   /* how many in a row */
};

/* One answer's Date (seconds since the epoch) that arrived at local_ms
 * (our CLOCK_REALTIME, milliseconds). An answer that took long (a slow
 * list, a loaded server) only makes a sample lower than the truth, never
 * higher: a sample more than 2 s above the estimate is taken at once (a
 * clock was set), one more than 2 s below only when 3 in a row agree; the
 * rest are smoothed. */
void recap_kube_clock_sample(struct recap_kube_clock *k, int64_t server_date_s, int64_t local_ms);
/* Our time local_s on the server's clock, in seconds. */
int64_t recap_kube_clock_server_time(const struct recap_kube_clock *k, int64_t local_s);

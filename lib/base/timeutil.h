/* Clocks and Kubernetes time formats. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Monotonic clock in nanoseconds / milliseconds. */
uint64_t recap_now_mono_ns(void);
uint64_t recap_now_mono_ms(void);
/* CPU time the calling thread has used, in nanoseconds. */
uint64_t recap_thread_cpu_ns(void);
/* The wall clock (CLOCK_REALTIME) in milliseconds since the epoch. */
int64_t recap_now_wall_ms(void);

/* "2026-11-23T13:46:08.123Z" (millisecond precision, UTC) for logs. */
void recap_time_rfc3339_now(char *out, size_t size);
/* "2026-11-23T13:46:08Z": metav1.Time's format (second precision, UTC). */
int recap_time_format(time_t t, char *out, size_t size);
/* Parses metav1.Time / MicroTime ("...Z" with optional fraction, or an
 * offset such as +02:00). Returns -EINVAL on anything else. */
int recap_time_parse(const char *s, time_t *ret);

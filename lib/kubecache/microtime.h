/* metav1.MicroTime: "2026-11-23T14:20:00.123456Z" (UTC, microseconds). */
#pragma once

#include <stddef.h>

#define RECAP_KUBE_MICROTIME_LEN 64

void recap_kube_microtime_now(char out[RECAP_KUBE_MICROTIME_LEN]);

/* Retry-After, shared by both transports. */
#include <stdlib.h>

#include "kubehttp/http.h"

/* A Retry-After longer than this is capped: the caller's deadline matters more. */
#define RETRY_AFTER_MAX_MS 60000ull

uint64_t recap_kube_http_retry_after_ms(const char *value)
{
	if (!value)
		return 0;
	char *end = NULL;
	unsigned long long s = strtoull(value, &end, 10);
	if (end == value || *end != '\0')
		return 0;
	return s > RETRY_AFTER_MAX_MS / 1000 ? RETRY_AFTER_MAX_MS : s * 1000;
}

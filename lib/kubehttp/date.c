/* The Date header (RFC 9110's IMF-fixdate), shared by both transports: it is
 * how a client learns the API server's clock. */
#include <string.h>
#include <time.h>

#include "kubehttp/http.h"

int64_t recap_kube_http_date(const char *value)
{
	if (!value || !*value)
		return 0;
	struct tm tm = {0};
	const char *end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end || *end != '\0')
		return 0;
	time_t t = timegm(&tm);
	return t > 0 ? (int64_t)t : 0;
}

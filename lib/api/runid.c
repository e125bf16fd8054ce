#include "api/runid.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

int recap_api_run_id(const char *uid, char out[RECAP_API_RUN_ID_MAX], struct recap_error **err)
{
	size_t n = 0;
	memcpy(out, "ce-", 3);
	n = 3;
	for (const char *p = uid ? uid : ""; *p; p++) {
		if (*p == '-')
			continue;
		if (!isxdigit((unsigned char)*p) || n + 1 >= RECAP_API_RUN_ID_MAX)
			return recap_error_set(err, EINVAL, "metadata.uid '%s' is not a UUID", uid);
		out[n++] = (char)tolower((unsigned char)*p);
	}
	if (n == 3)
		return recap_error_set(err, EINVAL, "metadata.uid is missing");
	out[n] = '\0';
	return 0;
}

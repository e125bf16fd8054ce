#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api/types.h"
#include "base/timeutil.h"
#include "controller/status.h"

void recap_controller_time(time_t t, char out[32])
{
	if (recap_time_format(t, out, 32) < 0)
		out[0] = '\0';
}

json_t *recap_controller_status_patch(json_t *old_status, json_t *new_status)
{
	if (old_status && json_equal(old_status, new_status))
		return NULL;
	json_t *st = json_deep_copy(new_status);
	if (!st)
		return NULL;
	const char *k;
	json_t *v;
	json_object_foreach (old_status, k, v) {
		if (!json_object_get(new_status, k))
			json_object_set_new(st, k, json_null());
	}
	return json_pack("{s:o}", "status", st);
}

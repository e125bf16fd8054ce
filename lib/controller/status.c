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

/* Nulls in patch (a copy of now) the keys of was that now lacks, at every
 * depth where both are objects: a merge patch removes only what it names. */
static void null_removed(json_t *patch, json_t *was, json_t *now)
{
	const char *k;
	json_t *v;
	json_object_foreach (was, k, v) {
		json_t *n = json_object_get(now, k);
		if (!n)
			json_object_set_new(patch, k, json_null());
		else if (json_is_object(v) && json_is_object(n))
			null_removed(json_object_get(patch, k), v, n);
	}
}

json_t *recap_controller_status_patch(json_t *old_status, json_t *new_status)
{
	if (old_status && json_equal(old_status, new_status))
		return NULL;
	json_t *st = json_deep_copy(new_status);
	if (!st)
		return NULL;
	if (json_is_object(old_status))
		null_removed(st, old_status, new_status);
	return json_pack("{s:o}", "status", st);
}
